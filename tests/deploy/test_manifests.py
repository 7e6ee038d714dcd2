"""The Kubernetes manifests of deploy/k8s, checked against the code they deploy.

Nothing here needs a cluster or a service: the kustomizations are rendered by a small
reader of the few kustomize features they use (resources, ConfigMap generators from env
files and literals, merges), cross-checked with ``kubectl kustomize`` where kubectl is
installed. Every check compares a manifest with its source of truth in the repository:
deploy/local/services.conf (services, ports, commands), the services' settings classes
(which environment variables they read), dunning_core.contracts.topics (the topics),
the webhook routers (what the Ingress must expose).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from dunning_core.contracts.topics import ALL_TOPICS, AUTH_KEYS, PLANNED, dlq
from dunning_core.runtime import kafka as runtime_kafka
from fastapi import APIRouter
from pydantic import AliasChoices, SecretStr
from pydantic_settings import BaseSettings

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
BASE = K8S / "base"
SANDBOX_OVERLAY = K8S / "overlays" / "sandbox"
SECRET_EXAMPLE = K8S / "secret.example.yaml"
SERVICES_CONF = REPO / "deploy" / "local" / "services.conf"
TOPICS_CONF = REPO / "deploy" / "local" / "topics.conf"

# services.conf name -> the settings class its entry point reads.
SETTINGS = {
    "ledger": "dunning_ledger.config:LedgerSettings",
    "scheduler": "dunning_scheduler.config:SchedulerSettings",
    "gate": "dunning_gate.config:GateSettings",
    "sms": "dunning_sms.config:SmsSettings",
    "email": "dunning_email.config:EmailSettings",
    "sms-ingress": "dunning_sms.config:SmsSettings",
    "email-ingress": "dunning_email.config:EmailSettings",
    "sandbox": "dunning_sandbox.config:SandboxSettings",
}
NOT_IN_PRODUCTION = {"sandbox"}
PLACEHOLDER = "REPLACE_ME"
KAFKA_IMAGE = "apache/kafka:4.1.0"

Obj = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Sources of truth


@dataclass(frozen=True)
class ConfService:
    name: str
    port: int
    module: str


def services_conf() -> dict[str, ConfService]:
    """`name port command...` lines; the module is what follows `python -m`."""
    found: dict[str, ConfService] = {}
    for raw in SERVICES_CONF.read_text().splitlines():
        line = raw.split("#", 1)[0].split()
        if not line:
            continue
        name, port, *command = line
        module = command[command.index("-m") + 1]
        found[name] = ConfService(name, int(port), module)
    return found


def settings_class(service: str) -> type[BaseSettings]:
    module, _, name = SETTINGS[service].partition(":")
    cls = getattr(importlib.import_module(module), name)
    assert isinstance(cls, type)
    assert issubclass(cls, BaseSettings)
    return cls


def env_names(cls: type[BaseSettings]) -> dict[str, str]:
    """Environment variable name (upper case) -> field, as pydantic-settings reads them: a
    field's validation aliases when it has any, else the class's prefix and the field name."""
    prefix = str(cls.model_config.get("env_prefix", ""))
    names: dict[str, str] = {}
    for name, info in cls.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            choices = [c for c in alias.choices if isinstance(c, str)]
        elif isinstance(alias, str):
            choices = [alias]
        else:
            choices = [prefix + name]
        for choice in choices:
            names[choice.upper()] = name
    return names


def secret_fields(cls: type[BaseSettings]) -> set[str]:
    return {
        name
        for name, info in cls.model_fields.items()
        if info.annotation is SecretStr or info.annotation == SecretStr | None
    }


def uses_database(service: str) -> bool:
    """Whether the service's code (not just its settings) reads the database URL."""
    package = importlib.import_module(SETTINGS[service].split(".", 1)[0])
    root = Path(inspect.getfile(package)).parent
    return any(
        "database_url" in path.read_text()
        for path in root.rglob("*.py")
        if path.name != "config.py"
    )


# ---------------------------------------------------------------------------------------------
# Rendering the kustomizations (the subset of kustomize they use)

