"""Signed-in sessions, kept in a shared store (Redis): they outlive a restart of the dashboard
and every replica sees the same ones.

The cookie names a session (``domain.sessions``); the store holds, under the SHA-256 of its
id, the principal, the end of its life and the API key the user signed in with, sealed
(AES-GCM) under a key derived from the session id and the dashboard's signing key. So a copy
of the store alone names no session (it holds no session id) and reveals no API key; the
entry expires with the session (the store's TTL) and sign-out deletes it. The CSRF token is
derived from the session id, so nothing else is stored.

A session lives ``ttl_s`` from sign-in; every request verifies its key again, so a key revoked
on the ledger signs its sessions out within about a second (the key directory follows
``auth.keys.v1``). Replicas must share the signing key (``DUNNING_OPS_SESSION_KEY``): under
a random per-process key a restart still signs everyone out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from dunning_core.contracts.access import Principal
from dunning_core.runtime.auth import AuthError

from dunning_ops.domain import sessions as cookies
from dunning_ops.ports import Keys, SessionStore


@dataclass(frozen=True)
class Session:
    id: str
    key: str = field(repr=False)
    principal: Principal
    csrf: str = field(repr=False)
    expires_at: float


def store_key(session_id: str) -> str:
    """What the store files a session under: never the id itself."""
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(eq=False)
class Sessions:
    keys: Keys
    store: SessionStore
    signing_key: bytes = field(repr=False)
    ttl_s: float
    now: Callable[[], float] = time.time

    def _derived(self, purpose: str, session_id: str) -> bytes:
        return hmac.new(self.signing_key, f"{purpose}:{session_id}".encode(), "sha256").digest()

    def _csrf(self, session_id: str) -> str:
        return base64.urlsafe_b64encode(self._derived("csrf", session_id)[:24]).decode()

    def _seal(self, session: Session) -> bytes:
        nonce = secrets.token_bytes(12)
        aead = AESGCM(self._derived("api-key", session.id))
        sealed = nonce + aead.encrypt(nonce, session.key.encode(), store_key(session.id).encode())
        record = {
            "principal": session.principal.model_dump(mode="json"),
            "expires_at": session.expires_at,
            "key": base64.b64encode(sealed).decode(),
        }
        return json.dumps(record, separators=(",", ":")).encode()

    def _open(self, session_id: str, raw: bytes) -> Session | None:
        try:
            record: dict[str, Any] = json.loads(raw)
            sealed = base64.b64decode(record["key"])
            aead = AESGCM(self._derived("api-key", session_id))
            key = aead.decrypt(sealed[:12], sealed[12:], store_key(session_id).encode())
            principal = Principal.model_validate(record["principal"])
            expires_at = float(record["expires_at"])
        except (InvalidTag, KeyError, TypeError, ValueError):
            return None  # unreadable (or sealed under another signing key): no session
        return Session(session_id, key.decode(), principal, self._csrf(session_id), expires_at)

    async def sign_in(self, key: str) -> tuple[str, Session]:
        """The cookie value and the session of a valid key; raises ``AuthError`` (401)."""
        principal = await self.keys.verify(key.strip())
        session_id = secrets.token_urlsafe(32)
        session = Session(
            id=session_id,
            key=key.strip(),
            principal=principal,
            csrf=self._csrf(session_id),
            expires_at=self.now() + self.ttl_s,
        )
        await self.store.put(store_key(session_id), self._seal(session), session.expires_at)
        return cookies.sign(session.id, self.signing_key), session

    async def current(self, cookie: str | None) -> Session | None:
        session_id = cookies.verify(cookie, self.signing_key)
        if not session_id:
            return None
        raw = await self.store.get(store_key(session_id))
        session = self._open(session_id, raw) if raw is not None else None
        if session is None:
            return None
        if session.expires_at <= self.now():
            await self.store.delete(store_key(session_id))
            return None
        try:
            principal = await self.keys.verify(session.key)
        except AuthError:  # revoked since: the session ends with it
            await self.store.delete(store_key(session_id))
            return None
        if principal != session.principal:
            session = Session(session.id, session.key, principal, session.csrf, session.expires_at)
            await self.store.put(store_key(session_id), self._seal(session), session.expires_at)
        return session

    async def sign_out(self, cookie: str | None) -> None:
        session_id = cookies.verify(cookie, self.signing_key)
        if session_id:
            await self.store.delete(store_key(session_id))
