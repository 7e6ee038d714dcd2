"""``/v1/accounts/{id}`` money routes beyond payments and plans: the money view, offers,
reversals, promises and settlements (thin: each calls one use case)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from dunning_core.contracts.access import Permission, Principal
from dunning_core.runtime.auth import require
from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel

from dunning_ledger.accounts.api import AccountId
from dunning_ledger.money.schemas import MoneyOut, OffersOut
from dunning_ledger.money.service import MoneyService
from dunning_ledger.payments.schemas import ReversalIn, ReversalOut
from dunning_ledger.payments.service import PaymentService
from dunning_ledger.promises.schemas import PromiseIn, PromiseOut, SettlementIn, SettlementOut
from dunning_ledger.promises.service import PromiseService
from dunning_ledger.replay import create_route, created_or_replayed
from dunning_ledger.routing import (
    ERRORS,
    Cashier,
    PlanAgent,
    authenticated_router,
    error_bodies,
    path_id,
    read_route,
    use_case,
)

Promiser = Annotated[Principal, Depends(require(Permission.RECORD_PROMISES))]
_WRITE_ERRORS = {**ERRORS, **error_bodies(409)}
_MONEY = "Balance, Regulation F itemization, plans, promises, settlements, payments"
_OFFERS = "The plans, settlement and discount the payment terms allow today"


def _payment_id(payment_id: Annotated[str, Path(description="The payment's id.")]) -> str:
    return path_id("payment", payment_id)


Money = Annotated[MoneyService, Depends(use_case("money"))]
Payments = Annotated[PaymentService, Depends(use_case("payments"))]
Promises = Annotated[PromiseService, Depends(use_case("promises"))]
PaymentId = Annotated[str, Depends(_payment_id)]


def _account_read(
    api: APIRouter,
    read: Callable[[MoneyService, str], Awaitable[BaseModel]],
    model: type[BaseModel],
    summary: str,
) -> None:
    """``GET /accounts/{account_id}/<read>``, answering what the money use case's ``read``
    answers (the route, and so its operation id, takes the name of ``read``)."""

    async def route(account_id: AccountId, service: Money) -> BaseModel:
        return await read(service, account_id)

    route.__name__ = read.__name__
    read_route(api, f"/accounts/{{account_id}}/{read.__name__}", model, summary=summary)(route)


def router() -> APIRouter:
    api = authenticated_router("/v1", "money")

    for read, model, summary in (
        (MoneyService.money, MoneyOut, _MONEY),
        (MoneyService.offers, OffersOut, _OFFERS),
    ):
        _account_read(api, read, model, summary)

    @create_route(
        api,
        "/accounts/{account_id}/payments/{payment_id}/reversal",
        ReversalOut,
        errors=_WRITE_ERRORS,
        replayed="Already",
        summary="Reverse a payment (chargeback, NSF...): the balance and plan come back",
    )
    async def reverse(
        who: Cashier,
        account_id: AccountId,
        payment_id: PaymentId,
        body: ReversalIn,
        service: Payments,
        response: Response,
    ) -> ReversalOut:
        result = await service.reverse_payment(account_id, payment_id, body, recorded_by=who.name)
        replayed = created_or_replayed(response, result.replayed)
        return ReversalOut.of(result.reversal, result.payment, result.balance_minor, replayed)

    @create_route(
        api,
        "/accounts/{account_id}/promises",
        PromiseOut,
        errors=_WRITE_ERRORS,
        replayed="Already made",
        summary="Record a promise to pay an amount by a date (idempotent by promise_id)",
    )
    async def promise(
        who: Promiser, account_id: AccountId, body: PromiseIn, service: Promises, response: Response
    ) -> PromiseOut:
        row, replayed = await service.make_promise(account_id, body, recorded_by=who.name)
        return PromiseOut.of(row, created_or_replayed(response, replayed))

    @create_route(
        api,
        "/accounts/{account_id}/settlements",
        SettlementOut,
        errors=_WRITE_ERRORS,
        replayed="Already",
        summary="Agree a settlement: a lump sum below the balance (idempotent by id)",
    )
    async def settle(
        who: PlanAgent,
        account_id: AccountId,
        body: SettlementIn,
        service: Promises,
        response: Response,
    ) -> SettlementOut:
        row, replayed = await service.agree_settlement(account_id, body, recorded_by=who.name)
        return SettlementOut.of(row, created_or_replayed(response, replayed))

    return api
