"""Reading deploy/k8s for the tests beside this module: sources of truth and a renderer.

The tests check the Kubernetes manifests against the code they deploy.

Nothing here needs a cluster or a service: the kustomizations are rendered by a small
reader of the few kustomize features they use (resources, ConfigMap generators from env
files and literals, merges, replicas, JSON patches), cross-checked with ``kubectl kustomize``
where kubectl is installed. Every check compares a manifest with its source of truth in the
repository: deploy/local/services.conf (services, ports, commands), the services' settings classes
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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from dunning_testkit.paths import service_lines
from pydantic import AliasChoices, SecretStr
from pydantic_settings import BaseSettings

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
BASE = K8S / "base"
SANDBOX_OVERLAY = K8S / "overlays" / "sandbox"
DEV_OVERLAY = K8S / "overlays" / "dev"
PROD_OVERLAY = K8S / "overlays" / "prod"
# Every kustomization a user applies: the plain production entry point and the overlays.
KUSTOMIZATIONS = {"base": K8S, "sandbox": SANDBOX_OVERLAY, "dev": DEV_OVERLAY, "prod": PROD_OVERLAY}
SECRET_EXAMPLE = K8S / "secret.example.yaml"
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
    "portal": "dunning_portal.config:PortalSettings",
    "ops": "dunning_ops.config:OpsSettings",
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
    """`services.conf` as the testkit reads it; the module is what follows `python -m`."""
    found: dict[str, ConfService] = {}
    for line in service_lines():
        command = line.command.split()
        found[line.name] = ConfService(line.name, line.port, command[command.index("-m") + 1])
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
    "replicas",
    "patches",
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
    for patch in kustomization.get("patches", []):
        target = patch["target"]
        matched = [
            o
            for o in out.objects
            if o["kind"] == target["kind"] and o["metadata"]["name"] == target["name"]
        ]
        assert matched, f"{directory}: a patch matches nothing: {target}"
        for obj in matched:
            json_patch(obj, yaml.safe_load(patch["patch"]))
    for replicas in kustomization.get("replicas", []):
        [deployment] = [
            o
            for o in out.objects
            if o["kind"] == "Deployment" and o["metadata"]["name"] == replicas["name"]
        ]
        deployment["spec"]["replicas"] = replicas["count"]
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


def json_patch(obj: Obj, operations: list[Obj]) -> None:
    """RFC 6902 add, replace and remove on mapping paths (what the overlays use)."""
    for operation in operations:
        *parents, last = operation["path"].strip("/").split("/")
        node = obj
        for key in parents:
            node = node[key]
        if operation["op"] == "remove":
            del node[last]
        else:
            assert operation["op"] in ("add", "replace"), f"teach json_patch {operation['op']}"
            node[last] = operation["value"]


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
