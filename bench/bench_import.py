"""Imports at portfolio scale: a CSV of 100k and of 1M accounts streamed to a ledger running
in its own process, with that process's peak memory (and its row-checking workers'), the
CPU they used, the re-import (nothing changes), the raw COPY of the same file into a bare
table as the floor, and how long the outbox relay takes to publish the new accounts.

Each size gets a fresh ledger process (relay and consumers off: the import alone is
timed) on a free port and a database of its own, dropped afterwards. Sizes come from
BENCH_IMPORT_SIZES (default ``100000,1000000``); BENCH_IMPORT_REIMPORT_UP_TO limits
the re-import to the smaller sizes; BENCH_IMPORT_RELAY_UP_TO (default 100000) the relay
run (a ledger with its relay on, started after the imports, publishing the backlog to
the stack's Kafka). The machine's load average is recorded with the figures: on a shared
machine they move with it.
"""

from __future__ import annotations

import asyncio
import csv
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from dunning_cli.portfolio import sample_rows
from dunning_core.contracts.account_import import IMPORT_COLUMNS
from dunning_testkit.paths import ADMIN_KEY, AUTH_PEPPER, auth_headers
from dunning_testkit.stack import create_database, create_topics, drop_database

from bench.common import delete_topics, report

SIZES = [int(s) for s in os.environ.get("BENCH_IMPORT_SIZES", "100000,1000000").split(",")]
# Re-import the file at sizes up to this (on a loaded machine a 1M re-import is long).
REIMPORT_UP_TO = int(os.environ.get("BENCH_IMPORT_REIMPORT_UP_TO", str(max(SIZES))))
RELAY_UP_TO = int(os.environ.get("BENCH_IMPORT_RELAY_UP_TO", "100000"))
TEMPLATES = 10_000  # distinct sample rows; each size repeats them under new ids
CHUNK = 1024 * 1024


def write_portfolio(path: Path, count: int) -> int:
    """``count`` accounts as CSV at ``path`` (written as generated, never held); its size."""
    templates = sample_rows(TEMPLATES)
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=IMPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for n in range(1, count + 1):
            row = dict(templates[n % TEMPLATES])
            row["account_id"] = f"ACC-{n:07d}"
            row["debt_id"] = f"DEBT-{n:07d}"
            row["email"] = f"consumer.{n}@example.com"
            writer.writerow(row)
    return path.stat().st_size


def free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if not 8001 <= port <= 8010:
            return port


def peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmHWM for {pid}")


def cpu_s(pid: int) -> float:
    """CPU seconds the process has used (user + system): unlike wall time, not stretched by
    a loaded machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The processes the ledger started (its row-checking workers), recursively."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *children(int(child))]
    return found


def workers_cpu_s(pid: int) -> float:
    return sum(cpu_s(child) for child in children(pid))


def workers_peak_rss_mb(pid: int) -> float:
    return round(sum(peak_rss_mb(child) for child in children(pid)), 1)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk


class LedgerProcess:
    """``python -m dunning_ledger.app`` on a free port against ``database_url``."""

    def __init__(self, database_url: str, prefix: str, *, relay: bool = False) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "DUNNING_DATABASE_URL": database_url,
            "DUNNING_TOPIC_PREFIX": prefix,
            "DUNNING_LEDGER_PORT": str(self.port),
            "DUNNING_LEDGER_RELAY": str(relay).lower(),
            "DUNNING_LEDGER_CONSUME": "false",
            # BENCH_IMPORT_LOG_LEVEL=DEBUG: the ledger logs each merge step's time.
            "DUNNING_LOG_LEVEL": os.environ.get("BENCH_IMPORT_LOG_LEVEL", "WARNING"),
            "DUNNING_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
            "DUNNING_AUTH_PEPPER": AUTH_PEPPER,
        }
        self.process = subprocess.Popen([sys.executable, "-m", "dunning_ledger.app"], env=env)
        self.url = f"http://127.0.0.1:{self.port}"

    async def ready(self, within_s: float = 120) -> None:
        deadline = time.monotonic() + within_s
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError("the ledger process ended while starting")
                try:
                    if (await http.get(f"{self.url}/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.5)
        raise TimeoutError("the ledger did not become ready")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def post_file(url: str, path: Path) -> tuple[float, dict[str, Any]]:
    timeout = httpx.Timeout(connect=10, read=3600, write=3600, pool=10)
    async with httpx.AsyncClient(base_url=url, headers=auth_headers(), timeout=timeout) as http:
        started = time.perf_counter()
        response = await http.post(
            "/v1/accounts/import",
            content=file_chunks(path),
            headers={"content-type": "text/csv"},
        )
        seconds = time.perf_counter() - started
    assert response.status_code == 200, response.text[:2000]
    body: dict[str, Any] = response.json()
    return seconds, body


async def raw_copy_s(database_url: str, path: Path) -> float:
    """The floor: the same CSV COPYed into a bare table of text columns, no checks."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        columns = ", ".join(f'"{c}" text' for c in IMPORT_COLUMNS)
        await conn.execute(f"CREATE TABLE bare_import ({columns})")
        started = time.perf_counter()
        with path.open("rb") as source:
            await conn.copy_to_table("bare_import", source=source, format="csv", header=True)
        return time.perf_counter() - started
    finally:
        await conn.close()


