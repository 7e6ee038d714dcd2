"""The webhook Ingress: it routes every webhook and nothing else, and the public addresses
name its host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import yaml
from fastapi import APIRouter

from .k8s import (
    Rendered,
    deployments,
    pod_env,
    resolve_port,
    services_conf,
)

# ---------------------------------------------------------------------------------------------
# The webhook Ingress


def public_routes() -> dict[str, set[str]]:
    """Service -> the paths its webhook routers serve, read from the routers themselves."""
    from dunning_email.api import router as email_router
    from dunning_portal.api import router as portal_router
    from dunning_sms.api import router as sms_router

    routers: dict[str, APIRouter] = {
        "sms-ingress": sms_router(None),  # type: ignore[arg-type]
        "email-ingress": email_router(None),  # type: ignore[arg-type]
        "portal": portal_router(None, None, None),  # type: ignore[arg-type]
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
        assert service in ("sms-ingress", "email-ingress", "portal"), f"{prefix} exposes {service}"
        deployment = deployments(base)[service]
        port_value = port.get("number", port.get("name"))
        assert resolve_port(deployment, port_value) == services_conf()[service].port
    for service, routes in public_routes().items():
        assert routes
        for route in routes:
            owners = [
                s
                for prefix, (s, _) in paths.items()
                if route == prefix or route.startswith(prefix + "/")
            ]
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
