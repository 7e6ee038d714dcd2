"""The Event Webhook handler reads a batch through the domain's parser, whole, before
publishing any of it: a body that is not an array of event objects is answered 400 (naming
the event) with nothing published or suppressed; an odd event in a good batch is not."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
from dunning_core.contracts.events import ConsumerSignaled, DeliveryUpdated, SignalKind
from dunning_core.runtime.clock import FixedClock
from dunning_email.adapters.sendgrid_webhooks import SendGridSignatureVerifier
from dunning_email.api import router
from dunning_email.handlers import SendGridWebhooks
from dunning_sandbox.signing import EventWebhookSigner
from dunning_testkit.channels import NOW, MemoryPublisher, MemorySendRecords, webhook_app

SIGNER = EventWebhookSigner.generate()
JANE = "jane@example.com"
OURS = {"account_id": "ACC-1", "step_id": "stp_1", "timestamp": 1}


class Rig:
    def __init__(self) -> None:
        self.records, self.publisher = MemorySendRecords(), MemoryPublisher()
        hooks = SendGridWebhooks(
            verifier=SendGridSignatureVerifier(SIGNER.public_key_base64),
            producer=self.publisher,
            records=self.records,
            clock=FixedClock(NOW),
            unsubscribe_secret="s",
        )
        self.app = webhook_app(router(hooks))

    async def post(self, batch: list[Any]) -> httpx.Response:
        payload, stamp = orjson.dumps(batch), str(int(time.time()))
        headers = {
            "X-Twilio-Email-Event-Webhook-Signature": SIGNER.sign(stamp, payload),
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
        }
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://e") as http:
            return await http.post("/webhooks/sendgrid/events", content=payload, headers=headers)


async def test_a_batch_with_an_item_not_an_object_publishes_nothing_of_it() -> None:
    """The events before the bad item were published, then 400: half the batch written,
    and again on each of SendGrid's retries."""
    rig = Rig()
    good = {**OURS, "email": JANE, "event": "unsubscribe", "sg_event_id": "ev-1"}
    response = await rig.post([good, "not an event"])
    assert response.status_code == 400
    assert "event [1]" in response.json()["detail"]
    assert rig.publisher.sent == []
    assert not await rig.records.is_suppressed(JANE)


async def test_odd_events_do_not_cost_the_batch_its_good_ones() -> None:
    rig = Rig()
    batch = [
        {"event": "account_status_change", "type": "compliance_suspend", "timestamp": 1},
        {**OURS, "sg_event_id": "ev-0"},  # no event name: means nothing to us
        {**OURS, "event": "delivered", "sg_message_id": "m1.filter"},  # no email
        {**OURS, "email": JANE, "event": "unsubscribe", "sg_event_id": "ev-2"},
    ]
    assert (await rig.post(batch)).status_code == 204
    delivered, unsubscribed = [e.data for e in rig.publisher.sent]
    assert isinstance(delivered, DeliveryUpdated)
    # The message's id as the send was given it (X-Message-Id), not the event's longer one.
    assert (delivered.step_id, delivered.provider_message_id) == ("stp_1", "m1")
    assert isinstance(unsubscribed, ConsumerSignaled)
    assert (unsubscribed.kind, unsubscribed.address) == (SignalKind.UNSUBSCRIBED, JANE)
    assert await rig.records.is_suppressed(JANE)
