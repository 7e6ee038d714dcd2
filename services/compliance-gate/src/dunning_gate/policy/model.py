"""The compliance policy as typed, validated data.

Every number the gate enforces lives here, so that a compliance officer changes a policy
file, not code. Models refuse unknown keys (extra="forbid") and impossible values
(negative caps, hours outside 00:00-23:59, windows that end before they start, unknown
rule ids, unknown time zones), and the loader reports the path of each offence.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from functools import cache, cached_property
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from dunning_gate.policy.phrases import Phrase
from dunning_gate.policy.vocabulary import (
    ATTEMPT_OUTCOMES,
    CHANNELS,
    COLLECTOR_TYPES,
    HOURS_RULE_IDS,
    RULE_IDS,
    AttemptOutcome,
    Channel,
    CollectorType,
    HoursRuleId,
    RuleId,
)

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class StrictModel(BaseModel):
    """Frozen, and refuses keys it does not know."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _wall_time(value: object) -> object:
    if isinstance(value, time):
        return value
    if isinstance(value, int):
        raise ValueError(
            "write times of day as quoted 'HH:MM' strings "
            "(YAML reads an unquoted 21:00 as the number 1260)"
        )
    if not isinstance(value, str) or not (match := _HHMM.match(value)):
        raise ValueError(f"{value!r} is not a time of day 'HH:MM' between 00:00 and 23:59")
    return time(int(match.group(1)), int(match.group(2)))


WallTime = Annotated[time, BeforeValidator(_wall_time)]


@cache
def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _iana_zone(name: str) -> str:
    if not _known_zone(name):
        raise ValueError(f"{name!r} is not an IANA time zone known to zoneinfo")
    return name


IanaZone = Annotated[str, AfterValidator(_iana_zone)]


def _rule_id(value: str) -> str:
    if value not in RULE_IDS:
        raise ValueError(f"unknown rule id {value!r}; rule ids are those of the rulebook")
    return value


def _hours_rule_id(value: str) -> str:
    if value not in HOURS_RULE_IDS:
        raise ValueError(
            f"{value!r} is not a time-of-day rule id; expected one of {', '.join(HOURS_RULE_IDS)}"
        )
    return value


RuleIdKey = Annotated[str, AfterValidator(_rule_id)]
HoursRuleIdKey = Annotated[str, AfterValidator(_hours_rule_id)]
StateCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Count = Annotated[int, Field(ge=0)]
Days = Annotated[int, Field(ge=1, le=3660)]

HoursException = Literal["reply_to_consumer", "prior_consent"]


class RuleSettings(StrictModel):
    """Whether a rule runs, and for which kinds of collector."""

    enabled: bool = True
    collector_types: tuple[CollectorType, ...] = COLLECTOR_TYPES


class HoursWindow(StrictModel):
    """Allowed local wall-clock window [start, end) in every candidate zone."""

    start: WallTime
    end: WallTime
    channels: tuple[Channel, ...] = Field(min_length=1)
    exceptions: tuple[HoursException, ...] = ()

    @model_validator(mode="after")
    def _ordered(self) -> HoursWindow:
        if self.start >= self.end:
            raise ValueError(f"start {self.start:%H:%M} must be before end {self.end:%H:%M}")
        return self


class Window(StrictModel):
    """A counting window: `rolling` = N x 24 h back from the instant judged;
    `calendar_days` = the local day of the instant and the N-1 days before it
    (an attempt leaves the window at the first local midnight N days after its day,
    taken in the latest candidate zone)."""

    days: Days
    kind: Literal["rolling", "calendar_days"] = "rolling"

    @cached_property
    def span(self) -> timedelta:
        return timedelta(days=self.days)


class Cap(StrictModel):
    """At most `max` counted attempts within `window`. A cap of 0 forbids the channel."""

    max: Count
    window: Window


