"""The provider's circuit breaker, on a fake clock (seconds passed in)."""

from __future__ import annotations

from dunning_channels.domain import (
    Accepted,
    BreakerState,
    CircuitBreaker,
    Rejected,
    Unavailable,
    provider_answered,
)
from dunning_testkit.channels import FakeWall


def breaker() -> CircuitBreaker:
    return CircuitBreaker(window=10, min_calls=4, failure_ratio=0.5, open_s=30.0)


def opened() -> tuple[FakeWall, CircuitBreaker]:
    """A breaker that four failed calls opened, and its wall clock."""
    wall, circuit = FakeWall(), breaker()
    for _ in range(4):
        circuit.allow(wall())
        circuit.record(False, wall())
    return wall, circuit


def test_it_opens_when_half_the_recent_calls_failed_once_there_are_enough() -> None:
    wall, circuit = FakeWall(), breaker()
    for ok in (False, False, False):
        assert circuit.allow(wall())
        circuit.record(ok, wall())
    assert circuit.state is BreakerState.CLOSED  # three calls are too few to judge
    circuit.record(True, wall())
    # mypy keeps circuit.state narrowed by an earlier assert across record(): the ignores
    assert circuit.state is BreakerState.OPEN  # type: ignore[comparison-overlap]  # 3 of 4 failed
    assert not circuit.allow(wall())
    assert circuit.retry_in(wall()) == 30.0
    assert circuit.snapshot(wall())["state"] == "open"


def test_a_few_failures_among_many_successes_keep_it_closed() -> None:
    wall, circuit = FakeWall(), breaker()
    for n in range(100):
        assert circuit.allow(wall())
        circuit.record(n % 5 != 0, wall())  # one call in five fails
    assert circuit.state is BreakerState.CLOSED


def test_after_open_s_one_probe_goes_through_and_its_success_closes_it() -> None:
    wall, circuit = opened()
    wall.advance(29.9)
    assert not circuit.allow(wall())
    wall.advance(0.1)
    assert circuit.allow(wall())  # the probe
    assert circuit.state is BreakerState.HALF_OPEN
    assert not circuit.allow(wall())  # one probe at a time
    circuit.record(True, wall())
    assert circuit.state is BreakerState.CLOSED  # type: ignore[comparison-overlap]
    assert circuit.allow(wall())


def test_a_failed_probe_opens_it_for_another_period() -> None:
    wall, circuit = opened()
    wall.advance(30)
    assert circuit.allow(wall())
    circuit.record(False, wall())
    assert circuit.state is BreakerState.OPEN
    assert circuit.times_opened == 2
    wall.advance(29)
    assert not circuit.allow(wall())
    wall.advance(1)
    assert circuit.allow(wall())


def test_calls_that_left_before_it_opened_do_not_count_after() -> None:
    wall, circuit = opened()
    circuit.record(True, wall())  # a late answer of a call made while closed
    assert circuit.state is BreakerState.OPEN


def test_a_rate_limit_answer_shows_the_provider_working() -> None:
    assert provider_answered(Accepted("SM1"))
    assert provider_answered(Rejected("21211", "invalid number"))
    assert provider_answered(Unavailable("rate_limited", "429", retry_after_s=1))
    assert not provider_answered(Unavailable("server_error", "500"))
    assert not provider_answered(Unavailable("network", "ConnectionRefused"))
