"""The demo: a sample portfolio through the real pipeline, with consumers who answer back.

``prepare`` gives the run its own topics (a fresh prefix), database and Redis database,
so a second run starts as clean as the first. ``run`` imports the portfolio through the
ledger's REST API, lets simulated time pass, has some consumers reply STOP, pay, or
dispute through the same doors real ones use (the provider sandbox's inbound texts, the
ledger's API), then prints the ledger's summary.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from dunning_core.contracts.account_import import to_csv
from dunning_core.contracts.topics import ALL_TOPICS, AUTH_KEYS, dlq
from redis.asyncio import Redis

from dunning_cli.client import auth_headers
from dunning_cli.demo_live import REFRESH_S, Progress, read_figures, simulated_now
from dunning_cli.demo_view import build_view
from dunning_cli.portfolio import sample_rows

_DEMO_RUN = re.compile(r"demo([0-9]+)\.")
STALE_AFTER_S = 600  # a demo's topics outlive it this long (a demo elsewhere may still run)


def stale_demo_topics(prefix: str, existing: list[str]) -> list[str]:
    """Topics a demo (prefix ``demo<epoch>.``) deletes: those of demos started over
    STALE_AFTER_S before it. A run with a prefix of its own (a test's) deletes nothing."""
    own = _DEMO_RUN.fullmatch(prefix)
    if own is None:
        return []
    cutoff = int(own[1]) - STALE_AFTER_S
    return [t for t in existing if (m := _DEMO_RUN.match(t)) and int(m[1]) < cutoff]


async def prepare(
    *, kafka: str, prefix: str, admin_dsn: str, database: str, redis_url: str, partitions: int = 6
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        existing = await admin.list_topics()
        stale = stale_demo_topics(prefix, existing)
        if stale:
            await admin.delete_topics(stale)
        names = [prefix + t for t in ALL_TOPICS]
        wanted = [NewTopic(n, partitions, 1) for n in names if n not in existing]
        wanted += [NewTopic(dlq(n), 1, 1) for n in names if dlq(n) not in existing]
        if prefix + AUTH_KEYS not in existing:
            compacted = {"cleanup.policy": "compact"}
            wanted.append(NewTopic(prefix + AUTH_KEYS, 1, 1, topic_configs=compacted))
        if wanted:
            await admin.create_topics(wanted)
    finally:
        await admin.close()
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    redis = Redis.from_url(redis_url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


def signing_public_key(pem_path: Path) -> str:
    """The SendGrid-style public key (base64 DER) of the sandbox's signing key, made if missing."""
    if not pem_path.exists():
        pem_path.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        pem_path.chmod(0o600)
    private = serialization.load_pem_private_key(pem_path.read_bytes(), password=None)
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


class PortfolioRefused(Exception):
    """The ledger refused the portfolio file; the message names the rows and fields."""


async def run(
    *,
    accounts: int,
    duration_s: float,
    ledger_url: str,
    sandbox_url: str,
    sms_number: str = "+15005550006",
    portfolio: tuple[bytes, str] | None = None,
    progress: Progress | None = None,
    grace_s: float = 30.0,
) -> dict[str, Any]:
    """Import the sample portfolio (or the operator's own file: its bytes and content type),
    let simulated time pass while ``progress`` shows the figures, and return the ledger's
    summary. Only the sample's consumers answer back: an operator's own portfolio is a dry
    run of the outreach, nobody replies."""
    shown = progress or Progress()
    # The sample is dated by the shared clock's today: however long the services took to
    # start on the accelerated clock, its accounts are as far behind as the sample says.
    today = date.fromisoformat(simulated_now()[:10]) if simulated_now() else date(2026, 3, 2)
    rows = [] if portfolio is not None else sample_rows(accounts, today=today)
    body, kind = portfolio if portfolio is not None else (to_csv(rows).encode(), "text/csv")
    async with httpx.AsyncClient(timeout=60, headers=auth_headers()) as http:
        # The CLI's key (the bootstrap admin's in the demo) makes an operator's key, and the
        # operator does the rest: every write then names "demo-ops".
        operator = {"name": "demo-ops", "role": "operator"}
        made = await http.post(f"{ledger_url}/v1/keys", json=operator)
        made.raise_for_status()
        http.headers["Authorization"] = f"Bearer {made.json()['key']}"
        print(f"made API key {made.json()['key_id']} for demo-ops (operator)", flush=True)
        started = time.monotonic()
        response = await http.post(
            f"{ledger_url}/v1/accounts/import", content=body, headers={"content-type": kind}
        )
        if response.status_code >= 400:
            raise PortfolioRefused(response.text[:4000])
        imported = response.json()
        print(f"imported {imported} in {time.monotonic() - started:.1f} s", flush=True)
        replies_sent = not rows
        actions_done = not rows
        view = None
        with shown:
            # The sample runs on past duration_s, by up to grace_s, while a stage of the
            # ladder has no step yet (a slow machine); an operator's file stops on time.
            while (elapsed := time.monotonic() - started) < duration_s or (
                rows and view is not None and view.missing and elapsed < duration_s + grace_s
            ):
                if not replies_sent and elapsed > duration_s * 0.3:
                    replies_sent = await _consumers_reply(http, sandbox_url, rows, sms_number)
                    shown.note("  some consumers texted STOP")
                if not actions_done and elapsed > duration_s * 0.4:
                    actions_done = await _operators_act(http, ledger_url, rows)
                    shown.note("  some consumers paid, disputed or asked to cease contact")
                view = build_view(await read_figures(http, ledger_url))
                shown.show(view, elapsed)
                await asyncio.sleep(max(0.0, REFRESH_S - (time.monotonic() - started - elapsed)))
            final = build_view(await read_figures(http, ledger_url))
            shown.show(final, time.monotonic() - started, force=True)
        return dict((await http.get(f"{ledger_url}/v1/summary")).json())


async def _consumers_reply(
    http: httpx.AsyncClient, sandbox_url: str, rows: list[dict[str, str]], to: str
) -> bool:
    """Every 25th consumer texts an opt-out in their own words."""
    words = ("STOP", "stop please", "No mas", "Unsubscribe")
    for i, row in enumerate(rows[24::25]):
        await http.post(
            f"{sandbox_url}/_sandbox/twilio/inbound",
            json={"from": row["phone"], "to": to, "body": words[i % len(words)]},
        )
    return True


async def _operators_act(
    http: httpx.AsyncClient, ledger_url: str, rows: list[dict[str, str]]
) -> bool:
    """Some consumers pay in full, some dispute, one asks to cease contact."""
    for row in rows[9::30]:
        await http.post(
            f"{ledger_url}/v1/accounts/{row['account_id']}/payments",
            json={
                "payment_id": f"PAY-{row['account_id']}",
                "debt_id": row["debt_id"],
                "amount": row["balance"],
                "currency": "USD",
                "method": "card",
            },
        )
    for kind, picked in (("disputed", rows[14::33]), ("cease_requested", rows[20:21])):
        for row in picked:
            await http.post(
                f"{ledger_url}/v1/accounts/{row['account_id']}/signals",
                json={
                    "signal_id": f"{kind}-{row['account_id']}",
                    "kind": kind,
                    "text": "by letter",
                },
            )
    return True
