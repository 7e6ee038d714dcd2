"""The rulebook as pure functions: one module per family, one function per rule id.

Each rule takes a `RuleContext` and returns a `RuleOutcome` (defer or block) or None
when it has no objection. `RULES` lists every rule id of the rulebook with its function and
static scope, in the order outcomes are reported.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Final, NamedTuple

from dunning_gate.domain.context import RuleContext
from dunning_gate.domain.decision import RuleOutcome
from dunning_gate.domain.rules import consent, content, frequency, sequence, time_of_day, wishes
from dunning_gate.policy.vocabulary import CALL_CHANNELS, PHONE_CHANNELS, RuleId

Rule = Callable[[RuleContext], RuleOutcome | None]
Close = Callable[[RuleContext], datetime | None]
"""When the window a rule allowed `ctx.at` in closes (None: no close it imposes)."""


class RuleSpec(NamedTuple):
    """A rule and its static scope: the channels and consumer state it can ever concern
    (None = any). Rules still check their policy-driven scope themselves; this only lets
    the evaluator skip rules that cannot apply."""

    rule_id: RuleId
    rule: Rule
    channels: frozenset[str] | None = None
    state: str | None = None
    close: Close | None = None


_ELECTRONIC = frozenset({"sms", "email"})
_EMAIL = frozenset({"email"})
_PHONE = frozenset(PHONE_CHANNELS)
_CALLS = frozenset(CALL_CHANNELS)

RULES: Final[tuple[RuleSpec, ...]] = (
    # status and wishes first: they block outright
    RuleSpec("deceased", wishes.deceased),
    RuleSpec("bankruptcy.stay", wishes.bankruptcy_stay),
    RuleSpec("attorney.represented", wishes.attorney_represented),
    RuleSpec("cease.requested", wishes.cease_requested),
    RuleSpec("dispute.pending", wishes.dispute_pending),
    RuleSpec("state.ma.dispute", wishes.ma_dispute, state="MA"),
    RuleSpec("optout.channel", wishes.optout_channel),
    RuleSpec("medium.restricted", wishes.medium_restricted),
    RuleSpec("operator.paused", wishes.operator_paused),
    # address and consent
    RuleSpec("tcpa.consent", consent.tcpa_consent, _PHONE),
    RuleSpec("address.basis", consent.address_basis, _ELECTRONIC),
    RuleSpec("email.workplace", consent.email_workplace, _EMAIL),
    RuleSpec("state.nyc.econsent", consent.nyc_econsent, _ELECTRONIC, "NY"),
    # content
    RuleSpec("content.optout_notice", content.optout_notice, _ELECTRONIC),
    RuleSpec("content.mini_miranda", content.mini_miranda),
    RuleSpec("content.timebarred_threat", content.timebarred_threat),
    RuleSpec("content.unauthorized_threat", content.unauthorized_threat),
    RuleSpec("content.overshadowing", content.overshadowing),
    RuleSpec("state.ca.license", content.ca_license, state="CA"),
    RuleSpec("email.one_click_unsubscribe", content.one_click_unsubscribe, _EMAIL),
    # sequence
    RuleSpec("validation.notice", sequence.validation_notice),
    RuleSpec("state.nv.medical_wait", sequence.nv_medical_wait, state="NV"),
    # frequency
    RuleSpec("frequency.calls_7in7", frequency.calls_7in7, _CALLS),
    RuleSpec("frequency.calls_after_conversation", frequency.calls_after_conversation, _CALLS),
    RuleSpec("frequency.electronic", frequency.electronic),
    RuleSpec("state.ma.frequency", frequency.ma_frequency, state="MA"),
    RuleSpec("state.wa.frequency", frequency.wa_frequency, state="WA"),
    RuleSpec("state.nyc.frequency", frequency.nyc_frequency, state="NY"),
    # time of day
    RuleSpec("hours.fdcpa", time_of_day.hours_fdcpa, close=time_of_day.hours_fdcpa_close),
    RuleSpec(
        "hours.consumer_stated",
        time_of_day.hours_consumer_stated,
        close=time_of_day.consumer_stated_close,
    ),
    RuleSpec("state.fl.hours", time_of_day.fl_hours, state="FL", close=time_of_day.fl_hours_close),
    RuleSpec(
        "state.ok.prerecorded",
        time_of_day.ok_prerecorded,
        state="OK",
        close=time_of_day.ok_prerecorded_close,
    ),
)


def _in_scope(spec: RuleSpec, active: frozenset[str], channel: str, state: str | None) -> bool:
    return (
        spec.rule_id in active
        and (spec.channels is None or channel in spec.channels)
        and (spec.state is None or spec.state == state)
    )


@lru_cache(maxsize=1024)
def rules_for(active: frozenset[str], channel: str, state: str | None) -> tuple[Rule, ...]:
    """The rules to run for a step, in reporting order (cached per scope)."""
    return tuple(spec.rule for spec in RULES if _in_scope(spec, active, channel, state))


@lru_cache(maxsize=1024)
def closes_for(active: frozenset[str], channel: str, state: str | None) -> tuple[Close, ...]:
    """The window closes of the time-of-day rules in scope for a step (cached per scope)."""
    return tuple(
        spec.close
        for spec in RULES
        if spec.close is not None and _in_scope(spec, active, channel, state)
    )
