"""Account search: the filters' normalisation and paging, against the in-memory ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from dunning_core.runtime.clock import FixedClock
from dunning_ledger.accounts.service import AccountService
from dunning_ledger.domain.import_rows import validate_json
from dunning_ledger.domain.search import SearchFilters, decode_cursor, due_bounds, encode_cursor
from dunning_ledger.errors import InvalidCursor, InvalidRequest
from dunning_ledger.imports.service import ImportService
from dunning_testkit.ledger import required_row
from dunning_testkit.ledger_memory import MemoryLedger

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


async def searched(**filters: object) -> list[str]:
    ledger = MemoryLedger()
    rows = [
        required_row(1, "10.00", full_name="Ana García", phone="(415) 555-2671"),
        required_row(2, "250.00", state="NY", email="Ben.Smith@Example.COM"),
        required_row(3, "99.99", full_name="=HYPERLINK(1)", due_date="2026-02-20"),
        required_row(4, "0.00"),
    ]
    await ImportService(ledger, FixedClock(T0)).import_accounts(validate_json(rows))
    page = await AccountService(ledger, FixedClock(T0)).search(SearchFilters(**filters))  # type: ignore[arg-type]
    return [a.account_id for a in page.accounts]


async def test_every_filter_narrows_the_accounts() -> None:
    assert await searched() == ["A1", "A2", "A3", "A4"]
    assert await searched(account_id="A2") == ["A2"]
    assert await searched(name="garcía") == ["A1"]
    assert await searched(name="smith") == ["A2", "A4"]
    assert await searched(name="=hyper") == ["A3"]
    assert await searched(phone="+1 415-555-2671") == ["A1"]
    assert await searched(email="Ben.Smith@example.com") == ["A2"]
    assert await searched(state="ny") == ["A2"]
    assert await searched(status="paid") == ["A4"]
    assert await searched(balance_min="10", balance_max="100") == ["A1", "A3"]
    assert await searched(balance_min="10", currency="EUR") == []
    # T0 is 2026-03-02: due 2026-01-01 is 60 days past due, 2026-02-20 is 10.
    assert await searched(days_past_due_min=30) == ["A1", "A2", "A4"]
    assert await searched(days_past_due_max=30) == ["A3"]
    assert await searched(stage="first_notice") == []  # no communication log in memory


async def test_pages_follow_each_other_without_repeats() -> None:
    ledger = MemoryLedger()
    rows = [required_row(n) for n in range(1, 8)]
    await ImportService(ledger, FixedClock(T0)).import_accounts(validate_json(rows))
    service = AccountService(ledger, FixedClock(T0))
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await service.search(SearchFilters(limit=3, cursor=cursor))
        seen += [a.account_id for a in page.accounts]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(f"A{n}" for n in range(1, 8))
    assert page.today == date(2026, 3, 2)


@pytest.mark.parametrize("cursor", ["nope", "", "eyJ2IjoyfQ", encode_cursor("A1") + "x"])
async def test_an_invalid_cursor_is_refused_naming_the_cursor(cursor: str) -> None:
    with pytest.raises(InvalidCursor) as caught:
        await AccountService(MemoryLedger(), FixedClock(T0)).search(SearchFilters(cursor=cursor))
    assert caught.value.status_code == 400
    assert caught.value.body()["errors"] == [
        {"field": "query.cursor", "message": caught.value.message}
    ]


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"phone": "not-a-phone"}, "query.phone"),
        ({"email": "nobody"}, "query.email"),
        ({"balance_min": "1.234"}, "query.balance_min"),
        ({"balance_min": "5", "balance_max": "1"}, "query.balance_min"),
        ({"days_past_due_min": 9, "days_past_due_max": 1}, "query.days_past_due_min"),
        ({"currency": "XXQ", "balance_max": "1"}, "query.balance_max"),
    ],
)
async def test_a_filter_that_can_never_match_names_its_parameter(
    filters: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await AccountService(MemoryLedger(), FixedClock(T0)).search(SearchFilters(**filters))  # type: ignore[arg-type]
    assert caught.value.field == field


def test_the_cursor_round_trips_and_days_past_due_bound_the_due_date() -> None:
    assert decode_cursor(encode_cursor("ACC-000001")) == "ACC-000001"
    today = date(2026, 3, 2)
    assert due_bounds(today, 30, 90) == (date(2026, 1, 31), date(2025, 12, 2))
