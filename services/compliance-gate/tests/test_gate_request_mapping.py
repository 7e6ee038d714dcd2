"""The running gate's request carries the dates the limitation period runs from."""

from __future__ import annotations

from datetime import date

from dunning_core.contracts.events import Debt
from dunning_gate.domain import EvaluationRequest, build_request, evaluate
from dunning_gate.domain.mapping import request_dict
from dunning_gate.domain.state import AccountState, apply_account
from dunning_gate.policy import default_policy
from dunning_testkit.gate import NOW, NewYorkSms

LEGAL_SMS = (
    "Acme Recovery: this message is from a debt collector. Unless the balance is resolved, "
    "we may file a lawsuit. Pay at https://pay.example.com. Reply STOP to opt out."
)


def test_accrual_dates_reach_the_rules_and_a_late_payment_does_not_revive_ny_debt() -> None:
    stream = NewYorkSms("M")
    opened = stream.account(1)
    debt: Debt = opened.debt.model_copy(
        update={
            "limitation_date": None,
            "legal_action_authorized": True,
            "delinquent_since": date(2021, 5, 1),
            "charged_off_on": date(2021, 11, 1),
            "last_payment_date": date(2025, 12, 1),  # after expiry (2024-05-01)
        }
    )
    state = AccountState(account_id=opened.account_id)
    apply_account(state, opened.model_copy(update={"debt": debt}))
    planned = stream.planned(1, 1)
    planned = planned.model_copy(
        update={
            "step": planned.step.model_copy(
                update={"content": planned.step.content.model_copy(update={"body": LEGAL_SMS})}
            )
        }
    )
    raw = request_dict(planned, state, NOW, None)
    assert raw["debt"]["defaulted_on"] == "2021-05-01"
    assert raw["debt"]["charged_off_on"] == "2021-11-01"
    assert raw["debt"]["last_payment_date"] == "2025-12-01"
    policy = default_policy()
    request = build_request(raw, policy)
    assert isinstance(request, EvaluationRequest), request
    decision = evaluate(request, policy)
    assert "content.timebarred_threat" in decision.rule_ids


def test_a_planned_step_of_a_paused_account_is_blocked_until_the_resume() -> None:
    """The running gate's path: the pause signal in the account's state, the step planned
    before it (the scheduler plans nothing after), the block with its rule id."""
    from dunning_core.contracts.events import ConsumerSignaled, SignalKind
    from dunning_gate.domain.state import apply_signal

    stream = NewYorkSms("P")
    opened = stream.account(1)
    state = AccountState(account_id=opened.account_id)
    apply_account(state, opened)
    planned = stream.planned(1, 1)
    policy = default_policy()

    def decided() -> tuple[str, tuple[str, ...]]:
        request = build_request(request_dict(planned, state, NOW, None), policy)
        assert isinstance(request, EvaluationRequest), request
        decision = evaluate(request, policy)
        return decision.decision, decision.rule_ids

    before = decided()
    said = {"account_id": opened.account_id, "source": "operator", "occurred_at": NOW}
    apply_signal(state, ConsumerSignaled(signal_id="p", kind=SignalKind.OUTREACH_PAUSED, **said))
    assert decided() == ("block", ("operator.paused",))  # old code: as before the pause
    apply_signal(state, ConsumerSignaled(signal_id="r", kind=SignalKind.OUTREACH_RESUMED, **said))
    assert decided() == before
