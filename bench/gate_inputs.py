"""What the gate benchmark decides: N accounts over four states, one planned sms each."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dunning_core.contracts import Channel, MessageContent, Money, Stage, step_id
from dunning_core.contracts import events as ev

NOW = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)  # noon in New York
STATES = (
    ("NY", "10001", "212"),
    ("CA", "94105", "415"),
    ("TX", "75201", "214"),
    ("FL", "33101", "305"),
)
BODY = (
    "Acme Recovery: this message is from a debt collector. We are attempting to collect a debt "
    "and any information obtained will be used for that purpose. Your Example Bank balance is "
    "$120.00. Pay at https://pay.example.com. Reply STOP to opt out."
)


def account(n: int) -> ev.AccountOpened:
    state, zip_code, area = STATES[n % len(STATES)]
    return ev.AccountOpened(
        account_id=f"A{n:06d}",
        revision=1,
        consumer=ev.Consumer(
            full_name="Sam Doe",
            state=state,
            zip_code=zip_code,
            phones=(
                ev.PhoneContact(
                    number=f"+1{area}555{n % 10000:04d}", reassigned_checked_on=date(2026, 2, 20)
                ),
            ),
        ),
        debt=ev.Debt(
            debt_id=f"D{n:06d}",
            creditor="Example Bank",
            balance=Money(amount_minor=12_000),
            due_date=date(2026, 1, 1),
            limitation_date=date(2029, 1, 1),
            validation_notice_sent_at=datetime(2026, 1, 20, 15, tzinfo=UTC),
            ca_license_number="CFL-1" if state == "CA" else None,
        ),
        opened_at=NOW - timedelta(days=30),
    )


def planned(n: int) -> ev.StepPlanned:
    content = MessageContent(body=BODY + (" CA license CFL-1." if n % len(STATES) == 1 else ""))
    _, _, area = STATES[n % len(STATES)]
    return ev.StepPlanned(
        account_id=f"A{n:06d}",
        step=ev.OutreachStep(
            step_id=step_id(f"A{n:06d}", f"D{n:06d}", "friendly_reminder", "sms", 1),
            debt_id=f"D{n:06d}",
            stage=Stage.FRIENDLY_REMINDER,
            channel=Channel.SMS,
            attempt=1,
            destination=f"+1{area}555{n % 10000:04d}",
            content=content,
            content_hash=content.content_hash(),
            send_at=NOW,
            first_communication=True,
        ),
        planned_at=NOW,
    )
