"""The portfolio figures use case: grouped counts in one transaction, worded by the domain."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from dunning_ledger.domain.figures import build_figures
from dunning_ledger.ports import UseCase


class PortfolioService(UseCase):
    async def figures(self, days: int) -> dict[str, Any]:
        """Every figure; amounts collected per day over the last ``days`` days (UTC)."""
        today = self.clock.now().astimezone(UTC).date()
        since = today - timedelta(days=days - 1)
        start = datetime.combine(since, time(), UTC)
        end = datetime.combine(today + timedelta(days=1), time(), UTC)
        async with self.transactions() as tx:
            counts = await tx.portfolio.figure_counts(start, end)
            await tx.commit()
        return build_figures(counts, since, today)
