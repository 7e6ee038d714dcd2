"""Entry point: ``python -m dunning_scheduler.app`` serves the scheduler on 127.0.0.1:8002."""

from __future__ import annotations

import sys

from dunning_core.runtime.logging import configure_logging
from dunning_core.runtime.service import serve
from dunning_core.runtime.telemetry import setup_telemetry

from dunning_scheduler.adapters.rendering import TemplateError, build_renderer
from dunning_scheduler.bootstrap import build, load_configured_policy
from dunning_scheduler.config import SchedulerSettings
from dunning_scheduler.policy.loader import PolicyError


def main() -> None:
    settings = SchedulerSettings()
    configure_logging("scheduler", settings.log_level, settings.log_json)
    setup_telemetry("scheduler", settings)
    try:
        renderer = build_renderer(settings)
        policy = load_configured_policy(settings, renderer)
    except (PolicyError, TemplateError) as exc:
        print(f"scheduler: refusing to start: {exc}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from exc
    serve(
        lambda: build(settings, policy=policy, renderer=renderer),
        settings.http_host,
        settings.port,
    )


if __name__ == "__main__":
    main()
