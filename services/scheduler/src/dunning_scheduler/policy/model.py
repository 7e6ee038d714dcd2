"""The escalation policy: an ordered ladder of stages, as data a compliance officer can edit.

Each stage names its severity (a contract ``Stage``), the templates it sends (one per
attempt, the last one repeating), its channels, when it falls due (days after the
delinquency date or after the previous step, at the preferred local hour) and how often it
is tried. A stage that would threaten legal action must say so (``requires_legal_authority``)
and name the formal, non-threatening fallback sent when the debt is not authorised for legal
action or is time-barred: the scheduler never bluffs.

Validation is strict (unknown keys refused, ranges checked, the ladder must escalate);
``loader`` turns a failure into one readable message.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from dunning_core.contracts.common import Channel, Stage
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
SEVERITY: dict[Stage, int] = {stage: rank for rank, stage in enumerate(Stage)}


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError("must be lower_snake_case (letters, digits, underscores)")
    return value


Slug = Annotated[str, AfterValidator(_slug)]


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SendWindow(Strict):
    """Local hours [start_hour, end_hour) in which the scheduler aims steps.

    The compliance gate enforces the legal window anyway; this one only keeps planned
    instants sensible so that few steps need a deferral.
    """

    start_hour: int = Field(default=9, ge=0, le=23)
    end_hour: int = Field(default=20, ge=1, le=24)
    preferred_hour: int = Field(default=10, ge=0, le=23)

    @model_validator(mode="after")
    def _ordered(self) -> SendWindow:
        if self.start_hour >= self.end_hour:
            raise ValueError("start_hour must be before end_hour")
        if not self.start_hour <= self.preferred_hour < self.end_hour:
            raise ValueError("preferred_hour must lie within [start_hour, end_hour)")
        return self


class Fallback(Strict):
    """What a legal-authority stage sends instead when legal language is not allowed."""

    stage: Stage
    templates: tuple[Slug, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _not_legal(self) -> Fallback:
        if self.stage == Stage.LEGAL_WARNING:
            raise ValueError("a fallback cannot itself be a legal_warning")
        return self


class StagePolicy(Strict):
    key: Slug
    stage: Stage
    templates: tuple[Slug, ...] = Field(min_length=1, description="One per attempt; last repeats.")
    channels: tuple[Channel, ...] = Field(min_length=1)
    offset_days: int = Field(ge=0, le=365)
    offset_from: Literal["delinquency", "previous"] = "previous"
    max_attempts: int = Field(default=1, ge=1, le=10)
    retry_every_days: int | None = Field(default=None, ge=1, le=90)
    requires_legal_authority: bool = False
    fallback: Fallback | None = None

    @model_validator(mode="after")
    def _consistent(self) -> StagePolicy:
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("channels must not repeat")
        if self.max_attempts > 1 and self.retry_every_days is None:
            raise ValueError("retry_every_days is required when max_attempts > 1")
        if self.stage == Stage.LEGAL_WARNING and not self.requires_legal_authority:
            raise ValueError(
                "a legal_warning stage must set requires_legal_authority: true "
                "(legal language is only sent for debts authorised and not time-barred)"
            )
        if self.requires_legal_authority and self.fallback is None:
            raise ValueError(
                "requires_legal_authority needs a fallback (stage and templates) "
                "for debts without legal authority or past their limitation date"
            )
        return self

    def stages(self) -> tuple[Stage, ...]:
        """Every contract stage this policy stage may send under."""
        return (self.stage,) if self.fallback is None else (self.stage, self.fallback.stage)

    def template_names(self) -> set[str]:
        names = set(self.templates)
        if self.fallback is not None:
            names.update(self.fallback.templates)
        return names


class PlansPolicy(Strict):
    """How the scheduler follows plans, promises and payments (payments.v1).

    Money messages go by the first usable channel of ``channels``, at the preferred local
    hour, through the gate like every step; the ledger decides what is missed or broken.
    """

    reminder_days_before: int = Field(
        default=3, ge=0, le=30, description="Installment reminder: days before its due date."
    )
    promise_reminder_days_before: int = Field(
        default=1, ge=0, le=30, description="Promise reminder: days before the promised date."
    )
    resume_stage: Slug | None = Field(
        default=None,
        description="The stage (key) escalation resumes at when a plan or a promise breaks, a "
        "settlement lapses unpaid, or a settled account reopens (a case already past it goes "
        "on from where it was); by default the first stage.",
    )
    thank_payments: bool = Field(default=True, description="A thank-you after each payment.")
    confirm_settlement: bool = Field(
        default=True, description="A thank-you and confirmation when the account is settled."
    )
    channels: tuple[Channel, ...] = Field(default=(Channel.SMS, Channel.EMAIL), min_length=1)
    installment_reminder_template: Slug = "installment_reminder"
    promise_reminder_template: Slug = "promise_reminder"
    payment_thanks_template: Slug = "payment_thanks"
    settled_thanks_template: Slug = "settled_thanks"
    plan_missed_template: Slug = "plan_missed"

    @field_validator("channels")
    @classmethod
    def _channels(cls, channels: tuple[Channel, ...]) -> tuple[Channel, ...]:
        if len(set(channels)) != len(channels):
            raise ValueError("channels must not repeat")
        return channels

    def template_names(self) -> set[str]:
        return {
            self.installment_reminder_template,
            self.promise_reminder_template,
            self.payment_thanks_template,
            self.settled_thanks_template,
            self.plan_missed_template,
        }


class EscalationPolicy(Strict):
    """The whole ladder, mildest stage first."""

    name: Slug
    version: str = Field(min_length=1, max_length=64)
    send_window: SendWindow = SendWindow()
    first_step: Literal["now", "send_window"] = Field(
        default="now",
        description="A new case's first step: now (the gate defers it out of quiet hours and "
        "it is re-planned) or at the next preferred local hour when now is outside the window.",
    )
    fallback_time_zone: str = "America/New_York"
    min_gap_days: int = Field(
        default=1, ge=0, le=30, description="Least days between two steps of a case."
    )
    reply_by_days: int = Field(
        default=14, ge=1, le=60, description="The 'contact us by' date offered in messages."
    )
    promise_default_days: int = Field(
        default=7, ge=1, le=90, description="Pause length of a promise to pay without a date."
    )
    think_time_days: int = Field(
        default=3,
        ge=1,
        le=30,
        description="A consumer who asks for time to think hears from us again this many days "
        "later (the next step moves there): never silence.",
    )
    payment_link_template: Slug = Field(
        default="payment_link", description="Sent when a consumer replies they want to pay."
    )
    plan_offer_template: Slug = Field(
        default="plan_offer", description="Sent when a consumer replies they cannot pay in full."
    )
    soft_failures_to_drop: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Consecutive soft delivery failures before an "
        "address is no longer used (a hard bounce drops it at once).",
    )
    legal_margin_days: int = Field(
        default=30,
        ge=0,
        le=365,
        description="Legal language only while the limitation date is this far away.",
    )
    stages: tuple[StagePolicy, ...] = Field(min_length=1)
    plans: PlansPolicy = PlansPolicy()

    _attempt_base: dict[tuple[int, Stage], int] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _ladder(self) -> EscalationPolicy:
        keys = [s.key for s in self.stages]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"stage keys must be unique; repeated: {', '.join(duplicates)}")
        for before, after in zip(self.stages, self.stages[1:], strict=False):
            if SEVERITY[after.stage] < SEVERITY[before.stage]:
                raise ValueError(
                    f"the ladder must escalate: {after.key} ({after.stage.value}) comes after "
                    f"{before.key} ({before.stage.value})"
                )
        resume = self.plans.resume_stage
        if resume is not None and resume not in keys:
            # Named by its path: the loader places a whole-policy error at that field's line.
            raise ValueError(
                f"plans.resume_stage: {resume!r} is not a stage key "
                f"(the ladder has: {', '.join(keys)})"
            )
        return self

    def resume_index(self) -> int:
        """The ladder position escalation resumes at after a broken plan or promise."""
        keys = [s.key for s in self.stages]
        resume = self.plans.resume_stage
        return keys.index(resume) if resume in keys else 0

    def model_post_init(self, context: object, /) -> None:
        # Step ids are (account, debt, stage, channel, attempt): when two policy stages can
        # send under the same contract stage (a follow-up, a fallback), each gets its own
        # range of attempt numbers so their ids never collide.
        counters: dict[Stage, int] = {}
        for index, stage_policy in enumerate(self.stages):
            for stage in stage_policy.stages():
                self._attempt_base[(index, stage)] = counters.get(stage, 0)
                counters[stage] = counters.get(stage, 0) + stage_policy.max_attempts

    def attempt_number(self, index: int, stage: Stage, attempt: int) -> int:
        """The contract attempt number of the ``attempt``-th try of stage ``index``."""
        return self._attempt_base[(index, stage)] + attempt

    def template_names(self) -> set[str]:
        names: set[str] = {self.payment_link_template, self.plan_offer_template}
        names |= self.plans.template_names()
        for stage_policy in self.stages:
            names |= stage_policy.template_names()
        return names
