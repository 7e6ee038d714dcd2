"""Settings: shared variables keep their shared names, the scheduler's own are prefixed."""

from __future__ import annotations

import pytest
from dunning_scheduler.config import SchedulerSettings


def test_shared_and_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUNNING_CLOCK_SPEED", "60")
    monkeypatch.setenv("DUNNING_TOPIC_PREFIX", "t1.")
    monkeypatch.setenv("DUNNING_SCHEDULER_PORT", "9002")
    monkeypatch.setenv("DUNNING_SCHEDULER_PLANNER_BATCH", "250")
    monkeypatch.setenv("DUNNING_UNSUBSCRIBE_SECRET", "shared")
    monkeypatch.setenv("PORT", "1")
    settings = SchedulerSettings()
    assert settings.clock_speed == 60
    assert settings.topic_prefix == "t1."
    assert settings.port == 9002
    assert settings.planner_batch == 250
    assert settings.unsubscribe_secret.get_secret_value() == "shared"
    assert SchedulerSettings(port=8102).port == 8102


def test_the_unsubscribe_url_must_be_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUNNING_SCHEDULER_UNSUBSCRIBE_URL", "http://insecure.example.com/u")
    with pytest.raises(ValueError, match="https"):
        SchedulerSettings()
