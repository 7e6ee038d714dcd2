"""The money loop end to end (issue 11), every service a process on a fast clock.

Account A agrees a weekly plan and pays nothing: a reminder before the installment is
planned, the installment is missed (a follow-up step), the plan breaks (with the terms'
missed_to_break of 1) and escalation resumes at the policy's ``plans.resume_stage``.
Account B pays every installment: the plan completes, the account is settled and thanked,
no escalation step follows; a reversal then reopens it. The payments.v1 events are read
from Kafka on the run's prefix.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from dunning_cli.portfolio import sample_rows
from dunning_core.contracts.account_import import to_csv
from dunning_testkit.paths import auth_headers, service_url
from dunning_testkit.stack import REPO

from .conftest import CLOCK_START, payments_consumer, services_running
from .conftest import until as poll_until

pytestmark = pytest.mark.e2e

SPEED = 14400.0  # four simulated hours a second: a day in six seconds
RESUME_STAGE = "urgency"  # plans.resume_stage of the default policy
# Polled every second: on this clock a day passes in six seconds.
until = functools.partial(poll_until, every_s=1.0)
MONEY_TEMPLATES = {
    "installment_reminder",
    "promise_reminder",
    "payment_thanks",
    "settled_thanks",
    "plan_missed",
}
TERMS = (REPO / "services/ledger/src/dunning_ledger/terms.yaml").read_text()


class Money:
    def __init__(self, http: httpx.AsyncClient, prefix: str) -> None:
        self.http, self.prefix = http, prefix
        self.ledger, self.scheduler = service_url("ledger"), service_url("scheduler")
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def read(self) -> None:
        consumer = payments_consumer(self.prefix, "money-e2e")
        await consumer.start()
        try:
            async for record in consumer:
                headers = {k: v.decode() for k, v in record.headers}
                self.events.append((headers["ce_type"], orjson.loads(record.value or b"{}")))
        finally:
            await consumer.stop()

    def types(self, account_id: str) -> list[str]:
        return [t for t, data in self.events if data.get("account_id") == account_id]

    async def case(self, account_id: str) -> dict[str, Any]:
        response = await self.http.get(f"{self.scheduler}/v1/cases/{account_id}")
        response.raise_for_status()
        return dict(response.json())

    async def stage_keys(self, account_id: str) -> list[str]:
        return [s["stage_key"] for s in (await self.case(account_id))["steps"]]

    async def post(self, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        response = await self.http.post(f"{self.ledger}/v1{path}", json=body)
        assert response.status_code == status, response.text
        return dict(response.json())


@pytest.fixture(scope="module")
def money_pipeline(stack: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    prefix = f"mon{uuid.uuid4().hex[:6]}."
    terms = tmp_path_factory.mktemp("terms") / "terms.yaml"
    short = TERMS.replace("grace_days: 5", "grace_days: 1")
    short = short.replace("missed_to_break: 2", "missed_to_break: 1")
    assert "grace_days: 1" in short
    assert "missed_to_break: 1" in short
    terms.write_text(short)
    settings = {
        "DUNNING_LEDGER_TERMS_FILE": str(terms),
        "DUNNING_LEDGER_DUE_PASS_INTERVAL_S": "1",
    }
    # 20 s: at this speed a start-up 24 s slower than that would pass the first due date.
    with services_running(prefix, 5, settings, clock_speed=SPEED, start_after_s=20):
        yield prefix


def rows() -> list[dict[str, str]]:
    picked = [r for r in sample_rows(10, seed=41) if r["state"] not in ("HI", "AK")][:2]
    return [
        {
            **row,
            "account_id": f"MON-{name}",
            "debt_id": f"MOND-{name}",
            "phone": f"+1{row['phone'][2:5]}557{1000 + i:04d}",
            "email": f"money.{i}@example.com",
            "locale": "en_US",
            "medical": "false",
            "legal_action_authorized": "false",
            "limitation_date": "2030-01-01",
        }
        for i, (name, row) in enumerate(zip(("A", "B"), picked, strict=True))
    ]


async def test_plans_run_their_course(money_pipeline: str) -> None:
    start = datetime.fromisoformat(CLOCK_START)
    first_due = (start + timedelta(days=4)).date().isoformat()
    async with httpx.AsyncClient(timeout=60, headers=auth_headers()) as http:
        m = Money(http, money_pipeline)
        reader = asyncio.create_task(m.read())
        try:
            response = await http.post(
                f"{m.ledger}/v1/accounts/import",
                content=to_csv(rows()).encode(),
                headers={"content-type": "text/csv"},
            )
            assert response.status_code == 200, response.text

            async def cases() -> str:
                for a in ("MON-A", "MON-B"):
                    got = await http.get(f"{m.scheduler}/v1/cases/{a}")
                    if got.status_code != 200:
                        return f"no case {a}"
                return ""

            await until(cases, 60, "cases opened")
            plans = {}
            for a in ("MON-A", "MON-B"):
                body = {"plan_id": f"plan-{a}", "frequency": "weekly", "first_due": first_due,
                        "count": 2}  # fmt: skip
                plans[a] = await m.post(f"/accounts/{a}/plans", body)
                assert len(plans[a]["installments"]) == 2, plans[a]
                assert (
                    sum(i["amount_minor"] for i in plans[a]["installments"])
                    == (plans[a]["total"]["amount_minor"])
                )

            # B pays every installment.
            currency = plans["MON-B"]["instalment"]["currency"]
            paid = []
            for inst in plans["MON-B"]["installments"]:
                pid = f"pay-B-{inst['seq']}"
                amount = f"{inst['amount_minor'] // 100}.{inst['amount_minor'] % 100:02d}"
                body = {"payment_id": pid, "amount": amount, "currency": currency}
                paid.append(await m.post("/accounts/MON-B/payments", body))
            assert paid[-1]["remaining_balance"]["amount_minor"] == 0, paid[-1]

            async def b_settled() -> str:
                types = m.types("MON-B")
                want = ["plan.agreed.v1", "payment.received.v1", "plan.completed.v1",
                        "account.settled.v1"]  # fmt: skip
                missing = [t for t in want if t not in types]
                if missing:
                    return f"events {missing} (have {types})"
                if "settled_thanks" not in await m.stage_keys("MON-B"):
                    return f"no settled thank-you step ({await m.stage_keys('MON-B')})"
                return ""

            await until(b_settled, 60, "B completed and settled")
            assert m.types("MON-B").count("payment.received.v1") == 2
            assert "payment_thanks" in await m.stage_keys("MON-B")
            settled_steps = {s["step_id"] for s in (await m.case("MON-B"))["steps"]}

            # A: a reminder before the installment, then missed, followed up, broken, resumed.
            async def a_broken() -> str:
                types, keys = m.types("MON-A"), await m.stage_keys("MON-A")
                missing = [t for t in ("plan.agreed.v1", "installment.missed.v1",
                                       "plan.broken.v1") if t not in types]  # fmt: skip
                missing += [k for k in ("installment_reminder", "plan_missed") if k not in keys]
                return f"{missing} (events {types}, steps {keys})" if missing else ""

            await until(a_broken, 90, "A's plan missed and broken")
            assert "plan.completed.v1" not in m.types("MON-A")
            # The terms' missed_to_break of 1: the first missed installment broke the plan.
            assert m.types("MON-A").count("installment.missed.v1") == 1, m.types("MON-A")

            async def a_resumed() -> str:
                case = await m.case("MON-A")
                keys = [s["stage_key"] for s in case["steps"]]
                if RESUME_STAGE not in keys or case["plan_id"] is not None:
                    return f"steps {keys}, plan {case['plan_id']}, stage {case['next_stage']}"
                return ""

            await until(a_resumed, 60, f"A's escalation resumed at {RESUME_STAGE}")
            assert m.types("MON-A").count("installment.missed.v1") == 1, m.types("MON-A")

            # Some five simulated days have passed since B settled: no escalation step.
            after = [s for s in (await m.case("MON-B"))["steps"]
                     if s["step_id"] not in settled_steps]  # fmt: skip
            assert not [s for s in after if s["stage_key"] not in MONEY_TEMPLATES], after
            assert not [
                s for s in (await m.case("MON-B"))["steps"]
                if s["stage_key"] == RESUME_STAGE
            ]  # fmt: skip

            # A reversal of B's last payment reopens the account.
            last = paid[-1]["payment_id"]
            reversal = await m.post(f"/accounts/MON-B/payments/{last}/reversal",
                                    {"reason": "chargeback"})  # fmt: skip
            assert reversal["remaining_balance"]["amount_minor"] > 0, reversal

            async def b_reopened() -> str:
                types = m.types("MON-B")
                missing = [t for t in ("payment.reversed.v1", "account.reopened.v1")
                           if t not in types]  # fmt: skip
                return f"{missing} (have {types})" if missing else ""

            await until(b_reopened, 60, "B reopened")
        finally:
            reader.cancel()
