"""The account page's actions and what-if, over fakes of the ledger and the gate: each role
sees and may do what the platform's table grants it, the ledger gets the user's own key, a
bad field is named, and the gate is asked about the account as the ledger holds it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from dunning_core.contracts.access import Role
from dunning_testkit.ops import KEYS, FakeGate, FakeLedger, OpsFakes

ACCOUNT: dict[str, Any] = {
    "account_id": "ACC-1",
    "status": "open",
    "balance": {"amount_minor": 12000, "currency": "USD", "display": "120.00"},
    "paid": {"amount_minor": 0, "currency": "USD", "display": "0.00"},
    "consumer": {
        "full_name": "Ana Ruiz", "state": "TX", "zip_code": "78701",
        "phones": [{"number": "+15125550142", "kind": "mobile", "consent": "creditor_provided",
                    "basis": "consumer_used"}],
        "emails": [],
    },
    "debt": {"debt_id": "D-1", "creditor": "Bank", "collector_type": "third_party"},
    "flags": [{"flag": "opted_out", "scope": "channel:email", "active": True},
              {"flag": "cease_requested", "scope": "all", "active": False}],
    "disputes": [],
}  # fmt: skip


@pytest.fixture
def fakes() -> OpsFakes:
    gate = FakeGate(
        answer={"decision": "defer", "rule_ids": ["time.quiet_hours"],
                "not_before": "2026-03-04T13:00:00Z",
                "outcomes": [{"rule_id": "time.quiet_hours", "action": "defer",
                              "explanation": "21:30 in America/Chicago"}]}
    )  # fmt: skip
    return OpsFakes(ledger=FakeLedger(accounts={"ACC-1": ACCOUNT}), gate=gate)


async def page_as(http: httpx.AsyncClient, role: Role) -> str:
    await http.post("/signin", data={"key": KEYS[role]})
    page = await http.get("/accounts/ACC-1")
    assert page.status_code == 200
    return page.text


def hidden(page: str, form: str, name: str) -> str:
    part = page.split(f'id="form-{form}"', 1)[1] if form else page
    return part.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(
    ("role", "forms"),
    [
        (Role.READ_ONLY, set()),
        (Role.AGENT, {"dispute", "note"}),
        (Role.OPERATOR, {"payment", "plan", "dispute", "note", "pause"}),
        (Role.ADMIN, {"payment", "plan", "dispute", "note", "pause"}),
    ],
)
async def test_each_role_sees_the_forms_it_may_use(
    http: httpx.AsyncClient, role: Role, forms: set[str]
) -> None:
    page = await page_as(http, role)
    every = ("payment", "plan", "dispute", "note", "pause", "resume")
    shown = {a for a in every if f'id="form-{a}"' in page}
    assert shown == forms
    assert ("may look, not act" in page) == (not forms)
    assert "120.00 USD" in page


async def test_an_operator_payment_goes_to_the_ledger_with_the_operators_key(
    http: httpx.AsyncClient, fakes: OpsFakes
) -> None:
    page = await page_as(http, Role.OPERATOR)
    form = {"csrf": hidden(page, "", "csrf"), "id": hidden(page, "payment", "id"),
            "amount": "40.50", "method": "check"}  # fmt: skip
    answer = await http.post("/accounts/ACC-1/actions/payment", data=form)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/accounts/ACC-1?done=payment"
    [(key, account, what, body)] = fakes.ledger.posted
    assert (key, account, what) == (KEYS[Role.OPERATOR], "ACC-1", "payments")
    assert body == {"payment_id": form["id"], "amount": "40.50", "method": "check",
                    "source": "operator"}  # fmt: skip


async def test_a_role_without_the_permission_is_refused_before_the_ledger(
    http: httpx.AsyncClient, fakes: OpsFakes
) -> None:
    page = await page_as(http, Role.AGENT)
    form = {"csrf": hidden(page, "", "csrf"), "id": "ops-payment-x", "amount": "5",
            "method": "cash"}  # fmt: skip
    answer = await http.post("/accounts/ACC-1/actions/payment", data=form)
    assert answer.status_code == 403
    assert "may not record a payment" in answer.text
    assert fakes.ledger.posted == []
    note = {"csrf": form["csrf"], "text": "called back, will pay Friday"}
    assert (await http.post("/accounts/ACC-1/actions/note", data=note)).status_code == 303
    assert fakes.ledger.posted[0][2:] == ("notes", {"text": "called back, will pay Friday"})


async def test_a_bad_field_is_named_and_nothing_is_recorded(
    http: httpx.AsyncClient, fakes: OpsFakes
) -> None:
    page = await page_as(http, Role.OPERATOR)
    form = {"csrf": hidden(page, "", "csrf"), "id": hidden(page, "plan", "id"),
            "frequency": "monthly", "count": "3", "first_due": "next week"}  # fmt: skip
    answer = await http.post("/accounts/ACC-1/actions/plan", data=form)
    assert answer.status_code == 422
    assert "first_due: a date such as 2026-04-01" in answer.text
    bad_amount = {**form, "id": hidden(page, "payment", "id"), "amount": "-3", "method": "ach"}
    answer = await http.post("/accounts/ACC-1/actions/payment", data=bad_amount)
    assert answer.status_code == 422
    assert "amount: a positive amount" in answer.text
    assert fakes.ledger.posted == []


async def test_a_forged_form_is_refused(http: httpx.AsyncClient, fakes: OpsFakes) -> None:
    await page_as(http, Role.ADMIN)
    form = {"csrf": "not-the-sessions", "text": "x"}
    assert (await http.post("/accounts/ACC-1/actions/note", data=form)).status_code == 403
    assert fakes.ledger.posted == []


async def test_what_if_asks_the_gate_about_the_account_as_the_ledger_holds_it(
    http: httpx.AsyncClient, fakes: OpsFakes
) -> None:
    page = await page_as(http, Role.READ_ONLY)
    answer = await http.post(
        "/accounts/ACC-1/whatif", data={"csrf": hidden(page, "", "csrf"), "channel": "sms"}
    )
    assert answer.status_code == 200
    assert 'data-testid="verdict-action">defer<' in answer.text
    assert "time.quiet_hours: 21:30 in America/Chicago" in answer.text
    [asked] = fakes.gate.asked
    assert asked["step"]["destination"] == "+15125550142"
    assert asked["step"]["channel"] == "sms"
    assert asked["consumer"]["opt_outs"] == [{"channel": "email", "source": "operator"}]
    assert asked["consumer"]["cease_requested"] is False  # the flag is no longer active
    assert asked["debt"]["collector_type"] == "third_party_collector"
    # no email address: nothing to ask, the answer is no
    answer = await http.post(
        "/accounts/ACC-1/whatif", data={"csrf": hidden(page, "", "csrf"), "channel": "email"}
    )
    assert "the account has no email address" in answer.text
    assert len(fakes.gate.asked) == 1


async def test_an_unknown_account_is_the_ledgers_404(http: httpx.AsyncClient) -> None:
    await http.post("/signin", data={"key": KEYS[Role.ADMIN]})
    answer = await http.get("/accounts/NOPE")
    assert answer.status_code == 404
    assert "no account NOPE" in answer.text


async def test_an_operator_pauses_and_a_paused_account_offers_resume(
    http: httpx.AsyncClient, fakes: OpsFakes
) -> None:
    page = await page_as(http, Role.OPERATOR)
    assert 'data-testid="outreach">active<' in page
    form = {"csrf": hidden(page, "", "csrf"), "id": hidden(page, "pause", "id"),
            "reason": "in hospital", "until": "2026-04-01"}  # fmt: skip
    answer = await http.post("/accounts/ACC-1/actions/pause", data=form)
    assert answer.status_code == 303, answer.text
    [(key, account, what, body)] = fakes.ledger.posted
    assert (key, account, what) == (KEYS[Role.OPERATOR], "ACC-1", "pause")
    assert body == {"pause_id": form["id"], "reason": "in hospital",
                    "until": "2026-04-01T00:00:00+00:00"}  # fmt: skip
    bad = {**form, "until": "soon"}
    assert (await http.post("/accounts/ACC-1/actions/pause", data=bad)).status_code == 422
    no_reason = {**form, "reason": ""}
    assert (await http.post("/accounts/ACC-1/actions/pause", data=no_reason)).status_code == 422

    flags = [*ACCOUNT["flags"], {"flag": "outreach_paused", "scope": "all", "active": True,
                                  "detail": "in hospital"}]  # fmt: skip
    fakes.ledger.accounts["ACC-1"] = {**ACCOUNT, "flags": flags}
    page = (await http.get("/accounts/ACC-1")).text
    assert 'data-testid="outreach">paused<' in page
    assert 'id="form-resume"' in page
    assert 'id="form-pause"' not in page
    form = {"csrf": hidden(page, "", "csrf"), "id": hidden(page, "resume", "id")}
    assert (await http.post("/accounts/ACC-1/actions/resume", data=form)).status_code == 303
    assert fakes.ledger.posted[-1][2:] == ("resume", {"resume_id": form["id"], "reason": None})


@pytest.mark.parametrize("role", [Role.AGENT, Role.READ_ONLY])
async def test_an_agent_or_a_reader_may_not_pause(
    http: httpx.AsyncClient, fakes: OpsFakes, role: Role
) -> None:
    page = await page_as(http, role)
    assert 'id="form-pause"' not in page
    form = {"csrf": hidden(page, "", "csrf"), "id": "ops-pause-x", "reason": "x"}
    for action in ("pause", "resume"):
        answer = await http.post(f"/accounts/ACC-1/actions/{action}", data=form)
        assert answer.status_code == 403
        assert f"may not {action} outreach" in answer.text
    assert fakes.ledger.posted == []
