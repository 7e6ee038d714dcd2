"""docker-compose.yml, checked without a Docker engine: the Compose specification's JSON
schema (the copy check-jsonschema ships, pinned in uv.lock), and every service against the code
it runs: services.conf's commands and ports, the settings classes' variable names, a value for
every setting whose default would point a container at itself or keep a placeholder secret.
"""

from __future__ import annotations

import importlib.resources
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from dunning_core.runtime.settings import ApiKeySettings
from pydantic import SecretStr

from .k8s import (
    KAFKA_IMAGE,
    REPO,
    arrived,
    build_settings,
    env_names,
    secret_fields,
    services_conf,
    settings_class,
    unread_names,
    uses_database,
)
from .test_k8s_topics_job import load_generator

COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
COLLECTOR_CONFIG = REPO / "deploy" / "compose" / "otel-collector.yaml"
PROMETHEUS_CONFIG = REPO / "deploy" / "compose" / "prometheus.yml"
SANDBOX_URL = "http://sandbox:8010"
# Standard variables of the OpenTelemetry SDK (not DUNNING_*: no settings class reads them).
OTEL_NAMES = {"OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL"}
# Read by the entrypoint of the email services (python -m dunning_sandbox.public_key).
SIGNING_KEY_PATH = "DUNNING_SANDBOX_SENDGRID_SIGNING_KEY_PATH"
INFRASTRUCTURE = {"kafka", "topics", "redis", "postgres", "otel-collector", "jaeger", "prometheus"}
# What .env gives in these tests (the real .env is never committed).
DOT_ENV = {
    "POSTGRES_PASSWORD": "example-password",
    "DUNNING_UNSUBSCRIBE_SECRET": "0123456789abcdef0123456789abcdef",
    "DUNNING_AUTH_PEPPER": "fedcba9876543210fedcba9876543210",
    "DUNNING_BOOTSTRAP_ADMIN_KEY": "00112233445566778899aabbccddeeff",
    "DUNNING_PAYLINK_KEY": "0f1e2d3c4b5a69780f1e2d3c4b5a6978",
    "DUNNING_METRICS_TOKEN": "8899aabbccddeeff0011223344556677",
}

Obj = dict[str, Any]
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:[-?])(?P<arg>[^}]*))?\}")


def compose() -> Obj:
    loaded: Obj = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's interpolation: ${X}, ${X:-default}, ${X:?error}; $$ is a literal $."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg if op == ":-" else ""

    parts = value.split("$$")
    return "$".join(VARIABLE.sub(one, part) for part in parts)


def environment(service: Obj, env: Mapping[str, str] = DOT_ENV) -> dict[str, str]:
    given = service.get("environment", {})
    assert isinstance(given, dict), "environment as a mapping"
    return {k: interpolate(str(v), env) for k, v in given.items()}


def dunning_services() -> dict[str, Obj]:
    return {n: s for n, s in compose()["services"].items() if n in services_conf()}


def depends(service: Obj) -> dict[str, str]:
    return {name: dep["condition"] for name, dep in service.get("depends_on", {}).items()}


# ---------------------------------------------------------------------------------------------
# The specification


def compose_schema() -> Obj:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: Obj = json.loads((vendor / "compose-spec.json").read_text())
    return schema


def schema_errors(document: Obj) -> list[str]:
    validator = jsonschema.Draft202012Validator(compose_schema())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def test_the_file_follows_the_compose_specification() -> None:
    assert compose_schema()["title"] == "Compose Specification"
    assert schema_errors(compose()) == []


def test_the_schema_check_catches_a_misspelt_key() -> None:
    broken = compose()
    broken["services"]["ledger"]["depends_on"]["postgres"]["condition"] = "service_ready"
    broken["services"]["gate"]["helthcheck"] = {"test": ["CMD", "true"]}
    errors = schema_errors(broken)
    assert any("ledger/depends_on" in e for e in errors), errors
    assert any("helthcheck" in e for e in errors), errors


# ---------------------------------------------------------------------------------------------
# Every service as services.conf says, from the one image


