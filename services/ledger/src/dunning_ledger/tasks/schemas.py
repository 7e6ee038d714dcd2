"""The agent task bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from dunning_ledger.domain.tasks import TaskState, TaskStatus
from dunning_ledger.payments.schemas import Body, NextCursor, PlainText
from dunning_ledger.tasks.models import AgentTask


class TaskOut(BaseModel):
    task_id: str
    account_id: str
    kind: str = Field(description="call_back, review_reply or dispute_review")
    reason: str = Field(description="Why: the reply's intent (call_me, unknown, ...).")
    status: TaskStatus = Field(
        description="open, claimed, done or cancelled; a claim whose lease lapsed is open."
    )
    source_event_id: str = Field(description="The inbound message's event (ce_id) in the log.")
    signal_id: str | None = Field(description="The provider's message id of the reply.")
    channel: str | None
    address: str | None = Field(description="Who wrote: E.164 number or email address.")
    message_text: str | None = Field(description="The reply as received.")
    received_at: datetime
    zones: list[str] = Field(description="The consumer's candidate time zones.")
    window_start: datetime = Field(
        description="When the consumer's allowed hours (08:00-21:00 in every zone) open."
    )
    window_end: datetime = Field(description="When that window closes in some zone.")
    due_at: datetime = Field(description="Do it by then (inside the window).")
    claimed_by: str | None
    claimed_at: datetime | None
    lease_until: datetime | None = Field(description="The claim lapses then unless renewed.")
    completed_by: str | None
    completed_at: datetime | None
    outcome: str | None
    created_at: datetime
    replayed: bool = False

    @classmethod
    def of(cls, t: AgentTask, now: datetime, replayed: bool = False) -> TaskOut:
        state = TaskState(TaskStatus(t.status), t.claimed_by, t.lease_until)
        held = state.held(now)
        return cls(
            task_id=t.task_id, account_id=t.account_id, kind=t.kind, reason=t.reason,
            status=state.effective(now), source_event_id=t.source_event_id,
            signal_id=t.signal_id, channel=t.channel, address=t.address,
            message_text=t.message_text, received_at=t.received_at, zones=list(t.zones),
            window_start=t.window_start, window_end=t.window_end, due_at=t.due_at,
            claimed_by=t.claimed_by if held else None,
            claimed_at=t.claimed_at if held else None,
            lease_until=t.lease_until if held else None,
            completed_by=t.completed_by, completed_at=t.completed_at, outcome=t.outcome,
            created_at=t.created_at, replayed=replayed,
        )  # fmt: skip


class TaskPageOut(BaseModel):
    tasks: list[TaskOut]
    next_cursor: NextCursor
    as_of: datetime = Field(description="The ledger's clock when listed (leases judged then).")


class CompleteIn(Body):
    outcome: PlainText = Field(
        min_length=1, max_length=2000, description="What was done: the call's result, say."
    )
