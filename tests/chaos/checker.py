"""The independent checker: shares nothing with the services but the contracts.

It replays every topic from the beginning (aiokafka, no consumer group), reads the ledger's
database read-only (tables as the ledger's migrations define them) and the provider
sandbox's own record (``GET /_sandbox/messages``), and finds:

- lost: a planned step with no terminal outcome (a final delivery status, or a block), not
  deferred (by the gate, or held by the scheduler: ``step.held.v1``) past the end of the run,
  not withdrawn (``step.withdrawn.v1``) and not reported uncertain; a terminal outcome the
  ledger never recorded; a payment the API accepted missing from the ledger or ``payments.v1``;
- duplicated: a step with two provider messages (the sandbox is the witness), a payment twice
  on ``payments.v1``;
- violations: a message the sandbox accepted outside 08:00-21:00 in one of the consumer's
  candidate zones (the sandbox stamps wall seconds, mapped onto the run's simulated clock:
  only a whole second outside counts, a second that straddles the edge is "borderline"; a
  sandbox that records when it took each request, ``accepted_at``, is read to the
  microsecond), or after the consumer's opt-out, dispute or cease was answered (the
  ingress's 200, the ledger's 201), or after it reached ``consumer.signals.v1`` when no
  answer was given for it, or for a step never approved. A message accepted between the
  signal's arrival on the topic and its answer was a call already on the wire: the answer
  waits for those calls to end (the workers' ``Fence``, the ledger's ``ChannelsApplied``),
  so they are counted (``in_flight_at_signal``), not judged;
- at_provider (not lost): a step sent once whose final status the provider itself still
  held at the end (the sandbox's ``unreported``: a status not reached, a callback not yet
  acknowledged), as a real provider's delivery reports can lag; listed by step;
- queued (not lost): a step whose plan or approval was still in its topic when the
  services stopped, at or past the committed offset of the group that acts on it next (the
  gate, the channel's worker): a backlog of a run that did not drain, not a loss;
- poison_missing: a poison record the driver produced that is not in its topic's DLQ with a
  reason header.

Usage: ``python -m tests.chaos.checker <facts.json>`` (the driver writes the facts file).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dunning_core.contracts import events as ev
from dunning_core.contracts.envelope import decode
from dunning_core.contracts.topics import ALL_TOPICS, dlq

from tests.chaos.records import Record, events_of, ledger_rows, read_topics
from tests.chaos.verdicts import (
    awaiting_provider,
    deferred_past,
    outside_hours,
    queued,
    retrying_at_end,
    scheduler_said,
    why_not_final,
)
from tests.chaos.witness import answered, message_step, sandbox_record
from tests.chaos.zones import candidate_zones

EXAMPLES = 5
ALL_CHANNELS_KINDS = {"disputed", "cease_requested"}
KEYS = (
    "steps", "lost", "duplicated", "violations", "uncertain", "deferred", "terminal",
    "superseded", "borderline_hours", "poison_missing", "conflicting", "in_flight",
    "in_flight_at_signal", "at_provider", "retrying", "queued",
)  # fmt: skip
# The longest a worker retries a refusing provider: six calls, backoffs up to 32 s (about a
# minute); twice that, as a restarted replica takes a parked retry over when its lease ends.
RETRY_SPAN_S = 120.0


@dataclass
class Facts:
    """What the driver knows and the record cannot tell: what it asked and when."""

    prefix: str
    kafka: str
    dsn: str
    sandbox_url: str
    clock_start: str
    clock_speed: float
    clock_epoch: float
    ended_at: float
    payments: list[dict[str, Any]] = field(default_factory=list)
    opt_outs: list[dict[str, Any]] = field(default_factory=list)
    poison: list[dict[str, Any]] = field(default_factory=list)
    sandbox_file: str | None = None  # the sandbox's record saved by the driver, to re-check
    fault_destinations: list[str] = field(default_factory=list)  # the provider always refuses
    # Each group's committed offsets ("topic:partition") once every service had stopped.
    committed: dict[str, dict[str, int]] = field(default_factory=dict)

    def simulated(self, wall: float) -> datetime:
        start = datetime.fromisoformat(self.clock_start)
        return start + timedelta(seconds=(wall - self.clock_epoch) * self.clock_speed)


@dataclass
class Findings:
    figures: dict[str, Any] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    uncertain: list[str] = field(default_factory=list)

    def note(self, key: str, example: str) -> None:
        self.figures[key] = self.figures.get(key, 0) + 1
        if len(self.examples[key]) < EXAMPLES:
            self.examples[key].append(example)


async def check(facts: Facts) -> Findings:
    found = Findings()
    f = found.figures
    for key in KEYS:
        f[key] = 0
    names = [facts.prefix + t for t in ALL_TOPICS] + [facts.prefix + dlq(t) for t in ALL_TOPICS]
    records = await read_topics(facts.kafka, names)
    on = {t: records[facts.prefix + t] for t in ALL_TOPICS}

    accounts: dict[str, Any] = {}
    for _, event in events_of(on["accounts.v1"]):
        if isinstance(event, ev.AccountOpened | ev.AccountUpdated):
            accounts[event.account_id] = event.consumer
    planned: dict[str, ev.StepPlanned] = {}
    # Each step's history, in the order the broker took it: (wall seconds, what, event).
    history: dict[str, list[tuple[float, str, Any]]] = defaultdict(list)
    # Where each step's latest plan or decision stands in Kafka: (topic, partition, offset).
    # The first of equal timestamps is kept, as ``max`` over the history keeps it, so that
    # this is the record of the history's last entry.
    position: dict[str, tuple[float, tuple[str, int, int]]] = {}

    def place(step_id: str, r: Record) -> None:
        if step_id not in position or position[step_id][0] < r.timestamp_ms:
            position[step_id] = (r.timestamp_ms, (r.topic, r.partition, r.offset))

    for r, event in events_of(on["outreach.planned.v1"]):
        if isinstance(event, ev.StepPlanned):
            planned.setdefault(event.step.step_id, event)
            history[event.step.step_id].append((r.timestamp_ms / 1000, "plan", event))
            place(event.step.step_id, r)
        elif isinstance(event, ev.StepHeld | ev.StepWithdrawn):  # the scheduler's word on a step
            what = "held" if isinstance(event, ev.StepHeld) else "withdrawn"
            history[event.step_id].append((r.timestamp_ms / 1000, what, event))
    decisions: dict[str, list[ev.StepDecided]] = defaultdict(list)
    for r, event in events_of(on["outreach.decisions.v1"]):
        if isinstance(event, ev.StepDecided):
            decisions[event.step_id].append(event)
            history[event.step_id].append((r.timestamp_ms / 1000, "decision", event))
            place(event.step_id, r)
    statuses: dict[str, list[ev.DeliveryUpdated]] = defaultdict(list)
    for r, event in events_of(on["delivery.v1"]):
        if isinstance(event, ev.DeliveryUpdated):
            statuses[event.step_id].append(event)
            history[event.step_id].append((r.timestamp_ms / 1000, "status", event))
    paid = [(r, e) for r, e in events_of(on["payments.v1"]) if isinstance(e, ev.PaymentReceived)]
    payment_events = [e for _, e in paid]
    # A payment is announced once when one event (one ce_id) carries it: the bus is
    # at-least-once and subscribers deduplicate on ce_id (ARCHITECTURE.md), so the same
    # event twice (a relay that crashed before marking its outbox row) is a redelivery,
    # counted apart; two events for one payment would be a duplicate.
    announced = {(e.payment_id, decode(r.key, r.value, r.headers).id) for r, e in paid}
    paid_events: Counter[str] = Counter(pid for pid, _ in announced)
    f["payments_redelivered"] = len(paid) - len(announced)
    # Outreach ends for good on an account paid in full: its pending steps are superseded.
    settled = {e.account_id for e in payment_events if e.remaining_balance.amount_minor <= 0}
    signal_times: dict[str, list[tuple[float, str, str | None]]] = defaultdict(list)
    for r, event in events_of(on["consumer.signals.v1"]):
        if isinstance(event, ev.ConsumerSignaled) and event.kind.value in (
            ALL_CHANNELS_KINDS | {"opted_out"}
        ):
            scope = "all" if event.kind.value in ALL_CHANNELS_KINDS else (event.channel or "sms")
            signal_times[event.account_id].append((r.timestamp_ms / 1000, str(scope), "recorded"))
    for o in facts.opt_outs:  # recorded (acknowledged), or said and never acknowledged
        scope = "all" if o["kind"] in ALL_CHANNELS_KINDS else o.get("channel") or "sms"
        signal_times[o["account_id"]].append((o["at"], scope, "acked" if o["acked"] else "lost"))

    ledger, ledger_payments, ledger_error = await ledger_rows(facts.dsn)
    if ledger_error:
        found.examples["ledger"].append(ledger_error)
    messages = await sandbox_record(facts.sandbox_url, facts.sandbox_file)

    by_step: dict[str, list[tuple[dict[str, Any], str | None, float]]] = defaultdict(list)
    for m in messages:
        step, account, at = message_step(m)
        if step is None:
            found.note("unattributed_messages", json.dumps(m)[:200])
            continue
        by_step[step].append((m, account, at))

    end_sim = facts.simulated(facts.ended_at)
    faulted = set(facts.fault_destinations)
    f["steps"] = len(planned)
    f["provider_messages"] = len(messages)
    for step_id, plan in planned.items():
        decided = decisions.get(step_id, [])
        updates = statuses.get(step_id, [])
        finals = {u.status.value for u in updates if ev.DeliveryStatus(u.status).final}
        uncertain = [u for u in updates if "uncertain" in f"{u.status} {u.error_code}".lower()]
        last = decided[-1] if decided else None
        sent = by_step.get(step_id, [])
        if len(finals) > 1:
            found.note("conflicting", f"{step_id}: {sorted(finals)}")
        if finals or (last is not None and last.decision == ev.Decision.BLOCK):
            f["terminal"] += 1
            row = ledger.get(step_id)
            recorded = row is not None and (
                row["decision"] == "block" or (row["delivery_status"] or "") in finals
            )
            seen = row and (row["decision"], row["delivery_status"])
            topics_say = sorted(finals) or "block"
            if recorded or ledger_error:
                pass
            elif max(at for at, _, _ in history[step_id]) > facts.ended_at:
                found.note("in_flight", f"{step_id} (topics {topics_say}, ledger not yet)")
            else:
                f["lost"] += 1
                found.note("lost_in_ledger", f"{step_id}: topics {topics_say}; ledger {seen}")
        elif uncertain:
            f["uncertain"] += 1
            found.uncertain.append(f"{step_id}: {uncertain[-1].status} {uncertain[-1].detail}")
        elif (word := scheduler_said(history[step_id], end_sim)) == "held" or (
            last is not None and deferred_past(history[step_id], end_sim)
        ):
            f["deferred"] += 1
        elif word == "withdrawn" and not sent:
            f["superseded"] += 1  # paused, resolved, moved on: the scheduler said so
        elif not sent and (
            plan.account_id in settled
            or any(
                scope in ("all", plan.step.channel.value) and how == "recorded"
                for _, scope, how in signal_times.get(plan.account_id, [])
            )
        ):
            f["superseded"] += 1  # paid in full, opted out, disputed: nothing more to send
        elif max(at for at, _, _ in history[step_id]) > facts.ended_at:
            # Moved in the last moments of a drained run (the clock runs on): not judged.
            found.note("in_flight", f"{step_id} ({why_not_final(history[step_id], sent)})")
        elif not sent and retrying_at_end(
            history[step_id], plan.step.destination, faulted, facts.ended_at - RETRY_SPAN_S
        ):
            # Its provider refuses the destination: its outcome (failed, expired) was to come.
            f["retrying"] += 1
            found.note("retrying", f"{step_id} (approved, retried against a refusing provider)")
        elif not sent and queued(
            history[step_id],
            plan.step.channel.value,
            position[step_id][1] if step_id in position else None,
            facts.committed,
        ):
            # Its plan or approval was still in its topic, not yet consumed by the group
            # that acts on it, when the services stopped: a backlog the drain did not
            # finish, consumed on the next start. Listed, not lost.
            f["queued"] += 1
            found.note("queued", f"{step_id} ({why_not_final(history[step_id], sent)})")
        elif awaiting_provider([m for m, _, _ in sent]):
            # The provider had not handed over its final word yet (its own backlog of
            # status callbacks and events): listed, not lost. Its message was recorded once.
            f["at_provider"] += 1
            found.note("at_provider", f"{step_id} ({why_not_final(history[step_id], sent)})")
        else:
            f["lost"] += 1
            why = why_not_final(history[step_id], sent)
            found.note(f"lost_{why.split(',')[0].replace(' ', '_')}", f"{step_id} ({why})")
        if len(sent) > 1:
            f["duplicated"] += 1
            found.note("duplicated_steps", f"{step_id}: {len(sent)} provider messages")
        if sent and not any(d.decision == ev.Decision.ALLOW for d in decided):
            f["violations"] += 1
            found.note("sent_without_approval", step_id)
        consumer = accounts.get(plan.account_id)
        for message, _, at in sent:
            channel = message["channel"]
            if consumer is not None:
                zones = candidate_zones(
                    consumer.state,
                    [p.number for p in consumer.phones],
                    consumer.time_zones,
                    consumer.zip_code,
                )
                first = outside_hours(facts.simulated(at), zones)
                width = 0.0 if message.get("accepted_at") else 0.999  # floored: the whole second
                last_instant = outside_hours(facts.simulated(at + width), zones)
                if first and last_instant:
                    f["violations"] += 1
                    found.note("outside_hours", f"{step_id}: accepted {first}")
                elif first or last_instant:
                    f["borderline_hours"] += 1
            said = signal_times.get(plan.account_id, [])
            for said_at, scope, how in said:
                if scope not in ("all", channel) or at <= said_at:
                    continue
                if how == "recorded" and (answer := answered(said, scope, said_at)) is not None:
                    if at <= answer:  # on the wire when it landed; ended before the answer
                        f["in_flight_at_signal"] += 1
                        found.note("in_flight_at_signal", f"{step_id}: {channel} "
                                   f"{at - said_at:.3f}s after, {answer - at:.3f}s before the "
                                   "answer")  # fmt: skip
                    continue  # judged against its answer
                f["violations"] += 1
                found.note(f"after_opt_out_{how}", f"{step_id}: {channel} {at - said_at:.3f}s "
                           "after the consumer's signal")  # fmt: skip
                break

    for p in facts.payments:
        pid = p["payment_id"]
        if ledger_payments.get(pid, 0) != 1 and not ledger_error:
            f["lost"] += 1
            found.note("payments_missing_in_ledger", pid)
        if paid_events.get(pid, 0) == 0:
            f["lost"] += 1
            found.note("payments_missing_on_topic", pid)
        elif paid_events[pid] > 1:
            f["duplicated"] += 1
            found.note("payments_duplicated_on_topic", f"{pid} x{paid_events[pid]}")

    dead: dict[str, list[Record]] = {t: records[facts.prefix + dlq(t)] for t in ALL_TOPICS}
    for poison in facts.poison:
        value = bytes.fromhex(poison["value_hex"])
        hits = [r for r in dead[poison["topic"]] if r.value == value]
        reasons = [
            v for r in hits for k, v in r.headers if ("error" in k or "reason" in k) and v.strip()
        ]
        if not reasons:
            f["poison_missing"] += 1
            found.note(
                f"poison_missing_{poison['topic']}",
                f"{poison['what']} ({'in DLQ, no reason' if hits else 'not in DLQ'})",
            )
    f["poison_sent"] = len(facts.poison)
    return found


def main(argv: list[str]) -> int:
    raw = json.loads(Path(argv[0]).read_text())
    result = asyncio.run(check(Facts(**raw)))
    print(json.dumps({"figures": result.figures, "examples": result.examples}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


def table(report: dict[str, Any]) -> str:
    lines = [f"chaos run {report['run_id']}"]
    lines += [f"  {k:32} {v}" for k, v in report["figures"].items()]
    for key, examples in report["examples"].items():
        lines.append(f"  e.g. {key}: {'; '.join(examples[:3])}")
    lines += [f"  uncertain: {u}" for u in report["uncertain"][:20]]
    lines += [f"  note: {n}" for n in report["notes"]]
    return "\n".join(lines)
