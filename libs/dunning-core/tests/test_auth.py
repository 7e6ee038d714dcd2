"""API keys without the stack: the role table, the verifier over an in-memory directory,
and the FastAPI dependency's 401/403 bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from dunning_core.contracts.access import (
    PERMISSIONS,
    READS,
    KeyRecord,
    Permission,
    Role,
    format_key,
    key_hash,
    key_id_of,
    roles_with,
)
from dunning_core.runtime.auth import AuthError, KeyDirectory, Verifier, install_auth, require
from fastapi import Depends, FastAPI
from pydantic import SecretStr

PEPPER = "pepper-for-the-unit-tests-0001"
BOOTSTRAP = "bootstrap-admin-key-for-tests"
T0 = datetime(2026, 12, 6, tzinfo=UTC)


def record(key: str, role: Role, *, revoked: bool = False, name: str = "ops-jane") -> KeyRecord:
    key_id = key_id_of(key)
    assert key_id is not None
    return KeyRecord(
        key_id=key_id,
        principal=name,
        role=role,
        key_hash=key_hash(PEPPER.encode(), key),
        revoked=revoked,
        created_at=T0,
    )


AGENT_KEY = format_key("a1b2c3d4e5f6", "s" * 43)
READER_KEY = format_key("0123456789ab", "r" * 43)


@pytest.fixture
def directory() -> KeyDirectory:
    keys = KeyDirectory()
    keys.apply(record(AGENT_KEY, Role.AGENT))
    keys.apply(record(READER_KEY, Role.READ_ONLY, name="auditor"))
    return keys


@pytest.fixture
def verifier(directory: KeyDirectory) -> Verifier:
    return Verifier(directory, SecretStr(PEPPER), SecretStr(BOOTSTRAP))


# --- the role table -------------------------------------------------------------------


def test_every_role_reads_and_only_admin_manages_keys() -> None:
    assert all(Permission.READ in granted for granted in PERMISSIONS.values())
    # the words exchanged with consumers: people's roles, not the machines'
    assert roles_with(Permission.READ_COMMUNICATIONS) == [
        Role.ADMIN, Role.OPERATOR, Role.AGENT, Role.READ_ONLY,
    ]  # fmt: skip
    assert roles_with(Permission.MANAGE_KEYS) == [Role.ADMIN]
    assert PERMISSIONS[Role.ADMIN] == frozenset(Permission)


def test_what_each_role_may_write() -> None:
    writes = {role: sorted(p.value for p in PERMISSIONS[role] - READS) for role in Role}
    assert writes[Role.READ_ONLY] == []
    assert writes[Role.AGENT] == [
        "notes.record", "promises.record", "signals.record", "tasks.work",
    ]  # fmt: skip
    assert writes[Role.PAYMENT_SYSTEM] == ["payments.record"]
    assert set(writes[Role.OPERATOR]) == {
        "accounts.change", "accounts.import", "notes.record", "payments.record",
        "plans.agree", "promises.record", "signals.record", "tasks.work",
    }  # fmt: skip
    assert Permission.MANAGE_KEYS not in PERMISSIONS[Role.OPERATOR]
    assert set(writes[Role.PORTAL]) == {  # the consumer's page works no agent tasks
        "notes.record", "payments.record", "plans.agree", "promises.record", "signals.record",
    }  # fmt: skip


def test_a_key_names_its_id_and_nothing_else_parses() -> None:
    assert key_id_of(AGENT_KEY) == "a1b2c3d4e5f6"
    for bad in ("", "dun_a1b2c3d4e5f6", "dun_XYZ_" + "s" * 43, "sk_a1b2c3d4e5f6_" + "s" * 43):
        assert key_id_of(bad) is None


# --- the verifier ---------------------------------------------------------------------


async def test_a_known_key_is_its_principal(verifier: Verifier) -> None:
    who = await verifier.verify(AGENT_KEY)
    assert (who.key_id, who.name, who.role) == ("a1b2c3d4e5f6", "ops-jane", Role.AGENT)


async def test_the_bootstrap_key_is_an_admin(verifier: Verifier) -> None:
    who = await verifier.verify(BOOTSTRAP)
    assert (who.key_id, who.role) == ("bootstrap", Role.ADMIN)


@pytest.mark.parametrize(
    "key",
    [
        None,
        "",
        "nonsense",
        format_key("a1b2c3d4e5f6", "t" * 43),  # a known id, another secret
        format_key("ffffffffffff", "s" * 43),  # an id nobody has
    ],
)
async def test_a_missing_wrong_or_unknown_key_is_401(verifier: Verifier, key: str | None) -> None:
    with pytest.raises(AuthError) as refused:
        await verifier.verify(key)
    assert refused.value.status_code == 401


async def test_a_revoked_key_is_401(directory: KeyDirectory, verifier: Verifier) -> None:
    directory.apply(record(AGENT_KEY, Role.AGENT, revoked=True))
    with pytest.raises(AuthError, match="revoked") as refused:
        await verifier.verify(AGENT_KEY)
    assert refused.value.status_code == 401


async def test_without_a_pepper_only_the_bootstrap_key_passes(directory: KeyDirectory) -> None:
    verifier = Verifier(directory, None, SecretStr(BOOTSTRAP))
    assert (await verifier.verify(BOOTSTRAP)).role is Role.ADMIN
    with pytest.raises(AuthError):
        await verifier.verify(AGENT_KEY)


# --- the dependency -------------------------------------------------------------------


@pytest.fixture
async def http(verifier: Verifier) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_auth(app, verifier)

    @app.get("/read", dependencies=[Depends(require(Permission.READ))])
    async def read() -> dict[str, str]:
        return {"ok": "read"}

    @app.post("/pay")
    async def pay(who: object = Depends(require(Permission.RECORD_PAYMENTS))) -> dict[str, str]:
        return {"ok": "paid"}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_no_key_is_401_with_a_body_saying_so(http: httpx.AsyncClient) -> None:
    response = await http.get("/read")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"] == "unauthorized"
    assert "Authorization: Bearer" in response.json()["message"]


async def test_the_wrong_role_is_403_naming_the_roles_needed(http: httpx.AsyncClient) -> None:
    assert (await http.get("/read", headers=bearer(READER_KEY))).status_code == 200
    response = await http.post("/pay", headers=bearer(AGENT_KEY))
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "forbidden"
    assert body["role"] == "agent"
    assert body["permission"] == "payments.record"
    assert body["roles_allowed"] == ["admin", "operator", "payment_system", "portal"]


async def test_logs_carry_the_key_id_never_the_key(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    await http.post("/pay", headers=bearer(AGENT_KEY))
    await http.post("/pay", headers=bearer(format_key("a1b2c3d4e5f6", "x" * 43)))
    await http.post("/pay", headers=bearer(BOOTSTRAP))
    ours = [r for r in caplog.records if r.name == "dunning_core.runtime.auth"]
    assert [getattr(r, "key_id", None) for r in ours] == [
        "a1b2c3d4e5f6", "a1b2c3d4e5f6", "bootstrap",
    ]  # fmt: skip
    text = " ".join(f"{r.getMessage()} {r.__dict__}" for r in ours)
    for secret in ("s" * 43, "x" * 43, BOOTSTRAP):
        assert secret not in text
