"""Account state in Redis: one JSON document per account, read and written per batch.

Each partition index has a watermark, ``{prefix}applied:{p}``: the next offset of every
input topic of that index that the saved states cover (see ``dunning_gate.domain.watermark``).
A watermark that is present means the partition is built.

* ``load`` reads the watermarks and the states in one MULTI. If Redis has lost its data
  between batches, the same read that would see an empty state also sees the watermark
  gone, and the gate rebuilds instead of deciding on nothing. If Redis came back from an
  older copy, the watermark it returns is below the offsets the group has committed.
* ``save`` writes the batch's states and the new watermarks of the partitions it covers
  in one atomic Lua call, and only if those watermarks still hold what ``load`` read.
  Otherwise Redis changed underneath the batch (restored, failed over, or written by a
  replica that has not yet seen a rebalance): nothing is written, and
  ``WatermarkMoved`` tells what the watermarks hold now. Without that check, a restore
  that happened while a batch was being decided would be covered by a fresh watermark.
* ``forget`` deletes watermarks when a rebuild starts, so that a gate stopped half-way
  through a rebuild starts it again.

One MGET per kind of key inside that MULTI, and one script call per batch: redis-py
spends ~10 µs of Python per command, which per-key GETs and SETs paid per account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from redis.asyncio import Redis

from dunning_gate.domain.state import AccountState
from dunning_gate.ports import WatermarkMoved

# KEYS[1..n] are the watermarks to check, ARGV[1] is n and ARGV[2..n+1] what each held
# when the batch loaded ('' for none); the other KEYS are written with the other ARGV.
# Returns nothing, or (index, what that watermark holds now) for each one that moved.
# MSET goes in chunks: Lua's unpack() is limited to a few thousand values.
SAVE_IF_UNMOVED = """
local checks = tonumber(ARGV[1])
local moved = {}
for i = 1, checks do
  local held = redis.call('GET', KEYS[i])
  if (held or '') ~= ARGV[i + 1] then
    moved[#moved + 1] = i - 1
    moved[#moved + 1] = held
  end
end
if #moved > 0 then
  return moved
end
local chunk, n = {}, 0
for i = checks + 1, #KEYS do
  chunk[n + 1] = KEYS[i]
  chunk[n + 2] = ARGV[i + 1]
  n = n + 2
  if n >= 1000 then
    redis.call('MSET', unpack(chunk, 1, n))
    n = 0
  end
end
if n > 0 then
  redis.call('MSET', unpack(chunk, 1, n))
end
return moved
"""


class RedisStateStore:
    """The ``StateStore`` in Redis."""

    def __init__(self, redis: Redis, prefix: str = "gate:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._save_if_unmoved = redis.register_script(SAVE_IF_UNMOVED)

    def _key(self, account_id: str) -> str:
        return f"{self.prefix}acct:{account_id}"

    def _watermark(self, partition: int) -> str:
        return f"{self.prefix}applied:{partition}"

    async def load(
        self, account_ids: Iterable[str], partitions: Iterable[int]
    ) -> tuple[dict[str, AccountState], dict[int, bytes | None]]:
        """States of the accounts (empty ones for unknown), and each partition's
        watermark as stored (``None`` where there is none)."""
        ids = list(dict.fromkeys(account_ids))
        parts = list(partitions)
        async with self.redis.pipeline(transaction=True) as pipe:
            if parts:
                pipe.mget([self._watermark(p) for p in parts])
            if ids:
                pipe.mget([self._key(a) for a in ids])
            results = await pipe.execute()
        marks: list[bytes | None] = results[0] if parts else []
        raws: list[bytes | None] = results[-1] if ids else []
        states = {
            account_id: AccountState.model_validate_json(raw)
            if raw
            else AccountState(account_id=account_id)
            for account_id, raw in zip(ids, raws, strict=True)
        }
        return states, dict(zip(parts, marks, strict=True))

    async def save(
        self,
        states: Iterable[AccountState],
        watermarks: Mapping[int, str],
        loaded: Mapping[int, bytes | None],
    ) -> None:
        """Write the states and the partitions' new watermarks, all or nothing, if each of
        those watermarks still holds what was ``loaded``; else raise ``WatermarkMoved``."""
        documents = [(self._key(s.account_id), s.model_dump_json()) for s in states]
        if not documents and not watermarks:
            return
        parts = list(watermarks)
        checked = [self._watermark(p) for p in parts]
        keys = [*checked, *(key for key, _ in documents), *checked]
        args: list[str | bytes | int] = [len(parts), *(loaded.get(p) or b"" for p in parts)]
        args.extend(document for _, document in documents)
        args.extend(watermarks.values())
        moved = await self._save_if_unmoved(keys=keys, args=args)
        if moved:
            raise WatermarkMoved(
                {parts[int(i)]: now for i, now in zip(moved[::2], moved[1::2], strict=True)}
            )

    async def forget(self, partitions: Iterable[int]) -> None:
        """Delete the partitions' watermarks: they are no longer built."""
        keys = [self._watermark(p) for p in partitions]
        if keys:
            await self.redis.delete(*keys)
