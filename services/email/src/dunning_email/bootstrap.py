"""Builds the email processes from settings: the worker (consumer loop, retries) and the
webhook ingress (SendGrid's Event Webhook, one-click unsubscribe)."""

from __future__ import annotations

from dunning_channels.bootstrap import ingress_app, plumbing, worker_app
from dunning_core.contracts.common import Channel
from dunning_core.contracts.topics import APPROVED_EMAIL
from dunning_core.runtime.clock import Clock
from fastapi import FastAPI

from dunning_email.adapters.sendgrid_sender import SendGridEmailSender, SendGridStepSender
from dunning_email.adapters.sendgrid_webhooks import SendGridSignatureVerifier
from dunning_email.api import router
from dunning_email.config import EmailSettings
from dunning_email.handlers import SendGridWebhooks


def build(settings: EmailSettings, clock: Clock | None = None) -> FastAPI:
    """The worker."""
    parts = plumbing(settings, "email", Channel.EMAIL, clock)
    sendgrid = SendGridEmailSender(
        api_key=settings.sendgrid_api_key.get_secret_value(),
        host=settings.sendgrid_base_url,
        timeout_s=settings.provider_timeout_s,
        max_concurrency=settings.send_concurrency,
    )
    return worker_app(
        settings,
        parts,
        title="Dunning email worker",
        topic=APPROVED_EMAIL,
        sender=SendGridStepSender(
            sendgrid, from_address=settings.from_address, from_name=settings.from_name
        ),
    )


def build_ingress(settings: EmailSettings, clock: Clock | None = None) -> FastAPI:
    """The webhook ingress; refuses to start without the Event Webhook public key."""
    parts = plumbing(settings, "email", Channel.EMAIL, clock)
    hooks = SendGridWebhooks(
        verifier=SendGridSignatureVerifier(settings.sendgrid_webhook_public_key),
        producer=parts.producer,
        records=parts.records,
        fence=parts.fence,
        clock=parts.clock,
        unsubscribe_secret=settings.unsubscribe_secret.get_secret_value(),
        inbound_token=settings.inbound_token.get_secret_value(),
    )
    return ingress_app(settings, parts, hooks, router(hooks))
