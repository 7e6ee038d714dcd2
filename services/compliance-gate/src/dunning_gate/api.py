"""The gate's HTTP surface: what-if evaluation (no side effects) and its input schema."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from dunning_gate.domain.parsing import evaluate_raw
from dunning_gate.domain.request import request_json_schema
from dunning_gate.policy.model import Policy


def router(policy: Policy) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["what-if"])

    @api.post("/evaluate")
    async def evaluate(request: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
        """Decide one step from the consumer, debt and history given; records nothing.

        Malformed input is answered with a block by rule ``input.invalid`` naming the
        fields, never with an allow.
        """
        return evaluate_raw(request, policy).model_dump(mode="json")

    @api.get("/evaluate/schema")
    async def schema() -> dict[str, object]:
        """The JSON Schema of an evaluation request."""
        return request_json_schema()

    @api.get("/policy")
    async def current_policy() -> dict[str, Any]:
        return policy.model_dump(mode="json")

    return api
