"""The drain after the last fault: the pipeline settles before the checker judges it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.chaos.fleet import Fleet
from tests.chaos.pipeline import group_lags, group_positions

QUIET_LAG = 20  # records left unconsumed over all groups that end the drain


@dataclass
class Drain:
    """``grace_seconds``: how long the groups stay quiet before the run ends (the checker
    judges what happened up to that long before the end)."""

    fleet: Fleet
    prefix: str
    grace_seconds: float
    workers_at_end: dict[str, Any] = field(default_factory=dict)

    async def caught_up(self, deadline: float) -> bool:
        """Whether every consumer group consumed what was on its topics when this began,
        before ``deadline``. (The clock runs on and plans new steps meanwhile: the lag of a
        healthy pipeline is rarely 0, but its backlog is consumed.)"""
        first = None
        while first is None and time.time() < deadline:
            first = await group_positions(self.prefix)
            await asyncio.sleep(0 if first else 2)
        if first is None:
            return False
        _, target = first
        while time.time() < deadline:
            now = await group_positions(self.prefix)
            if now is not None and all(
                offsets.get(tp, 0) >= target[tp] for offsets in now[0].values() for tp in offsets
            ):
                return True
            await asyncio.sleep(2)
        return False

    async def retries_done(self, http: httpx.AsyncClient, deadline: float) -> bool:
        """Whether no channel worker holds a parked retry or a step in flight any more."""
        workers = [r for name in ("sms", "email") for r in self.fleet.replicas.get(name, [])]
        while time.time() < deadline:
            waiting = 0
            for replica in workers:
                try:
                    held = (await http.get(f"{replica.url}/health", timeout=5)).json()["delivery"]
                    waiting += int(held["retries_waiting"]) + int(held["in_flight_waiting"])
                except (httpx.HTTPError, ValueError, TypeError, AttributeError, KeyError):
                    waiting += 1  # not answering: not known to be done
            if waiting == 0:
                return True
            await asyncio.sleep(2)
        return False

    async def worker_stats(self, http: httpx.AsyncClient) -> dict[str, Any]:
        """What each channel worker says of its sends at the end (for the report)."""
        found: dict[str, Any] = {}
        for replica in [r for name in ("sms", "email") for r in self.fleet.replicas.get(name, [])]:
            try:
                body = (await http.get(f"{replica.url}/health", timeout=5)).json()
                found[replica.name] = {k: body.get(k) for k in ("delivery", "provider")}
            except (httpx.HTTPError, ValueError):
                found[replica.name] = "no answer"
        return found

    async def quiet_for(self, seconds: float, deadline: float) -> bool:
        """Whether the groups held no more than a trickle for ``seconds`` on end, before
        ``deadline``. The run ends then: the checker judges what happened up to
        ``--grace-seconds`` before the end, so each of those events had that long, on a
        pipeline with no backlog, to be reacted to. (The tenth full run ended as a new day's
        burst of approvals expired: 3,365 steps lost as "expired, never re-planned"; the
        examples read back expired less than a second before the checker's cut.)"""
        since: float | None = None
        while time.time() < deadline:
            lags = await group_lags(self.prefix)
            if lags is not None and sum(lags.values()) <= QUIET_LAG:
                since = since or time.time()
                if time.time() - since >= seconds:
                    return True
            else:
                since = None
            await asyncio.sleep(1)
        return False

    async def run(self, http: httpx.AsyncClient, settle_seconds: float) -> float | None:
        """After the faults, before the check: every replica healthy, every group's lag 0,
        no retry parked, the sandbox's callbacks delivered, the lag 0 again. Seconds it
        took; None if not within ``settle_seconds`` (the check then sees a backlog)."""
        started = time.time()
        deadline = started + settle_seconds
        replicas = self.fleet.all()
        if await asyncio.to_thread(self.fleet.wait_healthy, replicas, deadline - started) is None:
            # Every step after this one is then out of time: say which replica held it up.
            sick = [r.name for r in replicas if not await asyncio.to_thread(r.healthy)]
            print(f"  drain: not healthy within {settle_seconds:.0f} s: {sick}", flush=True)
        steps = [await self.caught_up(deadline)]
        at = [time.time()]  # when each step ended: where a drain that ran out spent its time
        steps.append(await self.retries_done(http, deadline))
        at.append(time.time())
        left = max(1.0, min(120.0, deadline - time.time()))
        sandbox = f"{self.fleet.url('sandbox')}/_sandbox/drain"
        try:
            response = await http.post(sandbox, params={"timeout_s": round(left, 1)})
            steps.append(bool(response.json().get("drained")))
        except (httpx.HTTPError, ValueError):
            steps.append(False)
        at.append(time.time())
        steps.append(await self.caught_up(deadline))
        # The clock runs on: a burst (a new morning's steps) may be under way. Catch up
        # again while the groups hold more than a trickle, as long as there is time.
        while steps[-1] and time.time() < deadline:
            lags = await group_lags(self.prefix)
            if lags is not None and sum(lags.values()) <= QUIET_LAG:
                break
            steps[-1] = await self.caught_up(deadline)
        at.append(time.time())
        steps.append(steps[-1] and await self.quiet_for(self.grace_seconds, deadline))
        at.append(time.time())
        took = [round(t - started) for t in at]
        print(
            f"  drain: caught up, retries, callbacks, caught up again, quiet: {steps}"
            f" (ended at s {took})",
            flush=True,
        )
        self.workers_at_end = await self.worker_stats(http)
        return round(time.time() - started, 1) if all(steps) else None
