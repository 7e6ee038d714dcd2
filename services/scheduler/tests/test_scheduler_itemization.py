"""The formal notice itemizes the debt (Regulation F) when the import gave the creditor's
figures, in every language; the lines add up to the balance now, payments here included."""

from __future__ import annotations

from dataclasses import replace

import pytest
from dunning_core.contracts.common import Channel
from dunning_scheduler.adapters.rendering import Renderer
from dunning_scheduler.domain import reactions
from dunning_scheduler.domain.planning import plan_due
from dunning_scheduler.policy.loader import default_policy
from dunning_testkit.ledger import ITEMIZATION
from dunning_testkit.scheduler import IDENTITY, NOW, account_opened, consumer, debt

POLICY = default_policy()


def formal_notice(locale: str, balance_minor: int, itemized: bool = True) -> str:
    owed = debt(balance_minor=balance_minor)
    if itemized:
        owed = owed.model_copy(update={"itemization": ITEMIZATION})
    opened = account_opened(consumer_=consumer(locale=locale), debt_=owed)
    case = reactions.on_account(None, opened, POLICY, NOW)
    assert case is not None
    while case.next_step_at is not None:
        planning = plan_due(case, POLICY, case.next_step_at)
        for draft in planning.drafts:
            if draft.template == "formal_notice" and draft.channel == Channel.EMAIL:
                assert case.consumer is not None
                return Renderer(IDENTITY).render(draft, case.consumer, owed).body
        case = replace(planning.case, contacted=True)
    raise AssertionError("no formal notice by email in the ladder")


@pytest.mark.parametrize(
    ("locale", "lines"),
    [
        (
            "en_US",
            [
                "As of October 31, 2025 (the charge-off date), you owed: $1,100.00",
                "You were charged this amount in interest: + $120.25",
                "You were charged this amount in fees: + $35.00",
                "You paid this amount toward the debt: - $20.75",
                "You were credited this amount toward the debt: - $0.00",
                "Total amount of the debt now: $1,234.50",
            ],
        ),
        ("es_US", ["(fecha de cancelación contable), usted debía:", "intereses: + "]),
        ("zh_CN", ["（坏账核销日），您的欠款为：", "利息：+ US$120.25"]),
    ],
)
def test_the_formal_notice_itemizes_the_debt(locale: str, lines: list[str]) -> None:
    body = formal_notice(locale, 123_450)
    for line in lines:
        assert line in body, body


def test_payments_made_here_since_the_import_count_as_payments() -> None:
    body = formal_notice("en_US", 103_450)  # 200.00 paid through us since
    assert "You paid this amount toward the debt: - $220.75" in body
    assert "Total amount of the debt now: $1,034.50" in body


def test_no_itemization_no_lines() -> None:
    body = formal_notice("en_US", 123_450, itemized=False)
    assert "you owed:" not in body
    assert "Balance: $1,234.50" in body
