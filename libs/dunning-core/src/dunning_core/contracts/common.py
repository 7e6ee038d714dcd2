"""Value types shared by every event: money, channels, stages, message content."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from dunning_core.contracts.ids import event_id

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class Frozen(BaseModel):
    """Base of every contract model: immutable.

    Unknown fields are ignored, not refused: v1 may gain optional fields, and a consumer
    built against an older v1 must still read what a newer producer writes.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")


def _utc_aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a UTC offset (ISO 8601 with offset)")
    return value


def _e164(value: str) -> str:
    if not _E164.match(value):
        raise ValueError("must be an E.164 phone number such as +14155550100")
    return value


def _currency(value: str) -> str:
    if not _CURRENCY.match(value):
        raise ValueError("must be an ISO 4217 code such as USD")
    return value


Instant = Annotated[datetime, AfterValidator(_utc_aware)]
E164 = Annotated[str, AfterValidator(_e164)]
CurrencyCode = Annotated[str, AfterValidator(_currency)]


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class Stage(StrEnum):
    """The escalation ladder, mildest first."""

    FRIENDLY_REMINDER = "friendly_reminder"
    URGENCY = "urgency"
    FORMAL_NOTICE = "formal_notice"
    LEGAL_WARNING = "legal_warning"


class Money(Frozen):
    """An amount as an integer count of minor units plus its ISO 4217 currency."""

    amount_minor: int
    currency: CurrencyCode = "USD"


class MessageContent(Frozen):
    """The exact content the scheduler rendered and the gate vets."""

    body: str = Field(min_length=1)
    subject: str | None = None
    locale: str = "en_US"
    headers: dict[str, str] = Field(default_factory=dict)

    def content_hash(self) -> str:
        """SHA-256 over a canonical JSON form: what was vetted is what is sent."""
        canonical = orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
        return "sha256:" + hashlib.sha256(canonical).hexdigest()


class Event(Frozen):
    """Base of every event payload."""

    event_type: ClassVar[str]
    topic: ClassVar[str]

    account_id: str = Field(min_length=1, max_length=64)

    def natural_key(self) -> tuple[object, ...]:
        """What makes two events the same fact; their ce_id derives from it."""
        raise NotImplementedError

    def default_event_id(self) -> str:
        return event_id(self.event_type, *self.natural_key())