class ElectronicCap(Cap):
    name: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    channels: tuple[Channel, ...] = Field(min_length=1)
    scope: Literal["debt", "consumer"] = "debt"

    @cached_property
    def counter_key(self) -> str:
        return f"frequency.electronic:{self.name}"


class CallsCap(Cap):
    counted_outcomes: tuple[AttemptOutcome, ...] = Field(min_length=1)


class ConversationPause(StrictModel):
    """After a telephone conversation (its local day = day 1), no call until day days+1."""

    days: Days = 7


class ElectronicSettings(StrictModel):
    counted_outcomes: tuple[AttemptOutcome, ...] = Field(min_length=1)
    caps: tuple[ElectronicCap, ...] = ()

    @cached_property
    def caps_by_channel(self) -> dict[str, tuple[ElectronicCap, ...]]:
        return {
            channel: tuple(cap for cap in self.caps if channel in cap.channels)
            for channel in CHANNELS
        }

    @model_validator(mode="after")
    def _unique_names(self) -> ElectronicSettings:
        names = [cap.name for cap in self.caps]
        if len(names) != len(set(names)):
            raise ValueError("electronic cap names must be unique")
        return self


class FrequencySettings(StrictModel):
    calls_7in7: CallsCap
    calls_after_conversation: ConversationPause = ConversationPause()
    electronic: ElectronicSettings


class MaFrequency(StrictModel):
    channels: tuple[Channel, ...] = Field(min_length=1)
    counted_outcomes: tuple[AttemptOutcome, ...] = Field(min_length=1)
    home_or_mobile: Cap
    other: Cap


class WaFrequency(StrictModel):
    counted_outcomes: tuple[AttemptOutcome, ...] = Field(min_length=1)
    scope: Literal["debt", "consumer"] = "consumer"
    all_contacts: Cap
    at_work: Cap


class NycSettings(StrictModel):
    """6 RCNY 5-77 as amended: the frequency cap counted per account (across its debts and
    channels) from `effective_from`; written electronic consent behind its own flag."""

    enabled: bool = False
    effective_from: date | None = Field(
        default=None, description="First local date the amended rules bind (null: always)."
    )
    econsent_required: bool = False
    counted_outcomes: tuple[AttemptOutcome, ...] = ATTEMPT_OUTCOMES
    frequency: Cap
    cities: tuple[Phrase, ...] = ()
    zip3: tuple[Annotated[str, Field(pattern=r"^\d{3}$")], ...] = ()


