"""Reconciliation against the sandbox's Twilio: a message sent whose answer came too late
(a timeout after accepting) is found in Twilio's message list and recorded, not resent."""

from __future__ import annotations

import asyncio

import httpx
from dunning_channels.domain import ReconcilePolicy
from dunning_channels.ports import Parked
from dunning_core.contracts.events import DeliveryStatus, DeliveryUpdated, StepApproved
from dunning_sms.adapters.twilio_sender import TwilioSmsSender, TwilioStepSender
from dunning_testkit.channels import MemoryLocales, MemoryRetryQueue, approval, rig, step_of

ACCOUNT = "AC" + "c" * 32
TOKEN = "reconcile-test-token"
SENDER = "+15005550006"


# The settings of the testkit's `sandbox` fixture (one sandbox for the module).
SANDBOX_SETTINGS = {"twilio_account_sid": ACCOUNT, "twilio_auth_token": TOKEN}


def twilio(sandbox: str) -> TwilioStepSender:
    client = TwilioSmsSender(account_sid=ACCOUNT, auth_token=TOKEN, base_url=sandbox, timeout_s=0.5)
    return TwilioStepSender(
        client, from_number=SENDER, messaging_service_sid=None, public_base_url="http://127.0.0.1:9"
    )


async def sent_to(sandbox: str, number: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=sandbox) as http:
        listed = await http.get("/_sandbox/messages", params={"channel": "sms"})
    return [m for m in listed.json()["messages"] if m["to"] == number]


async def test_a_timeout_after_accepting_is_found_and_recorded_never_resent(
    sandbox: str,
) -> None:
    number = "+14155557001"
    async with httpx.AsyncClient(base_url=sandbox) as http:
        hang = {"destinations": [number], "hang_s": 2, "times": 1}
        assert (await http.post("/_sandbox/faults", json=hang)).status_code == 201
    sender = twilio(sandbox)
    parts = rig(sender)
    parts.service.inflight = MemoryRetryQueue()
    parts.service.reconcile = ReconcilePolicy(settle_s=60, give_up_s=600, retry_s=30)
    envelope = approval("acc-1", destination=number)
    try:
        await parts.service.handle(envelope)
        await parts.service.flush()
        assert parts.service.ambiguous == 1  # the client timed out; Twilio has it
        await asyncio.sleep(2)  # the sandbox's late answer goes nowhere
        parts.wall.advance(61)
        assert await parts.service.reconcile_due() == 1
        await parts.settle()
    finally:
        await sender.client.aclose()
    [message] = await sent_to(sandbox, number)  # one provider message, no second
    events = [e for e in parts.publisher.events() if isinstance(e, DeliveryUpdated)]
    assert [(e.status, e.provider_message_id) for e in events] == [
        (DeliveryStatus.ACCEPTED, message["sid"])
    ]
    step_id = step_of(envelope)
    assert parts.records.steps == {step_id: message["sid"]}


async def test_a_send_that_never_reached_twilio_is_sent_once(sandbox: str) -> None:
    number = "+14155557002"
    sender = twilio(sandbox)
    parts = rig(sender)
    parts.service.inflight = MemoryRetryQueue()
    envelope = approval("acc-2", destination=number)
    try:
        # Reserved and in flight, and the worker died before calling.
        await parts.records.reserve(step_of(envelope))
        await parts.service.handle(envelope)  # redelivered: a duplicate of a reserved step
        await parts.service.flush()
        assert await sent_to(sandbox, number) == []
        item = Parked(envelope, attempts=0, first_attempt_at=parts.wall())
        await parts.service.inflight.park(item, parts.wall())
        assert await parts.service.reconcile_due() == 1  # Twilio has nothing: sent again
        await parts.settle()
    finally:
        await sender.client.aclose()
    assert len(await sent_to(sandbox, number)) == 1
    events = [e for e in parts.publisher.events() if isinstance(e, DeliveryUpdated)]
    assert [e.status for e in events] == [DeliveryStatus.ACCEPTED]


async def test_an_accepted_text_tells_which_language_its_number_is_written_in(
    sandbox: str,
) -> None:
    locales = MemoryLocales()
    sender = twilio(sandbox)
    sender.locales = locales
    approved = approval("acc-1", destination="+14155557002").data
    assert isinstance(approved, StepApproved)
    step = approved.step
    step = step.model_copy(update={"content": step.content.model_copy(update={"locale": "es_US"})})
    try:
        await sender.send("acc-1", step)
    finally:
        await sender.client.aclose()
    assert locales.known == {"+14155557002": "es_US"}
