"""What the gate knows about one account, and how each event changes it (pure).

The state is derived, never authoritative: it is rebuilt from the Kafka log whenever
Redis loses it. Every ``apply_*`` is idempotent, so replaying the log, or an event
delivered twice, leaves the same state.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dunning_core.contracts.events import (
    AccountOpened,
    AccountUpdated,
    Consumer,
    ConsumerSignaled,
    Debt,
    Decision,
    DeliveryStatus,
    DeliveryUpdated,
    SignalKind,
    StepDecided,
)
from pydantic import BaseModel, ConfigDict, Field

NOT_SENT = frozenset(
    {DeliveryStatus.REFUSED.value, DeliveryStatus.REJECTED.value, DeliveryStatus.EXPIRED.value}
)
"""Outcomes of an approval that never left: no contact attempt (an expired step is
re-planned and approved afresh)."""
SUPERSEDED = "superseded"
"""A former plan's approval when the step is planned again: the scheduler plans a step
again only once it did not go out, and a worker sends a step at most once, so the new
plan's approval is the step's one contact."""


class Contact(BaseModel):
    """One approved contact attempt, counted when approved (not when delivered)."""

    model_config = ConfigDict(frozen=True)

    step_id: str
    at: datetime
    channel: str
    debt_id: str
    destination: str
    outcome: str = "approved"
    # The planned event the approval answered ("" in states saved before it was kept):
    # only a decision on that same plan is a replay of this approval.
    planned_event_id: str = ""

    def answers(self, planned_event_id: str) -> bool:
        return not self.planned_event_id or self.planned_event_id == planned_event_id

    @property
    def live(self) -> bool:
        """Approved, and not (yet) known to have never left."""
        return self.outcome not in NOT_SENT and self.outcome != SUPERSEDED


class Unanswered(BaseModel):
    """A not-sent outcome read before the approval it answers (a rebuild replays the
    delivery topic and the decisions topic in whatever order the fetches return them)."""

    model_config = ConfigDict(frozen=True)

    step_id: str
    status: str
    at: datetime


class DisputeState(BaseModel):
    pending: bool = False
    received_at: datetime | None = None
    written: bool = True
    verified_at: datetime | None = None


class AccountState(BaseModel):
    account_id: str
    revision: int = 0
    consumer: Consumer | None = None
    debt: Debt | None = None
    opted_out_addresses: set[str] = Field(default_factory=set)
    opted_out_channels: set[str] = Field(default_factory=set)
    restricted_addresses: set[str] = Field(default_factory=set)
    cease_requested: bool = False
    attorney_represented: bool = False
    bankruptcy: bool = False
    deceased: bool = False
    outreach_paused: bool = False
    dispute: DisputeState = Field(default_factory=DisputeState)
    inconvenient_times: list[str] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    unanswered: list[Unanswered] = Field(default_factory=list)
    paid_in_full: bool = False

    def approved(self, step_id: str, planned_event_id: str = "") -> Contact | None:
        """The step's approval still in force (None once it expired or was refused); with
        ``planned_event_id``, only one that answered that plan (not a former plan's)."""
        return next(
            (
                c
                for c in self.contacts
                if c.step_id == step_id
                and c.live
                and (not planned_event_id or c.answers(planned_event_id))
            ),
            None,
        )


def apply_account(state: AccountState, event: AccountOpened | AccountUpdated) -> bool:
    """Take a newer snapshot; an older or equal revision changes nothing."""
    if event.revision <= state.revision:
        return False
    state.revision = event.revision
    state.consumer = event.consumer
    state.debt = event.debt
    return True


def apply_signal(state: AccountState, signal: ConsumerSignaled) -> bool:
    kind = signal.kind
    address = (signal.address or "").lower()
    if kind in (SignalKind.OPTED_OUT, SignalKind.UNSUBSCRIBED, SignalKind.SPAM_REPORTED):
        if address:
            state.opted_out_addresses.add(address)
        elif signal.channel is not None:
            state.opted_out_channels.add(signal.channel.value)
    elif kind is SignalKind.OPTED_IN:
        state.opted_out_addresses.discard(address)
        if signal.channel is not None:
            state.opted_out_channels.discard(signal.channel.value)
    elif kind is SignalKind.MEDIUM_RESTRICTED:
        if address:
            state.restricted_addresses.add(address)
        elif signal.channel is not None:
            state.opted_out_channels.add(signal.channel.value)
    elif kind is SignalKind.CEASE_REQUESTED:
        state.cease_requested = True
    elif kind is SignalKind.ATTORNEY_REPRESENTED:
        state.attorney_represented = True
    elif kind is SignalKind.BANKRUPTCY_FILED:
        state.bankruptcy = True
    elif kind is SignalKind.DECEASED:
        state.deceased = True
    elif kind is SignalKind.OUTREACH_PAUSED:
        state.outreach_paused = True
    elif kind is SignalKind.OUTREACH_RESUMED:
        state.outreach_paused = False
    elif kind is SignalKind.DISPUTED:
        if not state.dispute.pending:
            state.dispute = DisputeState(
                pending=True,
                received_at=signal.occurred_at,
                written=signal.source in ("sms", "email", "operator"),
            )
    elif kind is SignalKind.DISPUTE_VERIFIED:
        state.dispute = DisputeState(
            pending=False, received_at=state.dispute.received_at, verified_at=signal.occurred_at
        )
    elif kind is SignalKind.INCONVENIENT_TIME:
        window = signal.details.get("window") or (signal.text or "")
        if window and window not in state.inconvenient_times:
            state.inconvenient_times.append(window)
    else:
        return False
    return True


def apply_approval(
    state: AccountState, decided: StepDecided, destination: str, at: datetime
) -> bool:
    """Count an approval once, keyed by step id and instant: a step approved again after
    its approval expired or was refused (re-planned, same step id) counts again.

    A not-sent outcome of the step already read, at or after ``at``, answers it: the
    approval is recorded as never sent, not brought back to life."""
    if decided.decision is not Decision.ALLOW or any(
        c.step_id == decided.step_id and c.at == at for c in state.contacts
    ):
        return False
    answer = min(
        (u for u in state.unanswered if u.step_id == decided.step_id and u.at >= at),
        key=lambda u: u.at,
        default=None,
    )
    if answer is not None:
        state.unanswered.remove(answer)
    state.contacts.append(
        Contact(
            step_id=decided.step_id,
            at=at,
            channel=decided.channel.value,
            debt_id=decided.debt_id,
            destination=destination.lower(),
            outcome=answer.status if answer else "approved",
            planned_event_id=decided.planned_event_id,
        )
    )
    return True


def apply_delivery(state: AccountState, event: DeliveryUpdated) -> bool:
    """A message that never left (refused, rejected, expired) is no contact attempt: the
    step's oldest approval still in force is the one it answers. With none yet, it is
    kept for the approval read later (see ``apply_approval``)."""
    if event.status.value not in NOT_SENT:
        return False
    for i, contact in enumerate(state.contacts):
        if contact.step_id == event.step_id and contact.live:
            state.contacts[i] = contact.model_copy(update={"outcome": event.status.value})
            return True
    kept = Unanswered(step_id=event.step_id, status=event.status.value, at=event.occurred_at)
    # A repeat of an outcome already applied is kept too, harmlessly: it is older than
    # any later approval of the step, so it answers none.
    if kept in state.unanswered:
        return False
    state.unanswered.append(kept)
    return True


def prune(state: AccountState, now: datetime, keep_days: int) -> None:
    horizon = now - timedelta(days=keep_days)
    state.contacts = [c for c in state.contacts if c.at >= horizon]
    state.unanswered = [u for u in state.unanswered if u.at >= horizon]


def supersede(state: AccountState, step_id: str) -> None:
    """The step is planned again: its former plans' approvals still in force are over."""
    state.contacts = [
        c.model_copy(update={"outcome": SUPERSEDED}) if c.step_id == step_id and c.live else c
        for c in state.contacts
    ]
