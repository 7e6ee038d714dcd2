"""What the ledger's routers share: the authenticated router, the permission a read needs
and the principals several routers ask for, the JSON-only guard, the check of a path's id,
the error bodies, and the bootstrap's use cases as dependencies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from dunning_core.contracts.access import Permission, Principal
from dunning_core.runtime.auth import authenticated, require
from fastapi import APIRouter, Depends, Request

from dunning_ledger.errors import ErrorBody, NotFound, UnsupportedMediaType

Route = TypeVar("Route", bound=Callable[..., Any])
Errors = dict[int | str, dict[str, Any]]

READ = [Depends(require(Permission.READ))]
# The words exchanged with the consumer (messages sent, replies, whole): not for machine roles.
READ_WORDS = [Depends(require(Permission.READ_COMMUNICATIONS))]

# The API key's principal, when its role grants the permission (else 401/403): those that
# routes of more than one router ask for (the money writes live in two).
Cashier = Annotated[Principal, Depends(require(Permission.RECORD_PAYMENTS))]
PlanAgent = Annotated[Principal, Depends(require(Permission.AGREE_PLANS))]


def error_bodies(*codes: int) -> Errors:
    """The documented answers ``codes``, each with the JSON error body (in this order)."""
    return {code: {"model": ErrorBody} for code in codes}


ERRORS = error_bodies(400, 401, 403, 404, 413, 415, 422, 503)


async def _json_body(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"unsupported content type {content_type!r}; send application/json"
        )


JSON_ONLY = [Depends(_json_body)]


def path_id(noun: str, given: str, longest: int = 64) -> str:
    """The id ``given`` in a path, when a ``noun`` could have it; else 404 at once (too long,
    or with control characters), so that it never reaches the database."""
    if len(given) > longest or not given.isprintable():
        raise NotFound(f"no {noun} {given!r}")
    return given


def authenticated_router(prefix: str, tag: str) -> APIRouter:
    # Every route: a valid key first (401), before any other check can answer.
    return APIRouter(prefix=prefix, tags=[tag], dependencies=[Depends(authenticated)])


def use_case(name: str) -> Callable[[Request], Any]:
    """A dependency answering the use case ``name`` (a field of ``api.UseCases``) that the
    bootstrap put on the app; annotate the parameter with its type."""

    def get(request: Request) -> Any:
        return getattr(request.app.state.use_cases, name)

    return get


def read_route(
    api: APIRouter,
    path: str,
    model: type[Any],
    *,
    summary: str | None = None,
    description: str | None = None,
    errors: Errors = ERRORS,
    needs: list[Any] = READ,
) -> Callable[[Route], Route]:
    """``GET path`` answering ``model``, for a key whose role ``needs`` (reading, by default)."""
    return api.get(
        path,
        response_model=model,
        responses=errors,
        dependencies=needs,
        summary=summary,
        description=description,
    )
