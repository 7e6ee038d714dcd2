"""From what the gate knows (events, derived state) to the rule engine's input (pure)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from dunning_core.contracts.events import StepPlanned

from dunning_gate.domain.state import AccountState

_COLLECTOR = {"first_party": "creditor", "third_party": "third_party_collector"}


def parse_window(text: str) -> tuple[time, time] | None:
    """``"00:00-12:00"`` → (start, end); None for anything else."""
    try:
        start, end = text.split("-", 1)
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError:
        return None


def request_dict(
    planned: StepPlanned, state: AccountState, now: datetime, zones: tuple[str, ...] | None
) -> dict[str, Any]:
    """The evaluation request for one planned step, as plain data (validated by the engine)."""
    step = planned.step
    consumer = state.consumer
    debt = state.debt
    raw_step = {
        "step_id": step.step_id,
        "account_id": planned.account_id,
        "debt_id": step.debt_id,
        "channel": step.channel.value,
        "stage": step.stage.value,
        "attempt": step.attempt,
        "destination": step.destination,
        "content": {
            "subject": step.content.subject,
            "body": step.content.body,
            "locale": step.content.locale.replace("_", "-"),
            "headers": dict(step.content.headers),
        },
        "content_hash": step.content_hash,
        "is_first_communication": step.first_communication
        or not any(c.debt_id == step.debt_id for c in state.contacts if c.live),
        "planned_at": planned.planned_at.isoformat(),
    }
    raw: dict[str, Any] = {"step": raw_step, "now": now.isoformat()}
    if consumer is None or debt is None:
        # No account snapshot yet: the engine reports the missing consumer as input.invalid.
        raw["consumer"] = None
        raw["debt"] = None
        return raw
    windows = [w for w in (parse_window(t) for t in state.inconvenient_times) if w]
    raw["consumer"] = {
        "state": consumer.state,
        "zip": consumer.zip_code,
        "city": consumer.city,
        "phones": [
            {
                "number": p.number,
                "line_type": p.kind,
                "consent": p.consent.value,
                "basis": p.basis.value,
                "basis_on": p.basis_on.isoformat() if p.basis_on else None,
                "reassigned_checked_on": p.reassigned_checked_on.isoformat()
                if p.reassigned_checked_on
                else None,
            }
            for p in consumer.phones
        ],
        "emails": [
            {
                "address": e.address,
                "basis": e.basis.value,
                "basis_on": e.basis_on.isoformat() if e.basis_on else None,
                "workplace": e.workplace,
            }
            for e in consumer.emails
        ],
        "inconvenient_times": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in windows],
        "opt_outs": [{"address": a} for a in sorted(state.opted_out_addresses)]
        + [{"channel": c} for c in sorted(state.opted_out_channels)],
        "restricted_media": [{"address": a} for a in sorted(state.restricted_addresses)],
        "cease_requested": state.cease_requested,
        "attorney_represented": state.attorney_represented,
        "bankruptcy_filed": state.bankruptcy,
        "deceased": state.deceased,
        "outreach_paused": state.outreach_paused,
        "nyc_electronic_consent": consumer.nyc_electronic_consent,
        "candidate_zones": list(zones) if zones is not None else None,
    }
    ours = [c for c in state.contacts if c.live]
    first_contact = min((c.at for c in ours if c.debt_id == debt.debt_id), default=None)
    disputes = []
    if state.dispute.received_at is not None:
        disputes.append(
            {
                "status": "pending" if state.dispute.pending else "verified",
                "received_at": state.dispute.received_at.isoformat(),
                "written": state.dispute.written,
            }
        )
    raw["debt"] = {
        "debt_id": debt.debt_id,
        "creditor": debt.creditor,
        "collector_type": _COLLECTOR[debt.collector_type],
        "medical": debt.medical,
        "validation_notice_sent_at": debt.validation_notice_sent_at.isoformat()
        if debt.validation_notice_sent_at
        else None,
        "first_communication_at": first_contact.isoformat() if first_contact else None,
        "disputes": disputes,
        "limitation_date": debt.limitation_date.isoformat() if debt.limitation_date else None,
        "defaulted_on": _day(debt.delinquent_since),
        "charged_off_on": _day(debt.charged_off_on),
        "last_payment_date": _day(debt.last_payment_date),
        "legal_action_authorized": debt.legal_action_authorized,
        "ca_license_number": debt.ca_license_number,
    }
    raw["history"] = {
        "attempts": [
            {
                "at": c.at.isoformat(),
                "channel": c.channel,
                "debt_ids": [c.debt_id],
                "destination": c.destination,
                "outcome": "sent",
            }
            for c in ours
        ]
    }
    return raw


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None
