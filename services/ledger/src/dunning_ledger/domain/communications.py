"""The communication log's rules: one row per step, folded from decisions and deliveries (pure).

Decisions: the latest one (by ``decided_at``) is the step's decision; a deferred step that
is re-planned and then allowed ends as "allow", with the first decision's time kept.

Delivery status only moves forward, by this order (a higher rank replaces a lower one;
an equal or lower rank never does):

    1 accepted  <  2 sent  <  3 delivered  <  4 undelivered | failed | bounced | dropped
                                                | rejected | refused

So a "sent" callback that arrives after "delivered" changes nothing, while a bounce that
follows delivery (an email accepted by the receiving server and bounced later) is kept:
a failure is the last word. Among failures the first one reported stays. Each status's
first time is kept as its transition time, whatever order the events arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from dunning_core.contracts.events import DeliveryStatus, DeliveryUpdated, StepDecided

DELIVERY_RANK: Final[dict[DeliveryStatus, int]] = {
    # nothing was sent and the step goes back to be re-planned: any later status wins
    DeliveryStatus.EXPIRED: 0,
    DeliveryStatus.ACCEPTED: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.UNDELIVERED: 4,
    DeliveryStatus.FAILED: 4,
    DeliveryStatus.BOUNCED: 4,
    DeliveryStatus.DROPPED: 4,
    DeliveryStatus.REJECTED: 4,
    DeliveryStatus.REFUSED: 4,
}
FAILURE_RANK: Final = 4


def rank(status: DeliveryStatus) -> int:
    return DELIVERY_RANK[status]


def replaces(new: DeliveryStatus, old: DeliveryStatus | None) -> bool:
    """Whether ``new`` becomes the step's status when ``old`` is what it has now."""
    return old is None or rank(new) > rank(old)


@dataclass(frozen=True, slots=True)
class DecisionFold:
    """The log fields a batch of decisions sets for one step (named as its columns)."""

    step_id: str
    account_id: str
    debt_id: str
    channel: str
    stage: str
    attempt: int
    destination: str | None
    decision: str
    rule_ids: tuple[str, ...]
    not_before: datetime | None
    policy_version: str
    decided_at: datetime
    first_decided_at: datetime
    decisions: int


def rule_ids(event: StepDecided) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f.rule_id for f in event.findings))


def fold_decisions(events: Iterable[StepDecided]) -> dict[str, DecisionFold]:
    folded: dict[str, DecisionFold] = {}
    for e in events:
        current = folded.get(e.step_id)
        fresh = DecisionFold(
            step_id=e.step_id,
            account_id=e.account_id,
            debt_id=e.debt_id,
            channel=e.channel.value,
            stage=e.stage.value,
            attempt=e.attempt,
            destination=e.destination,
            decision=e.decision.value,
            rule_ids=rule_ids(e),
            not_before=e.not_before,
            policy_version=e.policy_version,
            decided_at=e.decided_at,
            first_decided_at=e.decided_at,
            decisions=1,
        )
        if current is None:
            folded[e.step_id] = fresh
            continue
        latest = fresh if fresh.decided_at >= current.decided_at else current
        folded[e.step_id] = replace(
            latest,
            first_decided_at=min(current.first_decided_at, fresh.decided_at),
            decisions=current.decisions + 1,
        )
    return folded


@dataclass(frozen=True, slots=True)
class DeliveryFold:
    """The log fields a batch of delivery updates sets for one step."""

    step_id: str
    account_id: str
    channel: str
    status: DeliveryStatus
    status_at: datetime
    provider: str
    provider_message_id: str | None
    error_code: str | None
    detail: str | None
    accepted_at: datetime | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    last_event_at: datetime | None = None

    @property
    def rank(self) -> int:
        return rank(self.status)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _transition_times(status: DeliveryStatus, at: datetime) -> dict[str, datetime]:
    if status is DeliveryStatus.ACCEPTED:
        return {"accepted_at": at}
    if status is DeliveryStatus.SENT:
        return {"sent_at": at}
    if status is DeliveryStatus.DELIVERED:
        return {"delivered_at": at}
    return {"failed_at": at}


def fold_deliveries(events: Iterable[DeliveryUpdated]) -> dict[str, DeliveryFold]:
    folded: dict[str, DeliveryFold] = {}
    for e in events:
        times = _transition_times(e.status, e.occurred_at)
        current = folded.get(e.step_id)
        if current is None:
            folded[e.step_id] = DeliveryFold(
                step_id=e.step_id,
                account_id=e.account_id,
                channel=e.channel.value,
                status=e.status,
                status_at=e.occurred_at,
                provider=e.provider,
                provider_message_id=e.provider_message_id,
                error_code=e.error_code,
                detail=e.detail,
                last_event_at=e.occurred_at,
                **times,
            )
            continue
        merged = replace(
            current,
            provider_message_id=current.provider_message_id or e.provider_message_id,
            accepted_at=_earliest(current.accepted_at, times.get("accepted_at")),
            sent_at=_earliest(current.sent_at, times.get("sent_at")),
            delivered_at=_earliest(current.delivered_at, times.get("delivered_at")),
            failed_at=_earliest(current.failed_at, times.get("failed_at")),
            last_event_at=max(current.last_event_at or e.occurred_at, e.occurred_at),
        )
        if replaces(e.status, current.status):
            merged = replace(
                merged,
                status=e.status,
                status_at=e.occurred_at,
                provider=e.provider,
                error_code=e.error_code,
                detail=e.detail,
            )
        folded[e.step_id] = merged
    return folded
