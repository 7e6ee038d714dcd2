"""The rendered workloads: files parse, every service deployed as services.conf says,
locked down, sized, and given the time to drain.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from dunning_core.contracts.topics import PLANNED
from dunning_core.runtime import kafka as runtime_kafka

from .k8s import (
    BASE,
    K8S,
    KUSTOMIZATIONS,
    NOT_IN_PRODUCTION,
    SECRET_EXAMPLE,
    Rendered,
    container,
    deployments,
    job_topics,
    load_all,
    production_services,
    render,
    resolve_port,
    services_conf,
)

# ---------------------------------------------------------------------------------------------
# Files and structure


def test_every_yaml_file_parses_and_is_an_object() -> None:
    files = sorted(K8S.rglob("*.yaml"))
    assert len(files) >= 10
    for path in files:
        for doc in load_all(path):
            assert {"apiVersion", "kind"} <= set(doc), f"{path}: {doc!r:.80}"
            if doc["kind"] != "Kustomization":
                assert doc["metadata"]["name"], path


def test_every_manifest_is_a_resource_except_the_secret_example() -> None:
    used = {path for directory in KUSTOMIZATIONS.values() for path in render(directory).files}
    on_disk = {
        p.resolve()
        for p in K8S.rglob("*")
        if p.suffix in (".yaml", ".env") and p.name != "kustomization.yaml"
    }
    assert on_disk - used == {SECRET_EXAMPLE.resolve()}
    assert SECRET_EXAMPLE.resolve() not in used


def test_production_namespace_and_sandbox_namespace_differ(
    base: Rendered, sandbox: Rendered
) -> None:
    assert base.namespace is None  # the root kustomization adds nothing to its base
    assert render(BASE).namespace == "dunning"
    assert sandbox.namespace == "dunning-sandbox"
    assert [n["metadata"]["name"] for n in base.of_kind("Namespace")] == ["dunning"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("directory", KUSTOMIZATIONS.values(), ids=KUSTOMIZATIONS.keys())
def test_kubectl_kustomize_renders_what_this_test_reads(directory: Path) -> None:
    done = subprocess.run(
        ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    built = [d for d in yaml.safe_load_all(done.stdout) if d]
    ours = render(directory)
    expected_ns = ours.namespace or render(BASE).namespace
    names = set()
    for obj in built:
        name = obj["metadata"]["name"]
        if obj["kind"] == "ConfigMap":
            # generated names end in a content hash
            stem = name.rsplit("-", 1)[0]
            assert obj.get("data", {}) == ours.config_maps[stem], stem
            name = stem
        else:
            assert obj["metadata"].get("namespace", expected_ns) == expected_ns or (
                obj["kind"] == "Namespace"
            )
        if obj["kind"] == "Deployment":
            assert obj["spec"].get("replicas") == ours.find("Deployment", name)["spec"].get(
                "replicas"
            ), name
        names.add((obj["kind"], name))
    mine = {(o["kind"], o["metadata"]["name"]) for o in ours.objects}
    mine |= {("ConfigMap", n) for n in ours.config_maps}
    if ours.namespace:  # an overlay renames the base's Namespace object
        mine = {(k, ours.namespace if k == "Namespace" else n) for k, n in mine}
    assert names == mine


# ---------------------------------------------------------------------------------------------
# Services: Deployment, Service, PodDisruptionBudget, command, port, probes


def test_every_production_service_is_deployed_and_the_sandbox_is_not(base: Rendered) -> None:
    deployed = deployments(base)
    for name in production_services():
        assert name in deployed, f"no Deployment for {name}"
        base.find("Service", name)
        base.find("PodDisruptionBudget", name)
    assert set(deployed) == set(production_services())
    assert not NOT_IN_PRODUCTION & {o["metadata"]["name"] for o in base.objects}


def test_the_sandbox_overlay_adds_the_sandbox(sandbox: Rendered) -> None:
    assert set(deployments(sandbox)) == set(services_conf())
    sandbox.find("Service", "sandbox")


@pytest.mark.parametrize("service", list(services_conf()))
def test_command_port_and_probes_follow_services_conf(
    service: str, base: Rendered, sandbox: Rendered
) -> None:
    conf = services_conf()[service]
    rendered = sandbox if service in NOT_IN_PRODUCTION else base
    deployment = deployments(rendered)[service]
    c = container(deployment)
    assert c["command"] == ["python", "-m", conf.module]
    assert importlib.util.find_spec(conf.module) is not None, conf.module
    assert [p["containerPort"] for p in c["ports"]] == [conf.port]
    assert "readinessProbe" in c
    assert "livenessProbe" in c
    # Liveness restarts only what a restart mends (a dead loop): a broker or database
    # outage makes a pod unready, not restarted. The sandbox has only /health.
    live = "/health" if service in NOT_IN_PRODUCTION else "/health/live"
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        if kind not in c:
            continue
        probe = c[kind]["httpGet"]
        assert probe["path"] == (live if kind == "livenessProbe" else "/health"), (service, kind)
        assert resolve_port(deployment, probe["port"]) == conf.port
    svc = rendered.find("Service", service)
    [svc_port] = svc["spec"]["ports"]
    assert svc_port["port"] == conf.port
    assert resolve_port(deployment, svc_port["targetPort"]) == conf.port


@pytest.mark.parametrize("service", list(services_conf()))
def test_selectors_match_the_pods(service: str, base: Rendered, sandbox: Rendered) -> None:
    rendered = sandbox if service in NOT_IN_PRODUCTION else base
    deployment = deployments(rendered)[service]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    assert rendered.find("Service", service)["spec"]["selector"].items() <= labels.items()
    if service not in NOT_IN_PRODUCTION:
        pdb = rendered.find("PodDisruptionBudget", service)
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert deployment["spec"]["replicas"] >= 2, "a PDB over one replica blocks node drains"


@pytest.mark.parametrize("service", list(services_conf()))
def test_pods_are_locked_down_and_sized(service: str, base: Rendered, sandbox: Rendered) -> None:
    rendered = sandbox if service in NOT_IN_PRODUCTION else base
    deployment = deployments(rendered)[service]
    pod = deployment["spec"]["template"]["spec"]
    c = container(deployment)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(c["resources"][kind]), f"{service}: {kind}"
    assert c["image"] == "dunning", "every service runs the one image (kustomization images:)"
    mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
    assert "/tmp" in mounts, "a read-only root needs a writable /tmp"


def producer_request_timeout_s() -> float:
    # The producer's settings may be keyword arguments or a dict of them.
    source = inspect.getsource(inspect.getmodule(runtime_kafka.EventProducer) or runtime_kafka)
    match = re.search(r"""request_timeout_ms["']?\s*[=:]\s*([\d_]+)""", source)
    assert match, "EventProducer no longer sets request_timeout_ms: revisit the grace period"
    return int(match.group(1).replace("_", "")) / 1000


@pytest.mark.parametrize("service", production_services())
def test_grace_period_covers_the_shutdown(service: str, base: Rendered) -> None:
    deployment = deployments(base)[service]
    pod = deployment["spec"]["template"]["spec"]
    pre_stop = container(deployment)["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    needed = int(pre_stop[1]) + producer_request_timeout_s()
    assert pod["terminationGracePeriodSeconds"] > needed


def test_gate_replicas_never_exceed_the_partitions(base: Rendered) -> None:
    gate = deployments(base)["gate"]
    partitions = job_topics(base)[PLANNED]
    strategy = gate["spec"]["strategy"]
    surge = strategy["rollingUpdate"]["maxSurge"] if strategy["type"] == "RollingUpdate" else 0
    assert gate["spec"]["replicas"] + surge <= partitions
    assert "range assignor" in (BASE / "gate.yaml").read_text()
