"""Sends per second through the workers' provider adapters, against the sandbox.

    uv run python -m bench.bench_provider_adapters [N] [CONCURRENCY]

Compares, for N sends at CONCURRENCY in flight: the Twilio SDK on its aiohttp client
(`TwilioSmsSender`, what the sms worker uses) with the SDK's blocking `requests` client
in worker threads; and the SendGrid SDK (blocking urllib, in threads) as
`SendGridEmailSender` runs it. The sandbox runs as its own process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
from dunning_email.adapters.sendgrid_sender import EmailAccepted, SendGridEmailSender
from dunning_sms.adapters.twilio_sender import SmsAccepted, TwilioSmsSender
from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bench.common import report

ACCOUNT = "AC" + "0" * 32
TOKEN = "sandbox-auth-token"
SG_KEY = "SG.sandbox-key"
_quiet = logging.getLogger("bench.twilio")
_quiet.setLevel(logging.WARNING)


class _ThreadedTwilioHttpClient(TwilioHttpClient):  # type: ignore[misc]
    def __init__(self, base_url: str, pool: int) -> None:
        super().__init__(timeout=10, logger=_quiet)
        self.session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=pool))
        self._base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(
            method, url.replace("https://api.twilio.com", self._base_url), *args, **kwargs
        )


def _to(i: int) -> str:
    return f"+1415{i // 8000 % 1000:03d}{1000 + i % 8000:04d}"


async def _timed(n: int, concurrency: int, one: Any) -> float:
    indexes = iter(range(n))

    async def worker() -> None:
        for i in indexes:
            await one(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


async def twilio_async(base: str, n: int, concurrency: int) -> float:
    async with TwilioSmsSender(
        account_sid=ACCOUNT, auth_token=TOKEN, base_url=base, max_connections=concurrency
    ) as sender:

        async def one(i: int) -> None:
            result = await sender.send(
                to=_to(i), body="Payment due. Reply STOP to opt out.", from_="+15005550006"
            )
            assert isinstance(result, SmsAccepted), result

        return await _timed(n, concurrency, one)


async def twilio_threads(base: str, n: int, concurrency: int) -> float:
    client = Client(ACCOUNT, TOKEN, http_client=_ThreadedTwilioHttpClient(base, concurrency))
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(concurrency) as pool:

        async def one(i: int) -> None:
            await loop.run_in_executor(
                pool,
                lambda: client.messages.create(
                    to=_to(i), body="Payment due. Reply STOP to opt out.", from_="+15005550006"
                ),
            )

        return await _timed(n, concurrency, one)


async def sendgrid_threads(base: str, n: int, concurrency: int) -> float:
    sender = SendGridEmailSender(api_key=SG_KEY, host=base, max_concurrency=concurrency)

    async def one(i: int) -> None:
        result = await sender.send(
            to=f"c{i}@example.org",
            from_email="collections@example.com",
            subject="About your balance",
            text="Hello",
            unsubscribe_url="https://example.com/u/1",
            custom_args={"step_id": str(i), "account_id": "a"},
        )
        assert isinstance(result, EmailAccepted), result

    return await _timed(n, concurrency, one)


async def main(n: int, concurrency: int) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DUNNING_SANDBOX_PORT": str(port), "DUNNING_SANDBOX_LOG_LEVEL": "warning"}
    sandbox = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dunning_sandbox.app", env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"{base}/health") as response:
                        await response.read()
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        await twilio_async(base, 300, concurrency)  # warm the sandbox up
        figures: dict[str, Any] = {"sends": n, "concurrency": concurrency}
        for key, name, run in (
            ("twilio_aiohttp", "twilio SDK, aiohttp client (TwilioSmsSender)", twilio_async),
            ("twilio_requests_threads", "twilio SDK, requests client in threads", twilio_threads),
            (
                "sendgrid_urllib_threads",
                "sendgrid SDK, urllib in threads (SendGridEmailSender)",
                sendgrid_threads,
            ),
        ):
            best = 0.0
            for attempt in (1, 2):
                elapsed = await run(base, n, concurrency)
                sys.stdout.write(
                    f"{name}, run {attempt}: {n} sends in {elapsed:.2f}s = {n / elapsed:,.0f}/s\n"
                )
                best = max(best, n / elapsed)
            figures[f"{key}_sends_per_s"] = round(best)
        report("provider_adapters", figures)
    finally:
        sandbox.terminate()
        await sandbox.wait()


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 1000,
            int(sys.argv[2]) if len(sys.argv) > 2 else 32,
        )
    )
