"""Builds the sms processes from settings: the worker (consumer loop, retries) and the
webhook ingress (Twilio's status callbacks and inbound texts)."""

from __future__ import annotations

from dunning_channels.bootstrap import ingress_app, plumbing, worker_app
from dunning_core.contracts.common import Channel
from dunning_core.contracts.topics import APPROVED_SMS
from dunning_core.runtime.clock import Clock
from fastapi import FastAPI

from dunning_sms.adapters.redis_answers import RedisAnswerLog, RedisLocales
from dunning_sms.adapters.twilio_sender import TwilioSmsSender, TwilioStepSender
from dunning_sms.adapters.twilio_webhooks import TwilioSignatureVerifier
from dunning_sms.api import router
from dunning_sms.config import SmsSettings
from dunning_sms.handlers import TwilioWebhooks


def build(settings: SmsSettings, clock: Clock | None = None) -> FastAPI:
    """The worker."""
    parts = plumbing(settings, "sms", Channel.SMS, clock)
    twilio = TwilioSmsSender(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        base_url=settings.twilio_base_url,
        timeout_s=settings.provider_timeout_s,
    )
    return worker_app(
        settings,
        parts,
        title="Dunning sms worker",
        topic=APPROVED_SMS,
        sender=TwilioStepSender(
            twilio,
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            public_base_url=settings.public_base_url,
            locales=RedisLocales(parts.redis, prefix=settings.topic_prefix),
        ),
        close_sender=twilio.aclose,
    )


def build_ingress(settings: SmsSettings, clock: Clock | None = None) -> FastAPI:
    """The webhook ingress."""
    parts = plumbing(settings, "sms", Channel.SMS, clock)
    hooks = TwilioWebhooks(
        verifier=TwilioSignatureVerifier(settings.twilio_auth_token.get_secret_value()),
        producer=parts.producer,
        records=parts.records,
        fence=parts.fence,
        clock=parts.clock,
        public_base_url=settings.public_base_url,
        answers=RedisAnswerLog(parts.redis, prefix=settings.topic_prefix),
        locales=RedisLocales(parts.redis, prefix=settings.topic_prefix),
        creditor=settings.creditor_name,
        contact=settings.creditor_contact,
    )
    return ingress_app(settings, parts, hooks, router(hooks))
