"""``/v1/portfolio/figures``: what operations watch (the routes beside ``api``'s)."""

from __future__ import annotations

from typing import Annotated, Any

from dunning_core.contracts.access import Permission
from dunning_core.runtime.auth import authenticated, require
from fastapi import APIRouter, Depends, Query, Request

from dunning_ledger.domain import figures
from dunning_ledger.errors import ErrorBody
from dunning_ledger.portfolio.schemas import FiguresOut
from dunning_ledger.portfolio.service import PortfolioService

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 422, 503)
}


def _portfolio(request: Request) -> PortfolioService:
    service: PortfolioService = request.app.state.use_cases.portfolio
    return service


Portfolio = Annotated[PortfolioService, Depends(_portfolio)]


def router() -> APIRouter:
    api = APIRouter(
        prefix="/v1/portfolio", tags=["portfolio"], dependencies=[Depends(authenticated)]
    )

    @api.get(
        "/figures",
        response_model=FiguresOut,
        responses=ERRORS,
        dependencies=[Depends(require(Permission.READ))],
        summary="Accounts by status and stage, collections per day, messages, rules, rates",
        description=(figures.__doc__ or "").split("\n\n", 1)[1],
    )
    async def portfolio_figures(
        portfolio: Portfolio,
        days: Annotated[int, Query(ge=1, le=366, description="Days of collections")] = 30,
    ) -> FiguresOut:
        return FiguresOut.model_validate(await portfolio.figures(days))

    return api
