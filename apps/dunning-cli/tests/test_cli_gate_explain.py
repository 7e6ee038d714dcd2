"""``dunning gate explain`` over real HTTP against the real ledger app and PostgreSQL.

The ledger is served by uvicorn on a free port, in a thread with its own event loop;
the step's events are recorded there through the Kafka consumer's handler
(``LedgerEventHandler``), on that loop, as the consumer would record them.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from dunning_cli.main import app
from dunning_core.contracts import wrap
from dunning_core.contracts.events import Decision, DeliveryStatus
from dunning_ledger.bootstrap import Ledger, build_ledger
from dunning_ledger.handlers import LedgerEventHandler
from dunning_testkit.ledger import QUIET_HOURS, RETRY_AT, T0, StepStory, quiet_settings
from dunning_testkit.paths import auth_headers
from typer.testing import CliRunner, Result

T = TypeVar("T")
STORY = StepStory("ACC-CLI-1", "DEBT-CLI-1", "+12125550102", "Ana Cli")
ACCOUNT, STEP = STORY.account_id, STORY.step_id


@dataclass
class ServedLedger:
    url: str
    ledger: Ledger
    loop: asyncio.AbstractEventLoop

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the server's loop (its database pool lives there)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))


@pytest.fixture
async def served(
    fresh_database: Callable[[str], Awaitable[str]], prefix: str
) -> AsyncIterator[ServedLedger]:
    settings = quiet_settings(await fresh_database("cli_explain"), prefix)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # held by the server from here on: no race for the port
    port = sock.getsockname()[1]
    built: list[tuple[Ledger, uvicorn.Server, asyncio.AbstractEventLoop]] = []

    def serve() -> None:
        async def main() -> None:
            ledger = build_ledger(settings)  # inside the loop: aiokafka wants a running one
            config = uvicorn.Config(ledger.app, log_level="warning", lifespan="on")
            server = uvicorn.Server(config)
            built.append((ledger, server, asyncio.get_running_loop()))
            await server.serve(sockets=[sock])

        asyncio.run(main())

    thread = threading.Thread(target=serve, name="ledger-under-test", daemon=True)
    thread.start()
    try:
        for _ in range(600):
            if built and built[0][1].started:
                break
            if not thread.is_alive():
                raise AssertionError("the ledger did not start")
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the ledger did not start within 30 s")
        ledger, _, loop = built[0]
        yield ServedLedger(f"http://127.0.0.1:{port}", ledger, loop)
    finally:
        if built:
            built[0][1].should_exit = True
        await asyncio.to_thread(thread.join, 30)
        sock.close()


async def record_step(served: ServedLedger) -> None:
    """Defer, then allow, then two delivery events: three consumer batches."""
    async with httpx.AsyncClient(base_url=served.url, headers=auth_headers()) as client:
        imported = await client.post(
            "/v1/accounts/import", json={"accounts": [STORY.account_row()]}
        )
        assert imported.json()["opened"] == 1
    handler = LedgerEventHandler(
        served.ledger.use_cases.communications, served.ledger.settings.group_id
    )
    s = timedelta(seconds=1)
    for batch in (
        [STORY.decided(Decision.DEFER, T0, QUIET_HOURS)],
        [STORY.decided(Decision.ALLOW, RETRY_AT)],
        [STORY.delivered(DeliveryStatus.ACCEPTED, RETRY_AT + s)],
        [STORY.delivered(DeliveryStatus.DELIVERED, RETRY_AT + 9 * s)],
    ):
        for event in batch:
            await handler.handle(wrap(event, "test"))
        await served.run(handler.flush())
    assert handler.recorded == 4


async def explain(*args: str) -> Result:
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, app, ["gate", "explain", *args])


@pytest.mark.integration
async def test_explain_prints_each_decision_its_rules_and_the_delivery_trail(
    served: ServedLedger,
) -> None:
    await record_step(served)

    result = await explain(STEP, "--ledger", served.url)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"step {STEP}  account {ACCOUNT}  sms friendly_reminder attempt 1",
        "now: ALLOW; delivery delivered",
        "decisions (2):",
        "  2026-03-02T23:30:00Z  DEFER  policy test-2026.03",
        "    not before 2026-03-03T13:00:00Z",
        "    defer time.inconvenient_hours: 18:30 in America/New_York is outside 08:00-21:00"
        " (until 2026-03-03T13:00:00Z)",
        '    inputs: {"contacts_7d": 0, "local_times": {"America/New_York":'
        ' "2026-03-02T23:30:00+00:00"}}',
        "  2026-03-03T13:00:00Z  ALLOW  policy test-2026.03",
        "    no rule objected",
        '    inputs: {"contacts_7d": 0, "local_times": {"America/New_York":'
        ' "2026-03-03T13:00:00+00:00"}}',
        "deliveries (2):",
        "  2026-03-03T13:00:01Z  accepted    twilio SM-0001",
        "  2026-03-03T13:00:09Z  delivered   twilio SM-0001",
    ]


@pytest.mark.integration
async def test_explain_of_an_unknown_step_fails_with_a_message(served: ServedLedger) -> None:
    result = await explain("stp_unknown", "--ledger", served.url)

    assert result.exit_code == 1
    assert result.stderr == "dunning: no step stp_unknown in the ledger\n"
    assert result.stdout == ""


async def test_explain_without_a_ledger_fails_with_a_message() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening

    result = await explain(STEP, "--ledger", closed)

    assert result.exit_code == 1
    assert result.stderr.startswith(f"dunning: cannot reach the ledger at {closed}: ")
