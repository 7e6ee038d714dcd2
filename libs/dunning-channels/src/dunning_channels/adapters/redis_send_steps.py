"""``SendSteps`` in Redis: each step around a provider call is one round trip.

``admit`` and ``arm`` are Lua scripts (sent by their SHA once Redis knows them), over the
keys ``RedisSendRecords`` and the in-flight ``RedisRetryQueue`` keep; ``settle`` is one
MULTI. Each script first checks the journal's mark: a Redis that lost it (flushed,
replaced) answers "lost", the journal is restored into it (``restore``) and the script
runs again, so nothing is decided from a store that forgot a reservation or an opt-out.

Redis only: the journal learns that a step is in flight from its intent (``SendJournal``),
written before ``arm``. The entry ``admit`` makes is not journalled: until the intent is,
nothing has been sent, and a Redis that loses the entry loses the reservation with it, so
the approval (whose batch is not committed yet) is sent as new.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from dunning_core.runtime.errors import TransientError
from redis.asyncio import Redis
from redis.typing import EncodableT

from dunning_channels.adapters.redis_records import KEEP_S, RedisSendRecords
from dunning_channels.adapters.redis_retries import RedisRetryQueue, dump
from dunning_channels.domain import PENDING
from dunning_channels.ports import Admission, Parked

# KEYS: mark, step, in-flight due, in-flight items, suppression keys...
# ARGV: check the mark (1/0), step id, item, reconcile at, keep seconds, pending
_ADMIT = """
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then return {'lost'} end
for i = 5, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return {'suppressed'} end
end
if redis.call('SET', KEYS[2], ARGV[6], 'NX', 'EX', ARGV[5]) then
  redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
  return {'admitted'}
end
return {'taken', redis.call('GET', KEYS[2])}
"""

# KEYS: mark, owners of the destination, in-flight due, in-flight items, suppression keys...
# ARGV: check the mark (1/0), step id, item, reconcile at, account id
_ARM = """
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then return 'lost' end
redis.call('SADD', KEYS[2], ARGV[5])
for i = 5, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return 'suppressed' end
end
redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
return 'armed'
"""

_TRIES = 3  # a mark lost again right after its restore: something is wrong, say so


def _text(raw: object) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


class RedisSendSteps:
    def __init__(
        self,
        records: RedisSendRecords,
        inflight: RedisRetryQueue,
        *,
        mark_key: str | None = None,
        restore: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self.records, self.inflight = records, inflight
        self.redis: Redis = records.redis
        self.mark_key, self.restore = mark_key, restore
        self._admit = self.redis.register_script(_ADMIT)
        self._arm = self.redis.register_script(_ARM)

    def _keys(self, own: str, suppressions: Sequence[str]) -> list[str]:
        """The scripts' KEYS: the mark, the script's own key, the in-flight set, and the
        suppressions."""
        mark, inflight = self.mark_key or "", self.inflight
        named = [f"{self.records.ns}suppressed:{key.lower()}" for key in suppressions]
        return [mark, own, inflight.due_key, inflight.items_key, *named]

    async def _run(self, run: Callable[[str], Awaitable[object]]) -> object:
        """``run(check_mark)``, restoring the journal into Redis while it answers lost."""
        check = "1" if self.mark_key is not None else "0"
        for _ in range(_TRIES):
            answer = await run(check)
            first = answer[0] if isinstance(answer, list) else answer
            if _text(first) != "lost":
                return answer
            if self.restore is not None:
                await self.restore()
        raise TransientError("Redis lost the journal's mark again after its restore")

    async def admit(self, item: Parked, keys: Sequence[str], reconcile_at: float) -> Admission:
        step_id = item.step_id
        names = self._keys(f"{self.records.ns}step:{step_id}", keys)
        args: list[EncodableT] = [step_id, dump(item), repr(reconcile_at), KEEP_S, PENDING]
        answer = await self._run(lambda check: self._admit(keys=names, args=[check, *args]))
        assert isinstance(answer, list)
        kind = _text(answer[0])
        if kind == "suppressed":
            return Admission(suppressed=True)
        if kind == "taken":
            return Admission(taken=_text(answer[1]))
        return Admission()

    async def arm(self, item: Parked, keys: Sequence[str], reconcile_at: float) -> bool:
        approval = item.approval
        names = self._keys(f"{self.records.ns}owner:{approval.step.destination.lower()}", keys)
        args: list[EncodableT] = [item.step_id, dump(item), repr(reconcile_at), approval.account_id]
        answer = await self._run(lambda check: self._arm(keys=names, args=[check, *args]))
        return _text(answer) == "suppressed"

    async def settle(self, step_id: str, record_as: str | None = None) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            if record_as is not None:
                pipe.set(f"{self.records.ns}step:{step_id}", record_as, ex=KEEP_S)
            pipe.zrem(self.inflight.due_key, step_id)
            pipe.hdel(self.inflight.items_key, step_id)
            await pipe.execute()
