"""How an idempotent write route answers: 201 when it created, 200 when it replayed.

Each write of the ledger (a payment, plan, signal, reversal, promise, settlement) carries
its own key; the same write sent again changes nothing and answers what was stored, with
200 and ``replayed: true``. The routes are declared with ``create_route`` and answer with
``created_or_replayed``, so the documented and the served status agree everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Response

from dunning_ledger.routing import JSON_ONLY

Route = TypeVar("Route", bound=Callable[..., Any])


def create_route(
    api: APIRouter,
    path: str,
    model: type[Any],
    *,
    errors: dict[int | str, dict[str, Any]],
    replayed: str,
    summary: str,
    description: str | None = None,
) -> Callable[[Route], Route]:
    """``POST path``: JSON in, ``model`` out with 201, or with 200 (``replayed`` says what
    was already there) when the key was seen before."""
    return api.post(
        path,
        response_model=model,
        status_code=201,
        dependencies=JSON_ONLY,
        responses={**errors, 200: {"model": model, "description": replayed}},
        summary=summary,
        description=description,
    )


def created_or_replayed(response: Response, replayed: bool) -> bool:
    """Sets 200 on a replay (the route's status is 201); returns ``replayed``."""
    response.status_code = 200 if replayed else 201
    return replayed
