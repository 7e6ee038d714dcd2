"""Signed-in sessions, held in memory: the cookie names a session, the session holds the key.

A session lives ``ttl_s`` from sign-in; every request verifies its key again, so a key revoked
on the ledger signs its sessions out within about a second (the key directory follows
``auth.keys.v1``). A restart forgets every session (the users sign in again).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dunning_core.contracts.access import Principal
from dunning_core.runtime.auth import AuthError

from dunning_ops.domain import sessions as cookies
from dunning_ops.ports import Keys


@dataclass(frozen=True)
class Session:
    id: str
    key: str = field(repr=False)
    principal: Principal
    csrf: str = field(repr=False)
    expires_at: float


class Sessions:
    def __init__(
        self,
        keys: Keys,
        signing_key: bytes,
        ttl_s: float,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._signing_key = signing_key
        self._ttl_s = ttl_s
        self._now = now
        self._sessions: dict[str, Session] = {}

    async def sign_in(self, key: str) -> tuple[str, Session]:
        """The cookie value and the session of a valid key; raises ``AuthError`` (401)."""
        principal = await self._keys.verify(key.strip())
        self._forget_expired()
        session = Session(
            id=secrets.token_urlsafe(32),
            key=key.strip(),
            principal=principal,
            csrf=secrets.token_urlsafe(24),
            expires_at=self._now() + self._ttl_s,
        )
        self._sessions[session.id] = session
        return cookies.sign(session.id, self._signing_key), session

    async def current(self, cookie: str | None) -> Session | None:
        session_id = cookies.verify(cookie, self._signing_key)
        session = self._sessions.get(session_id) if session_id else None
        if session is None:
            return None
        if session.expires_at <= self._now():
            self._sessions.pop(session.id, None)
            return None
        try:
            principal = await self._keys.verify(session.key)
        except AuthError:  # revoked since: the session ends with it
            self._sessions.pop(session.id, None)
            return None
        if principal != session.principal:
            session = Session(session.id, session.key, principal, session.csrf, session.expires_at)
            self._sessions[session.id] = session
        return session

    def sign_out(self, cookie: str | None) -> None:
        session_id = cookies.verify(cookie, self._signing_key)
        if session_id:
            self._sessions.pop(session_id, None)

    def _forget_expired(self) -> None:
        now = self._now()
        for gone in [s for s, v in self._sessions.items() if v.expires_at <= now]:
            del self._sessions[gone]
