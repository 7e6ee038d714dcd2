"""The ledger's pure rules: import plans, status order, folds, flags, summary, purity."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dunning_core.contracts.common import Channel, Stage
from dunning_core.contracts.events import (
    ConsumerSignaled,
    Decision,
    DeliveryStatus,
    DeliveryUpdated,
    RuleFinding,
    SignalKind,
    StepDecided,
)
from dunning_ledger.domain.accounts import StoredAccount, current_balance, plan_import
from dunning_ledger.domain.communications import fold_decisions, fold_deliveries, rank, replaces
from dunning_ledger.domain.flags import flag_change, fold_flags
from dunning_ledger.domain.import_rows import validate_json
from dunning_ledger.domain.payments import AccountTerms, PaymentInput, remaining_after
from dunning_ledger.domain.summary import SummaryCounts, build_summary
from dunning_ledger.errors import InvalidRequest
from dunning_testkit.ledger import required_row

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


# --- import plans ---------------------------------------------------------------------


def test_plan_opens_new_updates_changed_and_leaves_the_rest() -> None:
    accounts = validate_json([required_row(1), required_row(2, "50.00"), required_row(3)]).accounts
    stored = {
        "A2": StoredAccount("A2", 4, "old-digest", paid_minor=2000),
        "A3": StoredAccount("A3", 2, accounts[2].fingerprint, paid_minor=0),
    }
    plan = plan_import(accounts, stored)
    assert [(c.account.account_id, c.revision, c.balance_minor) for c in plan.opened] == [
        ("A1", 1, 10000)
    ]
    # A changed import keeps the payments recorded since: 50.00 placed - 20.00 paid.
    assert [(c.account.account_id, c.revision, c.balance_minor) for c in plan.updated] == [
        ("A2", 5, 3000)
    ]
    assert plan.unchanged == ["A3"]


def test_balance_never_goes_below_zero() -> None:
    assert current_balance(1000, 2500) == 0
    accounts = validate_json([required_row(1, "10.00")]).accounts
    plan = plan_import(accounts, {"A1": StoredAccount("A1", 1, "x", paid_minor=2500)})
    assert (plan.updated[0].balance_minor, plan.updated[0].status) == (0, "paid")


# --- payments -------------------------------------------------------------------------


def payment(amount: int, **kw: object) -> PaymentInput:
    fields: dict[str, object] = {
        "payment_id": "P1",
        "debt_id": None,
        "amount_minor": amount,
        "currency": "USD",
        "method": "card",
        "received_at": T0,
    }
    fields.update(kw)
    return PaymentInput(**fields)  # type: ignore[arg-type]


def test_payment_reduces_the_balance() -> None:
    assert remaining_after(AccountTerms("A1", "D1", "USD", 10000), payment(2500), T0) == 7500


def test_a_payment_beyond_the_balance_is_not_refused() -> None:
    # Issue 11: the excess is kept as a credit (domain.lifecycle), the balance stops at 0.
    assert remaining_after(AccountTerms("A1", "D1", "USD", 10000), payment(10001), T0) == 0


@pytest.mark.parametrize(
    ("p", "fragment"),
    [
        (payment(0), "more than zero"),
        (payment(100, currency="EUR"), "currency EUR differs"),
        (payment(100, debt_id="D9"), "is not the debt"),
    ],
)
def test_payments_that_cannot_apply_are_refused(p: PaymentInput, fragment: str) -> None:
    with pytest.raises(InvalidRequest, match=fragment):
        remaining_after(AccountTerms("A1", "D1", "USD", 10000), p, T0)


# --- communication log ----------------------------------------------------------------


def test_delivery_status_order() -> None:
    assert rank(DeliveryStatus.ACCEPTED) < rank(DeliveryStatus.SENT)
    assert rank(DeliveryStatus.SENT) < rank(DeliveryStatus.DELIVERED)
    assert rank(DeliveryStatus.DELIVERED) < rank(DeliveryStatus.BOUNCED)
    assert not replaces(DeliveryStatus.SENT, DeliveryStatus.DELIVERED)  # late "sent"
    assert replaces(DeliveryStatus.BOUNCED, DeliveryStatus.DELIVERED)  # bounce after delivery
    assert not replaces(DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED)  # first failure stays
    assert replaces(DeliveryStatus.ACCEPTED, None)
    assert {s for s in DeliveryStatus if rank(s) >= 3} == {s for s in DeliveryStatus if s.final}


def delivery(status: DeliveryStatus, at: datetime, step: str = "stp_1") -> DeliveryUpdated:
    return DeliveryUpdated(
        account_id="A1",
        step_id=step,
        channel=Channel.SMS,
        provider="twilio",
        provider_message_id="SM1" if status is not DeliveryStatus.ACCEPTED else None,
        status=status,
        occurred_at=at,
    )


def test_deliveries_fold_forward_only_whatever_the_arrival_order() -> None:
    events = [
        delivery(DeliveryStatus.DELIVERED, T0 + timedelta(seconds=9)),
        delivery(DeliveryStatus.ACCEPTED, T0),
        delivery(DeliveryStatus.SENT, T0 + timedelta(seconds=3)),  # late
    ]
    fold = fold_deliveries(events)["stp_1"]
    assert fold.status is DeliveryStatus.DELIVERED
    assert fold.status_at == T0 + timedelta(seconds=9)
    assert (fold.accepted_at, fold.sent_at, fold.delivered_at) == (
        T0,
        T0 + timedelta(seconds=3),
        T0 + timedelta(seconds=9),
    )
    assert fold.provider_message_id == "SM1"
    assert fold.last_event_at == T0 + timedelta(seconds=9)


def decided(decision: Decision, at: datetime, *rules: str) -> StepDecided:
    return StepDecided(
        account_id="A1",
        step_id="stp_1",
        planned_event_id=f"plan-{at.isoformat()}",
        debt_id="D1",
        stage=Stage.FRIENDLY_REMINDER,
        channel=Channel.SMS,
        attempt=1,
        decision=decision,
        not_before=at + timedelta(hours=12) if decision is Decision.DEFER else None,
        findings=tuple(
            RuleFinding(rule_id=r, action="defer", explanation="outside hours") for r in rules
        ),
        policy_version="2026.03",
        content_hash="sha256:x",
        decided_at=at,
    )


def test_the_latest_decision_wins_and_the_first_time_is_kept() -> None:
    later = T0 + timedelta(hours=12)
    fold = fold_decisions(
        [decided(Decision.ALLOW, later), decided(Decision.DEFER, T0, "hours.fdcpa")]
    )["stp_1"]
    assert (fold.decision, fold.rule_ids, fold.decided_at) == ("allow", (), later)
    assert (fold.first_decided_at, fold.decisions) == (T0, 2)


def test_rule_ids_are_listed_once_in_order() -> None:
    event = decided(Decision.DEFER, T0, "hours.fdcpa", "state.fl.hours", "hours.fdcpa")
    assert fold_decisions([event])["stp_1"].rule_ids == ("hours.fdcpa", "state.fl.hours")


# --- flags ----------------------------------------------------------------------------


def signal(kind: SignalKind, at: datetime, **kw: object) -> ConsumerSignaled:
    fields: dict[str, object] = {
        "account_id": "A1",
        "signal_id": f"{kind.value}-{at.timestamp()}",
        "kind": kind,
        "source": "sms",
        "occurred_at": at,
    }
    fields.update(kw)
    return ConsumerSignaled(**fields)


def test_opt_out_is_scoped_to_the_address() -> None:
    change = flag_change(
        signal(SignalKind.OPTED_OUT, T0, address="+12125550143", channel=Channel.SMS)
    )
    assert change is not None
    assert (change.flag, change.scope, change.active) == ("opted_out", "+12125550143", True)


def test_account_wide_flags_have_scope_all_and_replies_set_none() -> None:
    change = flag_change(signal(SignalKind.CEASE_REQUESTED, T0, address="+12125550143"))
    assert change is not None
    assert (change.flag, change.scope) == ("cease_requested", "all")
    assert flag_change(signal(SignalKind.REPLIED, T0)) is None


def test_the_latest_signal_for_a_flag_wins() -> None:
    changes = fold_flags(
        [
            signal(SignalKind.OPTED_IN, T0 + timedelta(minutes=5), channel=Channel.SMS),
            signal(SignalKind.OPTED_OUT, T0, channel=Channel.SMS),
        ]
    )
    assert [(c.flag, c.scope, c.active) for c in changes] == [("opted_out", "channel:sms", False)]


# --- summary --------------------------------------------------------------------------


def test_summary_fills_zeros_and_groups() -> None:
    summary = build_summary(
        SummaryCounts(
            accounts_by_status={"open": 8, "paid": 2},
            steps_by_decision={"allow": 5, "block": 1},
            steps_by_stage=[
                ("urgency", "allow", 2),
                ("friendly_reminder", "allow", 3),
                ("friendly_reminder", "block", 1),
                (None, "allow", 1),
            ],
            rule_hits=[("block", "optout.channel", 1), ("defer", "hours.fdcpa", 3)],
            deliveries=[("sms", "delivered", 4), ("sms", None, 1), ("email", "bounced", 1)],
            payments=[("USD", 2, 12345)],
            active_flags={"opted_out": 1},
            outbox_pending=0,
        )
    )
    assert summary["accounts"] == {"total": 10, "open": 8, "paid": 2}
    assert summary["steps"] == {"total": 6, "allow": 5, "defer": 0, "block": 1}
    assert summary["rules"] == {"block": {"optout.channel": 1}, "defer": {"hours.fdcpa": 3}}
    # Ladder order (mildest first), zeros filled, a stage-less step under "none".
    assert list(summary["stages"].items()) == [
        ("friendly_reminder", {"total": 4, "allow": 3, "defer": 0, "block": 1}),
        ("urgency", {"total": 2, "allow": 2, "defer": 0, "block": 0}),
        ("none", {"total": 1, "allow": 1, "defer": 0, "block": 0}),
    ]
    assert summary["deliveries"] == {
        "sms": {"awaiting": 1, "delivered": 4},
        "email": {"bounced": 1},
    }
    assert summary["payments"] == {"count": 2, "amount": {"USD": "123.45"}}


# --- purity ---------------------------------------------------------------------------

FORBIDDEN = (
    "sqlalchemy",
    "asyncpg",
    "fastapi",
    "aiokafka",
    "httpx",
    "redis",
    "dunning_core.runtime",
)


def test_domain_modules_import_no_io_library() -> None:
    import dunning_ledger.domain as domain

    root = Path(domain.__file__).parent
    offenders = []
    for path in [*root.glob("*.py"), root.parent / "errors.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert offenders == []
