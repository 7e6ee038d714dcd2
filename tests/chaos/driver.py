"""The chaos driver: the whole pipeline on a separate stack, under faults, then the checker.

1. ``deploy/local/cluster.sh up``: a three-broker KRaft cluster, Redis and PostgreSQL of its
   own (never the shared local stack); the run's topics with replication factor 3.
2. Every service of ``services.conf`` twice (the sandbox once), one accelerated clock.
3. The portfolio (``dunning portfolio``'s generator) imported through the ledger's API.
4. While it runs: consumers text STOP, pay, dispute, ask to cease; the driver injects, one at
   a time at random moments, every kind of fault of ``faults.Injector``.
5. After the last fault it drains (bounded): every replica healthy, every consumer group
   caught up with what its topics held, no parked retry, the sandbox's callbacks delivered,
   caught up again; then it stops
   the services but the sandbox and runs the independent checker (``checker.py``).
   Meanwhile a replica that exits on its own is started again, as k8s would.
6. Figures to ``--out`` (flat keys) and a table; the checker's examples to the run's folder.

``python -m tests.chaos.driver --accounts 20000 --run-seconds 600`` is the full run
(``make chaos``); the short form (``test_chaos.py``) passes a small portfolio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
from dunning_cli.portfolio import sample_rows
from dunning_core.contracts.account_import import to_csv
from dunning_testkit.paths import REPO

from tests.chaos.balancer import Balancer
from tests.chaos.checker import Facts, check, table
from tests.chaos.drain import Drain
from tests.chaos.faults import FaultLog, Injector
from tests.chaos.fleet import KAFKA, Fleet, cluster, pg_dsn
from tests.chaos.pipeline import (
    BALANCER_PORTS,
    CLOCK_START,
    SMS_NUMBER,
    STATE_DIR,
    base_env,
    committed_offsets,
    group_lags,
    prepare,
    webhook_receiver,
)
from tests.chaos.witness import sandbox_record


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.run_id = f"chaos{int(time.time())}"
        self.prefix = f"{self.run_id}."
        self.database = self.run_id
        self.folder = STATE_DIR / "runs" / self.run_id
        self.log = FaultLog()
        self.payments: list[dict[str, Any]] = []
        self.opt_outs: list[dict[str, Any]] = []
        self.workers_at_end: dict[str, Any] = {}  # what each channel worker said at the end

    async def ledger(self, http: httpx.AsyncClient, method: str, path: str, **kw: Any) -> bool:
        """A request to whichever ledger replica answers (an operator retries); True if 2xx."""
        for attempt in range(6):
            url = self.fleet.url("ledger", attempt % 2)
            try:
                response = await http.request(method, url + path, **kw)
                if response.status_code < 300:
                    return True
                if response.status_code < 500:
                    return False
            except httpx.HTTPError:
                pass
            await asyncio.sleep(1 + attempt)
        return False

    async def import_portfolio(self, http: httpx.AsyncClient, rows: list[dict[str, str]]) -> None:
        for n in range(0, len(rows), 500):
            body = to_csv(rows[n : n + 500]).encode()
            ok = await self.ledger(
                http, "POST", "/v1/accounts/import", content=body,
                headers={"content-type": "text/csv"},
            )  # fmt: skip
            if not ok:
                raise RuntimeError(f"the ledger refused the import of rows {n}..{n + 500}")

    async def consumers_act(self, http: httpx.AsyncClient, rows: list[dict[str, str]]) -> None:
        """STOP texts, payments, disputes and a cease, at random moments over the run."""
        actions: list[tuple[str, dict[str, str]]] = []
        actions += [("stop", r) for r in rows[24::25]]
        actions += [("pay", r) for r in rows[9::30]]
        actions += [("disputed", r) for r in rows[14::33]]
        actions += [("cease_requested", r) for r in rows[20::500]]
        self.rng.shuffle(actions)
        span = self.args.run_seconds * 0.8
        started = time.time()
        for i, (kind, row) in enumerate(actions):
            due = started + span * (i + 1) / (len(actions) + 1)
            await asyncio.sleep(max(0.0, due - time.time()))
            await self.act(http, kind, row)

    async def act(self, http: httpx.AsyncClient, kind: str, row: dict[str, str]) -> None:
        account = row["account_id"]
        if kind == "stop":
            at = time.time()
            acked = False
            try:
                response = await http.post(
                    f"{self.fleet.url('sandbox')}/_sandbox/twilio/inbound",
                    json={"from": row["phone"], "to": SMS_NUMBER, "body": "STOP"},
                )
                acked = response.status_code == 200 and bool(response.json().get("delivered"))
            except httpx.HTTPError:
                pass
            if acked:
                # Recorded: the ingress answers only once the STOP is a suppression and
                # durable on Kafka. A send that left before then is not one made after it.
                at = time.time()
            self.opt_outs.append(
                {"account_id": account, "kind": "opted_out", "channel": "sms", "at": at,
                 "acked": acked}
            )  # fmt: skip
        elif kind == "pay":
            payment_id = f"PAY-{account}"
            body = {
                "payment_id": payment_id, "debt_id": row["debt_id"], "amount": row["balance"],
                "currency": "USD", "method": "card",
            }  # fmt: skip
            if await self.ledger(http, "POST", f"/v1/accounts/{account}/payments", json=body):
                self.payments.append({"payment_id": payment_id, "account_id": account})
        else:
            body = {"signal_id": f"{kind}-{account}", "kind": kind, "text": "by letter"}
            if await self.ledger(http, "POST", f"/v1/accounts/{account}/signals", json=body):
                at = time.time()  # recorded once the ledger's API said so
                self.opt_outs.append(
                    {"account_id": account, "kind": kind, "channel": None, "at": at, "acked": True}
                )

    async def inject_faults(self, injector: Injector) -> None:
        """Faults at random moments; up to --overlap at once, never two of one kind at once."""
        kinds = injector.kinds()
        deck: list[str] = []
        # The first round covers the stack and the senders first, so a short run meets them.
        order = ["poison", "broker", "kill_sms", "redis", "postgres", "kill_ledger"]
        order += ["kill_gate", "kill_scheduler"]
        first = [k for k in order if k in kinds] + [k for k in kinds if k not in order]
        busy: set[str] = set()
        running: set[asyncio.Task[None]] = set()
        deadline = time.time() + self.args.run_seconds
        while time.time() < deadline:
            await asyncio.sleep(self.rng.uniform(0.3, 1.7) * self.args.fault_every)
            while len(running) >= self.args.overlap:
                await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            if time.time() >= deadline:
                break
            if not deck:
                deck = kinds[:]
                self.rng.shuffle(deck)
            queue = first or deck
            free = [k for k in queue if k not in busy]
            if not free:
                continue
            kind = free[0]
            queue.remove(kind)
            busy.add(kind)
            task = asyncio.create_task(self.one_fault(injector, kind, busy))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.gather(*running)

    async def one_fault(self, injector: Injector, kind: str, busy: set[str]) -> None:
        try:
            record = await injector.inject(kind)
        finally:
            busy.discard(kind)
        print(
            f"  t+{record.at - self.started:5.0f}s  {kind:16} {record.target:24} "
            f"recovered in {record.recover_s}s {record.note}",
            flush=True,
        )

    async def keep_running(self) -> None:
        """The orchestrator: a replica that exited on its own is started again."""
        while True:
            restarted = await asyncio.to_thread(self.fleet.restart_exited)
            for name in restarted:
                print(f"  {name} had exited: started again", flush=True)
            await asyncio.sleep(3)

    async def main(self) -> dict[str, Any]:
        self.folder.mkdir(parents=True, exist_ok=True)
        await prepare(self.prefix, self.database, not self.args.reuse_stack)
        epoch = time.time()
        key = STATE_DIR / "sandbox-sendgrid.pem"
        env = base_env(self.prefix, self.database, self.args.speed, epoch, key)
        self.fleet = Fleet.build(env, self.folder)
        balancers = [
            Balancer(port, [r.url for r in self.fleet.replicas[webhook_receiver(channel)]])
            for channel, port in BALANCER_PORTS.items()
        ]
        for balancer in balancers:
            await balancer.start()
        print(f"run {self.run_id}: starting {len(self.fleet.all())} service processes", flush=True)
        boot_s = await asyncio.to_thread(self.fleet.start_all)
        print(f"services healthy in {boot_s:.0f}s", flush=True)
        rows = sample_rows(self.args.accounts)
        injector = Injector(self.fleet, STATE_DIR, self.prefix, self.rng, self.log)
        injector.destinations = [r["phone"] for r in rows] + [r["email"] for r in rows]
        self.started = time.time()
        drain_s: float | None = None
        keeper = asyncio.create_task(self.keep_running())
        try:
            admin = {"authorization": f"Bearer {env['DUNNING_BOOTSTRAP_ADMIN_KEY']}"}
            async with httpx.AsyncClient(timeout=120, headers=admin) as http:
                await injector.probe_sandbox(http)
                await injector.standing_faults(http, injector.destinations[::97])
                await self.import_portfolio(http, rows)
                print(f"imported {len(rows)} accounts in {time.time() - self.started:.0f}s")
                actors = asyncio.create_task(self.consumers_act(http, rows))
                await self.inject_faults(injector)
                # Consumers who had not acted yet by the end of the faults do not act at all.
                done, _ = await asyncio.wait([actors], timeout=30)
                if not done:
                    actors.cancel()
                    await asyncio.gather(actors, return_exceptions=True)
                    self.log.notes.append("consumer actions cut at the end of the faults")
                print("faults over; waiting for the consumer groups to drain", flush=True)
                drain = Drain(self.fleet, self.prefix, self.args.grace_seconds)
                drain_s = await drain.run(http, self.args.settle_seconds)
                self.workers_at_end = drain.workers_at_end
                lags = await group_lags(self.prefix) or {}
            ended_at = time.time()
            keeper.cancel()
            for replica in self.fleet.killable():
                replica.kill(signal.SIGTERM, wait_s=10)
            # Read once every consumer has stopped: what lies past these was never handled.
            committed = await committed_offsets(self.prefix)
            facts = Facts(
                prefix=self.prefix, kafka=KAFKA, dsn=pg_dsn(self.database),
                sandbox_url=self.fleet.url("sandbox"), clock_start=CLOCK_START,
                clock_speed=self.args.speed, clock_epoch=epoch,
                ended_at=ended_at - self.args.grace_seconds, payments=self.payments,
                opt_outs=self.opt_outs, fault_destinations=injector.fault_destinations,
                poison=[{"topic": p.topic, "value_hex": p.value.hex(), "what": p.what}
                        for p in self.log.poison],
                committed=committed,
            )  # fmt: skip
            saved = self.folder / "sandbox.json"
            saved.write_text(json.dumps(await sandbox_record(facts.sandbox_url)))
            facts.sandbox_file = str(saved)
            (self.folder / "facts.json").write_text(json.dumps(asdict(facts)))
            findings = await check(facts)
        finally:
            keeper.cancel()
            for balancer in balancers:
                await balancer.stop()
            self.fleet.stop_all()
            if not self.args.keep_stack:
                cluster("down", state_dir=STATE_DIR, check=False)
        figures: dict[str, Any] = {
            **findings.figures,
            **{f"faults_{k}": v for k, v in sorted(self.log.counts().items())},
            **{f"recover_s_{k}": v for k, v in sorted(self.log.recovery().items())},
            "faults_never_recovered": sum(r.recover_s is None for r in self.log.records),
            "replica_crash_restarts": sum(r.crashes for r in self.fleet.all()),
            "drain_s": drain_s,
            **{f"lag_end_{g}": n for g, n in sorted(lags.items()) if n},
            "run_s": round(ended_at - self.started, 1),
            "boot_s": round(boot_s, 1),
            "accounts": self.args.accounts,
            "clock_speed": self.args.speed,
            "cores": os.cpu_count(),
            "replicas_per_service": 2,
            "kafka_brokers": 3,
        }
        report = {
            "run_id": self.run_id, "figures": figures, "examples": findings.examples,
            "uncertain": findings.uncertain, "notes": self.log.notes,
            "faults": [asdict(r) for r in self.log.records],
            "workers_at_end": self.workers_at_end,
        }  # fmt: skip
        (self.folder / "report.json").write_text(json.dumps(report, indent=2, default=str))
        return report


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="The chaos run (see docs/chaos.md).")
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--run-seconds", type=float, default=600, help="faults for this long")
    parser.add_argument("--fault-every", type=float, default=20, help="mean seconds between")
    parser.add_argument("--speed", type=float, default=3600, help="simulated seconds per second")
    parser.add_argument("--overlap", type=int, default=2, help="faults in progress at once")
    parser.add_argument("--settle-seconds", type=float, default=180)
    parser.add_argument("--grace-seconds", type=float, default=20, help="deferrals due this "
                        "close to the end are not yet overdue")  # fmt: skip
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/chaos.json")
    parser.add_argument("--keep-stack", action="store_true", help="leave cluster.sh's stack up")
    parser.add_argument("--reuse-stack", action="store_true", help="no cluster.sh reset first")
    return parser.parse_args(argv)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # a `timeout` or an orchestrator's SIGTERM still stops what we started


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _interrupted)
    args = parse(argv)
    report = asyncio.run(Run(args).main())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report["figures"], indent=2) + "\n")
    print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
