"""The chaos run's processes: the separate stack (deploy/local/cluster.sh) and the services.

Every service of ``deploy/local/services.conf`` but the provider sandbox runs as two replicas
on ports 8101-8119 (the sandbox, the checker's witness, runs once on 8120 and is never
killed: its record lives in memory). Each replica leads its own process group, so a
``kill -9`` reaches ``uv run``'s python child too; only groups started here are signalled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from dunning_testkit.paths import LOCAL, REPO, env_file, service_lines

CLUSTER_SH = LOCAL / "cluster.sh"
SANDBOX_PORT = 8120
REPLICAS = 2


CLUSTER = env_file("cluster.env")
BROKERS = int(CLUSTER["KAFKA_BROKERS"])
KAFKA = ",".join(f"127.0.0.1:{int(CLUSTER['KAFKA_PORT']) + 100 * n}" for n in range(BROKERS))
REDIS_URL = f"redis://127.0.0.1:{CLUSTER['REDIS_PORT']}/0"
PG_ADMIN_DSN = f"postgresql://dunning:dunning@127.0.0.1:{CLUSTER['PG_PORT']}/dunning"


def pg_dsn(database: str) -> str:
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{database}"


def cluster(*args: str, state_dir: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs ``cluster.sh <args>`` (the separate stack's own script); output captured."""
    env = {**os.environ, "DUNNING_STATE_DIR": str(state_dir)}
    return subprocess.run(
        ["bash", str(CLUSTER_SH), *args], cwd=REPO, env=env, check=check,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@dataclass
class Replica:
    service: str
    index: int
    port: int
    command: str
    env: dict[str, str]
    log: Path
    pgid: int | None = None
    starts: int = 0
    wanted: bool = False  # the orchestrator keeps it running (a fault stops it on purpose)
    crashes: int = 0  # times it exited on its own and was started again

    @property
    def name(self) -> str:
        return f"{self.service}-{self.index}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.wanted = True
        if self.running():
            return
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n=== start {self.starts} at {time.time():.3f}\n".encode())
            proc = subprocess.Popen(
                ["bash", "-c", f"exec {self.command}"], cwd=REPO, env=self.env,
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        self.pgid = proc.pid

    def running(self) -> bool:
        if self.pgid is None:
            return False
        try:
            os.killpg(self.pgid, 0)
        except ProcessLookupError:
            self.pgid = None
            return False
        return _group_has_live_member(self.pgid)

    def kill(self, sig: signal.Signals = signal.SIGKILL, wait_s: float = 15.0) -> None:
        self.wanted = False
        if self.pgid is None:
            return
        try:
            os.killpg(self.pgid, sig)
        except ProcessLookupError:
            self.pgid = None
            return
        deadline = time.monotonic() + wait_s
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.running():
            os.killpg(self.pgid, signal.SIGKILL)
            time.sleep(0.5)
        self.pgid = None

    def health(self) -> str:
        """What /health says is wrong (its failing parts), or why it does not answer."""
        try:
            body = httpx.get(f"{self.url}/health", timeout=2).json()
        except (httpx.HTTPError, ValueError) as exc:
            return f"no answer ({type(exc).__name__})"
        if not isinstance(body, dict):
            return str(body)[:200]
        failing = {
            k: v.get("error") or v.get("last_error")
            for k, v in body.items()
            if isinstance(v, dict) and v.get("ok") is False
        }
        return str(failing or body)[:300]

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False


def _group_has_live_member(pgid: int) -> bool:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


@dataclass
class Fleet:
    """Every replica of the run, by service."""

    replicas: dict[str, list[Replica]] = field(default_factory=dict)

    @classmethod
    def build(cls, base_env: dict[str, str], state_dir: Path) -> Fleet:
        fleet = cls()
        (state_dir / "logs").mkdir(parents=True, exist_ok=True)
        consumers = [s for s in service_lines() if s.name != "sandbox"]
        for line in service_lines():
            ports = (
                [SANDBOX_PORT]
                if line.name == "sandbox"
                else [8101 + consumers.index(line) + 10 * r for r in range(REPLICAS)]
            )
            for index, port in enumerate(ports):
                own = state_dir / "run" / f"{line.name}-{index}"
                own.mkdir(parents=True, exist_ok=True)
                env = {
                    **base_env,
                    f"DUNNING_{line.name.upper().replace('-', '_')}_PORT": str(port),
                    "DUNNING_SERVICE": f"{line.name}-{index}",
                    "DUNNING_STATE_DIR": str(own),
                    "PYTHONUNBUFFERED": "1",
                }
                replica = Replica(
                    line.name, index, port, line.command, env,
                    state_dir / "logs" / f"{line.name}-{index}.log",
                )  # fmt: skip
                fleet.replicas.setdefault(line.name, []).append(replica)
        return fleet

    def url(self, service: str, index: int = 0) -> str:
        return f"http://127.0.0.1:{self.port(service, index)}"

    def port(self, service: str, index: int = 0) -> int:
        if service == "sandbox":
            return SANDBOX_PORT
        consumers = [s.name for s in service_lines() if s.name != "sandbox"]
        return 8101 + consumers.index(service) + 10 * index

    def all(self) -> list[Replica]:
        return [r for group in self.replicas.values() for r in group]

    def killable(self) -> list[Replica]:
        return [r for r in self.all() if r.service != "sandbox"]

    def start_all(self, timeout_s: float = 180.0) -> float:
        """Starts every replica (the ledger's first alone: it migrates); seconds to healthy."""
        started = time.monotonic()
        first = self.replicas["ledger"][0]
        first.start()
        self.wait_healthy([first], timeout_s)
        for replica in self.all():
            replica.start()
        self.wait_healthy(self.all(), timeout_s)
        return time.monotonic() - started

    def restart_exited(self) -> list[str]:
        """Start again every replica that exited on its own (a service that cannot reach its
        database at startup exits): the orchestrator's ``restartPolicy: Always``. Returns
        the names restarted."""
        restarted = []
        for replica in self.all():
            if replica.wanted and not replica.running():
                replica.crashes += 1
                replica.start()
                restarted.append(replica.name)
        return restarted

    def wait_healthy(self, replicas: list[Replica], timeout_s: float) -> float | None:
        """Seconds until every replica answers /health 200, None if not within timeout_s."""
        started = time.monotonic()
        pending = list(replicas)
        while pending and time.monotonic() - started < timeout_s:
            pending = [r for r in pending if not r.healthy()]
            if pending:
                time.sleep(0.5)
        return None if pending else time.monotonic() - started

    def stop_all(self) -> None:
        for replica in self.all():
            if replica.pgid is not None:
                try:
                    os.killpg(replica.pgid, signal.SIGTERM)
                except ProcessLookupError:
                    replica.pgid = None
        for replica in self.all():
            replica.kill(signal.SIGTERM, wait_s=10)
