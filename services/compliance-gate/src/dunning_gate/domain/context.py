"""What every rule reads: the request, the policy, derived facts, and the instant judged.

`Facts` are worked out once per evaluation and do not depend on the instant (candidate
zones, normalised text, the destination's phone/email record, whether legal action is
threatened). `RuleContext` pairs them with the instant being judged — `now` first, then,
while the evaluator looks for a time that suits every deferring rule, later instants —
and collects the inputs worth recording (`note`), e.g. counts per window.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar, overload
from zoneinfo import ZoneInfo

from dunning_core.time_zones import zone_infos

from dunning_gate.domain.business_days import validation_period_end
from dunning_gate.domain.decision import RuleOutcome
from dunning_gate.domain.request import (
    EmailRecord,
    EvaluationRequest,
    PhoneRecord,
    PrecomputedWindow,
)
from dunning_gate.domain.time_zones import candidate_zones
from dunning_gate.policy.model import Policy
from dunning_gate.policy.phrases import padded
from dunning_gate.policy.vocabulary import PHONE_CHANNELS, RuleId

T = TypeVar("T")


class lazy(Generic[T]):
    """A lock-free cached_property: computed on first access, then a plain attribute.

    (functools.cached_property takes a lock on every first access in Python 3.11, which
    costs more than most of what it caches here.)"""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> lazy[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> T | lazy[T]:
        if instance is None:
            return self
        value = self.compute(instance)
        instance.__dict__[self.name] = value
        return value


class Facts:
    """Instant-independent facts about one request, computed at most once each."""

    def __init__(self, request: EvaluationRequest, policy: Policy) -> None:
        self.request = request
        self.policy = policy
        self.step = request.step
        self.consumer = request.consumer
        self.debt = request.debt
        self.history = request.history
        self.channel = request.step.channel
        self.zone_names: tuple[str, ...] = candidate_zones(
            request.consumer,
            policy.time_zones.no_location_zones,
            request.step.destination if request.step.channel in PHONE_CHANNELS else None,
        )
        self.zones: tuple[ZoneInfo, ...] = zone_infos(self.zone_names)
        # Attempt instants per filter, shared by every instant the evaluator judges.
        self.instants: dict[object, list[datetime]] = {}

    @lazy
    def text(self) -> str:
        """Subject and body, normalised and padded for whole-word `contains`."""
        content = self.step.content
        raw = content.body if content.subject is None else f"{content.subject}\n{content.body}"
        return padded(raw)

    def has_phrase(self, phrases: tuple[str, ...]) -> str | None:
        """The first of the (padded) policy phrases found in the text, if any, unpadded."""
        text = self.text
        for phrase in phrases:
            if phrase in text:
                return phrase.strip()
        return None

    @lazy
    def phone(self) -> PhoneRecord | None:
        """The consumer's record of the destination number (phone channels)."""
        if self.channel not in PHONE_CHANNELS:
            return None
        destination = self.step.destination
        return next((p for p in self.consumer.phones if p.number == destination), None)

    @lazy
    def email(self) -> EmailRecord | None:
        if self.channel != "email":
            return None
        destination = self.step.destination
        return next((e for e in self.consumer.emails if e.address == destination), None)

    @lazy
    def line_types(self) -> Mapping[str, str]:
        """Destination -> "mobile"/"home"/"work"/"other" for numbers, "workplace"/
        "personal" for email addresses on file."""
        kinds: dict[str, str] = {p.number: p.line_type for p in self.consumer.phones}
        kinds.update(
            (e.address, "workplace" if e.workplace else "personal") for e in self.consumer.emails
        )
        return kinds

    def at_work(self, destination: str) -> bool:
        return self.line_types.get(destination.lower(), self.line_types.get(destination)) in {
            "work",
            "workplace",
        }

    @lazy
    def precomputed(self) -> Mapping[str, PrecomputedWindow]:
        return {window.key: window for window in self.history.precomputed}

    @lazy
    def in_nyc(self) -> bool:
        consumer = self.consumer
        if consumer.state != "NY":
            return False
        nyc = self.policy.states.nyc
        if consumer.zip is not None and consumer.zip[:3] in nyc.zip3:
            return True
        return consumer.city is not None and padded(consumer.city) in nyc.cities

    def nyc_rules_apply(self, at: datetime) -> bool:
        """A New York City consumer, on a local date the amended rules are in force."""
        start = self.policy.states.nyc.effective_from
        if not self.in_nyc:
            return False
        return start is None or max(self.local_dates(at)) >= start

    @lazy
    def validation_period_end(self) -> datetime | None:
        sent = self.debt.validation_notice_sent_at
        if sent is None:
            return None
        settings = self.policy.validation
        return validation_period_end(
            sent, self.zones, settings.receipt_business_days, settings.period_days
        )

    @lazy
    def threat_phrase(self) -> str | None:
        """The legal-action language in the message, or "stage:legal_warning"."""
        content = self.policy.content
        text = self.text
        threat = next((p for p in content.legal_action_threat if p in text), None)
        if threat is not None:
            for phrase in content.legal_action_threat_exclusions:
                text = text.replace(phrase, " ")
            threat = next((p for p in content.legal_action_threat if p in text), None)
        if threat is not None:
            return threat.strip()
        if content.legal_warning_stage_implies_threat and self.step.stage == "legal_warning":
            return "stage:legal_warning"
        return None

    @lazy
    def limitation_date(self) -> date | None:
        """Explicit, or the start of the period + the governing state's years; None if
        unknown. The period starts at accrual (the earlier of default and charge-off); a
        last payment after it restarts the period only where a payment revives the debt.
        With no accrual date known, the last payment stands in for it (it is no later than
        the default, so the limitation date found is no later than the true one)."""
        debt = self.debt
        if debt.limitation_date is not None:
            return debt.limitation_date
        sol = self.policy.statute_of_limitations
        state = debt.governing_state or self.consumer.state
        years = sol.years_by_state.get(state or "", sol.default_years)
        if years is None:
            return None
        known = [d for d in (debt.defaulted_on, debt.charged_off_on) if d is not None]
        accrual = min(known) if known else None
        payment = debt.last_payment_date
        if accrual is None or (payment is not None and payment > accrual and sol.revives(state)):
            start = payment
        else:
            start = accrual
        if start is None:
            return None
        try:
            return start.replace(year=start.year + years)
        except ValueError:  # 29 February into a common year
            return start.replace(year=start.year + years, day=28)

    def local_dates(self, at: datetime) -> list[date]:
        return [at.astimezone(zone).date() for zone in self.zones]

    def local_date(self, at: datetime) -> date:
        """The local date in the first candidate zone."""
        return at.astimezone(self.zones[0]).date()


