"""``SendSteps`` in Redis: each step around a provider call is one Lua script.

``admit``, ``arm`` and ``settle`` are scripts (sent by their SHA once Redis knows them),
over the keys ``RedisSendRecords`` and the in-flight ``RedisRetryQueue`` keep. The calls
the concurrent sends ask for in the same turn of the event loop go as one pipeline: one
write and one round trip for all of them (``_Batches``). ``admit`` and ``arm`` first
check the journal's mark: a Redis that lost it (flushed,
replaced) answers "lost", the journal is restored into it (``restore``) and the script
runs again, so nothing is decided from a store that forgot a reservation or an opt-out.

Redis only: the journal learns that a step is in flight from its intent (``SendJournal``),
written before ``arm``. The entry ``admit`` makes is not journalled: until the intent is,
nothing has been sent, and a Redis that loses the entry loses the reservation with it, so
the approval (whose batch is not committed yet) is sent as new.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from dunning_core.runtime.errors import TransientError
from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError
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

# KEYS: mark, owners of the destination, in-flight due, in-flight items, then n suppression
# keys and the n calls-on-the-wire keys of the same names.
# ARGV: check the mark (1/0), step id, item, reconcile at, account id, n, call until
_ARM = """
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then return 'lost' end
redis.call('SADD', KEYS[2], ARGV[5])
local n = tonumber(ARGV[6])
for i = 5, 4 + n do
  if redis.call('EXISTS', KEYS[i]) == 1 then return 'suppressed' end
end
redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
local gone = math.floor(tonumber(ARGV[7]) * 1000) + 1000
for i = 5 + n, 4 + 2 * n do
  redis.call('ZADD', KEYS[i], ARGV[7], ARGV[2])
  redis.call('PEXPIREAT', KEYS[i], gone)
end
return 'armed'
"""

# KEYS: step, in-flight due, in-flight items, calls-on-the-wire keys...
# ARGV: step id, record it (1/0), as, keep seconds
_SETTLE = """
if ARGV[2] == '1' then redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4]) end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
for i = 4, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 1
"""

_TRIES = 3  # a mark lost again right after its restore: something is wrong, say so


def _text(raw: object) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


Call = tuple[AsyncScript, list[str], list[EncodableT], "asyncio.Future[Any]"]


class _Batches:
    """Script calls asked for in the same turn of the event loop, sent as one pipeline; each
    caller gets its own answer (or error). A script Redis does not know (restarted) is
    loaded and its calls made again."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._waiting: list[Call] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def call(self, script: AsyncScript, keys: list[str], args: list[EncodableT]) -> Any:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Any] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._send)  # once every task of this turn has asked
        self._waiting.append((script, keys, args, answer))
        return await answer

    def _send(self) -> None:
        batch, self._waiting = self._waiting, []
        task = asyncio.create_task(self._execute(batch))
        self._sending.add(task)  # held until done
        task.add_done_callback(self._sending.discard)

    async def _execute(self, batch: list[Call]) -> None:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for script, keys, args, _ in batch:
                    pipe.evalsha(script.sha, len(keys), *keys, *args)
                results = await pipe.execute(raise_on_error=False)
        except BaseException as exc:  # the connection failed: every caller hears it
            for *_, answer in batch:
                if not answer.done():
                    answer.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (script, keys, args, answer), result in zip(batch, results, strict=True):
            if isinstance(result, NoScriptError):
                try:
                    result = await script(keys=keys, args=args)  # loads it, then calls
                except Exception as exc:
                    result = exc
            if answer.done():
                continue  # its caller went away
            if isinstance(result, Exception):
                answer.set_exception(result)
            else:
                answer.set_result(result)


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
        self._settle = self.redis.register_script(_SETTLE)
        self._batches = _Batches(self.redis)

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
        call = self._batches.call
        answer = await self._run(lambda check: call(self._admit, names, [check, *args]))
        assert isinstance(answer, list)
        kind = _text(answer[0])
        if kind == "suppressed":
            return Admission(suppressed=True)
        if kind == "taken":
            return Admission(taken=_text(answer[1]))
        return Admission()

    async def arm(
        self, item: Parked, keys: Sequence[str], reconcile_at: float, call_until: float
    ) -> bool:
        approval = item.approval
        names = self._keys(f"{self.records.ns}owner:{approval.step.destination.lower()}", keys)
        names += self.records.call_keys(keys)
        args: list[EncodableT] = [
            item.step_id, dump(item), repr(reconcile_at), approval.account_id, len(keys),
            repr(call_until),
        ]  # fmt: skip
        call = self._batches.call
        answer = await self._run(lambda check: call(self._arm, names, [check, *args]))
        return _text(answer) == "suppressed"

    async def settle(self, step_id: str, keys: Sequence[str], record_as: str | None = None) -> None:
        step_key = f"{self.records.ns}step:{step_id}"
        names = [step_key, self.inflight.due_key, self.inflight.items_key]
        names += self.records.call_keys(keys)
        recorded = "0" if record_as is None else "1"
        args: list[EncodableT] = [step_id, recorded, record_as or "", KEEP_S]
        await self._batches.call(self._settle, names, args)
