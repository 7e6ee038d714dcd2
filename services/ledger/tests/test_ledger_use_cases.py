"""The payment and import use cases against in-memory fakes of the ledger's ports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest
from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import (
    AccountOpened,
    AccountUpdated,
    ConsumerSignaled,
    PaymentReceived,
    PlanAgreed,
    SignalKind,
)
from dunning_core.runtime.clock import FixedClock
from dunning_ledger.communications.schemas import SignalIn
from dunning_ledger.communications.service import CommunicationService
from dunning_ledger.domain.import_rows import validate_json
from dunning_ledger.domain.payments import PaymentMethod
from dunning_ledger.errors import Conflict, ImportRejected, InvalidRequest, NotFound
from dunning_ledger.imports.service import ImportService
from dunning_ledger.payments.schemas import PaymentIn
from dunning_ledger.payments.service import PaymentService
from dunning_ledger.plans.schemas import PlanIn
from dunning_ledger.plans.service import PlanService
from dunning_ledger.terms import load_terms
from dunning_testkit.ledger import required_row
from dunning_testkit.ledger_memory import MemoryLedger

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TERMS = load_terms()


async def imported(ledger: MemoryLedger, *rows: dict[str, str]) -> None:
    await ImportService(ledger, FixedClock(T0)).import_accounts(validate_json(list(rows)))


# --- imports --------------------------------------------------------------------------


async def test_an_import_opens_accounts_and_announces_them() -> None:
    ledger = MemoryLedger()
    counts = await ImportService(ledger, FixedClock(T0)).import_accounts(
        validate_json([required_row(1), required_row(2, "50.00")])
    )
    assert (counts.received, counts.opened, counts.updated, counts.unchanged) == (2, 2, 0, 0)
    assert ledger.tables.accounts["A2"].balance_minor == 5000
    assert [type(e.data) for e in ledger.tables.outbox] == [AccountOpened, AccountOpened]
    assert ledger.tables.commits == 1


async def test_a_reimport_changes_only_what_differs() -> None:
    ledger = MemoryLedger()
    await imported(ledger, required_row(1), required_row(2))
    service = ImportService(ledger, FixedClock(T0))
    counts = await service.import_accounts(
        validate_json([required_row(1), required_row(2, state="NY")])
    )
    assert (counts.opened, counts.updated, counts.unchanged) == (0, 1, 1)
    updated = ledger.tables.outbox[-1].data
    assert isinstance(updated, AccountUpdated)
    assert (updated.account_id, updated.revision) == ("A2", 2)
    assert ledger.tables.accounts["A2"].revision == 2


async def test_a_rejected_import_writes_nothing() -> None:
    ledger = MemoryLedger()
    with pytest.raises(ImportRejected):
        await imported(ledger, required_row(1), required_row(2, "ten dollars"))
    assert ledger.tables.accounts == {}
    assert ledger.tables.outbox == []
    assert ledger.tables.commits == 0


# --- payments and plans ---------------------------------------------------------------


async def test_a_payment_moves_the_balance_and_is_announced_once() -> None:
    ledger = MemoryLedger()
    await imported(ledger, required_row(1))
    service = PaymentService(ledger, FixedClock(T0))
    body = PaymentIn(payment_id="P1", amount="25.00", method="card")
    first = await service.record_payment("A1", body)
    again = await service.record_payment("A1", body)
    assert (first.replayed, again.replayed) == (False, True)
    account = ledger.tables.accounts["A1"]
    assert (account.balance_minor, account.paid_minor, account.status) == (7500, 2500, "open")
    events = [e.data for e in ledger.tables.outbox if isinstance(e.data, PaymentReceived)]
    assert len(events) == 1
    assert events[0].remaining_balance.amount_minor == 7500
    assert events[0].method == "card"


async def test_paying_the_whole_balance_marks_the_account_paid() -> None:
    ledger = MemoryLedger()
    await imported(ledger, required_row(1))
    await PaymentService(ledger, FixedClock(T0)).record_payment(
        "A1", PaymentIn(payment_id="P1", amount="100")
    )
    assert ledger.tables.accounts["A1"].status == "paid"


async def test_a_payment_id_reused_with_another_amount_is_a_conflict() -> None:
    ledger = MemoryLedger()
    await imported(ledger, required_row(1))
    service = PaymentService(ledger, FixedClock(T0))
    await service.record_payment("A1", PaymentIn(payment_id="P1", amount="25.00"))
    with pytest.raises(Conflict, match="already recorded"):
        await service.record_payment("A1", PaymentIn(payment_id="P1", amount="26.00"))


async def test_a_refused_payment_leaves_nothing_behind() -> None:
    ledger = MemoryLedger()
    await imported(ledger, required_row(1))
    before = ledger.tables.commits
    service = PaymentService(ledger, FixedClock(T0))
    with pytest.raises(InvalidRequest, match="more than zero"):
        await service.record_payment("A1", PaymentIn(payment_id="P1", amount="0"))
    with pytest.raises(NotFound):
        await service.record_payment("A9", PaymentIn(payment_id="P2", amount="1"))
    assert ledger.tables.payments == {}
    assert ledger.tables.accounts["A1"].balance_minor == 10000
    assert ledger.tables.commits == before


async def test_a_plan_is_agreed_once() -> None:
    ledger = MemoryLedger()
    await imported(ledger, required_row(1))
    service = PlanService(ledger, FixedClock(T0), TERMS)
    body = PlanIn(plan_id="PL1", instalment="25.00", instalments=4, first_due="2026-04-01")
    assert not (await service.agree_plan("A1", body)).replayed
    assert (await service.agree_plan("A1", body)).replayed
    plans = [e.data for e in ledger.tables.outbox if isinstance(e.data, PlanAgreed)]
    assert [(p.plan_id, p.instalments) for p in plans] == [("PL1", 4)]


def test_payment_methods_are_those_of_the_event_contract() -> None:
    contract = PaymentReceived.model_fields["method"].annotation
    assert get_args(PaymentMethod) == get_args(contract)


async def test_a_reimport_keeps_a_balance_payments_moved_and_reports_it() -> None:
    ledger = MemoryLedger()
    await imported(ledger, required_row(1))
    await PaymentService(ledger, FixedClock(T0)).record_payment(
        "A1", PaymentIn(payment_id="P1", amount="40")
    )
    counts = await ImportService(ledger, FixedClock(T0)).import_accounts(
        validate_json([required_row(1, "70.00", state="NY")])
    )
    assert counts.updated == 1
    assert [(k.account_id, k.file_minor, k.ledger_minor) for k in counts.balances_kept] == [
        ("A1", 7000, 6000)
    ]
    account = ledger.tables.accounts["A1"]
    assert (account.balance_minor, account.imported_balance_minor) == (6000, 10000)
    announced = ledger.tables.outbox[-1].data
    assert isinstance(announced, AccountUpdated)
    assert announced.debt.balance.amount_minor == 6000


# --- refusals (issue 10), each before anything is written -------------------------------


async def test_a_payment_dated_in_the_future_is_refused() -> None:
    ledger = MemoryLedger()
    await imported(ledger, required_row(1))
    later = PaymentIn(payment_id="P1", amount="1", received_at=T0 + timedelta(minutes=6))
    with pytest.raises(InvalidRequest, match="in the future") as refused:
        await PaymentService(ledger, FixedClock(T0)).record_payment("A1", later)
    assert refused.value.field == "received_at"
    soon = PaymentIn(payment_id="P2", amount="1", received_at=T0 + timedelta(minutes=4))
    assert not (await PaymentService(ledger, FixedClock(T0)).record_payment("A1", soon)).replayed


@pytest.mark.parametrize(
    ("instalment", "instalments", "first_due", "field"),
    [
        ("99999999", 600, "2026-03-02", "instalments"),  # 600 x 99,999,999 on 100.00
        ("25.00", 5, "2026-03-02", "instalments"),  # the fifth instalment would pay nothing
        ("25.00", 4, "0001-01-01", "first_due"),
        ("25.00", 4, "2027-04-01", "first_due"),
    ],
)
async def test_plans_that_cannot_be_kept_are_refused(
    instalment: str, instalments: int, first_due: str, field: str
) -> None:
    ledger = MemoryLedger()
    await imported(ledger, required_row(1))
    body = PlanIn(plan_id="PL", instalment=instalment, instalments=instalments, first_due=first_due)
    with pytest.raises(InvalidRequest) as refused:
        await PlanService(ledger, FixedClock(T0), TERMS).agree_plan("A1", body)
    assert refused.value.field == field
    assert ledger.tables.plans == {}


async def test_a_plan_on_a_paid_account_is_refused() -> None:
    ledger = MemoryLedger()
    await imported(ledger, required_row(1))
    service = PaymentService(ledger, FixedClock(T0))
    await service.record_payment("A1", PaymentIn(payment_id="P1", amount="100"))
    body = PlanIn(plan_id="PL", instalment="10", instalments=1, first_due="2026-03-02")
    with pytest.raises(InvalidRequest, match="no balance left"):
        await PlanService(ledger, FixedClock(T0), TERMS).agree_plan("A1", body)


async def test_signals_name_the_accounts_own_debt_and_a_real_address() -> None:
    ledger = MemoryLedger()
    await imported(ledger, required_row(1), required_row(2))
    service = CommunicationService(ledger, FixedClock(T0), group_id="ledger")
    dispute = SignalIn(signal_id="S1", kind=SignalKind.DISPUTED, debt_id="D2")
    with pytest.raises(InvalidRequest, match="not the debt of account 'A1'"):
        await service.record_signal("A1", dispute)
    opt_out = SignalIn(
        signal_id="S2", kind=SignalKind.OPTED_OUT, channel=Channel.SMS, address="not-a-phone"
    )
    with pytest.raises(InvalidRequest) as refused:
        await service.record_signal("A1", opt_out)
    assert refused.value.field == "address"
    assert ledger.tables.outbox[2:] == []
    phone = opt_out.model_copy(update={"address": "(212) 555-0143"})
    await service.record_signal("A1", phone)
    [announced] = [e.data for e in ledger.tables.outbox if isinstance(e.data, ConsumerSignaled)]
    assert announced.address == "+12125550143"
