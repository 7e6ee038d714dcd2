"""E-mailed replies (SendGrid Inbound Parse): the secret path token or 403, the reply read
by the one classifier and mapped to the same signals as an sms; opens and clicks become
engagement signals (and suppress nothing). The sandbox posts Inbound Parse as SendGrid does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
from dunning_core.contracts.events import ConsumerSignaled, SignalKind
from dunning_core.runtime.clock import FixedClock
from dunning_email.adapters.sendgrid_webhooks import SendGridSignatureVerifier
from dunning_email.api import router
from dunning_email.domain import reply_text, sender_of
from dunning_email.handlers import SendGridWebhooks
from dunning_sandbox.signing import EventWebhookSigner
from dunning_testkit.channels import NOW, MemoryPublisher, MemorySendRecords, webhook_app
from dunning_testkit.servers import WebhookRecorder, sandbox_server
from fastapi import FastAPI

TOKEN = "inbound-test-token"
SIGNER = EventWebhookSigner.generate()
JANE = "jane@example.com"


class Rig:
    def __init__(self) -> None:
        self.records, self.publisher = MemorySendRecords(), MemoryPublisher()
        self.hooks = SendGridWebhooks(
            verifier=SendGridSignatureVerifier(SIGNER.public_key_base64),
            producer=self.publisher,
            records=self.records,
            clock=FixedClock(NOW),
            unsubscribe_secret="s",
            inbound_token=TOKEN,
        )
        self.app: FastAPI = webhook_app(router(self.hooks))

    async def post(self, content: bytes, content_type: str, token: str = TOKEN) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://e") as http:
            headers = {"content-type": content_type}
            return await http.post(
                f"/webhooks/sendgrid/inbound/{token}", content=content, headers=headers
            )

    async def reply(self, text: str, sender: str = JANE, token: str = TOKEN, **more: str) -> int:
        fields = {"from": f"Jane Doe <{sender}>", "to": "collections@example.com", "text": text}
        fields.update(more)
        files = {k: (None, v) for k, v in fields.items()}  # multipart/form-data, as SendGrid
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://e") as http:
            response = await http.post(f"/webhooks/sendgrid/inbound/{token}", files=files)
        return response.status_code

    def signals(self) -> list[ConsumerSignaled]:
        return [e.data for e in self.publisher.sent if isinstance(e.data, ConsumerSignaled)]


async def test_an_unauthenticated_post_gets_403_and_records_nothing() -> None:
    rig = Rig()
    await rig.records.remember_owner(JANE, "ACC-1")
    assert await rig.reply("STOP", token="guess") == 403
    assert rig.publisher.sent == []
    assert not await rig.records.is_suppressed(JANE)
    assert rig.hooks.rejected == 1


@pytest.mark.parametrize(
    ("text", "kind", "intent"),
    [
        ("Please stop emailing me", SignalKind.OPTED_OUT, "opt_out"),
        ("this is not my debt", SignalKind.DISPUTED, "dispute"),
        ("I want to pay now", SignalKind.REPLIED, "pay"),
        ("No puedo pagar todo, ¿puedo hacer pagos más pequeños?", SignalKind.REPLIED, "plan"),
        ("我从来没有收到账单", SignalKind.REPLIED, "bill_not_received"),
    ],
)
async def test_a_reply_is_classified_and_mapped_as_an_sms_is(
    text: str, kind: SignalKind, intent: str
) -> None:
    rig = Rig()
    await rig.records.remember_owner(JANE, "ACC-1")
    assert await rig.reply(text) == 200
    [signal] = rig.signals()
    assert (signal.account_id, signal.kind, signal.details["intent"]) == ("ACC-1", kind, intent)
    assert (signal.channel, signal.source, signal.address) == ("email", "email", JANE)
    assert await rig.records.is_suppressed(JANE) is (kind is SignalKind.OPTED_OUT)


async def test_the_quoted_message_is_not_read_as_the_reply() -> None:
    rig = Rig()
    await rig.records.remember_owner(JANE, "ACC-1")
    quoted = "Thanks, I'll look.\n\nOn Mon, Mar 2, 2026 Acme wrote:\n> Reply STOP to opt out"
    assert await rig.reply(quoted) == 200
    assert rig.signals()[0].kind is SignalKind.REPLIED
    assert not await rig.records.is_suppressed(JANE)


async def test_a_redelivered_post_carries_the_same_signal_id() -> None:
    rig = Rig()
    await rig.records.remember_owner(JANE, "ACC-1")
    headers = "Message-ID: <abc@mail.example.net>\nSubject: Re: your account\n"
    await rig.reply("call me please", headers=headers)
    await rig.reply("call me please", headers=headers)
    first, second = rig.signals()
    assert first.signal_id == second.signal_id


async def test_bad_input_is_answered_without_a_server_error() -> None:
    rig = Rig()
    await rig.records.remember_owner(JANE, "ACC-1")
    assert await rig.reply("") == 200
    assert await rig.reply("x" * 5000) == 200
    assert await rig.reply("🙂🙃") == 200
    assert all(len(s.text or "") <= 2000 for s in rig.signals())
    assert [s.details["intent"] for s in rig.signals()] == ["unknown"] * 3
    assert await rig.reply("STOP", sender="not-an-address") == 400
    boundary = "b0undary"
    invalid = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="from"\r\n\r\n{JANE}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\n'
        ).encode()
        + b"\xff\xfe STOP \xc3\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    response = await rig.post(invalid, f"multipart/form-data; boundary={boundary}")
    assert response.status_code in (200, 400)


def test_reply_text_and_sender() -> None:
    assert reply_text("", "<p>Stop <b>emailing</b></p><blockquote>PAY</blockquote>") == (
        "Stop emailing"
    )
    assert reply_text("yes\n> STOP") == "yes"
    assert sender_of("Jane <Jane@Example.com>") == JANE
    assert sender_of("x", '{"from": "bounce@example.org", "to": ["a@b.c"]}') == (
        "bounce@example.org"
    )


async def test_opens_and_clicks_become_engagement_signals_and_suppress_nothing() -> None:
    rig = Rig()
    batch = [
        {"email": JANE, "event": event, "sg_event_id": f"ev-{event}", "account_id": "ACC-1",
         "step_id": "stp_1", "timestamp": 1}
        for event in ("open", "click")
    ]  # fmt: skip
    payload = orjson.dumps(batch)
    timestamp = str(int(time.time()))
    signature = SIGNER.sign(timestamp, payload)
    assert await rig.hooks.events(payload, signature, timestamp) == 2
    kinds = [(s.kind, s.details["event"]) for s in rig.signals()]
    assert kinds == [(SignalKind.ENGAGED, "open"), (SignalKind.ENGAGED, "click")]
    assert not await rig.records.is_suppressed(JANE)


@pytest.fixture(scope="module")
def sandbox(receiver: WebhookRecorder) -> Iterator[str]:
    url = f"{receiver.base_url}/webhooks/sendgrid/inbound/{TOKEN}"
    with sandbox_server(sendgrid_inbound_url=url) as base:
        yield base


async def test_the_sandbox_posts_inbound_parse_as_sendgrid_does(
    sandbox: str, receiver: WebhookRecorder
) -> None:
    async with httpx.AsyncClient() as http:
        mail = {"from": JANE, "text": "No me escriba más"}
        answer = (await http.post(f"{sandbox}/_sandbox/sendgrid/inbound", json=mail)).json()
    assert answer["delivered"] is True
    [request] = receiver.requests(f"/webhooks/sendgrid/inbound/{TOKEN}")
    assert request.headers["content-type"].startswith("multipart/form-data")
    rig = Rig()
    await rig.records.remember_owner(JANE, "ACC-1")
    response = await rig.post(request.body, request.headers["content-type"])
    assert response.status_code == 200
    [signal] = rig.signals()
    assert (signal.kind, signal.details["language"]) == (SignalKind.OPTED_OUT, "es")
