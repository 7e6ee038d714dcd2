"""Deterministic identifiers: the same inputs always give the same id.

A replayed plan therefore carries the same step id and event id, and every consumer
recognises it as a duplicate instead of acting twice.
"""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("6f1c1d0e-5b7a-4c55-9a59-2f0d3c1f9e11")


def derived_id(*parts: object) -> str:
    """A UUIDv5 over the parts, joined unambiguously."""
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(str(p) for p in parts)))


def step_id(account_id: str, debt_id: str, stage: str, channel: str, attempt: int) -> str:
    """The id of one escalation step: account, debt, stage, channel and attempt."""
    if attempt < 1:
        raise ValueError(f"attempt must be >= 1, got {attempt}")
    return "stp_" + derived_id("step", account_id, debt_id, stage, channel, attempt)


def event_id(event_type: str, *natural_key: object) -> str:
    """The CloudEvents id of an event identified by its natural key."""
    return derived_id(event_type, *natural_key)