def test_every_service_of_services_conf_runs_with_its_command_and_port() -> None:
    services = dunning_services()
    assert set(services) == set(services_conf())
    for name, conf in services_conf().items():
        service = services[name]
        assert service["command"] == ["python", "-m", conf.module], name
        assert service["image"] == "dunning:local", name
        assert service["build"]["dockerfile"] == "deploy/docker/Dockerfile"
        assert (REPO / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
        probe = service["healthcheck"]["test"]
        assert f"'http://127.0.0.1:{conf.port}/health'" in probe[-1], name
        ports = [v for k, v in environment(service).items() if k.endswith("_PORT")]
        assert ports == [str(conf.port)], name


def test_only_the_ledger_the_dashboard_and_the_tools_are_published_on_loopback() -> None:
    published = {
        name: [str(p) for p in service.get("ports", [])]
        for name, service in compose()["services"].items()
        if service.get("ports")
    }
    conf = services_conf()
    assert published.pop("ledger") == [f"127.0.0.1:{conf['ledger'].port}:{conf['ledger'].port}"]
    assert published.pop("ops") == [f"127.0.0.1:{conf['ops'].port}:{conf['ops'].port}"]
    assert set(published) == {"kafka", "jaeger", "prometheus"}
    for name, ports in published.items():
        assert all(p.startswith("127.0.0.1:") for p in ports), name


def test_images_are_pinned_and_kafka_is_the_official_image() -> None:
    services = compose()["services"]
    assert services["kafka"]["image"] == KAFKA_IMAGE
    assert services["topics"]["image"] == KAFKA_IMAGE
    kafka = environment(services["kafka"])
    assert set(kafka["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}, "KRaft"
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for name, service in services.items():
        image = service["image"]
        tag = image.rsplit(":", 1)[1] if ":" in image else ""
        assert tag not in ("", "latest"), f"{name}: pin {image}"


# ---------------------------------------------------------------------------------------------
# Environment: every name read, every value arrives, nothing left pointing at loopback


@pytest.mark.parametrize("service", list(services_conf()))
def test_every_env_name_is_read_by_the_service(service: str) -> None:
    names = [n for n in environment(dunning_services()[service]) if n not in OTEL_NAMES]
    if service in ("email", "email-ingress"):
        names.remove(SIGNING_KEY_PATH)
    assert unread_names(settings_class(service), names) == []


def loopback_default(value: object) -> bool:
    return any(host in str(value) for host in ("127.0.0.1", "localhost"))


def needed_fields(service: str) -> set[str]:
    """Fields whose default is unsafe here: an address of the container itself, a placeholder
    or missing secret (the sandbox's fake provider credentials are fine with the sandbox)."""
    cls = settings_class(service)
    needed = set()
    for name, info in cls.model_fields.items():
        default = info.get_default(call_default_factory=True)
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        # The shared auth secrets have no default; optional ones of a service may stay unset.
        shared = name in ApiKeySettings.model_fields and default is None
        placeholder = shared or "change-me" in str(default)
        if loopback_default(default) or name.endswith("host"):
            needed.add(name)
        if name in secret_fields(cls) and placeholder:
            needed.add(name)
    if not uses_database(service):
        needed.discard("database_url")
    return needed


@pytest.mark.parametrize("service", list(services_conf()))
def test_settings_validate_from_the_compose_environment(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = environment(dunning_services()[service])
    if service != "sandbox":
        env.pop(SIGNING_KEY_PATH, None)
    env = {k: v for k, v in env.items() if k not in OTEL_NAMES}
    cls = settings_class(service)
    settings = build_settings(cls, env, monkeypatch)
    names = env_names(cls)
    for name, given in env.items():
        value = getattr(settings, names[name.upper()])
        assert arrived(value, given), f"{service}: {name}={given!r} became {value!r}"
    given_fields = {names[n.upper()] for n in env}
    if service in ("email", "email-ingress"):
        given_fields.add("sendgrid_webhook_public_key")  # by the entrypoint, below
    missing = needed_fields(service) - given_fields
    assert not missing, f"{service} keeps unsafe defaults for {sorted(missing)}"
    for name in names.values():
        if name.endswith("_base_url") and "api." in str(cls.model_fields[name].default):
            assert getattr(settings, name) == SANDBOX_URL, f"{service}: {name} not the sandbox"


def test_the_needed_fields_include_the_infrastructure_and_the_secrets() -> None:
    assert {"kafka_bootstrap", "redis_url", "database_url", "http_host", "auth_pepper"} <= (
        needed_fields("ledger")
    )
    assert "database_url" not in needed_fields("gate")
    assert {"unsubscribe_secret", "public_base_url"} <= needed_fields("scheduler") | (
        needed_fields("sms")
    )
    assert "twilio_auth_token" not in needed_fields("sms")  # the sandbox's own credential


def test_the_email_services_take_the_sandbox_key_unless_env_gives_sendgrids() -> None:
    services = compose()["services"]
    key_path = environment(services["sandbox"])[SIGNING_KEY_PATH]
    for name in ("email", "email-ingress"):
        service = services[name]
        entry = service["entrypoint"]
        assert entry[:2] == ["/bin/sh", "-c"]
        assert entry[-1] == "--"
        script = interpolate(entry[2], {})
        derived = "$(python -m dunning_sandbox.public_key)"
        assert f'"${{DUNNING_EMAIL_SENDGRID_WEBHOOK_PUBLIC_KEY:-{derived}}}"' in script
        assert script.rstrip().endswith('exec "$@"')
        assert environment(service)[SIGNING_KEY_PATH] == key_path
        assert "sandbox-key:/var/lib/dunning/sandbox:ro" in service["volumes"]
        assert depends(service)["sandbox"] == "service_healthy"
    assert depends(services["sandbox"]) == {"sandbox-key": "service_completed_successfully"}


# ---------------------------------------------------------------------------------------------
# Secrets through .env only


def test_no_secret_is_written_in_the_file() -> None:
    secretish = re.compile(r"SECRET|TOKEN|PASSWORD|API_KEY|PEPPER|ADMIN_KEY")
    required = set()
    for name, service in compose()["services"].items():
        for key, value in service.get("environment", {}).items():
            text = str(value)
            if secretish.search(key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", text), f"{name}: {key} not from .env"
            for match in VARIABLE.finditer(text):
                if match["op"] == ":?":
                    required.add(match["name"])
            assert not re.search(r"://[^/@\s:]+:[^$/@\s]+@", text), f"{name}: {key}"
        if "build" in service:  # the project's image: .env is passed whole, if there is one
            assert service["env_file"] == [{"path": ".env", "required": False}], name
    assert required == set(DOT_ENV)
    example = ENV_EXAMPLE.read_text()
    for name in required:
        assert re.search(rf"^#? ?{name}=", example, re.M), f".env.example does not explain {name}"
    assert ".env" in (REPO / ".gitignore").read_text().split()
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        environment(compose()["services"]["postgres"], {})


# ---------------------------------------------------------------------------------------------
# Start order


def test_start_order_is_health_gated_and_topics_come_first() -> None:
    services = compose()["services"]
    for name, service in services.items():
        for dep, condition in depends(service).items():
            assert dep in services, f"{name} waits for unknown {dep}"
            if condition == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep}'s health"
            elif condition == "service_completed_successfully":
                assert services[dep].get("restart", "no") == "no", f"{dep} must run once"
    assert depends(services["topics"]) == {"kafka": "service_healthy"}

    def before(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        assert name not in seen, f"a cycle through {name}"
        found = set(depends(services[name]))
        for dep in list(found):
            found |= before(dep, seen | {name})
        return found

    for name in set(services_conf()) - {"sandbox"}:
        assert "topics" in before(name), f"{name} may start before the topics exist"
        # The ledger keeps its state in PostgreSQL; the portal keeps none (it calls the ledger).
        stateless = name in ("ledger", "portal")
        needs = {"postgres"} if uses_database(name) else {"redis"} if not stateless else set()
        assert needs <= before(name), f"{name} may start before {needs}"


def test_the_topics_step_runs_the_generated_script() -> None:
    topics = compose()["services"]["topics"]
    [mount] = topics["volumes"]
    source, target, mode = mount.split(":")
    assert mode == "ro"
    assert topics["command"] == ["/bin/bash", target]
    generator = load_generator()
    expected = generator.compose_script(generator.read_topics(generator.TOPICS_CONF.read_text()))
    assert (REPO / source).read_text() == expected, "run: uv run python deploy/k8s/topics_job.py"
    env = environment(topics)
    for name in re.findall(r'"\$([A-Z][A-Z0-9_]*)"', expected):
        assert name in env, name
    assert env["DUNNING_KAFKA_BOOTSTRAP"] == "kafka:9092"


# ---------------------------------------------------------------------------------------------
# Traces and metrics: the services, the collector, Jaeger and Prometheus agree


def test_collector_jaeger_and_prometheus_are_wired() -> None:
    services = compose()["services"]
    collector = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    http = collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    for name in services_conf():
        if name == "sandbox":
            continue
        env = environment(services[name])
        endpoint = urlsplit(env["OTEL_EXPORTER_OTLP_ENDPOINT"])
        assert (endpoint.hostname, endpoint.port) == ("otel-collector", int(http.rsplit(":")[-1]))
        assert env["OTEL_SERVICE_NAME"] == name
    jaeger = collector["exporters"]["otlp/jaeger"]["endpoint"]
    assert jaeger.split(":")[0] in services
    exporter_port = collector["exporters"]["prometheus"]["endpoint"].rsplit(":")[-1]
    scraped = [
        target
        for job in yaml.safe_load(PROMETHEUS_CONFIG.read_text())["scrape_configs"]
        for config in job["static_configs"]
        for target in config["targets"]
    ]
    assert f"otel-collector:{exporter_port}" in scraped
    mounted = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    assert {"./deploy/compose/otel-collector.yaml", "./deploy/compose/prometheus.yml"} <= mounted
    assert set(services) == INFRASTRUCTURE | set(services_conf()) | {"sandbox-key"}
