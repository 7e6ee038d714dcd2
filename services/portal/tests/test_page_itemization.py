"""The page's Regulation F itemization: the creditor's reference date named when the import
gave one, in every language of the page, with its interest and fees."""

from __future__ import annotations

import httpx
import pytest
from dunning_portal.domain.texts import TEXTS
from dunning_testkit.portal import MemoryMoney, link

TOKEN = link()


@pytest.fixture
def ledger() -> MemoryMoney:
    return MemoryMoney(itemization_basis="charge_off")


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "As of November 1, 2025 (the charge-off date), you owed"),
        ("es", "(fecha de cancelación contable), usted debía"),
        ("zh", "（坏账核销日），您的欠款为"),
    ],
)
async def test_the_itemization_names_its_reference_date(
    http: httpx.AsyncClient, lang: str, words: str
) -> None:
    page = (await http.get(f"/p/{TOKEN}", params={"lang": lang})).text
    assert words in page
    table = page[page.index('data-testid="itemization"') :]
    assert "$575.00" in table  # on the itemization date (US$575.00 in Chinese)
    assert "+ US$15.00" in table if lang == "zh" else "+ $15.00" in table  # interest
    assert "$10.00" in table  # fees


async def test_every_reference_date_has_words_in_every_language() -> None:
    bases = ("last_statement", "charge_off", "last_payment", "transaction", "judgment")
    for language, table in TEXTS.items():
        missing = [b for b in bases if f"basis_{b}" not in table]
        assert not missing, (language, missing)
