"""Entry point: ``python -m dunning_gate.app`` serves the compliance gate."""

from __future__ import annotations

from dunning_core.runtime.service import run_configured

from dunning_gate.bootstrap import build, load_configured_policy
from dunning_gate.config import GateSettings
from dunning_gate.policy.loader import PolicyError


def main() -> None:
    settings = GateSettings()
    run_configured(
        "compliance-gate",
        settings,
        lambda: load_configured_policy(settings),
        lambda policy: build(settings, policy=policy),
        settings.port,
        (PolicyError,),
    )


if __name__ == "__main__":
    main()
