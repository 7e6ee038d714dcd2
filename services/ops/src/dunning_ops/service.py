"""The dashboard's use cases: each reads the services with the signed-in user's key and
returns a view model built by the domain (pages and JSON endpoints render the same one)."""

from __future__ import annotations

from dataclasses import dataclass

from dunning_ops.domain.portfolio import PortfolioView, portfolio_view
from dunning_ops.ports import DeadLetters, Gate, Ledger, Probes, Scheduler
from dunning_ops.sessions import Session


@dataclass(frozen=True)
class Upstreams:
    ledger: Ledger
    gate: Gate
    scheduler: Scheduler
    probes: Probes
    dead_letters: DeadLetters


class Ops:
    def __init__(self, upstreams: Upstreams, collected_days: int = 30) -> None:
        self.up = upstreams
        self.collected_days = collected_days

    async def portfolio(self, session: Session) -> PortfolioView:
        figures = await self.up.ledger.figures(session.key, self.collected_days)
        return portfolio_view(figures)
