"""Example what-if requests: a valid starting point that the default policy allows.

`example_request()` is a plain dict (the JSON a what-if file holds): an SMS friendly
reminder to a New York consumer on a Tuesday morning, with consent, address basis,
disclosures and opt-out text in place. `with_changes` edits it by dotted paths
(`{"step.channel": "email", "consumer.phones.0.consent": "none"}`), which is how tests
and what-if experiments describe "the same step, except …".
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

SMS_BODY = (
    "Hi Sam, this message is from a debt collector, Acme Recovery. Your balance with "
    "Example Bank is $120.00. Pay or set up a plan at https://pay.example.com/r/abc. "
    "Reply STOP to opt out."
)
EMAIL_BODY = (
    "Dear Sam,\n\nThis message is from a debt collector, Acme Recovery. Your balance with "
    "Example Bank is $120.00. Pay or set up a plan at https://pay.example.com/r/abc.\n\n"
    "To stop receiving these emails, unsubscribe: https://mail.example.com/u/abc"
)
EMAIL_HEADERS = {
    "List-Unsubscribe": "<https://mail.example.com/u/abc>, <mailto:unsub@example.com>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}
PHONE = "+12125550123"  # Manhattan area code: America/New_York
EMAIL = "sam@example.com"


def example_request() -> dict[str, Any]:
    """A request the default policy allows (at 10:00 New York time, Tuesday 1 July 2025)."""
    return {
        "step": {
            "step_id": "step-1",
            "account_id": "acct-1",
            "debt_id": "debt-1",
            "channel": "sms",
            "stage": "friendly_reminder",
            "attempt": 1,
            "destination": PHONE,
            "content": {"body": SMS_BODY, "locale": "en-US"},
            "content_hash": "sha256:example",
            "is_first_communication": False,
            "planned_at": "2025-07-01T13:55:00+00:00",
        },
        "consumer": {
            "state": "NY",
            "zip": "12207",
            "city": "Albany",
            "phones": [
                {
                    "number": PHONE,
                    "line_type": "mobile",
                    "consent": "creditor_provided",
                    "basis": "consumer_used",
                    "reassigned_checked_on": "2025-06-15",
                }
            ],
            "emails": [{"address": EMAIL, "basis": "consumer_used"}],
        },
        "debt": {
            "debt_id": "debt-1",
            "creditor": "Example Bank",
            "collector_type": "third_party_collector",
            "validation_notice_sent_at": "2025-04-01T15:00:00+00:00",
            "first_communication_at": "2025-04-01T15:00:00+00:00",
            "limitation_date": "2028-01-01",
        },
        "history": {"attempts": []},
        "now": "2025-07-01T14:00:00+00:00",
    }


def example_email_request() -> dict[str, Any]:
    """The same step as an email, with an unsubscribe link and RFC 8058 headers."""
    return with_changes(
        example_request(),
        {
            "step.channel": "email",
            "step.destination": EMAIL,
            "step.content": {
                "subject": "Your Example Bank balance",
                "body": EMAIL_BODY,
                "locale": "en-US",
                "headers": dict(EMAIL_HEADERS),
            },
        },
    )


def living_at(
    state: str, zip_code: str, city: str | None = None, phone: str | None = None
) -> dict[str, Any]:
    """Changes (for `with_changes`) putting the consumer at an address and, with `phone`,
    reaching them on that local number: their first phone and the step's destination."""
    changes: dict[str, Any] = {"consumer.state": state, "consumer.zip": zip_code}
    if city is not None:
        changes["consumer.city"] = city
    if phone is not None:
        changes["step.destination"] = phone
        changes["consumer.phones.0.number"] = phone
    return changes


def with_changes(raw: Mapping[str, Any], changes: Mapping[Any, Any]) -> dict[str, Any]:
    """A deep copy of `raw` with each dotted path set (list items by index); a value of
    `DELETE` removes the key. A path whose keys contain dots (rule ids) is given as a
    tuple of keys."""
    result: dict[str, Any] = copy.deepcopy(dict(raw))
    for path, value in changes.items():
        *parents, last = path.split(".") if isinstance(path, str) else path
        node: Any = result
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if isinstance(node, list):
            node[int(last)] = copy.deepcopy(value)
        elif value is DELETE:
            node.pop(last, None)
        else:
            node[last] = copy.deepcopy(value)
    return result


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


DELETE: Any = _Delete()
