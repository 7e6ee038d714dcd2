"""The scheduler's HTTP surface: one case's state, counts across cases, and the templates
rendered for a sample account (all read-only)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from dunning_core.contracts.common import Channel, Money, Stage
from dunning_core.contracts.events import Consumer, Debt, EmailContact, PhoneContact
from dunning_core.runtime.logging import mask_pii
from fastapi import APIRouter, HTTPException

from dunning_scheduler.domain.case import Case, StepRecord
from dunning_scheduler.domain.contacts import destination
from dunning_scheduler.domain.planning import StepDraft
from dunning_scheduler.handlers import PlannerLoop
from dunning_scheduler.policy.model import EscalationPolicy
from dunning_scheduler.ports import CaseStore, MessageRenderer


def case_view(case: Case, policy: EscalationPolicy, steps: list[StepRecord]) -> dict[str, Any]:
    stage = policy.stages[case.stage_index].key if case.stage_index < len(policy.stages) else None
    return {
        "account_id": case.account_id,
        "debt_id": case.debt_id,
        "revision": case.revision,
        "status": case.status.value,
        "paused_reason": case.paused_reason.value if case.paused_reason else None,
        "pause_reasons": sorted(r.value for r in case.pause_reasons),
        "promise_until": case.promise_until,
        "plan_id": case.money.plan_id,
        "promise_id": case.money.promise_id,
        "policy": case.policy,
        "next_stage": stage,
        "stage_index": case.stage_index,
        "attempt": case.attempt,
        "next_step_at": case.next_step_at,
        "usable_channels": [c.value for c in Channel if destination(case, c) is not None],
        "opted_out_channels": sorted(c.value for c in case.opted_out_channels),
        "unusable_addresses": sorted(mask_pii(a) for a in case.bad_addresses),
        "contacted": case.contacted,
        "steps_planned": case.steps_planned,
        "last_step_ids": list(case.last_step_ids),
        "last_planned_at": case.last_planned_at,
        "priority": case.priority,
        "balance": case.debt.balance.model_dump() if case.debt else None,
        "note": case.note,
        "updated_at": case.updated_at,
        "steps": [
            {
                "step_id": s.step_id,
                "stage": s.step.stage.value,
                "stage_key": s.stage_key,
                "channel": s.step.channel.value,
                "attempt": s.step.attempt,
                "destination": mask_pii(s.step.destination),
                "send_at": s.step.send_at,
                "first_communication": s.step.first_communication,
                "status": s.status.value,
                "rule_ids": list(s.rule_ids),
                "delivery_status": s.delivery_status,
                "replans": s.replans,
                "content_hash": s.step.content_hash,
            }
            for s in steps
        ],
    }


def router(store: CaseStore, policy: EscalationPolicy, planner: PlannerLoop | None) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["cases"])

    @api.get("/cases/{account_id}")
    async def get_case(account_id: str) -> dict[str, Any]:
        """The escalation state of one account, with its most recent steps."""
        case = await store.get_case(account_id)
        if case is None:
            raise HTTPException(status_code=404, detail=f"no case for account {account_id}")
        return case_view(case, policy, await store.steps_of(account_id, limit=50))

    @api.get("/stats")
    async def stats() -> dict[str, Any]:
        """Cases by status and by stage, paused cases by reason, steps by status, and the
        active policy's ladder (its stages, mildest first)."""
        report = await store.stats()
        report["policy"] = {
            "name": policy.name,
            "version": policy.version,
            # The ladder itself, for the operations dashboard's diagram (services/ops).
            "stages": [stage.model_dump(mode="json") for stage in policy.stages],
            "resume_stage": policy.plans.resume_stage,
        }
        if planner is not None:
            report["planner"] = planner.health()
        return report

    return api


SAMPLE_ACCOUNT = "SAMPLE-0001"
_SAMPLE_ADDRESS = {Channel.SMS: "+12125550100", Channel.EMAIL: "alex.sample@example.com"}


