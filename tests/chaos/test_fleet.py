"""The chaos fleet's orchestrator: a replica that exits on its own is started again, one a
fault stopped on purpose is not (no stack needed: plain processes)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.chaos.fleet import Fleet, Replica


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
