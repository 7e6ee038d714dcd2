"""Advanced Opt-Out: a number that texted STOP to one of our numbers is refused 21610 from
that number until it texts START, whether or not our inbound webhook took the STOP.

The chaos runs' "after_opt_out_lost": STOPs posted while no sms-ingress replica answered
were never heard by the system, and the sandbox kept accepting texts to those numbers,
where real Twilio refuses them.
"""

from __future__ import annotations

import base64

import httpx

ACCOUNT = "AC" + "a" * 32
TOKEN = "opt-out-test-token"
KEY = "SG.opt-out"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
BASIC = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
OURS = "+15005550006"
OTHER = "+15005550008"
CONSUMER = "+14155550188"
UNANSWERED = "http://127.0.0.1:9/webhooks/twilio/inbound"  # nothing listens: not delivered


async def sms(client: httpx.AsyncClient, from_: str = OURS) -> httpx.Response:
    form = {"To": CONSUMER, "From": from_, "Body": "hello"}
    return await client.post(MESSAGES, data=form, headers={"Authorization": BASIC})


async def text_us(client: httpx.AsyncClient, body: str) -> None:
    answer = await client.post(
        "/_sandbox/twilio/inbound",
        json={"from": CONSUMER, "to": OURS, "body": body, "url": UNANSWERED},
    )
    assert answer.json()["delivered"] is False


async def test_a_stop_our_webhook_never_took_still_refuses_later_texts_until_start(
    sandbox: httpx.AsyncClient,
) -> None:
    assert (await sms(sandbox)).status_code == 201
    await text_us(sandbox, " stop ")
    refused = await sms(sandbox)
    assert refused.status_code == 400  # old code: 201, sent to a consumer who said STOP
    assert refused.json()["code"] == 21610
    assert (await sms(sandbox, from_=OTHER)).status_code == 201  # per sender
    assert (
        await sandbox.post(
            MESSAGES,
            data={"To": CONSUMER, "MessagingServiceSid": "MG" + "f" * 32, "Body": "hi"},
            headers={"Authorization": BASIC},
        )
    ).status_code == 400  # the service's pool number is the one texted
    await text_us(sandbox, "START")
    assert (await sms(sandbox)).status_code == 201


async def test_a_reply_that_is_not_a_keyword_opts_nobody_out(sandbox: httpx.AsyncClient) -> None:
    await text_us(sandbox, "please stop texting me at work")
    assert (await sms(sandbox)).status_code == 201


async def test_a_reset_forgets_the_opt_outs(sandbox: httpx.AsyncClient) -> None:
    await text_us(sandbox, "UNSUBSCRIBE")
    assert (await sms(sandbox)).status_code == 400
    await sandbox.post("/_sandbox/reset")
    assert (await sms(sandbox)).status_code == 201
