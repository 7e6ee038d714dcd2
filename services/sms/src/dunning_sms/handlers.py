"""Twilio webhooks handled: status callbacks and inbound messages become events.

Every request is verified by its ``X-Twilio-Signature`` before anything happens (403
otherwise). Opt-outs are written durably (Kafka acknowledged, destination suppressed)
before Twilio gets its 200, so a STOP is never lost to a crash.

Opt-out, opt-in and HELP are answered in the webhook's own response (TwiML ``<Message>``),
in the account's language when the worker recorded one for the number, else in the reply's.
Twilio sends it as the reply: no second API call, nothing queued behind the worker, so the
confirmation cannot be delayed by a worker restart or a provider backlog, and it never
passes the gate as a collection contact (it is not one: it is counted nowhere, its fixed
texts are vetted against the gate's content rules in tests/cross). What was answered rides
on the signal (``details["answer"]``, ``details["answer_text"]``), so the ledger's
communication log shows it. One answer per inbound MessageSid (a redelivery gets none), and
none to a second STOP (the number is already suppressed) or to an opt-out Twilio's Advanced
Opt-Out has already confirmed (``OptOutType`` present).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from dunning_channels.service.webhooks import ProviderWebhooks
from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import ConsumerSignaled, DeliveryUpdated, SignalKind
from dunning_core.contracts.topics import SIGNALS, dlq
from dunning_core.runtime.tracing import callback_span, new_traceparent, step_traceparent
from dunning_replies.answers import Answer, answer_for, language_of
from fastapi import HTTPException, Request

from dunning_sms.domain import OPTED_OUT_ERROR, delivery_status, read_inbound
from dunning_sms.ports import AnswerLog, Locales, SignatureVerifier

log = logging.getLogger(__name__)
SERVICE = "sms"


@dataclass(eq=False, repr=False, kw_only=True)
class TwilioWebhooks(ProviderWebhooks):
    verifier: SignatureVerifier
    public_base_url: str
    answers: AnswerLog
    locales: Locales | None = None
    creditor: str = "Acme Recovery Services"
    contact: str = "1-800-555-0199"

    def __post_init__(self) -> None:
        self.public_base_url = self.public_base_url.rstrip("/")

    async def verified_form(self, request: Request, signature: str | None) -> dict[str, str]:
        received = await request.form()
        # Twilio signs the URL it called: our public base plus the path and query we gave it.
        url = self.public_base_url + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        # ... and every value of a repeated field: the form as received (a multi-dict) is
        # checked, not the one-value-per-field dict the handlers read. A file is not Twilio's.
        texts = all(isinstance(value, str) for _, value in received.multi_items())
        fields = cast("Mapping[str, str]", received)
        if not signature or not texts or not self.verifier.verify(url, fields, signature):
            self.rejected += 1
            log.warning("rejected twilio webhook: bad signature", extra={"path": request.url.path})
            raise HTTPException(status_code=403, detail="invalid X-Twilio-Signature")
        return {k: str(v) for k, v in received.items()}

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
        envelope = wrap(event, SERVICE, traceparent=step_traceparent(step_id))
        with callback_span("sms.status_callback", envelope):  # in the step's trace
            await (await self.producer.send(envelope))
        if error == OPTED_OUT_ERROR and (to := form.get("To")):
            await self._suppress(to)
            await self._signal(
                account_id, SignalKind.OPTED_OUT, to, None, form.get("MessageSid", "")
            )

    async def inbound(self, request: Request, signature: str | None) -> Answer | None:
        """Publish what the text means; the answer to text back, if any."""
        form = await self.verified_form(request, signature)
        sender = form.get("From", "")
        body = form.get("Body", "")
        was_suppressed = await self.records.is_suppressed(sender)
        opt_out_type = form.get("OptOutType") or None
        meaning = read_inbound(
            body, now=self.clock.now(), opt_out_type=opt_out_type, after_opt_out=was_suppressed
        )
        kind = meaning.kind
        await self._keep_choice(kind, sender)
        sid = form.get("MessageSid", "")
        answer = self._answer(meaning.intent, kind, meaning.details, was_suppressed, opt_out_type)
        if answer is not None and self.locales is not None:
            # In the account's language when we know it (as last written to this number).
            locale = await self.locales.locale_of(sender)
            if locale is not None:
                language = language_of(locale, meaning.details.get("language"))
                answer = answer_for(
                    meaning.intent, language, creditor=self.creditor, contact=self.contact
                )
        if answer is not None and not await self.answers.first(sid or sender + body):
            answer = None  # a redelivery of a text already answered
        details = dict(meaning.details)
        if answer is not None:
            details.update(answer=answer.kind, answer_language=answer.language)
            details["answer_text"] = answer.text
        await self._publish_reply(
            meaning,
            channel=Channel.SMS,
            source="sms",
            address=sender,
            text=body,
            signal_id=sid or hashlib.sha256(f"{sender}{body}".encode()).hexdigest(),
            details=details,
        )
        return answer

    def _answer(
        self,
        intent: str,
        kind: SignalKind,
        details: dict[str, str],
        was_suppressed: bool,
        opt_out_type: str | None,
    ) -> Answer | None:
        if opt_out_type is not None:
            return None  # Twilio's Advanced Opt-Out answers STOP, START and HELP itself
        if kind is SignalKind.OPTED_OUT and was_suppressed:
            return None  # a second STOP: confirmed once already
        if kind is SignalKind.OPTED_IN and not was_suppressed:
            return None  # nothing to re-enable
        if kind not in (SignalKind.OPTED_OUT, SignalKind.OPTED_IN, SignalKind.HELP_REQUESTED):
            return None
        language = language_of(None, details.get("language"))  # the reply's language
        return answer_for(intent, language, creditor=self.creditor, contact=self.contact)

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
