"""The topic Job's script, run against the local Kafka broker with Kafka's own tools.

The Job runs kafka-topics.sh from the apache/kafka image; here the same script runs with
the TopicCommand of the local stack's Kafka jars (deploy/local/kafka/lib) behind a
kafka-topics.sh of the same name, on topics of this test's own prefix. One topic exists
beforehand with the wrong partition count: the script must create all the others and then
fail, naming that one.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest
import yaml
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from dunning_core.contracts.topics import ALL_TOPICS, AUTH_KEYS, DELIVERY, dlq
from dunning_testkit.stack import KAFKA

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
JOB = REPO / "deploy" / "k8s" / "base" / "topics-job.yaml"
KAFKA_LOCAL = REPO / "deploy" / "local" / "kafka"


def job_script() -> str:
    job = yaml.safe_load(JOB.read_text())
    [container] = job["spec"]["template"]["spec"]["containers"]
    script: str = container["command"][2]
    return script


def kafka_home(tmp_path: Path) -> Path:
    """A folder laid out as in the image: bin/kafka-topics.sh, here on the local jars."""
    if shutil.which("java") is None or not any((KAFKA_LOCAL / "lib").glob("kafka-tools-*.jar")):
        pytest.skip("no java or no Kafka jars (deploy/local/stack.sh up installs them)")
    tool = tmp_path / "bin" / "kafka-topics.sh"
    tool.parent.mkdir()
    tool.write_text(
        "#!/bin/bash\n"
        f'exec java -Xmx256m -cp "{KAFKA_LOCAL}/lib/*" '
        f"-Dlog4j2.configurationFile={KAFKA_LOCAL}/tools-log4j2.properties "
        'org.apache.kafka.tools.TopicCommand "$@"\n'
    )
    tool.chmod(0o755)
    return tmp_path


async def test_the_job_creates_the_topics_and_flags_a_wrong_one(
    stack: None, prefix: str, tmp_path: Path
) -> None:
    home = kafka_home(tmp_path)
    expected = {prefix + t: 6 for t in ALL_TOPICS} | {prefix + dlq(t): 1 for t in ALL_TOPICS}
    expected[prefix + AUTH_KEYS] = 1
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(prefix + DELIVERY, 3, 1)])
        env = {
            **os.environ,
            "KAFKA_HOME": str(home),
            "DUNNING_KAFKA_BOOTSTRAP": KAFKA,
            "DUNNING_TOPIC_PREFIX": prefix,
            "TOPIC_REPLICATION_FACTOR": "1",
            "TOPIC_MIN_INSYNC_REPLICAS": "1",
        }
        process = await asyncio.create_subprocess_exec(
            "bash", "-c", job_script(), env=env, stdout=PIPE, stderr=PIPE
        )
        _, err = await asyncio.wait_for(process.communicate(), timeout=300)
        stderr = err.decode()
        assert process.returncode == 1, stderr
        assert f"topic {prefix}{DELIVERY}: 3 partitions, expected 6" in stderr
        assert stderr.count("partitions, expected") == 1, stderr

        described = await admin.describe_topics(list(expected))
        counts = {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}
        assert counts == expected | {prefix + DELIVERY: 3}
    finally:
        present = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if present:
            await admin.delete_topics(present)
        await admin.close()
