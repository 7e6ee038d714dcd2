"""docs/payments-events.md names every payments.v1 event type and every field of each.

Subscribers read that page instead of the models: a type or field added to the contract without
a word there fails here.
"""

from __future__ import annotations

import re

import pytest
from dunning_core.contracts.common import Event
from dunning_core.contracts.payments import PAYMENT_EVENTS
from dunning_testkit.paths import REPO

DOC = (REPO / "docs/payments-events.md").read_text()


def section(event_type: str) -> str:
    match = re.search(rf"^### {re.escape(event_type)}\n(.*?)(?=^#)", DOC, re.S | re.M)
    assert match, f"docs/payments-events.md has no '### {event_type}' section"
    return match.group(1)


@pytest.mark.parametrize("event", PAYMENT_EVENTS, ids=lambda e: e.event_type)
def test_every_field_is_described(event: type[Event]) -> None:
    text = section(event.event_type)
    missing = [f for f in event.model_fields if f != "account_id" and f"`{f}`" not in text]
    assert not missing, f"{event.event_type}: fields not described: {missing}"


def test_sections_follow_the_contract_order() -> None:
    order = re.findall(r"^### ([a-z.]+\.v\d+)$", DOC, re.M)
    assert order == [e.event_type for e in PAYMENT_EVENTS]
