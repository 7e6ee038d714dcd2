"""Signing in with an API key, the session cookie, and refusing visitors without one."""

from __future__ import annotations

import httpx
import pytest
from dunning_core.contracts.access import Role
from dunning_ops.domain.sessions import COOKIE
from dunning_testkit.ops import KEYS, FakeLedger, OpsFakes


async def sign_in(http: httpx.AsyncClient, role: Role) -> httpx.Response:
    return await http.post("/signin", data={"key": KEYS[role], "next": "/"})


async def test_a_visitor_is_sent_to_sign_in_and_json_is_refused(http: httpx.AsyncClient) -> None:
    page = await http.get("/")
    assert page.status_code == 303
    assert page.headers["location"] == "/signin"
    data = await http.get("/api/portfolio")
    assert data.status_code == 401
    assert data.json()["error"] == "unauthorized"
    assert (await http.get("/health")).status_code == 200


async def test_a_wrong_key_is_refused_and_no_cookie_is_set(http: httpx.AsyncClient) -> None:
    answer = await http.post("/signin", data={"key": "dun_000000000099_" + "x" * 24})
    assert answer.status_code == 401
    assert "unknown API key" in answer.text
    assert COOKIE not in answer.cookies


async def test_sign_in_gives_a_strict_httponly_signed_cookie(
    http: httpx.AsyncClient, fakes: OpsFakes
) -> None:
    answer = await sign_in(http, Role.READ_ONLY)
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert KEYS[Role.READ_ONLY] not in cookie  # the key stays on the server
    page = await http.get("/")
    assert page.status_code == 200
    assert "ops-read_only" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    data = await http.get("/api/portfolio")
    assert data.status_code == 200
    assert {c["id"] for c in data.json()["charts"]} >= {"stages", "rules"}
    # the ledger was asked with the user's own key, not one of the dashboard's
    assert set(fakes.ledger.keys_seen) == {KEYS[Role.READ_ONLY]}


async def test_a_forged_cookie_is_no_session(http: httpx.AsyncClient) -> None:
    await sign_in(http, Role.ADMIN)
    real = http.cookies[COOKIE]
    session_id, _, mac = real.rpartition(".")
    http.cookies.set(COOKIE, f"{session_id}.{'0' * len(mac)}")
    assert (await http.get("/api/portfolio")).status_code == 401


async def test_a_revoked_key_ends_its_session(http: httpx.AsyncClient, fakes: OpsFakes) -> None:
    await sign_in(http, Role.OPERATOR)
    assert (await http.get("/api/portfolio")).status_code == 200
    fakes.keys.revoked.add(KEYS[Role.OPERATOR])
    assert (await http.get("/api/portfolio")).status_code == 401


async def test_sign_out_needs_the_form_token_and_ends_the_session(
    http: httpx.AsyncClient,
) -> None:
    await sign_in(http, Role.AGENT)
    assert (await http.post("/signout", data={"csrf": "forged"})).status_code == 403
    page = (await http.get("/")).text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert (await http.post("/signout", data={"csrf": csrf})).status_code == 303
    assert (await http.get("/api/portfolio")).status_code == 401


async def test_next_never_leaves_the_site(http: httpx.AsyncClient) -> None:
    answer = await http.post("/signin", data={"key": KEYS[Role.ADMIN], "next": "//evil.example/x"})
    assert answer.headers["location"] == "/"


class DownLedger(FakeLedger):
    async def figures(self, key: str, days: int) -> dict[str, object]:
        raise httpx.ConnectError("ledger down")


@pytest.mark.parametrize("fakes", [OpsFakes(ledger=DownLedger())])  # overrides the fixture
async def test_a_service_that_does_not_answer_is_a_503_not_a_crash(
    http: httpx.AsyncClient,
) -> None:
    await sign_in(http, Role.OPERATOR)
    page = await http.get("/")
    assert page.status_code == 503
    assert "a service did not answer" in page.text
    data = await http.get("/api/portfolio")
    assert data.status_code == 503
    assert data.json()["error"] == "unavailable"
