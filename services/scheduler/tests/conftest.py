"""The scheduler's use cases over in-memory ports, for the service tests."""

from __future__ import annotations

import pytest
from dunning_core.runtime.clock import FixedClock
from dunning_scheduler.adapters.rendering import Renderer
from dunning_scheduler.policy.loader import default_policy
from dunning_scheduler.service import Scheduler
from dunning_testkit.scheduler import IDENTITY, NOW, MemoryCaseStore, RecordingPublisher


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def store() -> MemoryCaseStore:
    return MemoryCaseStore()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def scheduler(
    store: MemoryCaseStore, publisher: RecordingPublisher, clock: FixedClock
) -> Scheduler:
    return Scheduler(store, publisher, Renderer(IDENTITY), default_policy(), clock)
