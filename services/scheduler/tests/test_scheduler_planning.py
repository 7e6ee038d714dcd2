"""Next-step planning: the ladder, its timing, the legal fallback, deterministic ids."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from dunning_core.contracts.common import Channel, Stage
from dunning_core.contracts.ids import step_id
from dunning_scheduler.domain import reactions
from dunning_scheduler.domain.case import Case, CaseStatus, PauseReason
from dunning_scheduler.domain.planning import StepDraft, plan_due
from dunning_scheduler.policy.loader import default_policy
from dunning_testkit.scheduler import NOW, account_opened, consumer, debt

POLICY = default_policy()


def opened(**kwargs: object) -> Case:
    case = reactions.on_account(None, account_opened(**kwargs), POLICY, NOW)  # type: ignore[arg-type]
    assert case is not None
    return case


def walk(case: Case) -> list[tuple[Case, tuple[StepDraft, ...]]]:
    """Plan every step of the ladder, each at its due time, consumer reached every time."""
    out = []
    while case.next_step_at is not None:
        planning = plan_due(case, POLICY, case.next_step_at)
        out.append((case, planning.drafts))
        case = replace(planning.case, contacted=True)
    out.append((case, ()))
    return out


def test_account_opened_schedules_the_friendly_reminder_now_in_the_send_window() -> None:
    case = opened()
    assert case.status == CaseStatus.ACTIVE
    assert case.next_step_at == NOW  # 12:00 in New York: inside 09:00-20:00
    assert case.revision == 1
    assert case.priority > 0


def test_by_default_the_first_step_goes_now_and_the_gate_keeps_quiet_hours() -> None:
    night = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)  # 22:00 in New York
    case = reactions.on_account(None, account_opened(at=night), POLICY, night)
    assert case is not None
    assert case.next_step_at == night


def test_a_send_window_policy_waits_for_the_preferred_local_hour() -> None:
    policy = POLICY.model_copy(update={"first_step": "send_window"})
    night = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)  # 22:00 in New York
    case = reactions.on_account(None, account_opened(at=night), policy, night)
    assert case is not None
    assert case.next_step_at == datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # 10:00 EST
    hawaii = reactions.on_account(
        None, account_opened(consumer_=consumer(state="HI"), at=NOW), policy, NOW
    )
    assert hawaii is not None
    assert hawaii.next_step_at == datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # 10:00 HST


def test_the_ladder_escalates_stage_by_stage_then_is_exhausted() -> None:
    steps = walk(opened())
    plan = [
        (d.stage, d.attempt, d.template, d.channel, d.send_at, d.first_communication)
        for _, drafts in steps
        for d in drafts
    ]
    assert plan == [
        (Stage.FRIENDLY_REMINDER, 1, "friendly_reminder", Channel.SMS, NOW, True),
        (Stage.FRIENDLY_REMINDER, 1, "friendly_reminder", Channel.EMAIL, NOW, True),
        (Stage.FRIENDLY_REMINDER, 2, "follow_up", Channel.SMS, _utc(3, 7, 15), False),
        (Stage.FRIENDLY_REMINDER, 2, "follow_up", Channel.EMAIL, _utc(3, 7, 15), False),
        # DST begins on 8 March: 10:00 in New York is 14:00 UTC from then on.
        (Stage.URGENCY, 1, "urgency", Channel.SMS, _utc(3, 14, 14), False),
        (Stage.URGENCY, 1, "urgency", Channel.EMAIL, _utc(3, 14, 14), False),
        (Stage.FORMAL_NOTICE, 1, "formal_notice", Channel.EMAIL, _utc(3, 24, 14), False),
        (Stage.FORMAL_NOTICE, 1, "formal_notice", Channel.SMS, _utc(3, 24, 14), False),
        # Not authorised for legal action: the last rung is a formal final notice.
        (Stage.FORMAL_NOTICE, 2, "final_notice", Channel.EMAIL, _utc(4, 7, 14), False),
        (Stage.FORMAL_NOTICE, 2, "final_notice", Channel.SMS, _utc(4, 7, 14), False),
    ]
    last = steps[-1][0]
    assert last.status == CaseStatus.EXHAUSTED
    assert last.next_step_at is None
    assert last.steps_planned == 10


def _utc(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _last_rung(**debt_kwargs: object) -> StepDraft:
    case = opened(debt_=debt(**debt_kwargs))  # type: ignore[arg-type]
    return [d for _, drafts in walk(case) for d in drafts][-1]


def test_legal_warning_only_when_authorised_and_well_before_the_limitation_date() -> None:
    authorised = _last_rung(legal=True, limitation=date(2030, 1, 1))
    assert (authorised.stage, authorised.template) == (Stage.LEGAL_WARNING, "legal_warning")
    assert authorised.legal_language
    for kwargs in (
        {"legal": False, "limitation": date(2030, 1, 1)},  # not authorised
        {"legal": True, "limitation": None},  # limitation unknown: treat as barred
        {"legal": True, "limitation": date(2026, 4, 20)},  # within the margin
        {"legal": True, "limitation": date(2025, 1, 1)},  # time-barred
    ):
        fallback = _last_rung(**kwargs)
        assert (fallback.stage, fallback.template) == (Stage.FORMAL_NOTICE, "final_notice")
        assert not fallback.legal_language
    assert _last_rung(limitation=date(2025, 1, 1)).time_barred


def test_step_ids_are_deterministic_from_account_debt_stage_channel_attempt() -> None:
    first = plan_due(opened(), POLICY, NOW).drafts
    again = plan_due(opened(), POLICY, NOW + timedelta(minutes=5)).drafts
    assert [d.step_id for d in first] == [d.step_id for d in again]
    assert first[0].step_id == step_id("ACC-1", "DEBT-1", "friendly_reminder", "sms", 1)
    ids = {d.step_id for _, drafts in walk(opened()) for d in drafts}
    assert len(ids) == 10


def test_an_opted_out_channel_is_skipped_and_no_channel_at_all_pauses() -> None:
    case = replace(opened(), opted_out_channels=frozenset({Channel.SMS}))
    drafts = plan_due(case, POLICY, NOW).drafts
    assert [d.channel for d in drafts] == [Channel.EMAIL]
    silent = replace(case, opted_out_channels=frozenset(Channel))
    planning = plan_due(silent, POLICY, NOW)
    assert planning.drafts == ()
    assert planning.case.pause_reasons == {PauseReason.NO_CHANNEL}
    assert planning.case.stage_index == 0  # waits on the same stage


def test_texts_need_a_mobile_number_with_consent() -> None:
    landline = consumer(phone=None)
    case = opened(consumer_=landline)
    assert [d.channel for d in plan_due(case, POLICY, NOW).drafts] == [Channel.EMAIL]


def test_the_reply_by_date_is_local_and_policy_driven() -> None:
    draft = plan_due(opened(), POLICY, NOW).drafts[0]
    assert draft.reply_by == date(2026, 3, 2) + timedelta(days=POLICY.reply_by_days)
