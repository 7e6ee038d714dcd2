"""Account state in Redis: one JSON document per account, read and written per batch.

Each partition index has a "built" marker. Markers and states are read in one MULTI, so
if Redis loses its data between batches, the same read that would see an empty state
also sees the marker gone, and the gate rebuilds instead of deciding on nothing.

Redis stays the only truth: every batch reads every state it needs. What is skipped is
parsing a document again when its bytes are exactly the ones this process last wrote
(the object written is kept with them); any other bytes — another replica's write, a
rebuild, a failed batch — are parsed afresh.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis.asyncio import Redis

from dunning_gate.state import AccountState

# Parsed states kept per process; beyond this, the oldest are dropped.
_MAX_PARSED = 200_000


class RedisStateStore:
    def __init__(self, redis: Redis, prefix: str = "gate:", max_parsed: int = _MAX_PARSED) -> None:
        self.redis = redis
        self.prefix = prefix
        self.max_parsed = max_parsed
        # account id -> (the bytes saved, the state they encode). An entry is taken out
        # when loaded (the batch may change the object) and put back only once saved.
        self._parsed: dict[str, tuple[bytes, AccountState]] = {}

    def _key(self, account_id: str) -> str:
        return f"{self.prefix}acct:{account_id}"

    def _marker(self, partition: int) -> str:
        return f"{self.prefix}built:{partition}"

    async def load(
        self, account_ids: Iterable[str], partitions: Iterable[int]
    ) -> tuple[dict[str, AccountState], set[int]]:
        """States of the accounts (empty ones for unknown) and which partitions are built."""
        ids = list(dict.fromkeys(account_ids))
        parts = list(partitions)
        async with self.redis.pipeline(transaction=True) as pipe:
            for p in parts:
                pipe.exists(self._marker(p))
            if ids:
                pipe.mget([self._key(a) for a in ids])
            results = await pipe.execute()
        built = {p for p, hit in zip(parts, results[: len(parts)], strict=True) if hit}
        raws: list[bytes | None] = results[len(parts)] if ids else []
        states: dict[str, AccountState] = {}
        parsed = self._parsed
        for account_id, raw in zip(ids, raws, strict=True):
            known = parsed.pop(account_id, None)
            if not raw:
                states[account_id] = AccountState(account_id=account_id)
            elif known is not None and known[0] == raw:
                states[account_id] = known[1]
            else:
                states[account_id] = AccountState.model_validate_json(raw)
        return states, built

    async def save(self, states: Iterable[AccountState]) -> None:
        documents = {
            state.account_id: (state.model_dump_json().encode(), state) for state in states
        }
        if not documents:
            return
        await self.redis.mset({self._key(a): doc for a, (doc, _) in documents.items()})
        parsed = self._parsed
        parsed.update(documents)
        while len(parsed) > self.max_parsed:
            del parsed[next(iter(parsed))]

    async def mark_built(self, partitions: Iterable[int]) -> None:
        parts = list(partitions)
        if parts:
            await self.redis.mset({self._marker(p): b"1" for p in parts})

    async def built(self, partitions: Iterable[int]) -> set[int]:
        parts = list(partitions)
        if not parts:
            return set()
        hits = await self.redis.mget([self._marker(p) for p in parts])
        return {p for p, hit in zip(parts, hits, strict=True) if hit}
