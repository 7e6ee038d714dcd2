"""An example subscriber of payments.v1, using nothing of Dunning's code (docs/payments-events.md).

It reads the topic in its own consumer group, applies each event once (the ``ce_id`` is stored
in SQLite in the same transaction as the effect, so a redelivered record is skipped), keeps the
money received and reversed per currency and the state of each settlement offer (open, paid,
lapsed), and commits the Kafka offset after the effect.

    python docs/examples/payments_consumer.py --bootstrap 127.0.0.1:19092 --group finance-demo

Needs ``confluent-kafka`` (pip install confluent-kafka).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys

from confluent_kafka import Consumer, KafkaError, Message

SCHEMA = """
create table if not exists applied (ce_id text primary key, ce_type text not null);
create table if not exists totals (
    currency text not null, kind text not null, amount_minor integer not null,
    primary key (currency, kind));
create table if not exists settlements (settlement_id text primary key, status text not null);
"""

# What a settlement event says about the offer; account.settled.v1 names it when it paid it.
SETTLEMENT_STATUS = {"settlement.agreed.v1": "open", "settlement.lapsed.v1": "lapsed"}


def header(message: Message, name: str) -> str | None:
    for key, value in message.headers() or ():
        if key == name and value is not None:
            return value.decode()
    return None


def apply(db: sqlite3.Connection, message: Message) -> bool:
    """Apply one record; False when its ce_id was applied before (a redelivery)."""
    ce_id, ce_type = header(message, "ce_id"), header(message, "ce_type")
    if ce_id is None or ce_type is None:
        print(f"skipped a record without CloudEvents headers at offset {message.offset()}")
        return False
    data = json.loads(message.value() or b"{}")
    with db:  # one transaction: the ce_id and the effect, or neither
        if db.execute("select 1 from applied where ce_id = ?", (ce_id,)).fetchone():
            return False
        db.execute("insert into applied values (?, ?)", (ce_id, ce_type))
        kind = {"payment.received.v1": "received", "payment.reversed.v1": "reversed"}.get(ce_type)
        if kind is not None:
            money = data["amount"]
            db.execute(
                "insert into totals values (?, ?, ?) on conflict (currency, kind) "
                "do update set amount_minor = amount_minor + excluded.amount_minor",
                (money["currency"], kind, money["amount_minor"]),
            )
        status = SETTLEMENT_STATUS.get(ce_type)
        if ce_type == "account.settled.v1" and data.get("settlement_id"):
            status = "paid"
        if status is not None:
            # Per account the order is the ledger's: the latest word on an offer wins.
            db.execute(
                "insert into settlements values (?, ?) on conflict (settlement_id) "
                "do update set status = excluded.status",
                (data["settlement_id"], status),
            )
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--group", default="payments-example")
    parser.add_argument("--topic", default="payments.v1")
    parser.add_argument("--db", default="payments-example.sqlite")
    parser.add_argument("--idle-exit", type=float, default=0, help="stop after N idle seconds")
    args = parser.parse_args(argv)

    db = sqlite3.connect(args.db)
    db.executescript(SCHEMA)
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([args.topic])
    idle = 0.0
    try:
        while args.idle_exit <= 0 or idle < args.idle_exit:
            message = consumer.poll(1.0)
            if message is None:
                idle += 1.0
                continue
            idle = 0.0
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    print(f"kafka error: {error}", file=sys.stderr)
                continue
            fresh = apply(db, message)
            print(
                f"{header(message, 'ce_type')} {message.key()!r} {'applied' if fresh else 'seen'}"
            )
            consumer.commit(message=message, asynchronous=False)
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
    for currency, kind, amount in db.execute("select * from totals order by 1, 2"):
        print(f"total {kind} {currency} {amount / 100:.2f}")
    for settlement_id, status in db.execute("select * from settlements order by 1"):
        print(f"settlement {settlement_id} {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
