"""API keys on every route: the verifier, the FastAPI dependency, and the key directory.

A route declares what it needs with ``Depends(require(Permission.X))``; the dependency
reads ``Authorization: Bearer <key>``, asks the app's ``Verifier`` who that is, and
answers 401 (no key, unknown or revoked key) or 403 (a role without the permission) with
a JSON body saying what, and which roles would do. Logs carry the key id, never the key.

Where keys come from: the ledger owns them (its table) and verifies against it; every
other service keeps a ``KeyDirectory`` in memory, filled and kept current by a
``KeyFollower`` reading the compacted topic ``auth.keys.v1`` from its start, so a revoke
reaches every service within about a second. The bootstrap admin key comes from the
environment (``DUNNING_BOOTSTRAP_ADMIN_KEY``) and is accepted everywhere.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr, ValidationError

from dunning_core.contracts.access import (
    BOOTSTRAP_KEY_ID,
    BOOTSTRAP_PRINCIPAL,
    READS,
    KeyRecord,
    Permission,
    Principal,
    Role,
    key_hash,
    key_id_of,
    roles_with,
    same_secret,
)
from dunning_core.contracts.topics import AUTH_KEYS
from dunning_core.runtime.service import Component, ServiceRuntime
from dunning_core.runtime.settings import ApiKeySettings

log = logging.getLogger(__name__)


class AuthError(Exception):
    """A refused request: 401 (who are you?) or 403 (not with that role)."""

    def __init__(self, status_code: int, error: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "message": self.message, **self.extra}


def unauthorized(message: str) -> AuthError:
    return AuthError(401, "unauthorized", message)


class KeyStore(Protocol):
    """Where a verifier looks a key id up: the ledger's table, or a directory in memory."""

    async def key(self, key_id: str) -> KeyRecord | None: ...


class Verifier:
    """Says who a presented key stands for, or raises ``AuthError`` (401)."""

    def __init__(
        self, store: KeyStore, pepper: SecretStr | None, bootstrap_key: SecretStr | None
    ) -> None:
        self.store = store
        self._pepper = pepper.get_secret_value().encode() if pepper else None
        self._bootstrap = bootstrap_key.get_secret_value() if bootstrap_key else None

    async def verify(self, key: str | None) -> Principal:
        if not key:
            raise unauthorized("no API key: send 'Authorization: Bearer <key>'")
        if self._bootstrap is not None and same_secret(key, self._bootstrap):
            return Principal(key_id=BOOTSTRAP_KEY_ID, name=BOOTSTRAP_PRINCIPAL, role=Role.ADMIN)
        key_id = key_id_of(key)
        if key_id is None or self._pepper is None:
            raise unauthorized("unknown API key")
        record = await self.store.key(key_id)
        if record is None or not same_secret(record.key_hash, key_hash(self._pepper, key)):
            raise unauthorized(f"unknown API key (key id {key_id})")
        if record.revoked:
            raise unauthorized(f"API key {key_id} was revoked")
        return Principal(key_id=key_id, name=record.principal, role=record.role)


_bearer = HTTPBearer(auto_error=False, description="An API key: dun_<key id>_<secret>")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def authenticated(request: Request, credentials: Credentials) -> Principal:
    """A FastAPI dependency: the caller's ``Principal`` (401 without a valid key).

    Verified once per request: a router may require it for every route, and a route's
    ``require`` then reuses it."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    verifier: Verifier = request.app.state.verifier
    presented = credentials.credentials if credentials else None
    try:
        principal = await verifier.verify(presented)
    except AuthError:
        log.warning(
            "request refused: no valid API key",
            extra={"key_id": key_id_of(presented or ""), "path": request.url.path},
        )
        raise
    request.state.principal = principal
    return principal


Caller = Annotated[Principal, Depends(authenticated)]


def require(permission: Permission) -> Callable[[Request, Principal], Awaitable[Principal]]:
    """A FastAPI dependency: the caller's ``Principal`` if its role grants ``permission``."""

    async def check(request: Request, principal: Caller) -> Principal:
        if not principal.may(permission):
            allowed = [r.value for r in roles_with(permission)]
            log.warning(
                "request refused: role lacks permission",
                extra={"key_id": principal.key_id, "role": principal.role.value,
                       "permission": permission.value, "path": request.url.path},
            )  # fmt: skip
            raise AuthError(
                403,
                "forbidden",
                f"role {principal.role.value!r} may not {permission.value}; "
                f"it needs one of: {', '.join(allowed)}",
                permission=permission.value,
                role=principal.role.value,
                roles_allowed=allowed,
            )
        if permission not in READS:
            log.info(
                "write authorized",
                extra={"key_id": principal.key_id, "permission": permission.value,
                       "path": request.url.path},
            )  # fmt: skip
        return principal

    return check


