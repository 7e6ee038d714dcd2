"""Propensity-to-pay ordering of due cases (PRACTICE.md: prioritising accounts).

Financial impact (balance, on a log scale) and debt age (older debts recover worse: act
early) dominate; debts with legal authority get review first. The score is 0-100 and only
orders the planner's work when more cases are due than it can plan in one tick.
"""

from __future__ import annotations

import math
from datetime import date

from dunning_core.contracts.events import Debt

IMPACT_WEIGHT = 0.5
FRESHNESS_WEIGHT = 0.4
LEGAL_WEIGHT = 0.1
FULL_IMPACT_MINOR = 10_000_000  # 100,000.00 in a two-decimal currency scores full impact
AGE_HORIZON_DAYS = 365


def priority_score(debt: Debt, today: date) -> float:
    balance = max(0, debt.balance.amount_minor)
    impact = min(1.0, math.log10(1 + balance) / math.log10(1 + FULL_IMPACT_MINOR))
    since = debt.delinquent_since or debt.due_date
    age_days = max(0, (today - since).days)
    freshness = max(0.0, 1.0 - age_days / AGE_HORIZON_DAYS)
    legal = 1.0 if debt.legal_action_authorized else 0.0
    score = IMPACT_WEIGHT * impact + FRESHNESS_WEIGHT * freshness + LEGAL_WEIGHT * legal
    return round(100 * score, 2)
