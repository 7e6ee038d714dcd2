"""What an operator can send that the ledger must refuse cleanly (issue 10), against the
real PostgreSQL: each refusal is a 4xx that says what and where, and nothing is written."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from dunning_ledger.bootstrap import Ledger
from dunning_testkit.ledger import quiet_settings, started_ledger

pytestmark = pytest.mark.integration

BODY_LIMIT = 4096


def account(n: int, **overrides: str) -> dict[str, str]:
    return {
        "account_id": f"ACC-{n}",
        "full_name": f"Consumer {n}",
        "state": "NY",
        "phone": "+12125550143",
        "creditor": "Acme Bank",
        "debt_id": f"DEBT-{n}",
        "balance": "300.00",
        "due_date": "2026-01-15",
        **overrides,
    }


@pytest.fixture
async def ledger(
    fresh_database: Callable[[str], Awaitable[str]], prefix: str
) -> AsyncIterator[Ledger]:
    settings = quiet_settings(await fresh_database("ledger_bad"), prefix)
    async with started_ledger(settings.model_copy(update={"max_body_bytes": BODY_LIMIT})) as built:
        yield built


async def imported(http: httpx.AsyncClient, *rows: dict[str, str]) -> dict[str, Any]:
    response = await http.post("/v1/accounts/import", json={"accounts": list(rows)})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refused(response: httpx.Response, status: int, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["message"]
    if field is not None:
        assert [e["field"] for e in body["errors"]] == [field]
    return body


async def assert_no_account(http: httpx.AsyncClient, account_id: str) -> None:
    assert (await http.get(f"/v1/accounts/{account_id}")).status_code == 404


# --- imports --------------------------------------------------------------------------


async def test_a_balance_beyond_any_amount_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/accounts/import",
        json={"accounts": [account(1), account(2, balance="9999999999999999999999999")]},
    )
    body = await refused(response, 422, "balance")
    assert body["errors"][0]["row"] == 2
    assert "largest amount" in body["errors"][0]["message"]
    await assert_no_account(http, "ACC-1")


@pytest.mark.parametrize("name", ["Ana\x00Garcia", "Ana\nGarcia", "Ana\x7f"])
async def test_a_control_character_in_a_name_is_refused(http: httpx.AsyncClient, name: str) -> None:
    response = await http.post(
        "/v1/accounts/import", json={"accounts": [account(1, full_name=name)]}
    )
    body = await refused(response, 422, "full_name")
    assert "control character" in body["errors"][0]["message"]
    await assert_no_account(http, "ACC-1")


async def test_a_nul_byte_in_a_csv_is_refused(http: httpx.AsyncClient) -> None:
    csv = b"account_id,full_name,state,creditor,debt_id,balance,due_date\n"
    csv += b"ACC-1,Ana\x00,NY,Acme,D1,10.00,2026-01-01\n"
    response = await http.post(
        "/v1/accounts/import", content=csv, headers={"content-type": "text/csv"}
    )
    assert (await refused(response, 422, "full_name"))["errors"][0]["line"] == 2
    await assert_no_account(http, "ACC-1")


async def test_ids_repeated_inside_one_file_are_refused(http: httpx.AsyncClient) -> None:
    same_account = await http.post(
        "/v1/accounts/import", json={"accounts": [account(1), account(1)]}
    )
    assert (
        "duplicate of row 1"
        in (await refused(same_account, 422, "account_id"))["errors"][0]["message"]
    )
    same_debt = await http.post(
        "/v1/accounts/import", json={"accounts": [account(1), account(2, debt_id="DEBT-1")]}
    )
    body = await refused(same_debt, 422, "debt_id")
    assert body["errors"][0]["row"] == 2
    await assert_no_account(http, "ACC-1")


async def test_a_debt_held_by_another_account_is_refused(http: httpx.AsyncClient) -> None:
    await imported(http, account(1))
    response = await http.post(
        "/v1/accounts/import", json={"accounts": [account(3), account(2, debt_id="DEBT-1")]}
    )
    body = await refused(response, 422, "debt_id")
    assert "ACC-1" in body["errors"][0]["message"]
    await assert_no_account(http, "ACC-3")


async def test_a_name_like_a_formula_is_kept_as_text(http: httpx.AsyncClient) -> None:
    formula = '=HYPERLINK("http://evil.example","Pay")'
    csv = "account_id,full_name,state,creditor,debt_id,balance,due_date\n"
    csv += f'ACC-1,"{formula.replace(chr(34), chr(34) * 2)}",NY,@SUM(1),D1,10.00,2026-01-01\n'
    response = await http.post(
        "/v1/accounts/import", content=csv.encode(), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    stored = (await http.get("/v1/accounts/ACC-1")).json()
    assert stored["consumer"]["full_name"] == formula
    assert stored["debt"]["creditor"] == "@SUM(1)"


async def test_bytes_that_are_not_utf8_are_refused(http: httpx.AsyncClient) -> None:
    csv = b"account_id,full_name,state,creditor,debt_id,balance,due_date\n"
    csv += b"ACC-1,Jos\xe9,NY,Acme,D1,10.00,2026-01-01\n"
    response = await http.post(
        "/v1/accounts/import", content=csv, headers={"content-type": "text/csv"}
    )
    assert "not UTF-8" in (await refused(response, 422, None))["errors"][0]["message"]
    payment = await http.post(
        "/v1/accounts/ACC-1/payments",
        content=b'{"payment_id": "P\xff", "amount": "1"}',
        headers={"content-type": "application/json"},
    )
    assert "UTF-8" in (await refused(payment, 400, None))["message"]
    await assert_no_account(http, "ACC-1")


async def test_a_reimport_reports_a_balance_payments_have_moved(http: httpx.AsyncClient) -> None:
    await imported(http, account(1))
    paid = await http.post(
        "/v1/accounts/ACC-1/payments", json={"payment_id": "PAY-1", "amount": "120.50"}
    )
    assert paid.status_code == 201
    # The creditor's file still names another balance: the data is taken, the balance kept.
    result = await imported(http, account(1, balance="250.00", full_name="Ana Newname"))
    assert result["updated"] == 1
    [kept] = result["balances_kept"]
    assert (kept["account_id"], kept["row"]) == ("ACC-1", 1)
    assert kept["file_balance"]["amount_minor"] == 25000
    assert kept["ledger_balance"]["amount_minor"] == 17950
    stored = (await http.get("/v1/accounts/ACC-1")).json()
    assert stored["consumer"]["full_name"] == "Ana Newname"
    assert (stored["balance"]["amount_minor"], stored["paid"]["amount_minor"]) == (17950, 12050)
    # A file whose balance agrees with the ledger's reports nothing and changes nothing.
    agreeing = await imported(http, account(1, balance="179.50", full_name="Ana Newname"))
    assert (agreeing["unchanged"], agreeing.get("balances_kept")) == (1, None)
    # Without payments an import may still correct the balance.
    await imported(http, account(2))
    corrected = await imported(http, account(2, balance="280.00"))
    assert (corrected["updated"], corrected.get("balances_kept")) == (1, None)
    assert (await http.get("/v1/accounts/ACC-2")).json()["balance"]["amount_minor"] == 28000


# --- bodies and paths -----------------------------------------------------------------


async def test_a_body_over_the_limit_is_413(http: httpx.AsyncClient) -> None:
    rows = [account(n) for n in range(40)]
    response = await http.post("/v1/accounts/import", json={"accounts": rows})
    body = await refused(response, 413, None)
    assert body["error"] == "payload_too_large"
    assert str(BODY_LIMIT) in body["message"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        yield b"account_id,full_name,state,creditor,debt_id,balance,due_date\n"
        for n in range(200):
            yield f"ACC-{n},Name,NY,Acme,D{n},10.00,2026-01-01\n".encode()

    streamed = await http.post(
        "/v1/accounts/import", content=chunks(), headers={"content-type": "text/csv"}
    )
    assert streamed.status_code == 413
    await assert_no_account(http, "ACC-0")


async def test_a_body_in_another_format_is_415(http: httpx.AsyncClient) -> None:
    await imported(http, account(1))
    response = await http.post(
        "/v1/accounts/ACC-1/payments",
        content=b'{"payment_id": "P1", "amount": "1"}',
        headers={"content-type": "text/plain"},
    )
    assert (await refused(response, 415, None))["error"] == "unsupported_media_type"
    form = await http.post("/v1/accounts/ACC-1/signals", data={"signal_id": "s"})
    assert form.status_code == 415
    assert (await http.get("/v1/accounts/ACC-1")).json()["payments"] == []


@pytest.mark.parametrize(
    "path",
    ["/v1/accounts/%00", "/v1/accounts/%00/communications", "/v1/steps/%00", "/v1/accounts/A%0A"],
)
async def test_an_id_no_account_can_have_is_404(http: httpx.AsyncClient, path: str) -> None:
    body = await refused(await http.get(path), 404, None)
    assert body["error"] == "not_found"


async def test_an_unknown_account_is_404(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/accounts/ACC-404/payments", json={"payment_id": "P1", "amount": "1"}
    )
    assert "ACC-404" in (await refused(response, 404, None))["message"]
    assert (await http.get("/v1/accounts/ACC-404")).status_code == 404


# --- payments, plans, signals ---------------------------------------------------------


async def test_a_payment_dated_in_the_far_future_is_refused(http: httpx.AsyncClient) -> None:
    await imported(http, account(1))
    response = await http.post(
        "/v1/accounts/ACC-1/payments",
        json={"payment_id": "P1", "amount": "10", "received_at": "9999-12-31T00:00:00Z"},
    )
    await refused(response, 422, "received_at")
    stored = (await http.get("/v1/accounts/ACC-1")).json()
    assert (stored["payments"], stored["balance"]["amount_minor"]) == ([], 30000)


async def test_plans_that_cannot_be_kept_are_refused(
    http: httpx.AsyncClient, ledger: Ledger
) -> None:
    await imported(http, account(1), account(2))
    await http.post("/v1/accounts/ACC-2/payments", json={"payment_id": "P2", "amount": "300"})
    today = ledger.use_cases.payments.clock.now().date().isoformat()
    absurd = {"plan_id": "PL", "instalment": "99999999", "instalments": 600, "first_due": today}
    on_zero = await http.post("/v1/accounts/ACC-2/plans", json=absurd)
    assert "no balance" in (await refused(on_zero, 422, "instalment"))["message"]
    beyond = await http.post("/v1/accounts/ACC-1/plans", json=absurd)
    await refused(beyond, 422, "instalments")
    year_one = {**absurd, "instalment": "100", "instalments": 3, "first_due": "0001-01-01"}
    await refused(await http.post("/v1/accounts/ACC-1/plans", json=year_one), 422, "first_due")
    assert (await http.get("/v1/accounts/ACC-1")).json()["plans"] == []
    fair = {**year_one, "first_due": today}
    assert (await http.post("/v1/accounts/ACC-1/plans", json=fair)).status_code == 201


async def test_a_dispute_of_another_accounts_debt_is_refused(http: httpx.AsyncClient) -> None:
    await imported(http, account(1), account(2))
    response = await http.post(
        "/v1/accounts/ACC-1/signals",
        json={"signal_id": "S1", "kind": "disputed", "debt_id": "DEBT-2"},
    )
    body = await refused(response, 422, "debt_id")
    assert "DEBT-2" in body["message"]
    assert (await http.get("/v1/accounts/ACC-1")).json()["disputes"] == []


async def test_an_opt_out_needs_a_real_address(http: httpx.AsyncClient) -> None:
    await imported(http, account(1))
    signal = {"signal_id": "S1", "kind": "opted_out", "channel": "sms", "address": "not-a-phone"}
    response = await http.post("/v1/accounts/ACC-1/signals", json=signal)
    await refused(response, 422, "address")
    email = {**signal, "channel": "email", "address": "not-an-email"}
    await refused(await http.post("/v1/accounts/ACC-1/signals", json=email), 422, "address")
    assert (await http.get("/v1/accounts/ACC-1")).json()["flags"] == []
    # A number in another notation is the same number: stored as E.164.
    fine = {**signal, "address": "(212) 555-0143"}
    assert (await http.post("/v1/accounts/ACC-1/signals", json=fine)).status_code == 201
    [flag] = (await http.get("/v1/accounts/ACC-1")).json()["flags"]
    assert flag["scope"] == "+12125550143"
