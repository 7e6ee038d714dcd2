"""A signal counts as applied only once the calls it came too late to stop have ended.

A short chaos run inside CI sent a text <1 s after a cease reached
``consumer.signals.v1``: the send had passed the signals barrier and its last check just
before the signal landed, and the worker's signals group committed the suppression (the
signal "applied") while that call was still on the wire. Calls are now put on the wire by
the same step as the last check (``SendSteps.arm``), and the signals handler commits its
batch, the ingress answers a STOP, only once those calls have ended (``Fence``).
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from dunning_channels.domain import Accepted, SendOutcome, account_keys
from dunning_channels.service import Fence, SuppressOnSignals
from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import ConsumerSignaled, OutreachStep, SignalKind
from dunning_testkit.channels import NOW, PHONE, FakeSender, MemorySendRecords, approval, rig


class HeldSender(FakeSender):
    """A provider that takes the request and answers only when told."""

    def __init__(self) -> None:
        super().__init__(Accepted("SM1"))
        self.on_the_wire = asyncio.Event()
        self.answer = asyncio.Event()

    async def send(
        self,
        account_id: str,
        step: OutreachStep,
        timeout_s: float | None = None,
    ) -> SendOutcome:
        self.on_the_wire.set()
        await self.answer.wait()
        return await super().send(account_id, step, timeout_s)


def cease(account_id: str = "acc-1") -> ConsumerSignaled:
    return ConsumerSignaled(
        account_id=account_id,
        signal_id="cease-1",
        kind=SignalKind.CEASE_REQUESTED,
        source="operator",
        occurred_at=NOW + timedelta(seconds=1),
    )


async def test_a_signal_is_committed_only_after_the_call_it_came_too_late_for() -> None:
    sender = HeldSender()
    parts = rig(sender)
    fence = Fence(parts.records, bound_s=5.0, wall=parts.service.wall)
    signals = SuppressOnSignals(Channel.SMS, parts.records, fence)

    async def send() -> None:
        await parts.service.handle(approval("acc-1"))
        await parts.service.flush()

    sending = asyncio.create_task(send())
    await sender.on_the_wire.wait()  # past every check: nothing can stop this one now
    await signals.handle(wrap(cease(), "ledger"))
    committing = asyncio.create_task(signals.flush())
    await asyncio.sleep(0.1)
    # Old code: flushed at once, so the group committed (the signal "applied", the ledger's
    # answer given) while the provider had yet to accept the text.
    assert not committing.done()
    sender.answer.set()
    await asyncio.wait_for(asyncio.gather(sending, committing), 5)
    assert (fence.waited, fence.gave_up) == (1, 0)
    assert len(sender.calls) == 1


async def test_signals_for_others_wait_for_nothing() -> None:
    sender = HeldSender()
    parts = rig(sender)
    fence = Fence(parts.records, bound_s=5.0, wall=parts.service.wall)
    signals = SuppressOnSignals(Channel.SMS, parts.records, fence)
    sending = asyncio.create_task(parts.service.handle(approval("acc-1")))
    await sender.on_the_wire.wait()
    await signals.handle(wrap(cease("acc-2"), "ledger"))
    await asyncio.wait_for(signals.flush(), 1)  # acc-1's call is no business of acc-2's cease
    assert fence.waited == 0
    sender.answer.set()
    await sending
    await parts.service.flush()


async def test_a_call_never_ended_holds_the_signal_no_longer_than_the_bound() -> None:
    records = MemorySendRecords()
    keys = (PHONE, *account_keys("acc-1"))
    await records.begin_call("step-of-a-dead-worker", keys, time.time() + 3600)
    fence = Fence(records, bound_s=0.1)
    started = time.monotonic()
    assert not await fence.after_calls([account_keys("acc-1")[1]])
    assert 0.1 <= time.monotonic() - started < 1.0
    assert fence.gave_up == 1
    # Past its own bound (the worker's call timeout) it no longer counts at all.
    assert await Fence(records, bound_s=0.1, wall=lambda: time.time() + 7200).after_calls(keys)
