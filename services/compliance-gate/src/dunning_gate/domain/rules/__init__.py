"""The rulebook as pure functions: one module per family, one function per rule id.

Each rule takes a `RuleContext` and returns a `RuleOutcome` (defer or block) or None
when it has no objection. `RULES` lists every rule id of the rulebook with its function,
in the order outcomes are reported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from dunning_gate.domain.context import RuleContext
from dunning_gate.domain.decision import RuleOutcome
from dunning_gate.domain.rules import consent, content, frequency, sequence, time_of_day, wishes
from dunning_gate.policy.vocabulary import RuleId

Rule = Callable[[RuleContext], RuleOutcome | None]

RULES: Final[tuple[tuple[RuleId, Rule], ...]] = (
    # status and wishes first: they block outright
    ("deceased", wishes.deceased),
    ("bankruptcy.stay", wishes.bankruptcy_stay),
    ("attorney.represented", wishes.attorney_represented),
    ("cease.requested", wishes.cease_requested),
    ("dispute.pending", wishes.dispute_pending),
    ("state.ma.dispute", wishes.ma_dispute),
    ("optout.channel", wishes.optout_channel),
    ("medium.restricted", wishes.medium_restricted),
    # address and consent
    ("tcpa.consent", consent.tcpa_consent),
    ("address.basis", consent.address_basis),
    ("email.workplace", consent.email_workplace),
    ("state.nyc.econsent", consent.nyc_econsent),
    # content
    ("content.optout_notice", content.optout_notice),
    ("content.mini_miranda", content.mini_miranda),
    ("content.timebarred_threat", content.timebarred_threat),
    ("content.unauthorized_threat", content.unauthorized_threat),
    ("content.overshadowing", content.overshadowing),
    ("state.ca.license", content.ca_license),
    ("email.one_click_unsubscribe", content.one_click_unsubscribe),
    # sequence
    ("validation.notice", sequence.validation_notice),
    ("state.nv.medical_wait", sequence.nv_medical_wait),
    # frequency
    ("frequency.calls_7in7", frequency.calls_7in7),
    ("frequency.calls_after_conversation", frequency.calls_after_conversation),
    ("frequency.electronic", frequency.electronic),
    ("state.ma.frequency", frequency.ma_frequency),
    ("state.wa.frequency", frequency.wa_frequency),
    ("state.nyc.frequency", frequency.nyc_frequency),
    # time of day
    ("hours.fdcpa", time_of_day.hours_fdcpa),
    ("hours.consumer_stated", time_of_day.hours_consumer_stated),
    ("state.fl.hours", time_of_day.fl_hours),
    ("state.ok.prerecorded", time_of_day.ok_prerecorded),
)
