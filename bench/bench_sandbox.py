"""Throughput of the provider sandbox: N SMS and N emails in, every webhook out.

    uv run python -m bench.bench_sandbox [N] [CONCURRENCY]

Starts a counting webhook receiver and the sandbox as separate processes on free
loopback ports, sends N messages per channel with raw HTTP (aiohttp, no SDK overhead),
and prints the accept rate and the time until every status callback / event was
delivered.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bench.common import report

ACCOUNT = "AC" + "0" * 32
TOKEN = "sandbox-auth-token"
SG_KEY = "SG.sandbox-key"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def receiver_app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """A raw ASGI receiver that only counts, so it is never the bottleneck."""
    counts = {"twilio": 0, "sendgrid": 0, "events": 0}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        payload = b""
        if scope["path"] == "/count":
            payload = repr(counts).encode()
        elif scope["path"].startswith("/twilio"):
            counts["twilio"] += 1
        else:
            counts["sendgrid"] += 1
            counts["events"] += body.count(b'"sg_event_id"')
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": payload})

    return app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_up(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(200):
        try:
            async with session.get(url) as response:
                await response.read()
                return
        except aiohttp.ClientError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


Make = Callable[[aiohttp.ClientSession, int], Awaitable[int]]


async def push(session: aiohttp.ClientSession, n: int, concurrency: int, make: Make) -> float:
    next_index = iter(range(n))

    async def worker() -> None:
        for i in next_index:
            status = await make(session, i)
            if status not in (201, 202):
                raise RuntimeError(f"message {i} refused with {status}")

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


async def main(n: int, concurrency: int) -> None:
    rport, sport = free_port(), free_port()
    receiver = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bench_sandbox", "--receiver", str(rport)
    )
    env = {
        **os.environ,
        "DUNNING_SANDBOX_PORT": str(sport),
        "DUNNING_SANDBOX_LOG_LEVEL": "warning",
        "DUNNING_SANDBOX_SENDGRID_EVENT_WEBHOOK_URL": f"http://127.0.0.1:{rport}/sendgrid",
        "DUNNING_SANDBOX_CALLBACK_DELAY_MS": "10",
    }
    sandbox = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dunning_sandbox.app", env=env
    )
    base = f"http://127.0.0.1:{sport}"
    figures: dict[str, Any] = {"messages_per_channel": n, "concurrency": concurrency}
    callback = f"http://127.0.0.1:{rport}/twilio/status"
    auth = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()

    async def sms(session: aiohttp.ClientSession, i: int) -> int:
        form = {
            # last four digits from 1000 up: clear of the sandbox's outcome hooks
            "To": f"+1415{i // 8000 % 1000:03d}{1000 + i % 8000:04d}",
            "From": "+15005550006",
            "Body": "Your payment of $120.00 is due. Reply STOP to opt out.",
            "StatusCallback": callback,
        }
        url = f"{base}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
        async with session.post(url, data=form, headers={"Authorization": auth}) as response:
            await response.read()
            return response.status

    async def mail(session: aiohttp.ClientSession, i: int) -> int:
        body = {
            "personalizations": [
                {"to": [{"email": f"c{i}@example.org"}], "custom_args": {"i": str(i)}}
            ],
            "from": {"email": "collections@example.com"},
            "subject": "About your balance",
            "content": [{"type": "text/plain", "value": "Hello"}],
        }
        headers = {"Authorization": f"Bearer {SG_KEY}"}
        async with session.post(f"{base}/v3/mail/send", json=body, headers=headers) as response:
            await response.read()
            return response.status

    connector = aiohttp.TCPConnector(limit=concurrency)
    try:
        async with aiohttp.ClientSession(connector=connector) as session:
            await wait_up(session, f"http://127.0.0.1:{rport}/count")
            await wait_up(session, f"{base}/health")
            channels: tuple[tuple[str, Make, str], ...] = (
                ("sms", sms, "status callbacks"),
                ("email", mail, "events"),
            )
            for name, make, what in channels:
                start = time.perf_counter()
                accept_s = await push(session, n, concurrency, make)
                async with session.post(f"{base}/_sandbox/drain?timeout_s=600") as drained:
                    result = await drained.json()
                total_s = time.perf_counter() - start
                sys.stdout.write(
                    f"{name:5s} n={n:,} concurrency={concurrency}: accepted in {accept_s:.2f}s "
                    f"({n / accept_s:,.0f}/s); all {2 * n:,} {what} delivered after "
                    f"{total_s:.2f}s; {result}\n"
                )
                figures[f"{name}_accepted_per_s"] = round(n / accept_s)
                figures[f"{name}_all_webhooks_delivered_s"] = round(total_s, 2)
                async with session.post(f"{base}/_sandbox/reset") as reset:
                    await reset.read()
            async with session.get(f"http://127.0.0.1:{rport}/count") as counted:
                sys.stdout.write(f"receiver saw {await counted.text()}\n")
        report("sandbox", figures)
    finally:
        for process in (sandbox, receiver):
            process.terminate()
            await process.wait()


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--receiver":
        import uvicorn

        uvicorn.run(receiver_app(), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
    else:
        n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
        asyncio.run(main(n, int(sys.argv[2]) if len(sys.argv) > 2 else 64))
