"""The page's use cases: open a link, and carry out one action from it through the ledger.

Every outcome is a value the routes render: ``Refused`` (forged or expired link: nothing
read, nothing recorded), ``View`` (the page), ``Done`` (a plain confirmation) or ``Problem``
(the page again with a message; nothing recorded).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from dunning_core import paylink
from dunning_core.runtime.clock import Clock

from dunning_portal.domain.actions import (
    Action,
    PayKind,
    action_key,
    amount_due,
    card_expiry,
    card_number,
    card_payment_id,
    form_token_ok,
    parse_amount,
    recorded_payment,
    shown_amount,
)
from dunning_portal.domain.money import AccountInfo, Money, Offers
from dunning_portal.ports import (
    CardDetails,
    ChargeRequest,
    Ledger,
    LedgerRefused,
    PaymentProcessor,
    PaymentRecord,
    ProcessorEvent,
    ReversalReason,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refused:
    reason: paylink.Refusal


@dataclass(frozen=True)
class View:
    link: paylink.PayLink
    account: AccountInfo
    money: Money
    offers: Offers


@dataclass(frozen=True)
class Done:
    """``outcome``: recorded, pending (the processor will confirm), or the action's name."""

    view: View
    action: Action
    outcome: str
    amount_minor: int | None = None
    promised_on: date | None = None


@dataclass(frozen=True)
class Problem:
    view: View
    message: str  # a key of the page's texts
    status: int = 422


Outcome = Refused | Done | Problem

PAY_KINDS: tuple[PayKind, ...] = ("full", "part", "installment", "settlement", "discount")
OPT_OUT_CHANNELS = ("sms", "email")


