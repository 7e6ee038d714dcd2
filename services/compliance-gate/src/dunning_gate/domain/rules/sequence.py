"""Sequence rules: the Reg F validation notice and period; Nevada's medical-debt wait.

`validation.notice` blocks a first communication that neither carries nor follows the
validation notice, and anything but a step carrying it once the 5 days after the first
communication have run out. A legal warning waits (defer) for the validation period to
end, and is blocked while no notice was ever sent or a dispute is pending.
"""

from __future__ import annotations

from datetime import timedelta

from dunning_gate.domain.context import RuleContext
from dunning_gate.domain.decision import RuleOutcome


def validation_notice(ctx: RuleContext) -> RuleOutcome | None:
    step = ctx.step
    facts = ctx.facts
    debt = facts.debt
    sent = debt.validation_notice_sent_at
    if sent is None and not step.includes_validation_information:
        if step.is_first_communication:
            return ctx.block(
                "validation.notice",
                "a first communication must carry or follow the validation notice",
            )
        first = debt.first_communication_at
        grace = ctx.policy.validation.first_communication_notice_days
        if first is not None and ctx.at > first + timedelta(days=grace):
            return ctx.block(
                "validation.notice",
                f"validation information is overdue ({grace} days after the first "
                "communication): only a step carrying it may go",
                first_communication_at=first,
            )
    if step.stage != "legal_warning":
        return None
    period_end = facts.validation_period_end
    if period_end is None:
        return ctx.block(
            "validation.notice", "a legal warning needs a validation notice sent beforehand"
        )
    ctx.note("validation_period_end", period_end)
    pending = [d for d in debt.disputes if d.status == "pending"]
    if pending:
        return ctx.block(
            "validation.notice",
            "a legal warning needs the validation period over without a pending dispute",
            pending_disputes=len(pending),
        )
    if ctx.at < period_end:
        return ctx.defer(
            "validation.notice",
            period_end,
            "a legal warning waits for the validation period to end",
            validation_period_end=period_end,
        )
    return None


def nv_medical_wait(ctx: RuleContext) -> RuleOutcome | None:
    """Nevada medical debt: written notice, then 60 days before any collection step."""
    facts = ctx.facts
    if facts.consumer.state != "NV" or not facts.debt.medical:
        return None
    notice = facts.debt.nv_written_notice_at
    wait = ctx.policy.states.nv_medical_wait_days
    if notice is None:
        return ctx.block(
            "state.nv.medical_wait",
            f"Nevada medical debt: no written notice recorded ({wait}-day wait cannot start)",
        )
    ready = notice + timedelta(days=wait)
    if ctx.at < ready:
        return ctx.defer(
            "state.nv.medical_wait",
            ready,
            f"Nevada medical debt: {wait} days must pass after the written notice",
            notice_at=notice,
        )
    return None
