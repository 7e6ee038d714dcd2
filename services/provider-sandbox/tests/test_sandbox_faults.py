"""Configured faults: chosen destinations answered 429 or 5xx, or sent and answered late,
beside the last-digit rules; and the lookup APIs reconciliation asks after such a send."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from dunning_sandbox.app import create_app
from dunning_sandbox.config import SandboxSettings

ACCOUNT = "AC" + "f" * 32
TOKEN = "fault-test-token"
KEY = "SG.fault-key"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
BASIC = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    settings = SandboxSettings(
        twilio_account_sid=ACCOUNT,
        twilio_auth_token=TOKEN,
        sendgrid_api_key=KEY,
        sendgrid_signing_key_path=None,
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sb") as client,
    ):
        yield client


async def sms(client: httpx.AsyncClient, to: str) -> httpx.Response:
    form = {"To": to, "From": "+15005550006", "Body": "hello"}
    return await client.post(MESSAGES, data=form, headers={"Authorization": BASIC})


async def mail(client: httpx.AsyncClient, to: str) -> httpx.Response:
    body = {
        "personalizations": [{"to": [{"email": to}]}],
        "from": {"email": "collections@example.com"},
        "subject": "Your account",
        "content": [{"type": "text/plain", "value": "hello"}],
    }
    return await client.post("/v3/mail/send", json=body, headers={"Authorization": f"Bearer {KEY}"})


async def test_a_number_answers_429_with_retry_after_every_time(
    sandbox: httpx.AsyncClient,
) -> None:
    set_ = await sandbox.post(
        "/_sandbox/faults",
        json={"destinations": ["+14155551234"], "status": 429, "retry_after_s": 2},
    )
    assert set_.status_code == 201
    for _ in range(3):
        answer = await sms(sandbox, "+14155551234")
        assert answer.status_code == 429
        assert answer.json()["code"] == 20429
        assert answer.headers["Retry-After"] == "2"
    assert (await sms(sandbox, "+14155551235")).status_code == 201


async def test_a_limited_fault_passes_after_its_times(sandbox: httpx.AsyncClient) -> None:
    await sandbox.post(
        "/_sandbox/faults", json={"destinations": ["+14155551236"], "status": 500, "times": 2}
    )
    statuses = [(await sms(sandbox, "+14155551236")).status_code for _ in range(3)]
    assert statuses == [500, 500, 201]
    assert (await sandbox.get("/_sandbox/faults")).json() == {"faults": {}}


async def test_an_address_answers_429_with_sendgrids_rate_limit_headers(
    sandbox: httpx.AsyncClient,
) -> None:
    await sandbox.post(
        "/_sandbox/faults",
        json={"destinations": ["Slow@Example.com"], "status": 429, "retry_after_s": 3},
    )
    answer = await mail(sandbox, "slow@example.com")
    assert answer.status_code == 429
    assert answer.headers["X-RateLimit-Remaining"] == "0"
    assert int(answer.headers["X-RateLimit-Reset"]) > 0
    assert answer.headers["Retry-After"] == "3"
    assert answer.json()["errors"][0]["message"] == "too many requests"
    assert (await mail(sandbox, "fast@example.com")).status_code == 202


async def test_faults_are_cleared_by_delete_and_reset(sandbox: httpx.AsyncClient) -> None:
    await sandbox.post("/_sandbox/faults", json={"destinations": ["+14155551237"], "status": 503})
    assert (await sms(sandbox, "+14155551237")).status_code == 503
    await sandbox.delete("/_sandbox/faults")
    assert (await sms(sandbox, "+14155551237")).status_code == 201
    await sandbox.post("/_sandbox/faults", json={"destinations": ["+14155551237"], "status": 503})
    await sandbox.post("/_sandbox/reset")
    assert (await sms(sandbox, "+14155551237")).status_code == 201


async def test_the_last_digit_rules_still_hold(sandbox: httpx.AsyncClient) -> None:
    assert (await sms(sandbox, "+14155550429")).status_code == 429
    assert (await sms(sandbox, "+14155550500")).status_code == 500


# --- timeouts after accepting, and the lookups -----------------------------------------


async def test_a_hung_send_is_sent_and_answered_late(sandbox: httpx.AsyncClient) -> None:
    await sandbox.post("/_sandbox/faults", json={"destinations": ["+14155551240"], "hang_s": 5})
    with_timeout = asyncio.wait_for(sms(sandbox, "+14155551240"), 0.2)
    try:
        await with_timeout
        raise AssertionError("answered in time")
    except TimeoutError:
        pass
    listed = await sandbox.get(
        MESSAGES, params={"To": "+14155551240"}, headers={"Authorization": BASIC}
    )
    assert listed.status_code == 200
    [message] = listed.json()["messages"]  # it was sent nonetheless
    assert message["to"] == "+14155551240"
    assert message["sid"].startswith("SM")


async def test_twilio_lists_messages_by_to_from_and_date_sent(
    sandbox: httpx.AsyncClient,
) -> None:
    for to in ("+14155551241", "+14155551242", "+14155551241"):
        assert (await sms(sandbox, to)).status_code == 201
    auth = {"Authorization": BASIC}
    page = (await sandbox.get(MESSAGES, params={"To": "+14155551241"}, headers=auth)).json()
    assert [m["to"] for m in page["messages"]] == ["+14155551241"] * 2
    assert page["next_page_uri"] is None
    assert page["page"] == 0
    params = {"To": "+14155551242", "From": "+15005550006", "DateSent>": "2000-01-01T00:00:00Z"}
    assert len((await sandbox.get(MESSAGES, params=params, headers=auth)).json()["messages"]) == 1
    future = {"To": "+14155551242", "DateSent>": "2999-01-01"}
    assert (await sandbox.get(MESSAGES, params=future, headers=auth)).json()["messages"] == []
    paged = (await sandbox.get(MESSAGES, params={"PageSize": 1}, headers=auth)).json()
    assert len(paged["messages"]) == 1
    assert paged["next_page_uri"] is not None
    no_auth = await sandbox.get(MESSAGES)
    assert no_auth.status_code == 401


async def test_sendgrid_activity_finds_a_message_by_its_custom_args(
    sandbox: httpx.AsyncClient,
) -> None:
    body = {
        "personalizations": [
            {"to": [{"email": "a@example.com"}], "custom_args": {"step_id": "stp_1"}}
        ],
        "from": {"email": "collections@example.com"},
        "subject": "Your account",
        "content": [{"type": "text/plain", "value": "hello"}],
    }
    auth = {"Authorization": f"Bearer {KEY}"}
    sent = await sandbox.post("/v3/mail/send", json=body, headers=auth)
    assert (await mail(sandbox, "b@example.com")).status_code == 202
    query = quote("unique_args['step_id']=\"stp_1\"")
    found = (await sandbox.get(f"/v3/messages?query={query}&limit=10", headers=auth)).json()
    [message] = found["messages"]
    assert message["to_email"] == "a@example.com"
    assert message["msg_id"].split(".")[0] == sent.headers["X-Message-Id"]
    none = quote('unique_args[\'step_id\']="stp_2" AND to_email="a@example.com"')
    assert (await sandbox.get(f"/v3/messages?query={none}", headers=auth)).json() == {
        "messages": []
    }
    bad = await sandbox.get("/v3/messages?query=nonsense", headers=auth)
    assert bad.status_code == 400
    assert (await sandbox.get("/v3/messages")).status_code == 401
