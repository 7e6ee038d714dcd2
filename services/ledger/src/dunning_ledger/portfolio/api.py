"""``/v1/portfolio/figures``: what operations watch (the routes beside ``api``'s)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from dunning_ledger.domain import figures
from dunning_ledger.portfolio.schemas import FiguresOut
from dunning_ledger.portfolio.service import PortfolioService
from dunning_ledger.routing import authenticated_router, error_bodies, read_route, use_case

ERRORS = error_bodies(401, 403, 422, 503)
Portfolio = Annotated[PortfolioService, Depends(use_case("portfolio"))]


def router() -> APIRouter:
    api = authenticated_router("/v1/portfolio", "portfolio")

    @read_route(
        api,
        "/figures",
        FiguresOut,
        errors=ERRORS,
        summary="Accounts by status and stage, collections per day, messages, rules, rates",
        description=(figures.__doc__ or "").split("\n\n", 1)[1],
    )
    async def portfolio_figures(
        portfolio: Portfolio,
        days: Annotated[int, Query(ge=1, le=366, description="Days of collections")] = 30,
    ) -> FiguresOut:
        return FiguresOut.model_validate(await portfolio.figures(days))

    return api
