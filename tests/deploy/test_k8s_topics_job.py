"""The topic Job: it creates exactly the contract topics, with the cluster's settings, as
its generator writes it.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from types import ModuleType

from dunning_core.contracts.topics import ALL_TOPICS, AUTH_KEYS, dlq

from .k8s import (
    BASE,
    K8S,
    KAFKA_IMAGE,
    TOPICS_CONF,
    Rendered,
    container_of_job,
    job_script,
    job_topics,
)

# ---------------------------------------------------------------------------------------------
# The topic Job


def test_the_job_creates_exactly_the_contract_topics(base: Rendered) -> None:
    topics = job_topics(base)
    assert set(topics) == set(ALL_TOPICS) | {dlq(t) for t in ALL_TOPICS} | {AUTH_KEYS}
    # Co-partitioning: every keyed topic has the same count (the gate's range assignor).
    assert len({topics[t] for t in ALL_TOPICS}) == 1
    local = {
        line.split()[0]: int(line.split()[1])
        for line in TOPICS_CONF.read_text().splitlines()
        if line.split("#", 1)[0].strip()
    }
    assert topics == local, "the cluster and the local stack have the same topics"


def test_the_job_checks_the_same_list_it_creates(base: Rendered) -> None:
    script = job_script(base)
    listed = script.split("<<'TOPICS'\n", 1)[1].split("\nTOPICS\n", 1)[0]
    checked = {line.split()[0]: int(line.split()[1]) for line in listed.splitlines()}
    assert checked == job_topics(base)


def test_the_job_runs_kafka_tools_with_the_cluster_settings(
    base: Rendered, sandbox: Rendered
) -> None:
    job = base.find("Job", "dunning-topics")
    c = container_of_job(job)
    assert c["image"] == KAFKA_IMAGE
    refs = [s["configMapRef"]["name"] for s in c["envFrom"]]
    assert refs == ["dunning-common", "dunning-topics"]
    script = job_script(base)
    for name in re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", script):
        assert name == "KAFKA_HOME" or any(name in base.config_maps[r] for r in refs), name
    assert base.config_maps["dunning-topics"]["TOPIC_REPLICATION_FACTOR"] == "3"
    assert sandbox.config_maps["dunning-topics"]["TOPIC_REPLICATION_FACTOR"] == "1"
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("topics_job", K8S / "topics_job.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_the_job_is_what_its_generator_writes() -> None:
    generator = load_generator()
    expected = generator.render(generator.read_topics(TOPICS_CONF.read_text()))
    assert (BASE / "topics-job.yaml").read_text() == expected, (
        "run: uv run python deploy/k8s/topics_job.py"
    )
