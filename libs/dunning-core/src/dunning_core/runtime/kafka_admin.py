"""What the services ask of Kafka's admin API besides consuming and producing."""

from __future__ import annotations

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def partitions_of(admin: AIOKafkaAdminClient, topic: str) -> list[TopicPartition]:
    """The topic's partitions in order; none while its metadata has not reached the
    cluster's answer yet (a topic just created) or the topic is unknown."""
    described = await admin.describe_topics([topic])
    numbers = sorted(
        int(p["partition"])
        for t in described
        if t.get("topic") == topic and not t.get("error_code")
        for p in t.get("partitions", ())
    )
    return [TopicPartition(topic, n) for n in numbers]
