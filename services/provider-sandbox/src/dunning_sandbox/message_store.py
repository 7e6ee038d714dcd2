"""In-memory record of what the sandbox accepted and reported, for tests and the demo.

Bounded: past `capacity` records the oldest are forgotten; the counters keep counting.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from dunning_sandbox.bounded import BoundedRecords, keep_bounded

Channel = Literal["sms", "email", "inbound"]


@dataclass(slots=True)
class SmsRecord:
    sid: str
    account_sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    num_segments: int
    status_callback: str | None
    date_created: str
    status: str = "queued"
    error_code: int | None = None
    date_updated: str | None = None
    date_sent: str | None = None
    # The sandbox's own record (not Twilio's): when it took the request, to the microsecond,
    # so a test can order a send against a consumer's STOP within the same second.
    accepted_at: float = field(default_factory=time.time)
    # Status callbacks still to be handed over (not reached yet, queued or being retried);
    # 0 once every one was acknowledged or given up. The provider's own backlog: a step
    # whose message still has some has not had its final word yet.
    unreported: int = 0

    def to_json(self) -> dict[str, Any]:
        body = _as_json("sms", self, left_out={"account_sid", "date_sent"})
        body["date_updated"] = self.date_updated or self.date_created
        return body


@dataclass(slots=True)
class EmailRecord:
    message_id: str
    from_email: str
    recipients: list[str]
    subject: str | None
    headers: dict[str, str]
    custom_args: dict[str, str]
    created_at: int
    events: list[str] = field(default_factory=list)
    accepted_at: float = field(default_factory=time.time)  # the sandbox's (see SmsRecord)
    unreported: int = 0  # events not yet posted and acknowledged (see SmsRecord)

    def to_json(self) -> dict[str, Any]:
        return _as_json("email", self, {"from_email": "from", "recipients": "to"})


@dataclass(slots=True)
class InboundRecord:
    sid: str
    from_: str
    to: str
    body: str
    url: str | None
    delivered: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return _as_json("inbound", self)


Record = SmsRecord | EmailRecord | InboundRecord


def _as_json(
    channel: Channel,
    record: Record,
    renamed: Mapping[str, str] = MappingProxyType({"from_": "from"}),
    left_out: Collection[str] = (),
) -> dict[str, Any]:
    """The control API's view of ``record``: its channel, then its fields under their wire
    names (``renamed``), but ``left_out``."""
    fields = asdict(record).items()
    return {"channel": channel, **{renamed.get(k, k): v for k, v in fields if k not in left_out}}


_RECORD_TYPES: dict[Channel, type[Record]] = {
    "sms": SmsRecord,
    "email": EmailRecord,
    "inbound": InboundRecord,
}


class MessageStore(BoundedRecords[Record]):
    """Records by id (insertion ordered) plus counters that survive eviction."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self._latest_email_by_address: dict[str, str] = {}

    def add(self, key: str, record: Record) -> None:
        if isinstance(record, EmailRecord):
            for address in record.recipients:
                self._latest_email_by_address[address.lower()] = key
        evicted = keep_bounded(self._records, key, record, self.capacity)
        if evicted is None:
            return
        oldest, gone = evicted
        if isinstance(gone, EmailRecord):
            for address in gone.recipients:
                if self._latest_email_by_address.get(address.lower()) == oldest:
                    del self._latest_email_by_address[address.lower()]

    def latest_email_to(self, address: str) -> EmailRecord | None:
        key = self._latest_email_by_address.get(address.lower())
        record = self._records.get(key) if key else None
        return record if isinstance(record, EmailRecord) else None

    def newest_first(self, channel: Channel | None = None) -> Iterator[Record]:
        wanted = _RECORD_TYPES[channel] if channel is not None else object
        for record in reversed(self._records.values()):
            if isinstance(record, wanted):
                yield record

    def clear(self) -> None:
        super().clear()
        self._latest_email_by_address.clear()
