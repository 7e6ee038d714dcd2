"""Small builders of valid events for the core tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

from dunning_core.contracts import Channel, MessageContent, Money, Stage, step_id
from dunning_core.contracts import events as ev

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def account_opened(account_id: str = "acc-1") -> ev.AccountOpened:
    return ev.AccountOpened(
        account_id=account_id,
        revision=1,
        consumer=ev.Consumer(
            full_name="Jane Roe",
            state="CA",
            zip_code="94105",
            phones=(ev.PhoneContact(number="+14155550100"),),
            emails=(ev.EmailContact(address="jane@example.com"),),
        ),
        debt=ev.Debt(
            debt_id="debt-1",
            creditor="Acme Bank",
            balance=Money(amount_minor=123_450, currency="USD"),
            due_date=date(2026, 1, 15),
        ),
        opened_at=NOW,
    )


def step_planned(account_id: str = "acc-1", attempt: int = 1) -> ev.StepPlanned:
    content = MessageContent(body="Acme: $1,234.50 is due. Reply STOP to opt out.")
    return ev.StepPlanned(
        account_id=account_id,
        step=ev.OutreachStep(
            step_id=step_id(account_id, "debt-1", "friendly_reminder", "sms", attempt),
            debt_id="debt-1",
            stage=Stage.FRIENDLY_REMINDER,
            channel=Channel.SMS,
            attempt=attempt,
            destination="+14155550100",
            content=content,
            content_hash=content.content_hash(),
            send_at=NOW,
            first_communication=attempt == 1,
        ),
        planned_at=NOW,
    )
