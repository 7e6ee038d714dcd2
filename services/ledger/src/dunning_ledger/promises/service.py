"""Recording a promise to pay and agreeing a settlement: checked against the payment
terms, idempotent by their ids, announced in the transaction that records them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import TypeVar

from dunning_core.contracts.common import Money
from dunning_core.contracts.payments import PromiseMade, SettlementAgreed

from dunning_ledger.accounts.service import envelope_of, locked_account
from dunning_ledger.domain.schedule import offers, settlement_floor
from dunning_ledger.errors import Conflict, InvalidRequest
from dunning_ledger.models import Account, Promise, Settlement
from dunning_ledger.payments.state import MoneyUseCase, load, local_today
from dunning_ledger.ports import Transaction
from dunning_ledger.promises.schemas import PromiseIn, SettlementIn

_Row = TypeVar("_Row", Promise, Settlement)


class PromiseService(MoneyUseCase):
    async def make_promise(
        self, account_id: str, body: PromiseIn, recorded_by: str | None = None
    ) -> tuple[Promise, bool]:
        """The promise and whether it was a replay (idempotent by ``promise_id``)."""
        made = (account_id, body.amount_minor, body.due_on)
        return await self._once(
            account_id,
            Promise,
            body.promise_id,
            lambda p: (p.account_id, p.amount_minor, p.due_on) == made,
            f"promise {body.promise_id!r} was already made otherwise",
            lambda tx, account, now: self._promise(tx, account, body, now, recorded_by),
        )

    async def agree_settlement(
        self, account_id: str, body: SettlementIn, recorded_by: str | None = None
    ) -> tuple[Settlement, bool]:
        """The settlement and whether it was a replay (idempotent by ``settlement_id``)."""

        def same(existing: Settlement) -> bool:
            named = (
                (body.offer_id, existing.offer_id),
                (body.amount_minor, existing.amount_minor),
                (body.pay_by, existing.pay_by),
            )
            return existing.account_id == account_id and all(
                given is None or given == stored for given, stored in named
            )

        return await self._once(
            account_id,
            Settlement,
            body.settlement_id,
            same,
            f"settlement {body.settlement_id!r} was already agreed otherwise",
            lambda tx, account, now: self._settlement(tx, account, body, now, recorded_by),
        )

    async def _once(
        self,
        account_id: str,
        model: type[_Row],
        key: str,
        same: Callable[[_Row], bool],
        conflict: str,
        create: Callable[[Transaction, Account, datetime], Awaitable[_Row]],
    ) -> tuple[_Row, bool]:
        """An idempotent write on the locked account: the row of ``model`` stored under the
        write's ``key`` when ``same`` finds it is this write again (a replay), ``Conflict``
        when it is another, else the row ``create`` records now with its event; and whether
        it was a replay."""
        now = self.clock.now()
        async with self.transactions() as tx:
            account = await locked_account(tx, account_id)
            existing = await tx.payments.get(model, key)
            if existing is not None:
                if not same(existing):
                    raise Conflict(conflict)
                await tx.commit()
                return existing, True
            row = await create(tx, account, now)
            await tx.commit()
        return row, False

    async def _promise(
        self, tx: Transaction, account: Account, body: PromiseIn, now: datetime, by: str | None
    ) -> Promise:
        today = local_today(account, now)
        longest = today + timedelta(days=self.terms.promise_longest_days)
        if body.due_on < today or body.due_on > longest:
            raise InvalidRequest(
                f"due_on {body.due_on.isoformat()} is not between today "
                f"({today.isoformat()}) and the longest date the terms allow "
                f"({longest.isoformat()})",
                "due_on",
            )
        if body.amount_minor > account.balance_minor:
            raise InvalidRequest(
                f"amount_minor {body.amount_minor} is more than the balance of "
                f"{account.balance_minor}",
                "amount_minor",
            )
        smallest = min(self.terms.smallest_part_payment_minor, account.balance_minor)
        if body.amount_minor < smallest:
            raise InvalidRequest(
                f"amount_minor {body.amount_minor} is below the smallest payment the "
                f"terms allow ({smallest})",
                "amount_minor",
            )
        rows = await load(tx, account)
        if (open_promise := rows.open_promise()) is not None:
            raise InvalidRequest(
                f"the account already has an open promise {open_promise.promise_id!r}",
                "promise_id",
            )
        row = Promise(
            promise_id=body.promise_id, account_id=account.account_id, debt_id=account.debt_id,
            amount_minor=body.amount_minor, currency=account.currency, due_on=body.due_on,
            paid_minor=0, status="open", made_at=now, source=body.source, recorded_by=by,
        )  # fmt: skip
        await tx.payments.add(row)
        event = PromiseMade(
            account_id=account.account_id,
            promise_id=body.promise_id,
            debt_id=account.debt_id,
            amount=Money(amount_minor=body.amount_minor, currency=account.currency),
            due_on=body.due_on,
            made_at=now,
            source=body.source,
        )
        await tx.outbox.announce([envelope_of(event, now)])
        return row

    async def _settlement(
        self, tx: Transaction, account: Account, body: SettlementIn, now: datetime, by: str | None
    ) -> Settlement:
        today = local_today(account, now)
        balance = account.balance_minor
        rows = await load(tx, account)
        arranged = rows.active_plan() is not None or rows.open_settlement() is not None
        if arranged:
            raise InvalidRequest(
                "the account already has an active plan or an open settlement",
                "settlement_id",
            )
        available = offers(balance, self.terms, today, account.created_at.date(), arranged=False)
        if body.offer_id is not None:
            offer = available.settlement_by_id(body.offer_id)
            if offer is None:
                raise InvalidRequest(
                    f"offer {body.offer_id!r} is not offered today (see GET .../offers)",
                    "offer_id",
                )
            amount, pay_by = offer.amount_minor, offer.pay_by
        else:
            amount, pay_by = self._check_terms(body, balance, today)
        row = Settlement(
            settlement_id=body.settlement_id, account_id=account.account_id,
            debt_id=account.debt_id, amount_minor=amount, currency=account.currency,
            balance_minor=balance, pay_by=pay_by, paid_minor=0, status="open",
            offer_id=body.offer_id, agreed_at=now, source=body.source, recorded_by=by,
        )  # fmt: skip
        await tx.payments.add(row)
        currency = account.currency
        event = SettlementAgreed(
            account_id=account.account_id,
            settlement_id=body.settlement_id,
            debt_id=account.debt_id,
            amount=Money(amount_minor=amount, currency=currency),
            balance=Money(amount_minor=balance, currency=currency),
            pay_by=pay_by,
            agreed_at=now,
            source=body.source,
        )
        await tx.outbox.announce([envelope_of(event, now)])
        return row

    def _check_terms(self, body: SettlementIn, balance: int, today: date) -> tuple[int, date]:
        terms = self.terms.settlement
        if terms is None:
            raise InvalidRequest("the payment terms offer no settlements", "amount_minor")
        if body.amount_minor is None:
            raise InvalidRequest("a settlement needs amount_minor (or an offer_id)", "amount_minor")
        if body.pay_by is None:
            raise InvalidRequest("a settlement needs pay_by (or an offer_id)", "pay_by")
        floor = settlement_floor(balance, terms.floor_percent)
        if body.amount_minor < floor:
            raise InvalidRequest(
                f"amount_minor {body.amount_minor} is below the settlement floor of {floor} "
                f"({terms.floor_percent} % of the balance {balance})",
                "amount_minor",
            )
        if body.amount_minor >= balance:
            raise InvalidRequest(
                f"a settlement is below the balance of {balance}; pay it in full instead",
                "amount_minor",
            )
        latest = today + timedelta(days=terms.pay_by_days)
        if body.pay_by < today or body.pay_by > latest:
            raise InvalidRequest(
                f"pay_by {body.pay_by.isoformat()} is not between today and "
                f"{latest.isoformat()} ({terms.pay_by_days} days)",
                "pay_by",
            )
        return body.amount_minor, body.pay_by