def install_auth(app: FastAPI, verifier: Verifier) -> None:
    """Give ``app`` its verifier and the handler that turns ``AuthError`` into its body."""

    async def refused(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AuthError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)

    app.state.verifier = verifier
    app.add_exception_handler(AuthError, refused)


class KeyDirectory:
    """Every key record seen, by key id, in memory (a ``KeyStore``)."""

    def __init__(self) -> None:
        self._records: dict[str, KeyRecord] = {}

    async def key(self, key_id: str) -> KeyRecord | None:
        return self._records.get(key_id)

    def apply(self, record: KeyRecord) -> None:
        self._records[record.key_id] = record

    def forget(self, key_id: str) -> None:
        self._records.pop(key_id, None)

    def __len__(self) -> int:
        return len(self._records)


class KeyFollower:
    """Reads ``auth.keys.v1`` from its start into a ``KeyDirectory`` and follows it.

    No consumer group (every replica reads everything; nothing is committed). ``start``
    waits, up to ``catch_up_s``, until the directory holds what the topic held when it
    began, so a service serves with the keys it will need; ``run`` then follows."""

    def __init__(
        self,
        directory: KeyDirectory,
        bootstrap: str,
        topic_prefix: str = "",
        client_id: str = "keys",
        catch_up_s: float = 10.0,
    ) -> None:
        self.directory = directory
        self.topic = topic_prefix + AUTH_KEYS
        self.bootstrap = bootstrap
        self.client_id = client_id
        self.catch_up_s = catch_up_s
        self.caught_up = False
        self.last_record_at: float | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._stopping = False

    async def start(self) -> None:
        self._stopping = False
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            client_id=self.client_id,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=5_000,  # a topic created after start is seen soon
        )
        await consumer.start()
        consumer.subscribe([self.topic])
        self._consumer = consumer
        try:
            await asyncio.wait_for(self._catch_up(consumer), self.catch_up_s)
        except TimeoutError:
            log.warning("keys not caught up at start; following", extra={"topic": self.topic})

    async def _catch_up(self, consumer: AIOKafkaConsumer) -> None:
        while not await self._at_end(consumer):
            await self._poll(consumer, 200)

    async def _at_end(self, consumer: AIOKafkaConsumer) -> bool:
        assigned = consumer.assignment()
        if not assigned:
            return False
        ends = await consumer.end_offsets(list(assigned))
        positions = {tp: await consumer.position(tp) for tp in assigned}
        self.caught_up = all(positions[tp] >= ends[tp] for tp in assigned)
        return self.caught_up

    async def _poll(self, consumer: AIOKafkaConsumer, timeout_ms: int) -> None:
        batches = await consumer.getmany(timeout_ms=timeout_ms, max_records=1000)
        for records in batches.values():
            for record in records:
                self._apply(record)

    def _apply(self, record: ConsumerRecord[Any, Any]) -> None:
        self.last_record_at = time.time()
        if record.value is None:  # a tombstone: the key is gone
            if record.key:
                self.directory.forget(bytes(record.key).decode())
            return
        try:
            self.directory.apply(KeyRecord.model_validate_json(record.value))
        except ValidationError as exc:
            log.error(
                "unreadable key record skipped",
                extra={"topic": self.topic, "offset": record.offset, "error": str(exc)[:300]},
            )

    async def run(self) -> None:
        assert self._consumer is not None
        while not self._stopping:
            await self._poll(self._consumer, 500)
            if not self.caught_up:
                await self._at_end(self._consumer)

    async def stop(self) -> None:
        self._stopping = True
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def health(self) -> dict[str, Any]:
        return {"ok": True, "keys": len(self.directory), "caught_up": self.caught_up}


def follow_keys(app: FastAPI, runtime: ServiceRuntime, settings: ApiKeySettings) -> KeyDirectory:
    """Wire API keys into a service that does not own them: a ``KeyDirectory`` kept by a
    ``KeyFollower`` (a component of ``runtime``, with its health check) and the verifier
    and error handler on ``app``. Routes still say what they need with ``require``."""
    directory = KeyDirectory()
    follower = KeyFollower(
        directory, settings.kafka_bootstrap, settings.topic_prefix, client_id=runtime.name
    )
    runtime.add(Component("keys", follower.start, follower.stop, follower.run))
    runtime.checks["keys"] = follower.health
    install_auth(app, Verifier(directory, settings.auth_pepper, settings.bootstrap_admin_key))
    return directory
