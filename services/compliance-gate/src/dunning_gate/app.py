"""Entry point: ``python -m dunning_gate.app`` serves the compliance gate."""

from __future__ import annotations

import sys

from dunning_core.runtime.logging import configure_logging
from dunning_core.runtime.service import serve
from dunning_core.runtime.telemetry import setup_telemetry

from dunning_gate.bootstrap import build, load_configured_policy
from dunning_gate.config import GateSettings
from dunning_gate.policy.loader import PolicyError


def main() -> None:
    settings = GateSettings()
    configure_logging("compliance-gate", settings.log_level, settings.log_json)
    setup_telemetry("compliance-gate", settings)
    try:
        policy = load_configured_policy(settings)
    except PolicyError as exc:
        print(f"compliance-gate: refusing to start: {exc}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from exc
    serve(lambda: build(settings, policy=policy), settings.http_host, settings.port)


if __name__ == "__main__":
    main()