KNOWN_KUSTOMIZATION_KEYS = {
    "apiVersion",
    "kind",
    "namespace",
    "labels",
    "resources",
    "configMapGenerator",
    "images",
}


def load_all(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def read_env_file(path: Path) -> dict[str, str]:
    """Kustomize's env files: KEY=VALUE lines taken literally, `#` lines and blanks skipped."""
    data: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = raw.partition("=")
        assert sep, f"{path}: not KEY=VALUE: {raw!r}"
        data[key.strip()] = value
    return data


@dataclass
class Rendered:
    objects: list[Obj] = field(default_factory=list)
    config_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    namespace: str | None = None
    files: list[Path] = field(default_factory=list)

    def find(self, kind: str, name: str) -> Obj:
        matches = [o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name]
        assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
        return matches[0]

    def of_kind(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o["kind"] == kind]


def render(directory: Path) -> Rendered:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - KNOWN_KUSTOMIZATION_KEYS
    assert not unknown, f"{directory}: teach this test's renderer about {sorted(unknown)}"
    out = Rendered(namespace=kustomization.get("namespace"))
    for resource in kustomization.get("resources", []):
        path = (directory / resource).resolve()
        if path.is_dir():
            inner = render(path)
            out.objects += inner.objects
            out.config_maps.update(inner.config_maps)
            out.files += inner.files
        else:
            out.objects += load_all(path)
            out.files.append(path)
    for generator in kustomization.get("configMapGenerator", []):
        data: dict[str, str] = {}
        for env in generator.get("envs", []):
            data.update(read_env_file(directory / env))
            out.files.append((directory / env).resolve())
        for literal in generator.get("literals", []):
            key, _, value = literal.partition("=")
            data[key] = value
        name = generator["name"]
        if generator.get("behavior", "create") == "merge":
            assert name in out.config_maps, f"{directory}: merge into unknown ConfigMap {name}"
            out.config_maps[name] = {**out.config_maps[name], **data}
        else:
            assert name not in out.config_maps, f"{directory}: ConfigMap {name} made twice"
            out.config_maps[name] = data
    return out


@pytest.fixture(scope="module")
def base() -> Rendered:
    return render(K8S)


@pytest.fixture(scope="module")
def sandbox() -> Rendered:
    return render(SANDBOX_OVERLAY)


def example_secrets() -> dict[str, dict[str, str]]:
    return {doc["metadata"]["name"]: doc["stringData"] for doc in load_all(SECRET_EXAMPLE)}


# ---------------------------------------------------------------------------------------------
# What a pod sees


@dataclass(frozen=True)
class EnvValue:
    value: str
    source: str  # "env", "configmap/<name>" or "secret/<name>"


def container(deployment: Obj) -> Obj:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, "one container per pod"
    result: Obj = containers[0]
    return result


def pod_env(rendered: Rendered, deployment: Obj) -> dict[str, EnvValue]:
    """The environment of the container: envFrom first, explicit env over it (as Kubernetes
    does). Secrets take the placeholder values of secret.example.yaml."""
    secrets = example_secrets()
    c = container(deployment)
    env: dict[str, EnvValue] = {}
    for source in c.get("envFrom", []):
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            assert name in rendered.config_maps, f"unknown ConfigMap {name}"
            for key, value in rendered.config_maps[name].items():
                env[key] = EnvValue(value, f"configmap/{name}")
        else:
            name = source["secretRef"]["name"]
            assert name in secrets, f"Secret {name} is not described in secret.example.yaml"
            for key, value in secrets[name].items():
                env[key] = EnvValue(value, f"secret/{name}")
    for item in c.get("env", []):
        if "value" in item:
            env[item["name"]] = EnvValue(str(item["value"]), "env")
        else:
            ref = item["valueFrom"]
            if "secretKeyRef" in ref:
                name, key = ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"]
                env[item["name"]] = EnvValue(secrets[name][key], f"secret/{name}")
            else:
                name, key = ref["configMapKeyRef"]["name"], ref["configMapKeyRef"]["key"]
                env[item["name"]] = EnvValue(rendered.config_maps[name][key], f"configmap/{name}")
    return env


def build_settings(
    cls: type[BaseSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> BaseSettings:
    """The settings object the entry point would build in that pod (no .env file there)."""
    for name in list(os.environ):
        if name.upper().startswith("DUNNING_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return cls(_env_file=None)


def unread_names(cls: type[BaseSettings], names: Iterable[str]) -> list[str]:
    """Names the class does not read, each with the nearest name it does read."""
    known = env_names(cls)
    problems = []
    for name in names:
        if name.upper() not in known:
            near = difflib.get_close_matches(name.upper(), list(known), n=1)
            problems.append(f"{name} (did you mean {near[0]}?)" if near else name)
    return problems


def production_services() -> list[str]:
    return [name for name in services_conf() if name not in NOT_IN_PRODUCTION]


def deployments(rendered: Rendered) -> dict[str, Obj]:
    return {d["metadata"]["name"]: d for d in rendered.of_kind("Deployment")}


def resolve_port(deployment: Obj, port: int | str) -> int:
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in container(deployment)["ports"] if "name" in p}
    assert port in named, f"no container port named {port}"
    return int(named[port])


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


def test_every_manifest_is_a_resource_except_the_secret_example(
    base: Rendered, sandbox: Rendered
) -> None:
    used = set(base.files) | set(sandbox.files)
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
@pytest.mark.parametrize("directory", [K8S, SANDBOX_OVERLAY], ids=["base", "sandbox"])
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
    source = inspect.getsource(runtime_kafka.EventProducer)
    match = re.search(r"request_timeout_ms=([\d_]+)", source)
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


# ---------------------------------------------------------------------------------------------
# Environment: every name is read, the settings validate, secrets come from Secrets


@pytest.mark.parametrize("service", list(services_conf()))
def test_every_env_name_is_read_by_the_service(
    service: str, base: Rendered, sandbox: Rendered
) -> None:
    rendered = sandbox if service in NOT_IN_PRODUCTION else base
    env = pod_env(rendered, deployments(rendered)[service])
    assert env, service
    assert unread_names(settings_class(service), list(env)) == []


def test_the_env_name_check_catches_a_typo() -> None:
    cls = settings_class("gate")
    assert unread_names(cls, ["DUNNING_GATE_PORT", "DUNNING_KAFKA_BOOTSTRAP"]) == []
    assert unread_names(cls, ["DUNNING_GATE_PROT"]) == [
        "DUNNING_GATE_PROT (did you mean DUNNING_GATE_PORT?)"
    ]
    # The ledger's fields have no aliases: its names come from the prefix.
    ledger = settings_class("ledger")
    assert unread_names(ledger, ["DUNNING_LEDGER_PORT", "DUNNING_PORT"]) == [
        "DUNNING_PORT (did you mean DUNNING_LEDGER_PORT?)"
    ]


@pytest.mark.parametrize("service", list(services_conf()))
def test_settings_validate_from_the_manifest(
    service: str, base: Rendered, sandbox: Rendered, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered = sandbox if service in NOT_IN_PRODUCTION else base
    deployment = deployments(rendered)[service]
    env = pod_env(rendered, deployment)
    cls = settings_class(service)
    settings = build_settings(cls, {k: v.value for k, v in env.items()}, monkeypatch)
    names = env_names(cls)
    # Every value given arrives in its field (a value the class would drop, or read under
    # another name, shows here).
    for name, given in env.items():
        value = getattr(settings, names[name.upper()])
        assert arrived(value, given.value), f"{service}: {name}={given.value!r} became {value!r}"
    port_names = [n for n in env if n.endswith("_PORT")]
    assert len(port_names) == 1, port_names
    assert getattr(settings, names[port_names[0]]) == services_conf()[service].port
    host_field = "host" if service in NOT_IN_PRODUCTION else "http_host"
    assert getattr(settings, host_field) == "0.0.0.0"


def arrived(value: object, given: str) -> bool:
    """Whether a settings value is what the environment string says, read as its type."""
    if isinstance(value, SecretStr):
        return value.get_secret_value() == given
    if isinstance(value, bool):
        return value == (given.strip().lower() in {"1", "true", "yes", "on"})
    if isinstance(value, int | float):
        return value == type(value)(given)
    if isinstance(value, list | dict):
        return bool(value == json.loads(given))
    return str(value) == given


@pytest.mark.parametrize("service", production_services())
def test_secrets_come_from_secrets(service: str, base: Rendered) -> None:
    env = pod_env(base, deployments(base)[service])
    cls = settings_class(service)
    names = env_names(cls)
    given_fields = {names[n.upper()]: v for n, v in env.items()}
    needed = set(secret_fields(cls))
    if uses_database(service):
        needed.add("database_url")
    for name in sorted(needed):
        assert name in given_fields, f"{service}: {name} keeps its default (a sandbox value)"
        assert given_fields[name].source.startswith("secret/"), f"{service}: {name}"
    if service == "email-ingress":
        # The ingress refuses to start without the Event Webhook key (no usable default).
        assert "sendgrid_webhook_public_key" in given_fields
    for name, value in given_fields.items():
        if value.source.startswith("configmap/"):
            assert name not in needed, f"{service}: {name} is in a ConfigMap"


def test_scheduler_and_email_share_the_unsubscribe_secret(base: Rendered) -> None:
    sources = {
        service: pod_env(base, deployments(base)[service])["DUNNING_UNSUBSCRIBE_SECRET"].source
        for service in ("scheduler", "email-ingress")
    }
    assert len(set(sources.values())) == 1
    assert next(iter(sources.values())).startswith("secret/")


USERINFO_PASSWORD = re.compile(r"://[^/@\s:]+:[^/@\s]+@")


@pytest.mark.parametrize("which", ["base", "sandbox"])
def test_no_secret_value_is_committed(which: str, base: Rendered, sandbox: Rendered) -> None:
    rendered = base if which == "base" else sandbox
    assert rendered.of_kind("Secret") == [], "Secrets are created in the cluster, not committed"
    for directory in (K8S, BASE, SANDBOX_OVERLAY):
        text = (directory / "kustomization.yaml").read_text()
        assert "secretGenerator" not in text
        assert "secret.example" not in yaml.safe_load(text).get("resources", [])
    for name, data in rendered.config_maps.items():
        for key, value in data.items():
            assert not USERINFO_PASSWORD.search(value), f"ConfigMap {name}: {key} has a password"
            assert not re.search(r"SECRET|TOKEN|PASSWORD|API_KEY", key), f"{name}: {key}"
    for deployment in rendered.of_kind("Deployment"):
        for item in container(deployment).get("env", []):
            if "value" in item:
                assert not re.search(r"SECRET|TOKEN|PASSWORD|API_KEY", item["name"])
                assert not USERINFO_PASSWORD.search(str(item["value"]))


def test_the_secret_example_holds_placeholders_only_and_each_secret_is_used(
    base: Rendered,
) -> None:
    secrets = example_secrets()
    for name, data in secrets.items():
        assert data, name
        for key, value in data.items():
            assert PLACEHOLDER in value, f"{name}.{key} must be a placeholder"
    used = {
        source["secretRef"]["name"]
        for d in base.of_kind("Deployment")
        for source in container(d).get("envFrom", [])
        if "secretRef" in source
    }
    assert used == set(secrets)


# ---------------------------------------------------------------------------------------------
# The topic Job


CREATE = re.compile(
    r'kafka-topics\.sh" --bootstrap-server "\$bootstrap" --create --if-not-exists \\\n'
    r'\s*--topic "\$\{prefix\}(?P<topic>[\w.]+)" --partitions (?P<partitions>\d+) \\\n'
)


def job_script(rendered: Rendered) -> str:
    job = rendered.find("Job", "dunning-topics")
    command = container_of_job(job)["command"]
    assert command[:2] == ["/bin/bash", "-c"]
    script: str = command[2]
    return script


def container_of_job(job: Obj) -> Obj:
    [c] = job["spec"]["template"]["spec"]["containers"]
    result: Obj = c
    return result


def job_topics(rendered: Rendered) -> dict[str, int]:
    script = job_script(rendered)
    created = [(m["topic"], int(m["partitions"])) for m in CREATE.finditer(script)]
    assert script.count("--create") == len(created), "a create command this test cannot read"
    topics = dict(created)
    assert len(topics) == len(created), "a topic is created twice"
    return topics


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


# ---------------------------------------------------------------------------------------------
# The webhook Ingress


def public_routes() -> dict[str, set[str]]:
    """Service -> the paths its webhook routers serve, read from the routers themselves."""
    from dunning_email.api import router as email_router
    from dunning_sms.api import router as sms_router

    routers: dict[str, APIRouter] = {
        "sms-ingress": sms_router(None),  # type: ignore[arg-type]
        "email-ingress": email_router(None),  # type: ignore[arg-type]
    }
    return {
        service: {getattr(route, "path", "") for route in router.routes}
        for service, router in routers.items()
    }


def test_the_ingress_routes_every_webhook_and_nothing_else(base: Rendered) -> None:
    [ingress] = base.of_kind("Ingress")
    [rule] = ingress["spec"]["rules"]
    paths = {
        p["path"]: (p["backend"]["service"]["name"], p["backend"]["service"]["port"])
        for p in rule["http"]["paths"]
    }
    for prefix, (service, port) in paths.items():
        assert service in ("sms-ingress", "email-ingress"), f"{prefix} exposes {service}"
        deployment = deployments(base)[service]
        port_value = port.get("number", port.get("name"))
        assert resolve_port(deployment, port_value) == services_conf()[service].port
    for service, routes in public_routes().items():
        assert routes
        for route in routes:
            owners = [s for prefix, (s, _) in paths.items() if route.startswith(prefix + "/")]
            assert owners == [service], f"{route} should reach {service}, reaches {owners}"
    assert not any("/health".startswith(prefix) for prefix in paths)
    assert rule["host"] in ingress["spec"]["tls"][0]["hosts"]


def test_public_addresses_name_the_ingress_host(base: Rendered) -> None:
    [ingress] = base.of_kind("Ingress")
    host = ingress["spec"]["rules"][0]["host"]
    sms_base = urlsplit(base.config_maps["dunning-sms"]["DUNNING_SMS_PUBLIC_BASE_URL"])
    unsubscribe = urlsplit(
        base.config_maps["dunning-scheduler"]["DUNNING_SCHEDULER_UNSUBSCRIBE_URL"]
    )
    assert (sms_base.scheme, sms_base.hostname) == ("https", host)
    assert (unsubscribe.scheme, unsubscribe.hostname) == ("https", host)
    assert any(
        unsubscribe.path.rstrip("/") == p["path"]
        for p in ingress["spec"]["rules"][0]["http"]["paths"]
    )


def test_the_sandbox_calls_back_into_the_cluster(sandbox: Rendered) -> None:
    env = {k: v.value for k, v in pod_env(sandbox, deployments(sandbox)["sandbox"]).items()}
    allowed = yaml.safe_load(env["DUNNING_SANDBOX_CALLBACK_ALLOWED_HOSTS"])
    sms_env = sandbox.config_maps["dunning-sms"]
    targets = [
        env["DUNNING_SANDBOX_TWILIO_INBOUND_URL"],
        env["DUNNING_SANDBOX_SENDGRID_EVENT_WEBHOOK_URL"],
        sms_env["DUNNING_SMS_PUBLIC_BASE_URL"],
    ]
    for url in targets:
        parts = urlsplit(url)
        assert parts.hostname in allowed, url
        assert parts.port == services_conf()[str(parts.hostname)].port, url
    routes = public_routes()
    assert urlsplit(targets[0]).path in routes["sms-ingress"]
    assert urlsplit(targets[1]).path in routes["email-ingress"]
    sandbox_url = f"http://sandbox:{services_conf()['sandbox'].port}"
    assert sms_env["DUNNING_SMS_TWILIO_BASE_URL"] == sandbox_url
    assert sandbox.config_maps["dunning-email"]["DUNNING_EMAIL_SENDGRID_BASE_URL"] == sandbox_url
