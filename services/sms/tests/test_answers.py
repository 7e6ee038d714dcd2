"""STOP, START and HELP are answered in the webhook's TwiML: once, in the consumer's
language, and what was answered rides on the signal (the ledger's communication log)."""

from __future__ import annotations

from dataclasses import replace

import httpx
from dunning_core.contracts.events import ConsumerSignaled
from dunning_sandbox.signing import twilio_signature
from dunning_sms.api import router
from dunning_testkit.channels import (
    MemoryLocales,
    MemoryPublisher,
    MemorySendRecords,
    webhook_app,
)
from dunning_testkit.sms import twilio_webhooks
from fastapi import FastAPI

TOKEN = "answers-test-token"
BASE = "http://127.0.0.1:8006"
PATH = "/webhooks/twilio/inbound"
PHONE = "+14155550123"


class Rig:
    def __init__(self) -> None:
        self.locales = MemoryLocales()
        self.records, self.publisher = MemorySendRecords(), MemoryPublisher()
        hooks = replace(
            twilio_webhooks(self.publisher, self.records, TOKEN, BASE),
            locales=self.locales,
            creditor="Acme Recovery",
            contact="1-800-555-0199",
        )
        self.app: FastAPI = webhook_app(router(hooks))
        self.n = 0

    async def text(self, body: str, sid: str | None = None, **extra: str) -> httpx.Response:
        self.n += 1
        form = {
            "MessageSid": sid or f"SM{self.n:032d}",
            "AccountSid": "AC" + "0" * 32,
            "From": PHONE,
            "To": "+15005550006",
            "Body": body,
            **extra,
        }
        signature = twilio_signature(TOKEN, BASE + PATH, form)
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            return await http.post(PATH, data=form, headers={"X-Twilio-Signature": signature})

    def signals(self) -> list[ConsumerSignaled]:
        return [e.data for e in self.publisher.sent if isinstance(e.data, ConsumerSignaled)]


def message(response: httpx.Response) -> str | None:
    assert response.status_code == 200
    text = response.text
    if "<Message>" not in text:
        return None
    return text.split("<Message>")[1].split("</Message>")[0]


async def test_stop_is_confirmed_once_and_a_second_stop_gets_nothing() -> None:
    rig = Rig()
    await rig.records.remember_owner(PHONE, "ACC-1")
    first = message(await rig.text("STOP"))
    assert first is not None
    assert "unsubscribed" in first
    assert "Acme Recovery" in first
    assert message(await rig.text("STOP")) is None
    answered = [s.details.get("answer") for s in rig.signals()]
    assert answered == ["opt_out_confirmation", None]
    assert rig.signals()[0].details["answer_text"] == first


async def test_start_after_stop_is_confirmed_and_re_enables() -> None:
    rig = Rig()
    await rig.records.remember_owner(PHONE, "ACC-1")
    await rig.text("STOP")
    confirmation = message(await rig.text("START"))
    assert confirmation is not None
    assert "STOP" in confirmation
    assert not await rig.records.is_suppressed(PHONE)
    assert message(await rig.text("START")) is None  # already subscribed: nothing to confirm


async def test_help_names_the_creditor_the_contact_and_how_to_opt_out() -> None:
    rig = Rig()
    answer = message(await rig.text("HELP"))
    assert answer is not None
    assert "Acme Recovery" in answer
    assert "1-800-555-0199" in answer
    assert "STOP" in answer


async def test_answers_are_in_the_replys_language() -> None:
    rig = Rig()
    spanish = message(await rig.text("AYUDA"))
    assert spanish is not None
    assert "Responda STOP" in spanish
    rig = Rig()
    chinese = message(await rig.text("退订"))
    assert chinese is not None
    assert "退订" in chinese
    assert rig.signals()[0].details["answer_language"] == "zh"


async def test_a_redelivered_inbound_is_not_answered_twice() -> None:
    rig = Rig()
    sid = "SM" + "9" * 32
    assert message(await rig.text("HELP", sid=sid)) is not None
    assert message(await rig.text("HELP", sid=sid)) is None


async def test_advanced_opt_out_answers_itself() -> None:
    rig = Rig()
    assert message(await rig.text("STOP", OptOutType="STOP")) is None
    assert await rig.records.is_suppressed(PHONE)


async def test_plain_replies_get_no_text_back() -> None:
    rig = Rig()
    assert message(await rig.text("I will pay on Friday")) is None
    assert message(await rig.text("🙂🙂")) is None


async def test_the_accounts_language_wins_over_the_replys() -> None:
    rig = Rig()
    await rig.locales.remember(PHONE, "zh_CN")  # what the worker last wrote to the number
    answer = message(await rig.text("HELP"))
    assert answer is not None
    assert "回复 STOP 退订" in answer