def template_previews(
    renderer: MessageRenderer,
    policy: EscalationPolicy,
    *,
    locale: str,
    stage: str | None = None,
    channel: Channel | None = None,
    state: str = "NY",
    first_communication: bool = False,
    now: datetime,
) -> list[dict[str, Any]]:
    """Every template of the policy's stages (or of one, matched by key or stage name),
    rendered for a sample account in `locale`, per channel; a fallback's templates too, and
    the money messages of ``policy.plans`` (stage key ``plans``)."""
    consumer = Consumer(
        full_name="Alex Sample",
        locale=locale,
        state=state,
        phones=(PhoneContact(number=_SAMPLE_ADDRESS[Channel.SMS]),),
        emails=(EmailContact(address=_SAMPLE_ADDRESS[Channel.EMAIL]),),
    )
    today = now.date()
    debt = Debt(
        debt_id="SAMPLE-DEBT",
        creditor="Sample Bank",
        balance=Money(amount_minor=123_456, currency="USD"),
        due_date=today - timedelta(days=60),
        delinquent_since=today - timedelta(days=30),
        limitation_date=date(today.year + 3, 1, 1),
        ca_license_number="CA-0000000" if state == "CA" else None,
    )
    # (stage key, contract stage, template, channels, legal language) of every message.
    variants: list[tuple[str, Stage, str, tuple[Channel, ...], bool]] = []
    for spec in policy.stages:
        if stage is not None and stage not in (spec.key, spec.stage.value):
            continue
        legal = spec.requires_legal_authority
        variants += [(spec.key, spec.stage, t, spec.channels, legal) for t in spec.templates]
        if spec.fallback is not None:
            key, kind = f"{spec.key}.fallback", spec.fallback.stage
            variants += [(key, kind, t, spec.channels, False) for t in spec.fallback.templates]
    if stage in (None, "plans"):  # the money messages: reminders, thank-yous, follow-up
        money = sorted(policy.plans.template_names())
        variants += [
            ("plans", Stage.FRIENDLY_REMINDER, t, policy.plans.channels, False) for t in money
        ]
    previews: list[dict[str, Any]] = []
    for key, kind, template, channels, legal in dict.fromkeys(variants):
        for medium in channels:
            if channel is not None and medium != channel:
                continue
            draft = StepDraft(
                step_id=f"preview-{key}-{template}-{medium.value}",
                account_id=SAMPLE_ACCOUNT,
                debt_id=debt.debt_id,
                stage_key=key,
                stage=kind,
                template=template,
                channel=medium,
                attempt=1,
                destination=_SAMPLE_ADDRESS[medium],
                send_at=now,
                first_communication=first_communication,
                legal_language=legal,
                time_barred=False,
                gap_after=None,
                reply_by=today + timedelta(days=14),
                amount=Money(amount_minor=41_152, currency="USD"),
                on_date=today + timedelta(days=3),
            )
            content = renderer.render(draft, consumer, debt)
            previews.append(
                {
                    "stage_key": key,
                    "stage": kind.value,
                    "template": template,
                    "channel": medium.value,
                    **content.model_dump(mode="json"),
                }
            )
    return previews


def preview_router(renderer: MessageRenderer, policy: EscalationPolicy) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["templates"])

    @api.get("/templates/preview")
    async def preview(
        locale: str = "en_US",
        stage: str | None = None,
        channel: Channel | None = None,
        state: str = "NY",
        first_communication: bool = False,
    ) -> dict[str, Any]:
        """The templates rendered for a sample account: subject, body and headers per
        stage, template and channel. `stage` is a stage key or a stage name."""
        keys = [s.key for s in policy.stages]
        if stage not in (None, "plans", *keys, *(s.stage.value for s in policy.stages)):
            known = ", ".join([*keys, "plans"])
            raise HTTPException(status_code=404, detail=f"no stage {stage!r} (known: {known})")
        try:
            previews = template_previews(
                renderer,
                policy,
                locale=locale,
                stage=stage,
                channel=channel,
                state=state.upper(),
                first_communication=first_communication,
                now=datetime.now(UTC),
            )
        except ValueError as error:  # a sample account the contracts refuse (e.g. state)
            raise HTTPException(status_code=422, detail=str(error)) from error
        return {"locale": locale, "account_id": SAMPLE_ACCOUNT, "previews": previews}

    return api