@dataclass
class Portal:
    ledger: Ledger
    processor: PaymentProcessor | None  # None until one is configured: every card declined
    clock: Clock
    paylink_key: str

    def read(self, token: str) -> paylink.PayLink | paylink.Refusal:
        return paylink.read(token, self.paylink_key, self.clock.now())

    async def view(self, token: str) -> View | Refused:
        link = self.read(token)
        if isinstance(link, paylink.Refusal):
            log.info("link refused", extra={"reason": link.value})
            return Refused(link)
        account, money, offers = (
            await self.ledger.account(link.account_id),
            await self.ledger.money(link.account_id),
            await self.ledger.offers(link.account_id),
        )
        return View(link, account, money, offers)

    async def act(self, token: str, action: Action, form: Mapping[str, str]) -> Outcome:
        """Carry out ``action``; a form without the link's check is refused as forged."""
        if not form_token_ok(self.paylink_key, token, form.get("csrf", "")):
            return Refused(paylink.Refusal.FORGED)
        seen = await self.view(token)
        if isinstance(seen, Refused):
            return seen
        try:
            return await self._act(token, seen, action, form)
        except LedgerRefused as refused:
            log.info(
                "ledger refused an action",
                extra={"action": action.value, "status": refused.status},
            )
            return Problem(seen, "refused", status=409 if refused.status == 409 else 422)

    async def _act(
        self, token: str, view: View, action: Action, form: Mapping[str, str]
    ) -> Outcome:
        account_id = view.link.account_id
        key = self.paylink_key
        if action is Action.PAY:
            return await self._pay(token, view, form)
        if action is Action.PLAN:
            offer_id = form.get("offer_id", "")
            plan_id = action_key(key, token, action, offer_id)
            if any(p.plan_id == plan_id for p in view.money.plans):
                return Done(view, action, "recorded")  # a second submit of one form
            if not any(o.offer_id == offer_id for o in view.offers.plan_offers):
                return Problem(view, "no_offer")
            await self.ledger.agree_plan(account_id, plan_id=plan_id, offer_id=offer_id)
            return Done(await self._fresh(view), action, "recorded")
        if action is Action.SETTLE:
            offer_id = form.get("offer_id", "")
            settlement_id = action_key(key, token, action, offer_id)
            if any(s.settlement_id == settlement_id for s in view.money.settlements):
                return Done(view, action, "recorded")
            settlement = view.offers.settlement
            if settlement is None or settlement.offer_id != offer_id:
                return Problem(view, "no_offer")
            await self.ledger.agree_settlement(
                account_id, settlement_id=settlement_id, offer_id=offer_id
            )
            return Done(await self._fresh(view), action, "recorded", settlement.amount_minor)
        if action is Action.PROMISE:
            return await self._promise(token, view, form)
        if action is Action.DISPUTE:
            signal_id = action_key(key, token, action)
            await self.ledger.record_signal(
                account_id, signal_id=signal_id, kind="disputed", channel=None
            )
            return Done(view, action, "recorded")
        if action is Action.OPT_OUT:
            channel = form.get("channel", "")
            if channel not in OPT_OUT_CHANNELS:
                return Problem(view, "bad_channel")
            signal_id = action_key(key, token, action, channel)
            await self.ledger.record_signal(
                account_id, signal_id=signal_id, kind="opted_out", channel=channel
            )
            return Done(view, action, channel)
        note_key = action_key(key, token, Action.CALL_BACK)
        await self.ledger.add_note(
            account_id, note_key=note_key, text="Call-back requested on the payment page"
        )
        return Done(view, Action.CALL_BACK, "recorded")

    async def _promise(self, token: str, view: View, form: Mapping[str, str]) -> Outcome:
        amount = parse_amount(form.get("amount", ""))
        try:
            due_on = date.fromisoformat(form.get("due_on", ""))
        except ValueError:
            return Problem(view, "bad_date")
        if amount is None or not 0 < amount <= view.money.balance_minor:
            return Problem(view, "amount_out_of_range")
        if due_on < self.clock.now().date():
            return Problem(view, "bad_date")
        promise_id = action_key(
            self.paylink_key, token, Action.PROMISE, str(amount), due_on.isoformat()
        )
        await self.ledger.record_promise(
            view.link.account_id, promise_id=promise_id, amount_minor=amount, due_on=due_on
        )
        return Done(view, Action.PROMISE, "recorded", amount, due_on)

    async def _pay(self, token: str, view: View, form: Mapping[str, str]) -> Outcome:
        kind = form.get("kind", "")
        if kind not in PAY_KINDS:
            return Problem(view, "bad_amount")
        shown = shown_amount(kind, form.get("amount"), form.get("amount_minor"))
        if shown is None:
            return Problem(view, "bad_amount")
        pay_key = action_key(self.paylink_key, token, Action.PAY, kind, str(shown))
        if recorded_payment(view.money, pay_key):
            return Done(view, Action.PAY, "recorded", shown)  # a second submit of one form
        due = amount_due(kind, view.money, view.offers, form.get("amount"))
        if due.amount_minor is None:
            return Problem(view, due.problem or "bad_amount")
        if due.amount_minor != shown:
            return Problem(view, "amount_changed")  # the page showed another amount: show anew
        card = _card(form)
        if card is None:
            return Problem(view, "bad_card")
        if self.processor is None:
            return Problem(view, "declined:processor_unavailable", 402)
        account_id = view.link.account_id
        try:
            charge = await self.processor.charge(
                ChargeRequest(
                    idempotency_key=pay_key,
                    amount_minor=shown,
                    currency=view.money.currency,
                    card=card,
                    description=f"Payment on account {account_id}",
                    metadata={
                        "account_id": account_id,
                        "step_id": view.link.step_id,
                        "payment_key": pay_key,
                    },
                )
            )
        except Exception as exc:
            # No outcome (the processor unreachable or refusing the request): nothing is
            # recorded; the same form again is the same idempotency key, so never two charges.
            log.warning("card charge without an outcome", extra={"error": type(exc).__name__})
            return Problem(view, "processor_unavailable", 503)
        log.info(
            "card charge",
            extra={"status": charge.status, "decline_code": charge.decline_code, "kind": kind},
        )
        if charge.status == "declined":
            return Problem(view, f"declined:{charge.decline_code or 'generic_decline'}", 402)
        if charge.status == "pending":
            return Done(view, Action.PAY, "pending", shown)
        await self.ledger.record_payment(
            account_id,
            PaymentRecord(
                payment_id=card_payment_id(pay_key, charge.processor_id),
                amount_minor=shown,
                currency=view.money.currency,
                method="card",
                source="page",
            ),
        )
        return Done(await self._fresh(view), Action.PAY, "recorded", shown)

    async def _fresh(self, view: View) -> View:
        """The view after a write: the plan's schedule, the balance left."""
        account_id = view.link.account_id
        money = await self.ledger.money(account_id)
        return View(view.link, view.account, money, await self.ledger.offers(account_id))

    async def processor_event(self, event: ProcessorEvent) -> bool:
        """A charge that succeeded records its payment (once: the id is the one the page
        records when the charge succeeds at once); a disputed or failed charge reverses the
        card payment it recorded. True when the ledger has it (or never had it: a pending
        charge that failed recorded nothing)."""
        account_id = event.metadata.get("account_id")
        pay_key = event.metadata.get("payment_key")
        if not account_id or not pay_key:
            log.warning("processor event not from the page", extra={"kind": event.kind})
            return False
        payment_id = card_payment_id(pay_key, event.processor_id)
        if event.kind == "charge_succeeded":
            if event.amount_minor is None or event.currency is None:
                raise ValueError("a charge that succeeded carries its amount")
            try:
                await self.ledger.record_payment(
                    account_id,
                    PaymentRecord(
                        payment_id=payment_id,
                        amount_minor=event.amount_minor,
                        currency=event.currency,
                        method="card",
                        source="processor",
                    ),
                )
            except LedgerRefused as refused:
                # Permanent (another amount under that id, an unknown account): the processor
                # sending it again would not help; an operator reconciles from the log.
                log.warning("ledger refused a confirmed charge", extra={"status": refused.status})
                return False
            log.info("processor confirmed a charge", extra={"kind": event.kind})
            return True
        reason: ReversalReason = (
            "chargeback" if event.kind == "charge_disputed" else "processor_failure"
        )
        try:
            await self.ledger.reverse_payment(
                account_id,
                payment_id,
                reason=reason,
                source="processor",
            )
        except LedgerRefused as refused:
            if refused.status != 404:
                raise
            log.info("processor event for no recorded payment", extra={"kind": event.kind})
        return True


def _card(form: Mapping[str, str]) -> CardDetails | None:
    number = card_number(form.get("card_number", ""))
    expiry = card_expiry(form.get("card_expiry", ""))
    cvc = form.get("card_cvc", "").strip()
    if number is None or expiry is None or not (cvc.isdigit() and 3 <= len(cvc) <= 4):
        return None
    postal = form.get("postal_code", "").strip() or None
    return CardDetails(
        number=number, exp_month=expiry[0], exp_year=expiry[1], cvc=cvc, postal_code=postal
    )
