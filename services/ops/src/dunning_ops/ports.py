"""What the dashboard needs from the services, as small protocols.

Every call that reaches a service's API carries the signed-in user's own API key (``key``):
the service judges it by that key's role, never by a key of the dashboard's. Answers are the
services' JSON bodies as documented in their OpenAPI documents (docs/openapi); the domain turns
them into view models. ``Upstream`` is a service's refusal (4xx) with its status and body; a
5xx or a network failure propagates as ``httpx.HTTPError`` and the page answers 503.

The probes (``/health``, ``/metrics``) and the dead letters (Kafka) are read with the
dashboard's own credentials (the metrics token, the Kafka client): they are not the ledger's
data, and only an admin's key may replay a dead letter.
"""

from __future__ import annotations

from typing import Any, Protocol

from dunning_core.contracts.access import Principal

from dunning_ops.domain.observed import DeadLetter, DeadQueue, Health, Sample

__all__ = [
    "DeadLetter", "DeadLetters", "DeadQueue", "Gate", "Health", "Keys", "Ledger", "Probes",
    "Sample", "Scheduler", "SessionStore", "Upstream",
]  # fmt: skip


class Upstream(Exception):
    """A service refused the call (4xx): its ``status`` and JSON ``body``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"answered {status}: {body.get('error', '')}")
        self.status = status
        self.body = body

    @property
    def message(self) -> str:
        return str(self.body.get("message") or self.body.get("error") or self.body)


class Ledger(Protocol):
    async def figures(self, key: str, days: int) -> dict[str, Any]: ...

    async def search(self, key: str, filters: dict[str, str]) -> dict[str, Any]: ...

    async def account(self, key: str, account_id: str) -> dict[str, Any]: ...

    async def timeline(self, key: str, account_id: str) -> dict[str, Any]: ...

    async def communications(self, key: str, account_id: str) -> dict[str, Any]: ...

    async def post(self, key: str, account_id: str, what: str, body: dict[str, Any]) -> Any:
        """POST ``/v1/accounts/{account_id}/{what}`` (payments, plans, signals, notes)."""
        ...


class Gate(Protocol):
    async def evaluate(self, key: str, request: dict[str, Any]) -> dict[str, Any]: ...


class Scheduler(Protocol):
    async def stats(self, key: str) -> dict[str, Any]:
        """Cases by status and stage key, steps by status, and the active ladder."""
        ...


class Probes(Protocol):
    async def health(self) -> list[Health]: ...

    async def samples(self) -> list[Sample]:
        """Every ``dunning_*`` sample of every reachable service's ``/metrics``."""
        ...


class DeadLetters(Protocol):
    async def queues(self) -> list[DeadQueue]: ...

    async def letters(self, topic: str, limit: int) -> list[DeadLetter]:
        """The first ``limit`` records retained on ``topic`` (a ``.dlq`` topic)."""
        ...

    async def replay(self, topic: str, partition: int, offset: int) -> str:
        """Publish that record again on the topic it came from; answers that topic."""
        ...


class Keys(Protocol):
    """Who a key stands for (``dunning_core.runtime.auth.Verifier``); raises its ``AuthError``
    (401) for no key, an unknown one or a revoked one."""

    async def verify(self, key: str | None) -> Principal: ...


class SessionStore(Protocol):
    """Where signed-in sessions live, shared by every replica (Redis): opaque values filed
    under a key, each gone at its own instant (``expires_at``, Unix seconds)."""

    async def put(self, key: str, value: bytes, expires_at: float) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...
