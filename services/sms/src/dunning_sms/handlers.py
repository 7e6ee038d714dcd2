"""Twilio webhooks handled: status callbacks and inbound messages become events.

Every request is verified by its ``X-Twilio-Signature`` before anything happens (403
otherwise). Opt-outs are written durably (Kafka acknowledged, destination suppressed)
before Twilio gets its 200, so a STOP is never lost to a crash.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from dunning_channels.ports import Clock, Publisher, SendRecords
from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import ConsumerSignaled, DeliveryUpdated, SignalKind
from dunning_core.contracts.topics import SIGNALS, dlq
from dunning_core.runtime.tracing import new_traceparent, step_traceparent
from fastapi import HTTPException, Request

from dunning_sms.domain import OPTED_OUT_ERROR, delivery_status, read_inbound
from dunning_sms.ports import SignatureVerifier

log = logging.getLogger(__name__)
UNATTRIBUTED = "unattributed"  # the account of a signal whose number no account is known of
SERVICE = "sms"


@dataclass(eq=False, repr=False, kw_only=True)
class TwilioWebhooks:
    verifier: SignatureVerifier
    producer: Publisher
    records: SendRecords
    clock: Clock
    public_base_url: str
    rejected: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.public_base_url = self.public_base_url.rstrip("/")

    async def verified_form(self, request: Request, signature: str | None) -> dict[str, str]:
        form = {k: str(v) for k, v in (await request.form()).items()}
        # Twilio signs the URL it called: our public base plus the path and query we gave it.
        url = self.public_base_url + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        if not signature or not self.verifier.verify(url, form, signature):
            self.rejected += 1
            log.warning("rejected twilio webhook: bad signature", extra={"path": request.url.path})
            raise HTTPException(status_code=403, detail="invalid X-Twilio-Signature")
        return form

    async def status(self, request: Request, signature: str | None) -> None:
        form = await self.verified_form(request, signature)
        step_id = request.query_params.get("step_id")
        account_id = request.query_params.get("account_id")
        status = delivery_status(form.get("MessageStatus", ""))
        if not step_id or not account_id or status is None:
            return  # a status we do not track, or a message we did not send
        error = form.get("ErrorCode") or None
        event = DeliveryUpdated(
            account_id=account_id,
            step_id=step_id,
            channel=Channel.SMS,
            provider="twilio",
            provider_message_id=form.get("MessageSid"),
            status=status,
            error_code=error,
            occurred_at=self.clock.now(),
        )
        await (
            await self.producer.send(wrap(event, SERVICE, traceparent=step_traceparent(step_id)))
        )
        if error == OPTED_OUT_ERROR and (to := form.get("To")):
            await self.records.suppress(to)
            await self._signal(
                account_id, SignalKind.OPTED_OUT, to, None, form.get("MessageSid", "")
            )

    async def inbound(self, request: Request, signature: str | None) -> None:
        form = await self.verified_form(request, signature)
        sender = form.get("From", "")
        body = form.get("Body", "")
        meaning = read_inbound(
            body,
            now=self.clock.now(),
            opt_out_type=form.get("OptOutType"),
            after_opt_out=await self.records.is_suppressed(sender),
        )
        kind = meaning.kind
        if kind is SignalKind.OPTED_OUT:
            await self.records.suppress(sender)
        elif kind is SignalKind.OPTED_IN:
            await self.records.unsuppress(sender)
        owners = await self.records.owners(sender)
        sid = form.get("MessageSid", "")
        if not owners:
            # Never dropped (the owners may have been lost with Redis): kept on the signals'
            # dead-letter topic, to be attributed by whoever knows the number.
            log.warning("inbound message from a number we know no account of; dead-lettered")
            details = {**meaning.details, "unattributed": "no account known for this number"}
            await self._signal(UNATTRIBUTED, kind, sender, body, sid, details, dead_letter=True)
        for account_id in sorted(owners):
            await self._signal(account_id, kind, sender, body, sid, meaning.details)
            if meaning.all_channels:  # STOPALL: every channel, not only this number
                for channel in Channel:
                    await self._signal(
                        account_id, kind, None, body, f"{sid}:{channel.value}", {}, channel
                    )

    async def _signal(
        self,
        account_id: str,
        kind: SignalKind,
        address: str | None,
        text: str | None,
        message_sid: str,
        details: dict[str, str] | None = None,
        channel: Channel = Channel.SMS,
        *,
        dead_letter: bool = False,
    ) -> None:
        """``address`` None: the signal is about the whole channel (every address of it)."""
        signal = ConsumerSignaled(
            account_id=account_id,
            signal_id=message_sid or hashlib.sha256(f"{address}{text}".encode()).hexdigest(),
            kind=kind,
            channel=channel,
            address=address,
            text=text,
            source="sms",
            occurred_at=self.clock.now(),
            details=details or {},
        )
        # Awaited: the signal is on the broker before Twilio hears 200.
        envelope = wrap(signal, SERVICE, traceparent=new_traceparent())
        await (await self.producer.send(envelope, dlq(SIGNALS) if dead_letter else None))
