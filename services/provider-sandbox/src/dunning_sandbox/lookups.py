"""The lookup APIs reconciliation needs, in the real providers' shapes (pure, no I/O).

- Twilio: `GET /2010-04-01/Accounts/{AccountSid}/Messages.json` with `To`, `From`,
  `DateSent`, `DateSent<`, `DateSent>` (GMT, `YYYY-MM-DD` or ISO 8601; `<` and `>` are
  inclusive, as Twilio's), `PageSize` and `Page`; newest first. A message not sent yet
  has no `date_sent`: its `date_created` stands in.
- SendGrid Email Activity: `GET /v3/messages?query=…&limit=N`, the query language's
  `field="value"` clauses joined by ` AND ` for `msg_id` (also `LIKE '<prefix>%'`),
  `to_email`, `from_email`, `subject`, `status` and `unique_args['name']` (custom args).
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dunning_sandbox.message_store import EmailRecord, SmsRecord


def _instant(text: str) -> datetime | None:
    text = text.strip()
    try:
        if len(text) == 10:  # YYYY-MM-DD
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _sent_at(record: SmsRecord) -> datetime:
    return email.utils.parsedate_to_datetime(record.date_sent or record.date_created)


def twilio_matches(
    records: Iterable[SmsRecord], params: Mapping[str, str]
) -> Iterator[SmsRecord] | None:
    """The records the list filters in ``params`` keep (None: a filter that cannot be read)."""
    bounds: list[tuple[str, datetime]] = []
    for name, op in (("DateSent", "="), ("DateSent<", "<"), ("DateSent>", ">")):
        if name in params:
            at = _instant(params[name])
            if at is None:
                return None
            bounds.append((op, at))
    to, from_ = params.get("To"), params.get("From")

    def kept(record: SmsRecord) -> bool:
        if to is not None and record.to != to:
            return False
        if from_ is not None and record.from_ != from_:
            return False
        sent = _sent_at(record)
        for op, at in bounds:
            if op == "=" and sent.date() != at.date():
                return False
            if (op == "<" and sent > at) or (op == ">" and sent < at):
                return False
        return True

    return (r for r in records if kept(r))


def twilio_page(
    resources: list[dict[str, Any]], uri: str, page: int, page_size: int
) -> dict[str, Any]:
    """One page of a Twilio list resource (its meta keys, and ``messages``)."""
    start = page * page_size
    chunk = resources[start : start + page_size]
    more = len(resources) > start + page_size
    base = f"{uri}?PageSize={page_size}"
    return {
        "end": start + max(len(chunk) - 1, 0),
        "first_page_uri": f"{base}&Page=0",
        "next_page_uri": f"{base}&Page={page + 1}" if more else None,
        "page": page,
        "page_size": page_size,
        "previous_page_uri": f"{base}&Page={page - 1}" if page > 0 else None,
        "start": start,
        "uri": f"{base}&Page={page}",
        "messages": chunk,
    }


_CLAUSE = re.compile(
    r"""^\(?\s*(?P<field>[a-z_]+)(?:\['(?P<arg>[^']+)'\])?\s*(?P<op>=|LIKE)\s*"""
    r"""(?P<q>["'])(?P<value>.*?)(?P=q)\s*\)?$"""
)
_FIELDS = {"msg_id", "to_email", "from_email", "subject", "status", "unique_args"}


@dataclass(frozen=True)
class Clause:
    field: str
    value: str
    arg: str | None = None  # the custom arg's name, for unique_args
    prefix: bool = False  # LIKE '<value>%'


def parse_activity_query(query: str) -> list[Clause] | None:
    """The clauses of an Email Activity query; None when it is not one this reads."""
    clauses: list[Clause] = []
    for part in query.split(" AND "):
        found = _CLAUSE.match(part.strip())
        if found is None or found["field"] not in _FIELDS:
            return None
        if (found["field"] == "unique_args") != (found["arg"] is not None):
            return None
        value, like = found["value"], found["op"] == "LIKE"
        if like and not value.endswith("%"):
            return None
        clauses.append(Clause(found["field"], value.rstrip("%") if like else value,
                              found["arg"], like))  # fmt: skip
    return clauses


def activity_messages(records: Iterable[EmailRecord]) -> Iterator[dict[str, Any]]:
    """One Email Activity message per recipient of each record (newest first given)."""
    for record in records:
        events = set(record.events)
        if "delivered" in events:
            status = "delivered"
        elif events & {"bounce", "dropped", "deferred"}:
            status = "not_delivered"
        else:
            status = "processed"
        for index, recipient in enumerate(record.recipients):
            yield {
                "from_email": record.from_email,
                "msg_id": f"{record.message_id}.filterdrecv-sandbox-1-0-{index}.0",
                "subject": record.subject or "",
                "to_email": recipient,
                "status": status,
                "opens_count": record.events.count("open"),
                "clicks_count": 0,
                "last_event_time": datetime.fromtimestamp(record.created_at, UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                "unique_args": dict(record.custom_args),
            }


def activity_matches(message: Mapping[str, Any], clauses: list[Clause]) -> bool:
    for clause in clauses:
        if clause.field == "unique_args":
            have = str(message["unique_args"].get(clause.arg or "", ""))
        else:
            have = str(message[clause.field])
        if clause.prefix:
            if not have.startswith(clause.value):
                return False
        elif have.lower() != clause.value.lower():
            return False
    return True