async def relay_s(database_url: str, prefix: str, within_s: float = 3600) -> float:
    """A ledger with its relay on publishes the imported accounts' events to the stack's
    Kafka (topics of their own, deleted afterwards): seconds until none is left."""
    topics = await create_topics(prefix)
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    ledger = LedgerProcess(database_url, prefix, relay=True)
    started = time.perf_counter()
    try:
        await ledger.ready()
        while await conn.fetchval("SELECT count(*) FROM ledger.outbox WHERE published_at IS NULL"):
            if time.perf_counter() - started > within_s:
                raise TimeoutError("the relay did not publish the backlog")
            await asyncio.sleep(1)
        return time.perf_counter() - started
    finally:
        ledger.stop()
        await conn.close()
        await delete_topics(topics)


async def measure(size: int, path: Path) -> dict[str, Any]:
    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    url = await create_database(name)
    prefix = f"benchimport{uuid.uuid4().hex[:8]}."
    ledger = LedgerProcess(url, prefix)
    try:
        await ledger.ready()
        before = load_average()
        pid = ledger.process.pid
        cpu_before = cpu_s(pid)
        # The row-checking pool starts with the ledger, in the background: its start-up
        # is in the total, not in the import's share.
        workers_before = workers_cpu_s(pid)
        import_s, first = await post_file(ledger.url, path)
        import_cpu_s = cpu_s(pid) - cpu_before
        import_workers_cpu_s = workers_cpu_s(pid) - workers_before
        workers_total_cpu_s = workers_cpu_s(pid)
        rss_import = peak_rss_mb(pid)
        assert first["opened"] == size, first
        reimport: dict[str, Any] = {}
        if size <= REIMPORT_UP_TO:
            reimport_s, again = await post_file(ledger.url, path)
            reimport = {
                "reimport_s": round(reimport_s, 1),
                "reimport_rows_changed": again["opened"] + again["updated"],
                "ledger_peak_rss_mb_after_reimport": peak_rss_mb(pid),
            }
        workers_rss = workers_peak_rss_mb(pid)
        after = load_average()
        ledger.stop()
        copy_s = await raw_copy_s(url, path)
        relay = {"relay_s": round(await relay_s(url, prefix), 1)} if size <= RELAY_UP_TO else {}
        figures = {
            "seconds": round(import_s, 1),
            "rows_per_s": round(size / import_s),
            "ledger_cpu_s": round(import_cpu_s, 1),
            "ledger_cpu_us_per_row": round(import_cpu_s / size * 1e6),
            "workers_cpu_s": round(import_workers_cpu_s, 1),
            "workers_cpu_us_per_row": round(import_workers_cpu_s / size * 1e6),
            "workers_cpu_s_with_start": round(workers_total_cpu_s, 1),
            "ledger_peak_rss_mb": rss_import,
            "workers_peak_rss_mb": workers_rss,
            **reimport,
            **relay,
            "raw_copy_s": round(copy_s, 2),
            "ratio_import_over_raw_copy": round(import_s / copy_s, 1),
            "load_average_before": before,
            "load_average_after": after,
        }
        return {f"{key}_{_label(size)}": value for key, value in figures.items()}
    finally:
        ledger.stop()
        await drop_database(name)


def _label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


async def main() -> None:
    figures: dict[str, Any] = {"uptime_at_start": uptime()}
    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        for size in SIZES:
            path = Path(tmp) / f"accounts_{size}.csv"
            figures[f"file_mb_{_label(size)}"] = round(write_portfolio(path, size) / 1e6, 1)
            figures.update(await measure(size, path))
            path.unlink()
            figures["uptime_at_end"] = uptime()
            report("import", figures)  # after each size: a long run stopped keeps the rest


if __name__ == "__main__":
    asyncio.run(main())
