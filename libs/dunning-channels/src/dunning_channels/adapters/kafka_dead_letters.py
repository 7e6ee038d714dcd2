"""``DeadLetters`` on Kafka: the approval, unchanged, on ``<its topic>.dlq`` with the reason.

The headers are the consumer loop's (``dlq_error``, ``dlq_topic``, ``dlq_group``), so one
tool reads both kinds of dead letter.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from dunning_core.contracts.envelope import Envelope, encode
from dunning_core.contracts.topics import dlq
from dunning_core.runtime.kafka import EventProducer, topic_for

log = logging.getLogger(__name__)


class KafkaDeadLetters:
    def __init__(self, producer: EventProducer, group_id: str) -> None:
        self.producer = producer
        self.group_id = group_id

    async def dead_letter(self, envelope: Envelope, reason: str) -> asyncio.Future[Any]:
        topic = self.producer.topic_prefix + topic_for(envelope)
        key, value, headers = encode(envelope)
        headers += [
            ("dlq_error", reason[:2000].encode()),
            ("dlq_topic", topic.encode()),
            ("dlq_group", self.group_id.encode()),
        ]
        log.error("dead-lettered", extra={"topic": topic, "event_id": envelope.id})
        return await self.producer.send_raw(dlq(topic), key, value, headers)
