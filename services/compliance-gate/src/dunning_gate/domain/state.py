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


class Contact(BaseModel):
    """One approved contact attempt, counted when approved (not when delivered)."""

    model_config = ConfigDict(frozen=True)

    step_id: str
    at: datetime
    channel: str
    debt_id: str
    destination: str
    outcome: str = "approved"

    @property
    def live(self) -> bool:
        """Approved, and not (yet) known to have never left."""
        return self.outcome not in NOT_SENT


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
    dispute: DisputeState = Field(default_factory=DisputeState)
    inconvenient_times: list[str] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    paid_in_full: bool = False

    def approved(self, step_id: str) -> Contact | None:
        """The step's approval still in force (None once it expired or was refused)."""
        return next((c for c in self.contacts if c.step_id == step_id and c.live), None)


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
    its approval expired or was refused (re-planned, same step id) counts again."""
    if decided.decision is not Decision.ALLOW or any(
        c.step_id == decided.step_id and c.at == at for c in state.contacts
    ):
        return False
    state.contacts.append(
        Contact(
            step_id=decided.step_id,
            at=at,
            channel=decided.channel.value,
            debt_id=decided.debt_id,
            destination=destination.lower(),
        )
    )
    return True


def apply_delivery(state: AccountState, event: DeliveryUpdated) -> bool:
    """A message that never left (refused, rejected, expired) is no contact attempt: the
    step's oldest approval still in force is the one it answers."""
    if event.status.value not in NOT_SENT:
        return False
    for i, contact in enumerate(state.contacts):
        if contact.step_id == event.step_id and contact.live:
            state.contacts[i] = contact.model_copy(update={"outcome": event.status.value})
            return True
    return False


def prune(state: AccountState, now: datetime, keep_days: int) -> None:
    horizon = now - timedelta(days=keep_days)
    state.contacts = [c for c in state.contacts if c.at >= horizon]
