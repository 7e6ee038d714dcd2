"""Portfolio figures: the use case over the in-memory ledger, and the route's permission."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
from dunning_core.contracts import wrap
from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import ConsumerSignaled, DeliveryStatus, DeliveryUpdated
from dunning_core.runtime.clock import FixedClock
from dunning_ledger.bootstrap import build_ledger
from dunning_ledger.communications.service import CommunicationService
from dunning_ledger.config import LedgerSettings
from dunning_ledger.domain.figures import FigureCounts, PromiseFacts, build_figures, promise_kept
from dunning_ledger.domain.import_rows import validate_json
from dunning_ledger.imports.service import ImportService
from dunning_ledger.payments.schemas import PaymentIn
from dunning_ledger.payments.service import PaymentService
from dunning_ledger.portfolio.service import PortfolioService
from dunning_ledger.promises.schemas import PromiseIn
from dunning_ledger.promises.service import PromiseService
from dunning_ledger.terms import load_terms
from dunning_testkit.ledger import required_row
from dunning_testkit.ledger_memory import MemoryLedger
from dunning_testkit.paths import auth_headers

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_rates_are_per_messaged_account() -> None:
    counts = FigureCounts(messaged_accounts=8, rate_accounts={"opt_out": 2, "dispute": 1})
    figures = build_figures(counts, date(2026, 3, 1), date(2026, 3, 2))
    assert (figures["opt_out_rate"], figures["complaint_rate"], figures["dispute_rate"]) == (
        0.25,
        0.0,
        0.125,
    )
    assert figures["omitted"] == {}
    assert build_figures(FigureCounts(), date(2026, 3, 1), date(2026, 3, 2))["opt_out_rate"] is None


async def test_figures_count_accounts_collections_and_signals() -> None:
    ledger = MemoryLedger()
    clock = FixedClock(T0)
    rows = [required_row(1), required_row(2), required_row(3, "0.00")]
    await ImportService(ledger, clock).import_accounts(validate_json(rows))
    events = [
        DeliveryUpdated(
            account_id=f"A{n}", step_id=f"s{n}", channel=Channel.SMS, provider="twilio",
            status=DeliveryStatus.DELIVERED, occurred_at=T0,
        )
        for n in (1, 2)
    ] + [
        ConsumerSignaled(
            account_id="A1", signal_id="x", kind="opted_out", channel=Channel.SMS,
            source="sms", occurred_at=T0,
        )
    ]  # fmt: skip
    await CommunicationService(ledger, clock, group_id="g").record_events(
        "g", [wrap(e, "sms") for e in events]
    )
    payments = PaymentService(ledger, clock)
    for n, at in ((1, T0 - timedelta(days=1)), (2, T0)):
        body = PaymentIn(payment_id=f"p{n}", amount="10.00", method="card", received_at=at)
        await payments.record_payment(f"A{n}", body)
    figures = await PortfolioService(ledger, clock).figures(days=7)
    assert figures["accounts_by_status"] == {"open": 3 - 1, "paid": 1}
    assert [(d["day"], d["amount"]) for d in figures["collected_per_day"]] == [
        ("2026-03-01", "10.00"),
        ("2026-03-02", "10.00"),
    ]
    assert figures["messaged_accounts"] == 2
    assert figures["opt_out_rate"] == 0.5


async def test_the_route_answers_readers_only_with_a_key() -> None:
    built = build_ledger(
        LedgerSettings(database_url="postgresql+asyncpg://u:p@127.0.0.1:9/x"),
        transactions=MemoryLedger(),
    )
    transport = httpx.ASGITransport(app=built.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as http:
        assert (await http.get("/v1/portfolio/figures")).status_code == 401
        ok = await http.get("/v1/portfolio/figures", headers=auth_headers())
        assert ok.status_code == 200, ok.text
        assert ok.json()["accounts_by_status"] == {}
        bad = await http.get("/v1/portfolio/figures?days=0", headers=auth_headers())
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "query.days"


def test_a_promise_is_judged_once_its_date_has_passed() -> None:
    today = date(2026, 3, 10)
    due, passed = date(2026, 3, 10), date(2026, 3, 9)
    assert promise_kept(PromiseFacts(due, 3000, 0), today) is None  # due today: not yet
    assert promise_kept(PromiseFacts(passed, 3000, 2999), today) is False
    assert promise_kept(PromiseFacts(passed, 3000, 3000), today) is True
    assert promise_kept(PromiseFacts(due, 3000, 3000, ended=True), today) is True  # kept early
    assert promise_kept(PromiseFacts(passed, None, 0), today) is False  # a signal, no payment
    assert promise_kept(PromiseFacts(passed, None, 1), today) is True  # any payment keeps it
    assert promise_kept(PromiseFacts(None, None, 500), today) is None  # no date: never judged
    counts = FigureCounts(
        promises=[PromiseFacts(passed, 3000, 3000), PromiseFacts(passed, None, 0),
                  PromiseFacts(due, 3000, 0)]
    )  # fmt: skip
    figures = build_figures(counts, date(2026, 3, 1), today)
    assert (figures["promises_judged"], figures["promises_kept"]) == (2, 1)
    assert figures["promise_kept_rate"] == 0.5
    assert build_figures(FigureCounts(), today, today)["promise_kept_rate"] is None


async def test_promise_kept_rate_from_promises_signals_and_payments() -> None:
    """A1 promises 30.00 and pays it; A2 promises 30.00 and pays 10.00; A3 promises by
    signal (no amount) and pays after its date; A4 by signal and pays within it; A5's
    signal has no date; A6's promise is not due yet."""
    ledger = MemoryLedger()
    clock = FixedClock(T0)
    rows = [required_row(n) for n in range(1, 7)]
    await ImportService(ledger, clock).import_accounts(validate_json(rows))
    promises = PromiseService(ledger, clock, load_terms())
    for n, due in ((1, "2026-03-05"), (2, "2026-03-05"), (6, "2026-03-20")):
        body = PromiseIn(promise_id=f"PR{n}", amount_minor=3000, due_on=date.fromisoformat(due))
        await promises.make_promise(f"A{n}", body)
    signals = [
        ConsumerSignaled(
            account_id=f"A{n}", signal_id=f"s{n}", kind="promised_to_pay", channel=Channel.SMS,
            source="sms", occurred_at=T0, details={"date": day} if day else {},
        )
        for n, day in ((3, "2026-03-04"), (4, "2026-03-06"), (5, None))
    ]  # fmt: skip
    await CommunicationService(ledger, clock, group_id="g").record_events(
        "g", [wrap(e, "sms") for e in signals]
    )
    payments = PaymentService(ledger, clock)
    paid = ((1, "30.00", 1), (2, "10.00", 1), (3, "5.00", 3), (4, "5.00", 3), (5, "5.00", 1))
    for n, amount, days in paid:
        clock.instant = T0 + timedelta(days=days)
        payment = PaymentIn(payment_id=f"p{n}", amount=amount, method="card")
        await payments.record_payment(f"A{n}", payment)
    clock.instant = T0 + timedelta(days=5)  # 7 March: A1, A2, A3 and A4 have come due
    figures = await PortfolioService(ledger, clock).figures(days=7)
    assert (figures["promises_judged"], figures["promises_kept"]) == (4, 2)
    assert figures["promise_kept_rate"] == 0.5
