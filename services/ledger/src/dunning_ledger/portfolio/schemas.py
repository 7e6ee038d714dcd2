"""The portfolio figures' body."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class CollectedDay(BaseModel):
    day: date
    currency: str
    payments: int
    amount: str = Field(description="Decimal text in major units.")
    amount_minor: int


class FiguresOut(BaseModel):
    accounts_by_status: dict[str, int]
    accounts_by_stage: dict[str, int] = Field(
        description="By the stage of each account's latest logged step (`none`: no step)."
    )
    collected_per_day: list[CollectedDay] = Field(description="UTC days with payments.")
    collected_since: date
    collected_until: date
    messages_by_channel_and_outcome: dict[str, dict[str, int]] = Field(
        description="Steps by channel and outcome: the furthest delivery status, else the "
        "latest decision (block, defer, allow awaiting a report)."
    )
    decisions_by_rule: dict[str, dict[str, int]] = Field(
        description="Gate decisions (every one, re-decisions too) by rule id and action."
    )
    messaged_accounts: int = Field(description="Accounts with a delivery event.")
    accounts_with_signal: dict[str, int]
    opt_out_rate: float | None = Field(description="Of messaged accounts; null when none.")
    complaint_rate: float | None
    dispute_rate: float | None
    promises_judged: int = Field(
        description="Promises to pay whose date has passed (or that the ledger closed)."
    )
    promises_kept: int = Field(description="Of those, the promises kept.")
    promise_kept_rate: float | None = Field(
        description="promises_kept / promises_judged; null when no promise has come due."
    )
    omitted: dict[str, str] = Field(description="Figures left out, and why.")
