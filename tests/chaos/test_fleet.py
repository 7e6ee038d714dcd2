"""The chaos fleet's orchestrator: a replica that exits on its own is started again, one a
fault stopped on purpose is not (no stack needed: plain processes)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from dunning_email.config import EmailSettings
from dunning_sms.config import SmsSettings

from tests.chaos.fleet import BROKERS, Fleet, Replica
from tests.chaos.pipeline import base_env


def replica(tmp_path: Path, index: int, command: str) -> Replica:
    return Replica("svc", index, 0, command, dict(os.environ), tmp_path / f"svc-{index}.log")


def test_a_replica_that_exits_is_started_again_and_a_killed_one_is_not(tmp_path: Path) -> None:
    exits = replica(tmp_path, 0, "true")
    killed = replica(tmp_path, 1, "sleep 30")
    fleet = Fleet({"svc": [exits, killed]})
    exits.start()
    killed.start()
    try:
        for _ in range(50):
            if not exits.running():
                break
            time.sleep(0.1)
        killed.kill(signal.SIGKILL)  # a fault: the orchestrator is not to bring it back

        assert fleet.restart_exited() == ["svc-0"]
        assert exits.crashes == 1
        assert exits.starts == 2
        assert killed.starts == 1
        assert not killed.running()
    finally:
        fleet.stop_all()


def test_the_channels_journals_are_replicated_as_the_runs_topics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With one replica, the journal partitions of the broker a fault killed had no leader:
    # sms-0, restarted meanwhile, stayed in its start (reading the journal) for 80 s, and
    # every send of the other replica whose intent went there waited as long.
    env = base_env("p.", "db", 3600, 0.0, tmp_path / "key.pem")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert BROKERS == 3
    assert SmsSettings().journal_replication == BROKERS  # old code: 1
    assert EmailSettings().journal_replication == BROKERS