class PhraseGroups(StrictModel):
    """Every group must match; within a group, any one phrase suffices."""

    all_of: tuple[tuple[Phrase, ...], ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _non_empty_groups(self) -> PhraseGroups:
        if any(not group for group in self.all_of):
            raise ValueError("a phrase group must list at least one phrase")
        return self


class CaSettings(StrictModel):
    license_channels: tuple[Channel, ...] = ("sms", "email")
    rosenthal_notice: PhraseGroups


class StateSettings(StrictModel):
    ma: MaFrequency
    wa: WaFrequency
    nyc: NycSettings
    nv_medical_wait_days: Days = 60
    ca: CaSettings


class StatuteOfLimitations(StrictModel):
    """Years after accrual at which a debt becomes time-barred.

    The period runs from accrual (the earlier of the default and charge-off dates); a
    later payment restarts it only in a state where a payment revives the debt
    (`payment_revives`; New York CPLR 214-i, Texas Fin. Code 392.307 and Wisconsin 893.05
    say it does not). A state without an entry uses `default_years`; null there means the
    limitation date is unknown, and an unknown limitation date counts as time-barred for
    threats."""

    years_by_state: dict[StateCode, Annotated[int, Field(ge=1, le=50)]] = Field(
        default_factory=dict
    )
    default_years: Annotated[int, Field(ge=1, le=50)] | None = None
    payment_revives: dict[StateCode, bool] = Field(default_factory=dict)
    payment_revives_default: bool = True

    def revives(self, state: str | None) -> bool:
        return self.payment_revives.get(state or "", self.payment_revives_default)


class ValidationSettings(StrictModel):
    receipt_business_days: Annotated[int, Field(ge=0, le=60)] = 5
    period_days: Days = 30
    first_communication_notice_days: Annotated[int, Field(ge=0, le=60)] = 5
    federal_dispute_requires_writing: bool = True


class ConsentSettings(StrictModel):
    tcpa_sources: tuple[
        Literal["creditor_provided", "consumer_provided", "express_written"], ...
    ] = Field(min_length=1)
    reassigned_check_max_age_days: Days = 60
    address_basis_notice_days: Days = 35


class KeywordSettings(StrictModel):
    """What, besides the consumer's own words, means an opt-out. The words themselves are
    read by the one shared classifier (`dunning_replies` and its vocabulary files), never
    from a list here."""

    opt_out_provider_error_codes: tuple[str, ...] = ()


class OptOutNotice(StrictModel):
    sms: tuple[Phrase, ...] = Field(min_length=1)
    email: tuple[Phrase, ...] = Field(min_length=1)
    email_requires_link: bool = True
    email_unsubscribe_url_prefixes: tuple[str, ...] = Field(
        default=(),
        description=(
            "https prefixes of the project's own unsubscribe URLs; a body link under one of "
            "them counts as the unsubscribe link (besides the List-Unsubscribe target)."
        ),
    )


class MiniMiranda(StrictModel):
    first_communication: PhraseGroups
    later_communication: PhraseGroups


class ContentSettings(StrictModel):
    mini_miranda: MiniMiranda
    opt_out_notice: OptOutNotice
    legal_action_threat: tuple[Phrase, ...] = Field(min_length=1)
    legal_action_threat_exclusions: tuple[Phrase, ...] = ()
    legal_warning_stage_implies_threat: bool = True
    overshadowing: tuple[Phrase, ...] = Field(min_length=1)
    one_click_post_value: str = "List-Unsubscribe=One-Click"


class TimeZoneSettings(StrictModel):
    no_location_zones: tuple[IanaZone, ...] = Field(min_length=1)


class Policy(StrictModel):
    """A complete, versioned compliance policy."""

    policy_version: str = Field(min_length=1, max_length=64)
    rules: dict[RuleIdKey, RuleSettings] = Field(default_factory=dict)
    hours: dict[HoursRuleIdKey, HoursWindow]
    email_judged_at_send: bool = True
    time_zones: TimeZoneSettings
    frequency: FrequencySettings
    states: StateSettings
    statute_of_limitations: StatuteOfLimitations
    validation: ValidationSettings = ValidationSettings()
    consent: ConsentSettings
    keywords: KeywordSettings
    content: ContentSettings

    @cached_property
    def active_rule_ids(self) -> dict[str, frozenset[str]]:
        """Per collector type, the rule ids that run (derived once)."""
        return {
            collector: frozenset(r for r in RULE_IDS if self.applies(r, collector))
            for collector in COLLECTOR_TYPES
        }

    @model_validator(mode="after")
    def _every_hours_rule_has_a_window(self) -> Policy:
        missing = [rule for rule in HOURS_RULE_IDS if rule not in self.hours]
        if missing:
            raise ValueError(f"hours: no window for {', '.join(missing)}")
        return self

    def applies(self, rule_id: RuleId, collector_type: CollectorType) -> bool:
        settings = self.rules.get(rule_id, _DEFAULT_SETTINGS)
        return settings.enabled and collector_type in settings.collector_types

    def active_rules(self, collector_type: CollectorType) -> frozenset[str]:
        """The rule ids that run for this kind of collector (precomputed)."""
        return self.active_rule_ids[collector_type]

    def hours_window(self, rule_id: HoursRuleId) -> HoursWindow:
        return self.hours[rule_id]


_DEFAULT_SETTINGS = RuleSettings()
