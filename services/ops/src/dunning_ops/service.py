"""The dashboard's use cases: each reads the services with the signed-in user's key and
returns a view model built by the domain (pages and JSON endpoints render the same one).

A write is checked against the user's role here first (``Refused``, 403, before any service
is called); the ledger, sent the user's own key, checks it again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from dunning_core.runtime.clock import Clock

from dunning_ops.domain.account import AccountView, Verdict, account_view, verdict
from dunning_ops.domain.actions import Action, allowed, may, may_replay
from dunning_ops.domain.forms import request_for
from dunning_ops.domain.pipeline import PipelineView, pipeline_view
from dunning_ops.domain.policies import PolicyView, policy_view
from dunning_ops.domain.portfolio import PortfolioView, portfolio_view
from dunning_ops.domain.whatif import evaluation
from dunning_ops.ports import (
    DeadLetter,
    DeadLetters,
    Gate,
    Ledger,
    Probes,
    Scheduler,
    Upstream,
)
from dunning_ops.sessions import Session

SEARCH_FIELDS = ("account_id", "name", "phone", "email", "state", "status", "stage")
CHANNELS = ("sms", "email")
VERBS = {
    Action.PAYMENT: "record a payment", Action.PLAN: "agree a plan",
    Action.DISPUTE: "record a dispute", Action.NOTE: "add a note",
    Action.PAUSE: "pause outreach", Action.RESUME: "resume outreach",
}  # fmt: skip


class Refused(Exception):
    """The user's role may not do this (403)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Upstreams:
    ledger: Ledger
    gate: Gate
    scheduler: Scheduler
    probes: Probes
    dead_letters: DeadLetters


class Ops:
    def __init__(self, upstreams: Upstreams, clock: Clock, collected_days: int = 30) -> None:
        self.up = upstreams
        self.clock = clock
        self.collected_days = collected_days

    async def portfolio(self, session: Session) -> PortfolioView:
        figures = await self.up.ledger.figures(session.key, self.collected_days)
        return portfolio_view(figures)

    async def search(self, session: Session, query: dict[str, str]) -> dict[str, Any]:
        filters = {k: v.strip() for k, v in query.items() if k in SEARCH_FIELDS and v.strip()}
        if query.get("cursor"):
            filters["cursor"] = query["cursor"]
        return await self.up.ledger.search(session.key, filters)

    async def account(self, session: Session, account_id: str) -> AccountView:
        account = await self.up.ledger.account(session.key, account_id)
        timeline = await self.up.ledger.timeline(session.key, account_id)
        actions = allowed(session.principal.role)
        ids = {a.value: f"ops-{a.value}-{uuid.uuid4().hex[:20]}" for a in actions}
        return account_view(account, timeline, actions, ids)

    async def act(
        self, session: Session, account_id: str, action: Action, form: dict[str, str]
    ) -> Any:
        """Carry out ``action`` with the user's key; raises ``Refused`` for a role without it,
        ``FormError`` for a bad field, ``Upstream`` for the ledger's refusal."""
        role = session.principal.role
        if not may(role, action):
            raise Refused(f"role {role.value!r} may not {VERBS[action]}")
        request = request_for(action, form)
        return await self.up.ledger.post(session.key, account_id, request.path, request.body)

    async def what_if(self, session: Session, account_id: str, channel: str) -> Verdict:
        if channel not in CHANNELS:
            raise Refused(f"channel must be one of {', '.join(CHANNELS)}")
        account = await self.up.ledger.account(session.key, account_id)
        steps = (await self.up.ledger.communications(session.key, account_id)).get("steps", [])
        request = evaluation(account, steps, channel, self.clock.now())
        if request is None:
            return verdict(channel, None)
        return verdict(channel, await self.up.gate.evaluate(session.key, request))

    async def pipeline(self, session: Session) -> PipelineView:
        """Read with the dashboard's own credentials (the metrics token, Kafka): any signed-in
        user may look."""
        samples = await self.up.probes.samples()
        health = await self.up.probes.health()
        queues = await self.up.dead_letters.queues()
        return pipeline_view(samples, health, queues)

    async def dead_letters(
        self, session: Session, topic: str, limit: int = 100
    ) -> list[DeadLetter]:
        try:
            return await self.up.dead_letters.letters(topic, limit)
        except KeyError as exc:
            raise Refused(str(exc.args[0])) from None

    async def replay(self, session: Session, topic: str, partition: int, offset: int) -> str:
        role = session.principal.role
        if not may_replay(role):
            raise Refused(f"role {role.value!r} may not replay a dead letter; an admin may")
        try:
            return await self.up.dead_letters.replay(topic, partition, offset)
        except KeyError as exc:
            raise Refused(str(exc.args[0])) from None
        except LookupError as exc:  # no such offset (or no longer retained)
            raise Upstream(404, {"error": "not_found", "message": str(exc)}) from None

    async def policies(self, session: Session) -> PolicyView:
        stats = await self.up.scheduler.stats(session.key)
        figures = await self.up.ledger.figures(session.key, 1)
        return policy_view(stats, figures)
