"""What every benchmark shares: topics of its own, figures printed and saved as flat JSON."""

from __future__ import annotations

import json
import os
import resource
import statistics
import uuid
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

RESULTS = Path(__file__).parent / "results"
KAFKA = os.environ.get("DUNNING_KAFKA_BOOTSTRAP", "127.0.0.1:19092")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles_ms(samples_s: list[float]) -> dict[str, float]:
    if not samples_s:
        return {}
    ordered = sorted(samples_s)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50_ms": round(q[49] * 1000, 2),
        "p95_ms": round(q[94] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def report(name: str, figures: dict[str, Any]) -> None:
    figures = {"cores": os.cpu_count(), **figures}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(f"== {name}")
    for key, value in figures.items():
        print(f"  {key:42s} {value}")


async def fresh_topic(partitions: int = 6, prefix: str = "bench") -> str:
    name = f"{prefix}.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()
    return name


async def delete_topics(names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.delete_topics(names)
    except Exception:  # cleanup only
        pass
    finally:
        await admin.close()
