"""Changing accounts and agents' notes: use cases over the in-memory ledger, and the routes
with their permissions over ASGI (the same fakes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from dunning_core.contracts.events import AccountUpdated
from dunning_core.runtime.clock import FixedClock
from dunning_ledger.accounts.changes import ChangeService
from dunning_ledger.accounts.schemas import AccountPatch
from dunning_ledger.accounts.timeline import TimelineService
from dunning_ledger.domain.import_rows import validate_json
from dunning_ledger.errors import InvalidRequest, NotFound
from dunning_ledger.imports.service import ImportService
from dunning_testkit.ledger import ledger_client, memory_ledger_app, required_row
from dunning_testkit.ledger_memory import MemoryLedger
from pydantic import ValidationError

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
CONSENTED = {
    "number": "(415) 555-2671", "consent": "express_written", "basis": "consented",
    "consent_source": "signed form 2026-02-01", "consent_at": "2026-02-01T12:00:00Z",
}  # fmt: skip


async def opened(ledger: MemoryLedger) -> None:
    rows = [required_row(1, phone="2125550001", email="a@example.com")]
    await ImportService(ledger, FixedClock(T0)).import_accounts(validate_json(rows))


async def test_a_change_is_a_new_revision_announced_with_who_and_what() -> None:
    ledger = MemoryLedger()
    await opened(ledger)
    patch = AccountPatch.model_validate(
        {"phones": [CONSENTED], "locale": "es_US", "flags": {"medical": True}}
    )
    done = await ChangeService(ledger, FixedClock(T0)).change("A1", patch, "ops-jane")
    assert done.changed == ("phones", "locale", "medical")
    assert done.revision == 2
    event = ledger.tables.outbox[-1].data
    assert isinstance(event, AccountUpdated)
    assert (event.revision, event.recorded_by, event.changed) == (2, "ops-jane", done.changed)
    [phone] = event.consumer.phones
    assert phone.number == "+14155552671"
    assert phone.consent_source == "signed form 2026-02-01"
    assert event.consumer.emails[0].address == "a@example.com"  # left out: kept
    assert event.debt.medical is True
    assert ledger.tables.accounts["A1"].consumer["locale"] == "es_US"
    assert ledger.tables.changes[0].recorded_by == "ops-jane"
    timeline = await TimelineService(ledger).timeline("A1")
    change = next(e for e in timeline.entries if e.kind == "change")
    assert change.by == "ops-jane"
    assert "phones, locale, medical" in change.summary


async def test_a_change_that_alters_nothing_announces_nothing() -> None:
    ledger = MemoryLedger()
    await opened(ledger)
    before = len(ledger.tables.outbox)
    patch = AccountPatch.model_validate({"locale": "en_US", "flags": {"medical": False}})
    done = await ChangeService(ledger, FixedClock(T0)).change("A1", patch, "ops-jane")
    assert (done.changed, done.revision) == ((), 1)
    assert len(ledger.tables.outbox) == before
    assert ledger.tables.changes == []


async def test_bad_changes_name_their_field() -> None:
    ledger = MemoryLedger()
    await opened(ledger)
    service = ChangeService(ledger, FixedClock(T0))
    bad_phone = AccountPatch.model_validate({"phones": [{"number": "not-a-phone"}]})
    with pytest.raises(InvalidRequest) as caught:
        await service.change("A1", bad_phone, "ops")
    assert caught.value.field == "phones.0.number"
    future = AccountPatch.model_validate(
        {"phones": [{**CONSENTED, "consent_at": (T0 + timedelta(days=1)).isoformat()}]}
    )
    with pytest.raises(InvalidRequest) as caught:
        await service.change("A1", future, "ops")
    assert caught.value.field == "phones.0.consent_at"
    with pytest.raises(NotFound):
        await service.change("A9", AccountPatch.model_validate({"locale": "es_US"}), "ops")
    with pytest.raises(ValidationError, match="consent_source and consent_at go together"):
        AccountPatch.model_validate({"phones": [{"number": "2125550001", "consent_source": "x"}]})
    with pytest.raises(ValidationError, match="express_written consent needs"):
        AccountPatch.model_validate(
            {"phones": [{"number": "2125550001", "consent": "express_written"}]}
        )
    with pytest.raises(ValidationError, match="nothing to change"):
        AccountPatch.model_validate({})


@pytest.fixture
async def http(memory: MemoryLedger) -> AsyncIterator[httpx.AsyncClient]:
    await opened(memory)
    async with ledger_client(memory_ledger_app(memory)) as client:
        yield client


async def key(http: httpx.AsyncClient, role: str) -> dict[str, str]:
    created = await http.post("/v1/keys", json={"name": f"{role}-1", "role": role})
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['key']}"}


async def test_operators_change_accounts_and_agents_write_notes(http: httpx.AsyncClient) -> None:
    agent, operator, reader = [await key(http, r) for r in ("agent", "operator", "read_only")]
    patch: dict[str, Any] = {"emails": [{"address": "New@Example.com"}]}
    refused = await http.patch("/v1/accounts/A1", json=patch, headers=agent)
    assert refused.status_code == 403
    changed = await http.patch("/v1/accounts/A1", json=patch, headers=operator)
    assert changed.status_code == 200, changed.text
    assert changed.json()["changed"] == ["emails"]
    assert changed.json()["recorded_by"] == "operator-1"
    note = {"text": "=called back; consumer asks for email only"}
    assert (await http.post("/v1/accounts/A1/notes", json=note, headers=reader)).status_code == 403
    written = await http.post("/v1/accounts/A1/notes", json=note, headers=agent)
    assert written.status_code == 201, written.text
    assert written.json()["recorded_by"] == "agent-1"
    listed = await http.get("/v1/accounts/A1/notes", headers=reader)
    assert [n["text"] for n in listed.json()["notes"]] == [note["text"]]
    timeline = (await http.get("/v1/accounts/A1/timeline", headers=reader)).json()
    assert [e["kind"] for e in timeline["entries"]][-2:] == ["change", "note"]


async def test_bad_requests_say_what_and_where(http: httpx.AsyncClient) -> None:
    wrong_type = await http.patch(
        "/v1/accounts/A1", content=b"locale=es_US", headers={"content-type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    unknown = await http.patch("/v1/accounts/A1", json={"colour": "red"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "colour"
    missing = await http.post("/v1/accounts/A9/notes", json={"text": "x"})
    assert missing.status_code == 404
    empty = await http.post("/v1/accounts/A1/notes", json={"text": ""})
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["field"] == "text"
