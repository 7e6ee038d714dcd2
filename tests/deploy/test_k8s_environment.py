"""What each pod reads: every environment name is read by its service, the settings
validate from the manifest, and secrets come from Secrets with no value committed.
"""

from __future__ import annotations

import re

import pytest
import yaml

from .k8s import (
    BASE,
    K8S,
    NOT_IN_PRODUCTION,
    PLACEHOLDER,
    SANDBOX_OVERLAY,
    Rendered,
    arrived,
    build_settings,
    container,
    deployments,
    env_names,
    example_secrets,
    pod_env,
    production_services,
    secret_fields,
    services_conf,
    settings_class,
    unread_names,
    uses_database,
)

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
