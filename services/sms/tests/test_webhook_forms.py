"""The handlers read Twilio's forms through the domain's parsers, the one reading: what
the parser tests prove is what runs. A signed form without a field we need is answered 400
naming the field, and nothing is published, suppressed or answered."""

from __future__ import annotations

import httpx
from dunning_core.contracts.events import ConsumerSignaled, DeliveryStatus, DeliveryUpdated
from dunning_sandbox.signing import twilio_signature
from dunning_sms.api import router
from dunning_testkit.channels import MemoryPublisher, MemorySendRecords, webhook_app
from dunning_testkit.sms import twilio_webhooks

TOKEN = "forms-test-token"
BASE = "http://127.0.0.1:8006"
PHONE = "+14155550123"
SID = "SM" + "d" * 32
STATUS_PATH = "/webhooks/twilio/status?account_id=ACC-1&step_id=stp_1"
INBOUND_PATH = "/webhooks/twilio/inbound"


class Rig:
    def __init__(self) -> None:
        self.records, self.publisher = MemorySendRecords(), MemoryPublisher()
        self.hooks = twilio_webhooks(self.publisher, self.records, TOKEN, BASE)
        self.app = webhook_app(router(self.hooks))

    async def post(self, path: str, form: dict[str, str]) -> httpx.Response:
        signature = twilio_signature(TOKEN, BASE + path, form)
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            return await http.post(path, data=form, headers={"X-Twilio-Signature": signature})


async def test_an_inbound_text_without_a_sender_is_refused_400_and_touches_nothing() -> None:
    """It was read as from '' and its reply published for the address ''."""
    rig = Rig()
    form = {"MessageSid": SID, "AccountSid": "AC" + "0" * 32, "To": "+15005550006"}
    response = await rig.post(INBOUND_PATH, {**form, "Body": "STOP"})
    assert response.status_code == 400
    assert "From" in response.json()["detail"]
    assert rig.publisher.sent == []
    assert not await rig.records.is_suppressed("")
    assert rig.hooks.rejected == 0  # genuine, only incomplete: not counted as forged


async def test_an_inbound_text_named_by_its_legacy_sid_keeps_that_sid() -> None:
    rig = Rig()
    await rig.records.remember_owner(PHONE, "ACC-1")
    form = {"SmsMessageSid": SID, "From": PHONE, "To": "+15005550006", "Body": "STOP"}
    assert (await rig.post(INBOUND_PATH, form)).status_code == 200
    [signal] = [e.data for e in rig.publisher.sent]
    assert isinstance(signal, ConsumerSignaled)
    assert (signal.signal_id, signal.kind.value) == (SID, "opted_out")


async def test_a_status_callback_with_only_the_legacy_fields_is_published() -> None:
    """Only MessageStatus was read: a callback saying SmsStatus was dropped (204, nothing)."""
    rig = Rig()
    form = {"SmsSid": SID, "SmsStatus": "delivered", "To": PHONE}
    assert (await rig.post(STATUS_PATH, form)).status_code == 204
    [event] = [e.data for e in rig.publisher.sent]
    assert isinstance(event, DeliveryUpdated)
    assert (event.status, event.provider_message_id) == (DeliveryStatus.DELIVERED, SID)


async def test_a_status_callback_without_a_status_is_refused_400() -> None:
    rig = Rig()
    response = await rig.post(STATUS_PATH, {"MessageSid": SID, "ErrorCode": "21610", "To": PHONE})
    assert response.status_code == 400
    assert "MessageStatus" in response.json()["detail"]
    assert rig.publisher.sent == []
    assert not await rig.records.is_suppressed(PHONE)
