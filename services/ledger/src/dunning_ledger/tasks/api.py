"""``/v1/tasks``: the agent task queue (list, claim, release, complete). Thin routes.

Agents, operators and admins work tasks (``tasks.work``); every role that reads lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from dunning_core.contracts.access import Permission, Principal
from dunning_core.runtime.auth import require
from fastapi import APIRouter, Depends, Path, Query

from dunning_ledger.domain.task_query import DEFAULT_LIMIT, MAX_LIMIT, TaskQuery, decode_cursor
from dunning_ledger.domain.tasks import TaskKind, TaskStatus
from dunning_ledger.errors import ErrorBody, InvalidCursor, InvalidRequest
from dunning_ledger.routing import (
    ERRORS,
    JSON_ONLY,
    Route,
    authenticated_router,
    path_id,
    read_route,
    use_case,
)
from dunning_ledger.tasks.schemas import CompleteIn, TaskOut, TaskPageOut
from dunning_ledger.tasks.service import TaskService

Worker = Annotated[Principal, Depends(require(Permission.WORK_TASKS))]
_WRITE_ERRORS = {**ERRORS, 409: {"model": ErrorBody, "description": "Held by another, or closed"}}
_LIST_DOC = (
    "Tasks matching every filter, by due instant then id, a page at a time: pass "
    "`next_cursor` back as `cursor`. `status=open` includes tasks whose claim lapsed "
    "(the lease ran out); `claimed` only those whose lease still runs."
)


def _task_id(task_id: Annotated[str, Path(description="The task's id, tsk_...")]) -> str:
    return path_id("task", task_id)


def _query(
    status: TaskStatus | None = None,
    kind: TaskKind | None = None,
    account_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    due_before: Annotated[
        datetime | None, Query(description="UTC ISO 8601 with offset, e.g. 2026-12-07T00:00Z")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> TaskQuery:
    if due_before is not None and due_before.tzinfo is None:
        raise InvalidRequest(
            "due_before needs a UTC offset (say 2026-12-07T00:00Z)", "query.due_before"
        )
    after = None
    if cursor is not None:
        try:
            after = decode_cursor(cursor)
        except ValueError as exc:
            raise InvalidCursor(str(exc)) from None
    if account_id is not None and not account_id.isprintable():
        raise InvalidRequest("account_id has control characters", "query.account_id")
    return TaskQuery(status, kind, account_id, due_before, after, limit)


def _action(
    api: APIRouter,
    action: str,
    summary: str,
    *,
    description: str | None = None,
    needs: list[Any] | None = None,
) -> Callable[[Route], Route]:
    """``POST /tasks/{task_id}/<action>``, answering the task as the action left it (a
    worker's action: 409 when another holds the task or it is closed)."""
    return api.post(
        f"/tasks/{{task_id}}/{action}",
        response_model=TaskOut,
        dependencies=needs,
        responses=_WRITE_ERRORS,
        summary=summary,
        description=description,
    )


Tasks = Annotated[TaskService, Depends(use_case("tasks"))]
TaskId = Annotated[str, Depends(_task_id)]
Query_ = Annotated[TaskQuery, Depends(_query)]


def router() -> APIRouter:
    api = authenticated_router("/v1", "tasks")

    @read_route(
        api,
        "/tasks",
        TaskPageOut,
        summary="The agent task queue, by due instant",
        description=_LIST_DOC,
    )
    async def list_tasks(query: Query_, service: Tasks) -> TaskPageOut:
        page = await service.list_tasks(query)
        tasks = [TaskOut.of(t, page.as_of) for t in page.tasks]
        return TaskPageOut(tasks=tasks, next_cursor=page.next_cursor, as_of=page.as_of)

    @_action(
        api,
        "claim",
        "Claim a task for a lease (claiming one's own claim renews it)",
        description="Atomic: of two agents claiming at once, one gets 200 and the other 409 "
        "naming who holds the task and until when. A claim lapses when its lease runs out.",
    )
    async def claim(who: Worker, task_id: TaskId, service: Tasks) -> TaskOut:
        task = await service.claim(task_id, who)
        return TaskOut.of(task, service.clock.now())

    @_action(api, "release", "Give a claimed task back to the queue (its claimer or an admin)")
    async def release(who: Worker, task_id: TaskId, service: Tasks) -> TaskOut:
        task = await service.release(task_id, who)
        return TaskOut.of(task, service.clock.now())

    @_action(
        api,
        "complete",
        "Complete a task with an outcome note (its claimer or an admin)",
        description="Completing it again with the same outcome is a replay (200, replayed).",
        needs=JSON_ONLY,
    )
    async def complete(who: Worker, task_id: TaskId, body: CompleteIn, service: Tasks) -> TaskOut:
        task, replayed = await service.complete(task_id, who, body.outcome)
        return TaskOut.of(task, service.clock.now(), replayed)

    return api
