"""The SMS worker as the tests build it: its webhook handlers, and its settings on the
local stack sending through the provider sandbox."""

from __future__ import annotations

from typing import Any

from dunning_channels.ports import Publisher, SendRecords
from dunning_core.runtime.clock import FixedClock
from dunning_sms.adapters.twilio_webhooks import TwilioSignatureVerifier
from dunning_sms.config import SmsSettings
from dunning_sms.handlers import TwilioWebhooks
from dunning_testkit.channels import NOW, MemoryAnswerLog
from dunning_testkit.stack import KAFKA, REDIS_URL


def twilio_webhooks(
    producer: Publisher, records: SendRecords, token: str, base_url: str
) -> TwilioWebhooks:
    """The webhook handlers: Twilio's signatures checked with ``token`` for ``base_url``,
    the clock at ``NOW``, answers kept in memory."""
    return TwilioWebhooks(
        verifier=TwilioSignatureVerifier(token),
        producer=producer,
        records=records,
        clock=FixedClock(NOW),
        public_base_url=base_url,
        answers=MemoryAnswerLog(),
    )


def sms_settings(topics: str, sandbox: str, public_base_url: str, **overrides: Any) -> SmsSettings:
    """The worker's settings under ``topics`` on the local stack, texting through the
    sandbox at ``sandbox``, called back at ``public_base_url``; ``overrides`` on top."""
    return SmsSettings(
        kafka_bootstrap=KAFKA,
        redis_url=REDIS_URL,
        topic_prefix=topics,
        group_id=f"{topics}sms",
        twilio_base_url=sandbox,
        public_base_url=public_base_url,
        **overrides,
    )
