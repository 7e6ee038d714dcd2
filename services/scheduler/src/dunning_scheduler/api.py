"""The scheduler's HTTP surface: one case's state, and counts across cases (read-only)."""

from __future__ import annotations

from typing import Any

from dunning_core.contracts.common import Channel
from dunning_core.runtime.logging import mask_pii
from fastapi import APIRouter, HTTPException

from dunning_scheduler.domain.case import Case, StepRecord
from dunning_scheduler.domain.contacts import destination
from dunning_scheduler.handlers import PlannerLoop
from dunning_scheduler.policy.model import EscalationPolicy
from dunning_scheduler.ports import CaseStore


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
        """Cases by status and by stage, paused cases by reason, steps by status."""
        report = await store.stats()
        report["policy"] = {"name": policy.name, "version": policy.version}
        if planner is not None:
            report["planner"] = planner.health()
        return report

    return api
