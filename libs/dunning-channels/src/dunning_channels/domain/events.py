"""The events a channel publishes about an approval: what happened to it, and an opt-out a
provider reported. Built here, published by the use case. Each is on the approved step's
channel (the worker's own: it refuses a step of another channel before reporting)."""

from __future__ import annotations

from datetime import datetime

from dunning_core.contracts.events import (
    ConsumerSignaled,
    DeliveryStatus,
    DeliveryUpdated,
    SignalKind,
    StepApproved,
)
from dunning_core.contracts.ids import event_id

from dunning_channels.domain.outcomes import Provider

SEND_BY_PASSED = "send_by_passed"
# Nothing reached a provider: the event names none.
_NOTHING_SENT = (DeliveryStatus.REFUSED, DeliveryStatus.EXPIRED)


def delivery_update(
    approval: StepApproved,
    *,
    provider: Provider,
    status: DeliveryStatus,
    now: datetime,
    error_code: str | None,
    detail: str | None,
    provider_message_id: str | None = None,
) -> DeliveryUpdated:
    return DeliveryUpdated(
        account_id=approval.account_id,
        step_id=approval.step.step_id,
        channel=approval.step.channel,
        provider="none" if status in _NOTHING_SENT else provider,
        provider_message_id=provider_message_id,
        status=status,
        error_code=error_code,
        detail=detail,
        occurred_at=now,
    )


def expiry(
    approval: StepApproved, *, provider: Provider, now: datetime
) -> tuple[DeliveryUpdated, str]:
    """The ``expired`` update of an approval whose ``send_by`` passed, and its event id:
    one per approval (its plan's instant and window), so a re-planned step that expires
    again is news, even when approved again inside the same window (same ``send_by``),
    while a redelivered approval is one expiry."""
    assert approval.send_by is not None
    send_by = approval.send_by.isoformat()
    event = delivery_update(
        approval,
        provider=provider,
        status=DeliveryStatus.EXPIRED,
        now=now,
        error_code=SEND_BY_PASSED,
        detail=f"send_by {send_by} passed before sending",
    )
    plan = approval.step.send_at.isoformat()
    key = (approval.step.step_id, DeliveryStatus.EXPIRED.value, plan, send_by)
    return event, event_id(DeliveryUpdated.event_type, *key)


def opt_out_signal(
    approval: StepApproved, *, provider: Provider, code: str, now: datetime
) -> ConsumerSignaled:
    """The recipient unsubscribed, as the provider said when refusing a send (21610)."""
    return ConsumerSignaled(
        account_id=approval.account_id,
        signal_id=f"{provider}:{code}:{approval.step.step_id}",
        kind=SignalKind.OPTED_OUT,
        channel=approval.step.channel,
        address=approval.step.destination,
        debt_id=approval.step.debt_id,
        source="provider",
        occurred_at=now,
        details={"provider_error": code},
    )
