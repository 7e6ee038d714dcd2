"""Portfolio figures on PostgreSQL: every grouped count from the real tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from dunning_core.contracts import events as ev
from dunning_core.contracts import wrap
from dunning_core.contracts.common import Channel, Stage
from dunning_ledger.bootstrap import Ledger
from dunning_testkit.ledger import import_row as row

pytestmark = pytest.mark.integration


def decided(n: int, decision: ev.Decision, at: datetime, *rules: str) -> ev.StepDecided:
    return ev.StepDecided(
        account_id=f"ACC-{n:06d}", step_id=f"stp-{n}-{decision.value}",
        planned_event_id=f"p-{n}-{decision.value}", debt_id=f"DEBT-{n:06d}",
        stage=Stage.FRIENDLY_REMINDER, channel=Channel.SMS, attempt=1,
        destination=f"+1212555{n:04d}", decision=decision,
        not_before=at + timedelta(hours=9) if decision is ev.Decision.DEFER else None,
        findings=tuple(
            ev.RuleFinding(rule_id=r, action=decision.value, explanation="t")
            for r in rules
        ),
        policy_version="p", content_hash="sha256:x", decided_at=at,
    )  # fmt: skip


async def test_figures_from_every_table(http: httpx.AsyncClient, ledger: Ledger) -> None:
    now = datetime.now(UTC)
    rows = [row(n) for n in range(1, 5)]
    assert (await http.post("/v1/accounts/import", json={"accounts": rows})).status_code == 200
    events = [
        decided(1, ev.Decision.ALLOW, now),
        decided(2, ev.Decision.DEFER, now, "quiet_hours"),
        decided(3, ev.Decision.BLOCK, now, "cease", "quiet_hours"),
        ev.DeliveryUpdated(
            account_id="ACC-000001", step_id="stp-1-allow", channel=Channel.SMS,
            provider="twilio", status=ev.DeliveryStatus.DELIVERED, occurred_at=now,
        ),
        ev.ConsumerSignaled(
            account_id="ACC-000001", signal_id="s1", kind=ev.SignalKind.OPTED_OUT,
            channel=Channel.SMS, source="sms", occurred_at=now,
        ),
    ]  # fmt: skip
    await ledger.use_cases.communications.record_events("g", [wrap(e, "test") for e in events])
    payment = {"payment_id": "p1", "amount": "12.50", "method": "card"}
    assert (await http.post("/v1/accounts/ACC-000002/payments", json=payment)).status_code == 201
    response = await http.get("/v1/portfolio/figures", params={"days": 2})
    assert response.status_code == 200, response.text
    f = response.json()
    assert f["accounts_by_status"] == {"open": 4}
    assert f["accounts_by_stage"] == {"friendly_reminder": 3, "none": 1}
    [day] = f["collected_per_day"]
    assert (day["day"], day["amount"], day["payments"]) == (now.date().isoformat(), "12.50", 1)
    assert f["messages_by_channel_and_outcome"] == {"sms": {"delivered": 1, "defer": 1, "block": 1}}
    assert f["decisions_by_rule"] == {
        "quiet_hours": {"defer": 1, "block": 1},
        "cease": {"block": 1},
    }
    assert (f["messaged_accounts"], f["opt_out_rate"], f["dispute_rate"]) == (1, 1.0, 0.0)
    assert (f["promises_judged"], f["promise_kept_rate"]) == (0, None)


async def test_promise_kept_rate_on_postgresql(http: httpx.AsyncClient, ledger: Ledger) -> None:
    """A signal promising by a date now past: kept by a payment within it, not by one after;
    a promise with an amount is judged by the ledger's own record (not yet due here)."""
    now = datetime.now(UTC)
    rows = [row(n) for n in range(1, 4)]
    assert (await http.post("/v1/accounts/import", json={"accounts": rows})).status_code == 200
    before = now - timedelta(days=3)
    signals = [
        ev.ConsumerSignaled(
            account_id=f"ACC-00000{n}", signal_id=f"s{n}", kind=ev.SignalKind.PROMISED_TO_PAY,
            channel=Channel.SMS, source="sms", occurred_at=before,
            details={"date": (now - timedelta(days=2)).date().isoformat()},
        )
        for n in (1, 2)
    ]  # fmt: skip
    await ledger.use_cases.communications.record_events("g", [wrap(e, "test") for e in signals])
    for n, at in ((1, now - timedelta(days=2, hours=1)), (2, now)):
        payment = {"payment_id": f"p{n}", "amount": "5.00", "method": "card",
                   "received_at": at.isoformat()}  # fmt: skip
        posted = await http.post(f"/v1/accounts/ACC-00000{n}/payments", json=payment)
        assert posted.status_code == 201, posted.text
    due = (now + timedelta(days=3)).date().isoformat()
    promise = {"promise_id": "PR3", "amount_minor": 1000, "due_on": due}
    made = await http.post("/v1/accounts/ACC-000003/promises", json=promise)
    assert made.status_code == 201, made.text
    f = (await http.get("/v1/portfolio/figures")).json()
    assert (f["promises_judged"], f["promises_kept"], f["promise_kept_rate"]) == (2, 1, 0.5)
