"""The consumer loop the recovery tests put under a fault: on the signals topic of the
test's prefix, backing off briefly so a restored dependency is seen within the test, run
as a task and stopped however the test ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dunning_core.contracts import wrap
from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.topics import SIGNALS
from dunning_core.runtime.dedupe import DedupeStore
from dunning_core.runtime.kafka import Backoff, ConsumerLoop, EventProducer, Handler
from dunning_testkit.gate import NewYorkSms
from dunning_testkit.stack import KAFKA


def signals_loop(
    topics: str,
    group: str,
    handler: Handler,
    producer: EventProducer,
    dedupe: DedupeStore | None = None,
    outage_reminder_s: float = 30.0,
) -> ConsumerLoop:
    return ConsumerLoop(
        bootstrap=KAFKA,
        group_id=f"{topics}{group}",
        topics=[SIGNALS],
        handler=handler,
        producer=producer,
        dedupe=dedupe,
        topic_prefix=topics,
        backoff=Backoff(initial=0.05, maximum=0.5),
        outage_reminder_s=outage_reminder_s,
    )


def opt_outs(stream: NewYorkSms, numbers: range) -> list[Envelope]:
    """A STOP from each of the stream's accounts ``numbers``, as the SMS worker sends it."""
    return [wrap(stream.opt_out(n), "sms") for n in numbers]


@asynccontextmanager
async def running(loop: ConsumerLoop) -> AsyncIterator[asyncio.Task[None]]:
    """The loop started, its run as a task for the block; asked to stop and awaited after."""
    await loop.start()
    task = asyncio.create_task(loop.run())
    try:
        yield task
    finally:
        loop.request_stop()
        await asyncio.wait_for(task, 30)
