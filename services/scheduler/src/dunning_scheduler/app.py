"""Entry point: ``python -m dunning_scheduler.app`` serves the scheduler on 127.0.0.1:8002."""

from __future__ import annotations

from dunning_core.runtime.service import run_configured
from fastapi import FastAPI

from dunning_scheduler.adapters.rendering import TemplateError
from dunning_scheduler.bootstrap import Configured, build, configured
from dunning_scheduler.config import SchedulerSettings
from dunning_scheduler.policy.loader import PolicyError


def main() -> None:
    settings = SchedulerSettings()

    def configure() -> Configured:
        return configured(settings)

    def app(given: Configured) -> FastAPI:
        return build(settings, given)

    refusals = (PolicyError, TemplateError)
    run_configured("scheduler", settings, configure, app, settings.port, refusals)


if __name__ == "__main__":
    main()
