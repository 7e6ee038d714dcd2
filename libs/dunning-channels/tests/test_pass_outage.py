"""A periodic pass (parked retries, reconciliation) during a Redis outage: a few lines, not a
traceback every poll."""

from __future__ import annotations

import asyncio
import logging

import pytest
from dunning_channels.service.retries import every
from redis.exceptions import ConnectionError as RedisConnectionError


async def test_an_outage_is_logged_once_and_its_end_once(caplog: pytest.LogCaptureFixture) -> None:
    stopping = asyncio.Event()
    passes = 0

    async def one_pass() -> None:
        nonlocal passes
        passes += 1
        if passes >= 60:
            stopping.set()
        if passes < 50:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:26379.")

    with caplog.at_level(logging.INFO, logger="dunning_channels.service.retries"):
        await every(0.001, one_pass, stopping, "retry pass failed")
    lines = [r.getMessage() for r in caplog.records]
    assert passes >= 60
    assert lines == ["outage started", "outage ended"], lines
    assert not any(r.exc_info for r in caplog.records)


async def test_a_bug_still_gets_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    stopping = asyncio.Event()

    async def one_pass() -> None:
        stopping.set()
        raise KeyError("not an outage")

    with caplog.at_level(logging.INFO, logger="dunning_channels.service.retries"):
        await every(0.001, one_pass, stopping, "retry pass failed")
    assert [r.exc_info is not None for r in caplog.records] == [True]
