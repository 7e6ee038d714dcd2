"""One step's life as the ledger records it, for the tests of the step record and of the
tools that read it (``dunning gate explain``).

A ledger built with ``quiet_settings`` neither relays its outbox nor consumes Kafka: a
test feeds events to its ``LedgerEventHandler`` itself, as the consumer loop would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dunning_core.contracts.common import Channel, Stage
from dunning_core.contracts.events import (
    Decision,
    DeliveryStatus,
    DeliveryUpdated,
    RuleFinding,
    StepDecided,
)
from dunning_core.contracts.ids import step_id
from dunning_ledger.config import LedgerSettings

T0 = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 18:30 in New York: too late to text
RETRY_AT = T0 + timedelta(hours=13, minutes=30)  # 08:00 the next morning
QUIET_HOURS = RuleFinding(
    rule_id="time.inconvenient_hours",
    action="defer",
    explanation="18:30 in America/New_York is outside 08:00-21:00",
    not_before=RETRY_AT,
    inputs={"local_time": "18:30", "zone": "America/New_York"},
)


def quiet_settings(database_url: str, topic_prefix: str) -> LedgerSettings:
    return LedgerSettings(
        database_url=database_url,
        topic_prefix=topic_prefix,
        ledger_group_id=f"{topic_prefix}ledger",
        ledger_relay=False,
        ledger_consume=False,
    )


@dataclass(frozen=True)
class StepStory:
    """A New York consumer's friendly-reminder SMS: its account, decisions and deliveries."""

    account_id: str
    debt_id: str
    phone: str
    full_name: str

    @property
    def step_id(self) -> str:
        return step_id(self.account_id, self.debt_id, "friendly_reminder", "sms", 1)

    def account_row(self) -> dict[str, str]:
        return {
            "account_id": self.account_id,
            "full_name": self.full_name,
            "state": "NY",
            "zip": "10001",
            "phone": self.phone,
            "phone_kind": "mobile",
            "phone_consent": "creditor_provided",
            "creditor": "Acme Bank",
            "debt_id": self.debt_id,
            "balance": "120.50",
            "currency": "USD",
            "due_date": "2026-01-15",
        }

    def decided(self, decision: Decision, at: datetime, *findings: RuleFinding) -> StepDecided:
        return StepDecided(
            account_id=self.account_id,
            step_id=self.step_id,
            planned_event_id=f"plan-{at.isoformat()}",
            debt_id=self.debt_id,
            stage=Stage.FRIENDLY_REMINDER,
            channel=Channel.SMS,
            attempt=1,
            destination=self.phone,
            decision=decision,
            not_before=max((f.not_before for f in findings if f.not_before), default=None),
            findings=findings,
            inputs={"local_times": {"America/New_York": at.isoformat()}, "contacts_7d": 0},
            policy_version="test-2026.03",
            content_hash="sha256:abc",
            decided_at=at,
        )

    def delivered(self, status: DeliveryStatus, at: datetime) -> DeliveryUpdated:
        return DeliveryUpdated(
            account_id=self.account_id,
            step_id=self.step_id,
            channel=Channel.SMS,
            provider="twilio",
            provider_message_id="SM-0001",
            status=status,
            occurred_at=at,
        )
