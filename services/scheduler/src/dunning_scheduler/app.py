"""Entry point: ``python -m dunning_scheduler.app`` serves the scheduler on 127.0.0.1:8002."""

from __future__ import annotations

from dunning_core.runtime.service import run_configured
from fastapi import FastAPI

from dunning_scheduler.adapters.rendering import Renderer, TemplateError, build_renderer
from dunning_scheduler.bootstrap import build, load_configured_policy
from dunning_scheduler.config import SchedulerSettings
from dunning_scheduler.policy.loader import PolicyError
from dunning_scheduler.policy.model import EscalationPolicy


def main() -> None:
    settings = SchedulerSettings()

    def configure() -> tuple[Renderer, EscalationPolicy]:
        renderer = build_renderer(settings)
        return renderer, load_configured_policy(settings, renderer)

    def app(configured: tuple[Renderer, EscalationPolicy]) -> FastAPI:
        renderer, policy = configured
        return build(settings, policy=policy, renderer=renderer)

    refusals = (PolicyError, TemplateError)
    run_configured("scheduler", settings, configure, app, settings.port, refusals)


if __name__ == "__main__":
    main()
