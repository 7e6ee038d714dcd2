"""Test support for the payment page: in-memory fakes of its two ports (the ledger's money API
and the card processor, with Stripe's test card numbers), a signed link, and the page app.

``MemoryMoney`` keeps one account's money as the ledger's API would show it (money-api.md):
a plan agreed from an offer gets its schedule, a payment pays the earliest installments, and
every write is idempotent by its id and remembers its source.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dunning_core import paylink
from dunning_core.runtime.clock import FixedClock
from dunning_portal.bootstrap import Ports, build
from dunning_portal.config import PortalSettings
from dunning_portal.domain.money import (
    AccountInfo,
    EarlyDiscount,
    Installment,
    Itemization,
    Money,
    Offers,
    Payment,
    Plan,
    PlanOffer,
    Promise,
    Settlement,
    SettlementOffer,
)
from dunning_portal.ports import (
    Charge,
    ChargeRequest,
    LedgerRefused,
    PaymentRecord,
    ProcessorEvent,
    ReversalReason,
    Source,
)
from dunning_testkit.paths import REPO
from fastapi import FastAPI
from playwright.sync_api import Page, sync_playwright

PAYLINK_KEY = "paylink-key-of-the-portal-tests"
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ACCOUNT = "ACC-PORTAL-1"
STEP = "stp_00000000-0000-5000-8000-000000000001"

# Stripe's test cards (money-api.md), one that stays pending (3-D Secure in Stripe), and the
# sandbox's delayed cards: processing, then succeeded or failed (a webhook tells).
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_NO_FUNDS = "4000000000009995"
CARD_DISPUTED_LATER = "4000000000000259"
CARD_PENDING = "4000002500003155"
CARD_SUCCEEDS_LATER = "4000000000007700"
CARD_FAILS_LATER = "4000000000007718"


def link(
    account_id: str = ACCOUNT,
    *,
    expires_at: datetime | None = None,
    key: str = PAYLINK_KEY,
) -> str:
    return paylink.sign(account_id, STEP, expires_at or NOW + timedelta(days=30), key)


@dataclass
class FakeProcessor:
    """Charges by test card number; the same idempotency key is the same charge."""

    charges: dict[str, tuple[Charge, int, dict[str, str]]] = field(default_factory=dict)

    async def charge(self, request: ChargeRequest) -> Charge:
        if request.idempotency_key in self.charges:
            return self.charges[request.idempotency_key][0]
        processor_id = f"ch_test_{len(self.charges) + 1:04d}"
        declines = {CARD_DECLINED: "generic_decline", CARD_NO_FUNDS: "insufficient_funds"}
        number = request.card.number
        if number in declines:
            made = Charge(processor_id, "declined", declines[number], "declined")
        elif number in (CARD_PENDING, CARD_SUCCEEDS_LATER, CARD_FAILS_LATER):
            made = Charge(processor_id, "pending", None, None)
        else:
            made = Charge(processor_id, "succeeded", None, None)
        self.charges[request.idempotency_key] = (
            made,
            request.amount_minor,
            dict(request.metadata),
        )
        return made


@dataclass
class FakeWebhooks:
    """Reads ``<kind> <processor_id>`` bodies signed with the text ``good``; the event carries
    the charge's metadata, as the processor's does."""

    processor: FakeProcessor

    async def read(self, payload: bytes, signature: str | None) -> ProcessorEvent | None:
        if signature != "good":
            raise ValueError("bad signature")
        kind, processor_id = payload.decode().split()
        if kind not in ("charge_disputed", "charge_failed", "charge_succeeded"):
            return None
        amount, metadata = next(
            (
                (a, m)
                for c, a, m in self.processor.charges.values()
                if c.processor_id == processor_id
            ),
            (0, {}),
        )
        if kind != "charge_succeeded":
            return ProcessorEvent(kind, processor_id, metadata)  # type: ignore[arg-type]
        return ProcessorEvent("charge_succeeded", processor_id, metadata, amount, "USD")


def _schedule(offer: PlanOffer) -> list[Installment]:
    step = {"weekly": 7, "biweekly": 14, "monthly": 30}[offer.frequency]
    amounts = [offer.installment_minor] * offer.count
    amounts[-1] = offer.total_minor - offer.installment_minor * (offer.count - 1)
    return [
        Installment(seq=i + 1, due_on=offer.first_due + timedelta(days=step * i), amount_minor=a)
        for i, a in enumerate(amounts)
    ]


@dataclass
class MemoryMoney:
    """One account's money behind the ledger port; every write recorded in ``writes``."""

    account_id: str = ACCOUNT
    balance_minor: int = 60_000
    currency: str = "USD"
    creditor: str = "Northwind Bank"
    locale: str = "en_US"
    plans: list[Plan] = field(default_factory=list)
    promises: list[Promise] = field(default_factory=list)
    settlements: list[Settlement] = field(default_factory=list)
    payments: dict[str, tuple[int, str, bool]] = field(default_factory=dict)
    writes: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    fail_reads: bool = False
    discount_minor: int | None = None  # an early-payment discount on offer, if any
    itemization_basis: str | None = None  # the creditor's reference date, when it gave one

    def _known(self, account_id: str) -> None:
        if self.fail_reads:
            raise LedgerRefused(503, "down")  # a refusal the page must not take for a 404
        if account_id != self.account_id:
            raise LedgerRefused(404, {"field": "account_id"})

    def _write(self, what: str, key: str, **body: Any) -> bool:
        """Record once per (what, key); False when it was already recorded."""
        if any(k == what and i == key for k, i, _ in self.writes):
            return False
        self.writes.append((what, key, body))
        return True

    def recorded(self, what: str) -> list[dict[str, Any]]:
        return [{"id": key, **body} for k, key, body in self.writes if k == what]

    async def account(self, account_id: str) -> AccountInfo:
        self._known(account_id)
        return AccountInfo(
            account_id=account_id, creditor=self.creditor, third_party=True, locale=self.locale
        )

    async def money(self, account_id: str) -> Money:
        self._known(account_id)
        paid = sum(a for a, _, reversed_ in self.payments.values() if not reversed_)
        return Money(
            account_id=account_id,
            debt_id="D-1",
            currency=self.currency,
            balance_minor=self.balance_minor - paid,
            status="settled" if self.balance_minor - paid <= 0 else "open",
            itemization=Itemization(
                itemization_date=date(2025, 11, 1),
                basis=self.itemization_basis,
                amount_on_itemization_date_minor=self.balance_minor - 2_500,
                interest_minor=1_500,
                fees_minor=1_000,
                payments_minor=paid,
            ),
            plans=self.plans,
            promises=self.promises,
            settlements=self.settlements,
            payments=[
                Payment(payment_id=pid, amount_minor=amount, reversed=reversed_)
                for pid, (amount, _, reversed_) in self.payments.items()
            ],
        )

    async def offers(self, account_id: str) -> Offers:
        money = await self.money(account_id)
        if money.active_plan() or money.open_settlement():
            return Offers(balance_minor=money.balance_minor, currency=self.currency)
        balance = money.balance_minor
        first = NOW.date() + timedelta(days=7)
        plan_offers = [
            PlanOffer(
                offer_id=f"plan-{frequency}-{count}",
                frequency=frequency,
                count=count,
                installment_minor=-(-balance // count),
                first_due=first,
                total_minor=balance,
            )
            for frequency, count in (("monthly", 3), ("biweekly", 6))
        ]
        return Offers(
            balance_minor=balance,
            currency=self.currency,
            plan_offers=plan_offers,
            settlement=SettlementOffer(
                offer_id="settle-70", amount_minor=balance * 7 // 10, pay_by=first
            ),
            early_discount=(
                EarlyDiscount(amount_minor=self.discount_minor, pay_by=first)
                if self.discount_minor
                else None
            ),
            min_part_payment_minor=1_000,
        )

    async def record_payment(self, account_id: str, payment: PaymentRecord) -> None:
        self._known(account_id)
        amount_minor, method = payment.amount_minor, payment.method
        if not self._write(
            "payment",
            payment.payment_id,
            amount_minor=amount_minor,
            method=method,
            source=payment.source,
        ):
            return
        self.payments[payment.payment_id] = (amount_minor, method, False)
        left = amount_minor
        for i, plan in enumerate(self.plans):
            if plan.status != "active":
                continue
            paid_installments = []
            for inst in plan.installments:
                pay = min(left, inst.owed_minor)
                left -= pay
                paid = inst.paid_minor + pay
                status = "paid" if paid >= inst.amount_minor else inst.status
                paid_installments.append(
                    inst.model_copy(update={"paid_minor": paid, "status": status})
                )
            self.plans[i] = plan.model_copy(update={"installments": paid_installments})

    async def reverse_payment(
        self, account_id: str, payment_id: str, *, reason: ReversalReason, source: Source
    ) -> None:
        self._known(account_id)
        if payment_id not in self.payments:
            raise LedgerRefused(404, {"field": "payment_id"})
        if self._write("reversal", payment_id, reason=reason, source=source):
            amount, method, _ = self.payments[payment_id]
            self.payments[payment_id] = (amount, method, True)

    async def agree_plan(self, account_id: str, *, plan_id: str, offer_id: str) -> None:
        offers = await self.offers(account_id)
        offer = next((o for o in offers.plan_offers if o.offer_id == offer_id), None)
        if any(p.plan_id == plan_id for p in self.plans):
            return
        if offer is None:
            raise LedgerRefused(409, {"field": "offer_id"})
        self._write("plan", plan_id, offer_id=offer_id, source="page")
        self.plans.append(
            Plan(
                plan_id=plan_id,
                status="active",
                frequency=offer.frequency,
                total_minor=offer.total_minor,
                installments=_schedule(offer),
            )
        )

    async def record_promise(
        self, account_id: str, *, promise_id: str, amount_minor: int, due_on: date
    ) -> None:
        self._known(account_id)
        if self._write("promise", promise_id, amount_minor=amount_minor, due_on=due_on):
            self.promises.append(Promise(promise_id=promise_id, amount_minor=amount_minor,
                                         due_on=due_on, status="open"))  # fmt: skip

    async def agree_settlement(self, account_id: str, *, settlement_id: str, offer_id: str) -> None:
        offers = await self.offers(account_id)
        if any(s.settlement_id == settlement_id for s in self.settlements):
            return
        if offers.settlement is None or offers.settlement.offer_id != offer_id:
            raise LedgerRefused(409, {"field": "offer_id"})
        self._write("settlement", settlement_id, offer_id=offer_id, source="page")
        self.settlements.append(
            Settlement(
                settlement_id=settlement_id,
                amount_minor=offers.settlement.amount_minor,
                pay_by=offers.settlement.pay_by,
                status="open",
            )
        )

    async def record_signal(
        self, account_id: str, *, signal_id: str, kind: str, channel: str | None
    ) -> None:
        self._known(account_id)
        self._write("signal", signal_id, kind=kind, channel=channel, source="page")

    async def add_note(self, account_id: str, *, note_key: str, text: str) -> None:
        self._known(account_id)
        self._write("note", note_key, text=text)


def portal_app(
    ledger: Any, processor: Any | None = None, *, webhooks: Any | None = None
) -> FastAPI:
    """The page over the given fakes (or an ``HttpLedger``), on the tests' key and clock."""
    settings = PortalSettings(paylink_key=PAYLINK_KEY, ledger_url="http://127.0.0.1:9")
    given = Ports(ledger, processor if processor is not None else FakeProcessor(), webhooks)
    return build(settings, given, FixedClock(NOW))


# --- a real browser ---------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")  # Debian's (stack.sh installs it); never Playwright's own
ARTIFACTS = REPO / ".state" / "artifacts" / "portal"
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 800)}
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (deploy/local/stack.sh installs it)"
)


@contextmanager
def browser_pages() -> Iterator[dict[str, Page]]:
    """One headless Chromium, a page per viewport (``phone``, ``desktop``)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            pages = {}
            for name, (width, height) in VIEWPORTS.items():
                context = browser.new_context(viewport={"width": width, "height": height})
                pages[name] = context.new_page()
            yield pages
        finally:
            browser.close()


def shoot(page: Page, name: str, viewport: str) -> Path:
    """A full-page screenshot kept as a test artifact: .state/artifacts/portal/<name>-<w>x<h>."""
    width, height = VIEWPORTS[viewport]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}-{width}x{height}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def pay_with_card(page: Page, form: str, number: str = CARD_OK) -> None:
    page.fill(f"#{form}-number", number)
    page.fill(f"#{form}-expiry", "12/30")
    page.fill(f"#{form}-cvc", "123")
    page.fill(f"#{form}-postal", "10001")
