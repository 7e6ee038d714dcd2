"""The words a policy file and the rules share: rule ids, channels, stages, outcomes.

Rule ids are the reason codes the gate reports (see the compliance rulebook); they are
spelled exactly as there. They live here, beside the policy model, so that the policy
can refuse an unknown rule id without importing the rules themselves.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Channel = Literal["sms", "email", "voice", "prerecorded_voice"]
CHANNELS: Final[tuple[Channel, ...]] = get_args(Channel)
PHONE_CHANNELS: Final[frozenset[str]] = frozenset({"sms", "voice", "prerecorded_voice"})
CALL_CHANNELS: Final[frozenset[str]] = frozenset({"voice", "prerecorded_voice"})
ELECTRONIC_CHANNELS: Final[frozenset[str]] = frozenset({"sms", "email"})

Stage = Literal[
    "friendly_reminder",
    "urgency",
    "formal_notice",
    "legal_warning",
    # Notice kinds 1692c(c) still allows after a cease request:
    "collection_ending",
    "specific_remedy",
]
STAGES: Final[tuple[Stage, ...]] = get_args(Stage)

CollectorType = Literal["creditor", "third_party_collector", "debt_buyer"]
COLLECTOR_TYPES: Final[tuple[CollectorType, ...]] = get_args(CollectorType)

AttemptOutcome = Literal[
    "connected",  # a call answered by a person
    "voicemail",  # a call that reached voicemail / an answering machine
    "no_answer",  # a call that rang out
    "busy",  # never connected to the dialled number
    "not_in_service",  # never connected to the dialled number
    "sent",  # text/email handed to the provider
    "delivered",
    "undelivered",
    "bounced",
    "failed",  # refused before leaving (provider error)
]
ATTEMPT_OUTCOMES: Final[tuple[AttemptOutcome, ...]] = get_args(AttemptOutcome)

RuleId = Literal[
    # time of day
    "hours.fdcpa",
    "hours.consumer_stated",
    "state.fl.hours",
    "state.ok.prerecorded",
    # frequency
    "frequency.calls_7in7",
    "frequency.calls_after_conversation",
    "frequency.electronic",
    "state.ma.frequency",
    "state.wa.frequency",
    "state.nyc.frequency",
    # consumer's wishes and status
    "optout.channel",
    "medium.restricted",
    "cease.requested",
    "attorney.represented",
    "dispute.pending",
    "state.ma.dispute",
    "bankruptcy.stay",
    "deceased",
    # the account's operators
    "operator.paused",
    # address and consent
    "tcpa.consent",
    "address.basis",
    "email.workplace",
    "state.nyc.econsent",
    # content
    "content.optout_notice",
    "content.mini_miranda",
    "content.timebarred_threat",
    "content.unauthorized_threat",
    "content.overshadowing",
    "state.ca.license",
    "email.one_click_unsubscribe",
    # sequence
    "validation.notice",
    "state.nv.medical_wait",
]
RULE_IDS: Final[tuple[RuleId, ...]] = get_args(RuleId)

HoursRuleId = Literal["hours.fdcpa", "state.fl.hours", "state.ok.prerecorded"]
HOURS_RULE_IDS: Final[tuple[HoursRuleId, ...]] = get_args(HoursRuleId)

# Not rules of the rulebook: reasons the gate gives when it cannot evaluate at all.
INPUT_INVALID: Final = "input.invalid"
EVALUATION_ERROR: Final = "evaluation.error"
META_RULE_IDS: Final[tuple[str, ...]] = (INPUT_INVALID, EVALUATION_ERROR)
