"""The overlays: KEDA scaling in production, one replica in development.

KEDA's ScaledObject has no schema in kubernetes-validate, so its fields are checked here
against the keys KEDA documents (ScaledObject spec, the Apache Kafka scaler's metadata), and
its meaning against the code: each service's consumer group and topics, its offset reset,
and the partition counts of the topic Job.
"""

from __future__ import annotations

import inspect

import pytest
from dunning_core.contracts.topics import APPROVED_EMAIL, APPROVED_SMS, PLANNED
from dunning_core.runtime import kafka as runtime_kafka
from dunning_gate import handlers as gate_handlers
from dunning_ledger.handlers import CONSUMED_TOPICS as LEDGER_TOPICS
from dunning_scheduler.handlers import TOPICS as SCHEDULER_TOPICS

from .k8s import (
    NOT_IN_PRODUCTION,
    Obj,
    Rendered,
    deployments,
    job_topics,
    production_services,
    services_conf,
    settings_class,
)

# What each consumer service reads, from its code.
CONSUMED = {
    "ledger": set(LEDGER_TOPICS),
    "scheduler": set(SCHEDULER_TOPICS),
    "gate": {PLANNED, *gate_handlers.STATE_TOPICS},
    "sms": {APPROVED_SMS},
    "email": {APPROVED_EMAIL},
}
SCALED_OBJECT_SPEC = {
    "scaleTargetRef",
    "pollingInterval",
    "cooldownPeriod",
    "initialCooldownPeriod",
    "idleReplicaCount",
    "minReplicaCount",
    "maxReplicaCount",
    "fallback",
    "advanced",
    "triggers",
}
TRIGGER = {"type", "name", "metadata", "authenticationRef", "metricType", "useCachedMetrics"}
KAFKA_METADATA = {
    "bootstrapServers",
    "consumerGroup",
    "topic",
    "lagThreshold",
    "activationLagThreshold",
    "offsetResetPolicy",
    "allowIdleConsumers",
    "scaleToZeroOnInvalidOffset",
    "excludePersistentLag",
    "limitToPartitionsWithLag",
    "partitionLimitation",
    "version",
    "sasl",
    "tls",
    "unsafeSsl",
}


def scaled_objects(rendered: Rendered) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in rendered.of_kind("ScaledObject")}


def offset_reset(service: str) -> str:
    """The consumer's auto_offset_reset, read from its source."""
    source = inspect.getsource(
        gate_handlers.GatePipeline if service == "gate" else runtime_kafka.ConsumerLoop
    )
    marker = 'auto_offset_reset="' if service == "gate" else 'auto_offset_reset: str = "'
    return source.split(marker, 1)[1].split('"', 1)[0]


def test_every_consumer_of_the_code_scales_on_kafka_lag_in_production(prod: Rendered) -> None:
    consumers = {s for s in production_services() if hasattr(settings_class(s)(), "group_id")}
    consumers -= {"sms-ingress", "email-ingress"}  # same settings class, no consumer loop
    assert consumers == set(CONSUMED)
    assert set(scaled_objects(prod)) == set(CONSUMED)


def test_only_the_production_overlay_needs_keda(
    base: Rendered, sandbox: Rendered, dev: Rendered
) -> None:
    for rendered in (base, sandbox, dev):
        assert rendered.of_kind("ScaledObject") == [], "clusters without KEDA apply these"


@pytest.mark.parametrize("service", sorted(CONSUMED))
def test_the_scaled_object_follows_keda_and_the_code(service: str, prod: Rendered) -> None:
    scaled = scaled_objects(prod)[service]
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    spec = scaled["spec"]
    assert set(spec) <= SCALED_OBJECT_SPEC, set(spec) - SCALED_OBJECT_SPEC
    target = spec["scaleTargetRef"]
    assert target == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    deployment = deployments(prod)[service]
    assert "replicas" not in deployment["spec"], "KEDA owns the count; apply must not reset it"

    settings = settings_class(service)()
    common = prod.config_maps["dunning-common"]
    assert common["DUNNING_TOPIC_PREFIX"] == ""  # else the group and topics carry it
    topics = set()
    for trigger in spec["triggers"]:
        assert set(trigger) <= TRIGGER, set(trigger) - TRIGGER
        assert trigger["type"] == "kafka"
        metadata = trigger["metadata"]
        assert set(metadata) <= KAFKA_METADATA, set(metadata) - KAFKA_METADATA
        assert all(isinstance(v, str) for v in metadata.values()), "KEDA metadata are strings"
        assert metadata["bootstrapServers"] == common["DUNNING_KAFKA_BOOTSTRAP"]
        assert metadata["consumerGroup"] == settings.group_id  # type: ignore[attr-defined]
        assert metadata["offsetResetPolicy"] == offset_reset(service)
        assert metadata["allowIdleConsumers"] == "false"
        assert int(metadata["lagThreshold"]) > 0
        topics.add(metadata["topic"])
    assert len(topics) == len(spec["triggers"]), "a topic has two triggers"
    assert topics == CONSUMED[service]


@pytest.mark.parametrize("service", sorted(CONSUMED))
def test_replicas_stay_within_the_partitions_and_the_disruption_budget(
    service: str, prod: Rendered
) -> None:
    spec = scaled_objects(prod)[service]["spec"]
    partitions = job_topics(prod)
    least = min(partitions[t] for t in CONSUMED[service])
    assert spec["maxReplicaCount"] == least == 6
    assert 2 <= spec["minReplicaCount"] < spec["maxReplicaCount"]
    assert "idleReplicaCount" not in spec, "never scaled to zero: the gate keeps state warm"
    deployment = deployments(prod)[service]
    strategy = deployment["spec"]["strategy"]
    surge = strategy.get("rollingUpdate", {}).get("maxSurge", "25%")
    if service == "gate":  # the range assignor: never more members than partitions
        assert surge == 0
    assert prod.find("PodDisruptionBudget", service)["spec"]["maxUnavailable"] == 1


def test_production_keeps_three_copies_and_two_replicas_of_everything(prod: Rendered) -> None:
    topics = prod.config_maps["dunning-topics"]
    assert topics["TOPIC_REPLICATION_FACTOR"] == "3"
    assert topics["TOPIC_MIN_INSYNC_REPLICAS"] == "2"
    assert set(deployments(prod)) == set(production_services())
    for name, deployment in deployments(prod).items():
        replicas = deployment["spec"].get("replicas")
        if replicas is None:
            replicas = scaled_objects(prod)[name]["spec"]["minReplicaCount"]
        assert replicas >= 2, name
        prod.find("PodDisruptionBudget", name)
        resources = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) & set(resources["limits"])


def test_development_runs_one_of_everything_against_the_sandbox(dev: Rendered) -> None:
    assert dev.namespace == "dunning-dev"
    assert set(deployments(dev)) == set(services_conf())
    assert {d["spec"]["replicas"] for d in deployments(dev).values()} == {1}
    assert set(deployments(dev)) >= NOT_IN_PRODUCTION
    assert dev.config_maps["dunning-sms"]["DUNNING_SMS_TWILIO_BASE_URL"] == "http://sandbox:8010"
    assert dev.config_maps["dunning-email"]["DUNNING_EMAIL_SENDGRID_BASE_URL"] == (
        "http://sandbox:8010"
    )
    assert dev.config_maps["dunning-topics"]["TOPIC_REPLICATION_FACTOR"] == "1"
