"""A consumer texts "please call me": the provider sandbox posts it to the sms ingress
exactly as Twilio does (signed form), the ingress classifies it and publishes the signal,
and the ledger, consuming it, opens one call-back task for an agent, due inside the
consumer's allowed hours, with the reply's message id as its reference.

The services run for real on the shared stack: the ledger in this process, the sms
ingress and the sandbox on free loopback ports (never the end-to-end run's fixed ports).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from dunning_channels.adapters.redis_records import RedisSendRecords
from dunning_core.contracts import Channel
from dunning_sms.bootstrap import build_ingress
from dunning_sms.config import SmsSettings
from dunning_testkit.ledger import import_row, ledger_client, settings_for, started_ledger
from dunning_testkit.servers import BackgroundServer, sandbox_server
from dunning_testkit.sms import sms_settings
from dunning_testkit.stack import REDIS_URL
from redis.asyncio import Redis

pytestmark = pytest.mark.integration

PHONE = "+12125550001"  # import_row(1)'s: a New York consumer
OUR_NUMBER = "+15005550006"
NEW_YORK = "America/New_York"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with sandbox_server(callback_delay_ms=5) as url:
        yield url


async def test_a_call_me_text_through_the_sandbox_opens_one_agent_task(
    topics: str, sandbox: str, fresh_database: Callable[[str], Awaitable[str]]
) -> None:
    redis = Redis.from_url(REDIS_URL)
    await RedisSendRecords(redis, Channel.SMS, prefix=topics).remember_owner(PHONE, "ACC-000001")
    await redis.aclose()
    settings: dict[str, SmsSettings] = {}
    ingress = BackgroundServer(lambda: build_ingress(settings["s"]), factory=True)
    settings["s"] = sms_settings(topics, sandbox, ingress.base_url)
    ledger_settings = settings_for(topics, await fresh_database("replytasks"))
    async with started_ledger(ledger_settings) as ledger, ledger_client(ledger.app) as http:
        imported = await http.post("/v1/accounts/import", json={"accounts": [import_row(1)]})
        assert imported.status_code == 200, imported.text
        with ingress:
            async with httpx.AsyncClient(timeout=30) as provider:
                url = f"{ingress.base_url}/webhooks/twilio/inbound"
                text = {"from": PHONE, "to": OUR_NUMBER, "body": "please call me", "url": url}
                posted = await provider.post(f"{sandbox}/_sandbox/twilio/inbound", json=text)
            assert posted.status_code == 200, posted.text
            answer = posted.json()
            assert answer["delivered"], answer
        tasks: list[dict[str, object]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not tasks:
            await asyncio.sleep(0.3)
            tasks = (await http.get("/v1/tasks")).json()["tasks"]
        await asyncio.sleep(1.5)  # anything doubled would have landed by now
        tasks = (await http.get("/v1/tasks")).json()["tasks"]
        timeline = (await http.get("/v1/accounts/ACC-000001/timeline")).json()
    assert len(tasks) == 1, tasks
    task = tasks[0]
    assert (task["account_id"], task["kind"], task["reason"]) == (
        "ACC-000001", "call_back", "call_me",
    )  # fmt: skip
    assert (task["signal_id"], task["channel"], task["address"]) == (
        answer["message_sid"], "sms", PHONE,
    )  # fmt: skip
    assert task["message_text"] == "please call me"
    assert task["status"] == "open"
    assert task["zones"] == [NEW_YORK]
    opens = datetime.fromisoformat(str(task["window_start"])).astimezone(ZoneInfo(NEW_YORK))
    assert 8 <= opens.hour < 21
    assert str(task["window_start"]) <= str(task["due_at"]) <= str(task["window_end"])
    kinds = [e["kind"] for e in timeline["entries"]]
    assert "signal" in kinds
    assert "task" in kinds
