"""Twilio webhooks handled: status callbacks and inbound messages become events.

Every request is verified by its ``X-Twilio-Signature`` before anything happens (403
otherwise), then read by the domain's parsers, the one reading of Twilio's forms (400,
touching nothing, when a field we need is missing). Opt-outs are written durably (Kafka
acknowledged, destination suppressed) before Twilio gets its 200, so a STOP is never lost
to a crash.

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

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, TypeVar, cast

from dunning_channels.domain.webhook_errors import WebhookPayloadError
from dunning_channels.service.webhooks import ProviderWebhooks
from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import ConsumerSignaled, DeliveryUpdated, SignalKind
from dunning_core.runtime.tracing import callback_span, new_traceparent, step_traceparent
from dunning_replies.answers import Answer, answer_for, language_of
from fastapi import HTTPException, Request

from dunning_sms.domain import (
    OPTED_OUT_ERROR,
    delivery_status,
    parse_inbound_message,
    parse_status_callback,
    public_url,
    read_inbound,
)
from dunning_sms.ports import AnswerLog, Locales, SignatureVerifier

log = logging.getLogger(__name__)
SERVICE: Final = "sms"
Webhook = TypeVar("Webhook")


@dataclass(eq=False, repr=False, kw_only=True)
class TwilioWebhooks(ProviderWebhooks, channel=Channel.SMS, source=SERVICE):
    verifier: SignatureVerifier
    public_base_url: str
    answers: AnswerLog
    locales: Locales | None = None
    creditor: str = "Acme Recovery Services"
    contact: str = "1-800-555-0199"

    async def verified(
        self,
        request: Request,
        signature: str | None,
        parse: Callable[[dict[str, str]], Webhook],
    ) -> Webhook:
        """The webhook as `parse` reads it, once its signature is checked: 403 unless it is
        Twilio's, 400 when it lacks a field we need (before anything is touched)."""
        form = await self._verified_form(request, signature)
        try:
            return parse(form)
        except WebhookPayloadError as exc:
            log.warning("refused twilio webhook: %s", exc, extra={"path": request.url.path})
            raise HTTPException(status_code=400, detail=str(exc)) from exc

    async def _verified_form(self, request: Request, signature: str | None) -> dict[str, str]:
        received = await request.form()
        # Twilio signs the URL it called: our public base plus the path and query we gave it.
        url = public_url(self.public_base_url, request.url.path, request.url.query)
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
        callback = await self.verified(request, signature, parse_status_callback)
        # Ours, not Twilio's: the URL we gave with the message names its step and account.
        step_id = request.query_params.get("step_id")
        account_id = request.query_params.get("account_id")
        status = delivery_status(callback.status)
        if not step_id or not account_id or status is None:
            return  # a status we do not track, or a message we did not send
        event = DeliveryUpdated(
            account_id=account_id,
            step_id=step_id,
            channel=Channel.SMS,
            provider="twilio",
            provider_message_id=callback.message_sid,
            status=status,
            error_code=callback.error_code,
            occurred_at=self.clock.now(),
        )
        envelope = wrap(event, SERVICE, traceparent=step_traceparent(step_id))
        with callback_span("sms.status_callback", envelope):  # in the step's trace
            await (await self.producer.send(envelope))
        if callback.error_code == OPTED_OUT_ERROR and callback.to:
            await self._suppress(callback.to)
            await self._signal(account_id, SignalKind.OPTED_OUT, callback.to, callback.message_sid)

    async def inbound(self, request: Request, signature: str | None) -> Answer | None:
        """Publish what the text means; the answer to text back, if any."""
        message = await self.verified(request, signature, parse_inbound_message)
        sender, body, sid = message.from_, message.body, message.message_sid
        was_suppressed = await self.records.is_suppressed(sender)
        opt_out_type = message.opt_out_type
        meaning = read_inbound(
            body, now=self.clock.now(), opt_out_type=opt_out_type, after_opt_out=was_suppressed
        )
        kind = meaning.kind
        await self._keep_choice(kind, sender)
        answer = self._answer(meaning.intent, kind, meaning.details, was_suppressed, opt_out_type)
        if answer is not None and self.locales is not None:
            # In the account's language when we know it (as last written to this number).
            locale = await self.locales.locale_of(sender)
            if locale is not None:
                language = language_of(locale, meaning.details.get("language"))
                answer = answer_for(
                    meaning.intent, language, creditor=self.creditor, contact=self.contact
                )
        if answer is not None and not await self.answers.first(sid):
            answer = None  # a redelivery of a text already answered
        details = dict(meaning.details)
        if answer is not None:
            details.update(answer=answer.kind, answer_language=answer.language)
            details["answer_text"] = answer.text
        await self._publish_reply(
            meaning,
            address=sender,
            text=body,
            signal_id=sid,
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
        self, account_id: str, kind: SignalKind, address: str, message_sid: str
    ) -> None:
        signal = ConsumerSignaled(
            account_id=account_id,
            signal_id=message_sid,
            kind=kind,
            channel=Channel.SMS,
            address=address,
            source="sms",
            occurred_at=self.clock.now(),
        )
        # Awaited: the signal is on the broker before Twilio hears 200.
        await (await self.producer.send(wrap(signal, SERVICE, traceparent=new_traceparent())))
