"""``ChannelsApplied`` on Kafka: the channel workers' signals groups against the end of
the partition an account's signals go to.

A channel worker's signals group commits a batch only once its suppressions are set and
the provider calls they came too late to stop have ended (the workers' ``Fence``). So
once every such group has committed past the offset the partition ended at after the
ledger's signal was published, nothing can reach the consumer any more: an operator told
"recorded" then is told the truth. Only groups with a member reading that partition now
are waited for: a worker down, or one whose group has not taken the partition yet, sends
nothing before its group has applied what is on the topic (its signals barrier).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2
from aiokafka.protocol.group import MemberAssignment
from dunning_core.runtime.kafka_admin import partitions_of

log = logging.getLogger(__name__)


class KafkaChannelsApplied:
    def __init__(
        self,
        bootstrap: str,
        topic: str,
        groups: list[str],
        *,
        bound_s: float,
        poll_s: float = 0.02,
    ) -> None:
        self.topic, self.groups, self.bound_s, self.poll_s = topic, groups, bound_s, poll_s
        self.bootstrap = bootstrap
        self._clients: tuple[AIOKafkaAdminClient, AIOKafkaConsumer] | None = None
        self._starting = asyncio.Lock()
        self.late = 0  # answers given before every group had applied the signal

    async def stop(self) -> None:
        if self._clients is not None:
            admin, consumer = self._clients
            self._clients = None
            await consumer.stop()
            await admin.close()

    async def applied(self, key: str) -> bool:
        if not self.groups:
            return True
        deadline = time.monotonic() + self.bound_s
        while True:
            try:
                if await self._caught_up(key, deadline):
                    return True
                break
            except KafkaError as exc:
                # A connection the broker closed is not made again by the admin client
                # (seen in the e2e suite: every try failed until the bound): new clients.
                with contextlib.suppress(Exception):
                    await self.stop()
                if time.monotonic() >= deadline:
                    log.warning("signals' groups unreadable", extra={"error": repr(exc)})
                    break
                await asyncio.sleep(0.2)
        self.late += 1
        return False

    async def _caught_up(self, key: str, deadline: float) -> bool:
        admin, consumer = await self._start()
        partitions = await partitions_of(admin, self.topic)
        if not partitions:
            raise KafkaError(f"topic {self.topic} has no partitions known yet")
        # The producer's default partitioner: the key's partition, as the relay sent it.
        tp = partitions[(murmur2(key.encode()) & 0x7FFFFFFF) % len(partitions)]
        end = (await consumer.end_offsets([tp]))[tp]
        waiting = await self._reading(admin, self.groups, tp)
        while waiting:
            waiting = [g for g in waiting if await self._committed(admin, g, tp) < end]
            if not waiting:
                return True
            if time.monotonic() >= deadline:
                log.warning("signal not applied in time", extra={"groups": ",".join(waiting)})
                return False
            await asyncio.sleep(self.poll_s)
        return True

    async def _start(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        """The clients, made on first use (a ledger no operator signals needs none)."""
        async with self._starting:
            if self._clients is None:
                admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
                consumer = AIOKafkaConsumer(
                    bootstrap_servers=self.bootstrap, enable_auto_commit=False
                )
                await admin.start()
                try:
                    await consumer.start()
                except BaseException:
                    await admin.close()
                    raise
                self._clients = (admin, consumer)
            return self._clients

    async def _reading(
        self, admin: AIOKafkaAdminClient, groups: list[str], tp: TopicPartition
    ) -> list[str]:
        """The groups one of whose members is assigned ``tp`` now."""
        reading = []
        # One group a request: aiokafka 0.14 cannot decode DescribeGroups answering two
        # (a buffer underrun, then the connection closed: every try failed in the e2e suite).
        answers = [a for g in groups for a in await admin.describe_consumer_groups([g])]
        for answer in answers:
            for group in answer.to_object()["groups"]:
                for member in group["members"]:
                    raw = member.get("member_assignment") or b""
                    assigned = MemberAssignment.decode(raw).assignment if raw else []
                    if any(t == tp.topic and tp.partition in ps for t, ps in assigned):
                        reading.append(group["group"])
                        break
        return reading

    async def _committed(self, admin: AIOKafkaAdminClient, group: str, tp: TopicPartition) -> int:
        offsets = await admin.list_consumer_group_offsets(group, partitions=[tp])
        found = offsets.get(tp)
        return found.offset if found is not None and found.offset >= 0 else 0