class RuleContext:
    """The facts, the instant judged, and the inputs noted while judging it."""

    __slots__ = ("at", "closes", "facts", "notes", "policy", "step")

    def __init__(self, facts: Facts, at: datetime) -> None:
        self.facts = facts
        self.at = at
        self.policy = facts.policy
        self.step = facts.step
        self.notes: dict[str, Any] = {}
        # Ends of the windows an allow at `at` relies on (e.g. a calendar-day cap counted
        # on today's date): the approval must be used before the earliest.
        self.closes: list[datetime] = []

    def relies_until(self, close: datetime) -> None:
        self.closes.append(close)

    def note(self, key: str, value: Any) -> None:
        self.notes[key] = value

    def count(self, key: str, value: int) -> None:
        counts = self.notes.get("counts")
        if counts is None:
            counts = self.notes["counts"] = {}
        counts[key] = value

    def block(self, rule_id: RuleId, explanation: str, **inputs: Any) -> RuleOutcome:
        return RuleOutcome(rule_id=rule_id, action="block", explanation=explanation, inputs=inputs)

    def defer(
        self, rule_id: RuleId, not_before: datetime, explanation: str, **inputs: Any
    ) -> RuleOutcome:
        if not_before <= self.at:  # a defer must move time forward
            not_before = self.at + timedelta(microseconds=1)
        return RuleOutcome(
            rule_id=rule_id,
            action="defer",
            explanation=explanation,
            not_before=not_before,
            inputs=inputs,
        )
