"""The ledger's HTTP API: thin routes over each aggregate's use cases.

Errors come back as JSON ``{"error": code, "message": ...}`` with the status their
``LedgerError`` class carries (404, 409, 415, 422, 503); see ``errors``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import orjson
from dunning_core.contracts.access import Permission, Principal
from dunning_core.runtime.auth import require
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dunning_ledger.accounts.api import AccountId
from dunning_ledger.accounts.changes import ChangeService
from dunning_ledger.accounts.pauses import PauseService
from dunning_ledger.accounts.schemas import AccountOut
from dunning_ledger.accounts.service import AccountService
from dunning_ledger.accounts.timeline import TimelineService
from dunning_ledger.communications.schemas import (
    CommunicationsOut,
    EventOut,
    SignalIn,
    SignalOut,
    StepOut,
    StepRecordOut,
)
from dunning_ledger.communications.service import CommunicationService
from dunning_ledger.domain.import_stream import StreamFormat
from dunning_ledger.errors import (
    InvalidRequest,
    LedgerError,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from dunning_ledger.imports.schemas import IMPORT_BODY, IMPORT_DOC, ImportErrorBody, ImportResult
from dunning_ledger.imports.service import ImportCounts, ImportService
from dunning_ledger.keys.service import KeyService
from dunning_ledger.money.service import MoneyService
from dunning_ledger.payments.schemas import PaymentIn, PaymentOut
from dunning_ledger.payments.service import PaymentService
from dunning_ledger.plans.schemas import PlanIn, PlanOut
from dunning_ledger.plans.service import PlanService
from dunning_ledger.portfolio.service import PortfolioService
from dunning_ledger.promises.service import PromiseService
from dunning_ledger.replay import create_route, created_or_replayed
from dunning_ledger.routing import (
    READ,
    READ_WORDS,
    Cashier,
    PlanAgent,
    authenticated_router,
    error_bodies,
    path_id,
    read_route,
)
from dunning_ledger.tasks.service import TaskService

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UseCases:
    """The use cases the routes call, one service per aggregate (built by the bootstrap)."""

    accounts: AccountService
    payments: PaymentService
    communications: CommunicationService
    imports: ImportService
    keys: KeyService
    timelines: TimelineService
    changes: ChangeService
    portfolio: PortfolioService
    plans: PlanService
    promises: PromiseService
    money: MoneyService
    tasks: TaskService
    pauses: PauseService


def get_use_cases(request: Request) -> UseCases:
    use_cases: UseCases = request.app.state.use_cases
    return use_cases


Service = Annotated[UseCases, Depends(get_use_cases)]


def _step_id(step_id: Annotated[str, Path(description="The step's id, e.g. stp_...")]) -> str:
    return path_id("step", step_id, longest=200)


# The API key's principal, when its role grants the permission (else 401/403).
Importer = Annotated[Principal, Depends(require(Permission.IMPORT_ACCOUNTS))]
SignalAgent = Annotated[Principal, Depends(require(Permission.RECORD_SIGNALS))]

StepId = Annotated[str, Depends(_step_id)]

IMPORT_PATH = "/v1/accounts/import"
_CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain"})
_JSON_LINES_TYPES = frozenset(
    {"application/x-ndjson", "application/jsonl", "application/json-lines"}
)
_ERRORS = error_bodies(401, 403, 404, 413, 415, 409, 422, 503)


async def _import(request: Request, imports: ImportService, by: str) -> ImportCounts:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form()  # spooled to disk past 1 MB by Starlette
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidRequest("a multipart import needs the CSV in a field named 'file'")
        name = (upload.filename or "").lower()
        fmt: StreamFormat = "jsonl" if name.endswith((".jsonl", ".ndjson")) else "csv"
        return await imports.import_stream(_upload_chunks(upload), fmt, by)
    if content_type in _CSV_TYPES:
        return await imports.import_stream(request.stream(), "csv", by)
    if content_type in _JSON_LINES_TYPES:
        return await imports.import_stream(request.stream(), "jsonl", by)
    if content_type == "application/json":
        try:
            payload = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise InvalidRequest(f"the body is not JSON: {exc}") from exc
        accounts = payload.get("accounts") if isinstance(payload, dict) else None
        if not isinstance(accounts, list):
            raise InvalidRequest('a JSON import is {"accounts": [ {column: value}, ... ]}')
        return await imports.import_items(accounts, by)
    raise UnsupportedMediaType(
        f"unsupported content type {content_type or '(none)'!r}; send text/csv, "
        "application/x-ndjson (JSON Lines), multipart/form-data with a 'file' field, "
        "or application/json"
    )


async def _upload_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(1024 * 1024):
        yield chunk


def router() -> APIRouter:
    api = authenticated_router("/v1", "ledger")

    @api.post(
        "/accounts/import",
        response_model=ImportResult,
        response_model_exclude_none=True,
        summary="Import accounts (CSV or JSON), all or nothing",
        description=IMPORT_DOC,
        openapi_extra=IMPORT_BODY,
        responses={**_ERRORS, 422: {"model": ImportErrorBody}},
    )
    async def import_accounts(who: Importer, request: Request, service: Service) -> ImportResult:
        counts = await _import(request, service.imports, who.name)
        return ImportResult.of(counts, recorded_by=who.name)

    @read_route(api, "/accounts/{account_id}", AccountOut, errors=_ERRORS)
    async def get_account(account_id: AccountId, service: Service) -> AccountOut:
        return AccountOut.of(await service.accounts.account(account_id))

    @api.get(
        "/accounts/{account_id}/communications",
        response_model=CommunicationsOut,
        response_model_exclude_none=False,
        responses=_ERRORS,
        dependencies=READ_WORDS,
        summary="The account's steps: decision, rule ids and final delivery status",
    )
    async def communications(
        account_id: AccountId,
        service: Service,
        detail: Annotated[
            Literal["steps", "events"] | None,
            Query(description="`events` adds every recorded event"),
        ] = None,
    ) -> CommunicationsOut:
        view = await service.communications.communications(
            account_id, with_events=detail == "events"
        )
        return CommunicationsOut(
            account_id=view.account_id,
            steps=[StepOut.of(s) for s in view.steps],
            events=None
            if view.events is None
            else [EventOut.model_validate(e) for e in view.events],
        )

    @read_route(
        api,
        "/steps/{step_id}",
        StepRecordOut,
        errors=_ERRORS,
        needs=READ_WORDS,
        summary="One step: its log row, every gate decision with its findings, its deliveries",
    )
    async def step(step_id: StepId, service: Service) -> StepRecordOut:
        return StepRecordOut.of(await service.communications.step(step_id))

    @create_route(
        api,
        "/accounts/{account_id}/payments",
        PaymentOut,
        errors=_ERRORS,
        replayed="Already recorded",
        summary="Record a payment (idempotent by payment_id)",
        description="Applied to the active plan's earliest unpaid installments, an open "
        "promise and an open settlement; what goes beyond the balance is kept as a credit.",
    )
    async def record_payment(
        who: Cashier, account_id: AccountId, body: PaymentIn, service: Service, response: Response
    ) -> PaymentOut:
        result = await service.payments.record_payment(account_id, body, recorded_by=who.name)
        return PaymentOut.of(result.payment, created_or_replayed(response, result.replayed))

    @create_route(
        api,
        "/accounts/{account_id}/plans",
        PlanOut,
        errors=_ERRORS,
        replayed="Already agreed",
        summary="Agree a payment plan from an offer or its terms (idempotent by plan_id)",
        description=(PlanIn.__doc__ or "").replace("\n    ", " "),
    )
    async def agree_plan(
        who: PlanAgent, account_id: AccountId, body: PlanIn, service: Service, response: Response
    ) -> PlanOut:
        result = await service.plans.agree_plan(account_id, body, recorded_by=who.name)
        replayed = created_or_replayed(response, result.replayed)
        return PlanOut.of(result.plan, replayed, result.installments)

    @create_route(
        api,
        "/accounts/{account_id}/signals",
        SignalOut,
        errors=_ERRORS,
        replayed="Already recorded",
        summary="Record an operator-entered signal (dispute, cease, attorney, ...)",
    )
    async def record_signal(
        who: SignalAgent,
        account_id: AccountId,
        body: SignalIn,
        service: Service,
        response: Response,
    ) -> SignalOut:
        result = await service.communications.record_signal(account_id, body, recorded_by=who.name)
        created_or_replayed(response, result.replayed)
        return SignalOut.model_validate(result)

    @api.get("/summary", summary="Counts for the demo", responses=_ERRORS, dependencies=READ)
    async def summary(service: Service) -> dict[str, Any]:
        return await service.accounts.summary()

    return api


def install_error_handlers(app: FastAPI) -> None:
    async def ledger_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, LedgerError)
        return JSONResponse(exc.body(), status_code=exc.status_code)

    async def invalid_body(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        # Where: the field's path inside the body, or the part of the request itself
        # ("body" when there is none at all, "query.limit", "path.account_id").
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"] if p != "body")
                or ".".join(str(p) for p in e["loc"])
                or "request",
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        body = {"error": "invalid_request", "message": "the request is invalid", "errors": errors}
        return JSONResponse(body, status_code=422)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        message = str(exc.detail)
        if exc.status_code == 400:  # FastAPI could not decode the body (not UTF-8, say)
            message = f"the body cannot be read as UTF-8 JSON: {message}"
        return JSONResponse(
            {"error": code, "message": message},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(LedgerError("unexpected error; see the ledger's log").body(), 500)

    app.add_exception_handler(LedgerError, ledger_error)
    app.add_exception_handler(RequestValidationError, invalid_body)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


class BodyLimit:
    """Refuses a request body over its limit with 413: by its Content-Length at once, else
    while it streams in (the route sees ``PayloadTooLarge`` and writes nothing).

    A body read whole may be ``whole_bytes`` at most; a route in ``streamed`` (it never
    holds its body; a multipart file is spooled to disk) takes up to ``max_bytes``, but for
    a JSON body, which is parsed whole.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        whole_bytes: int | None = None,
        streamed: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.whole_bytes = min(max_bytes, whole_bytes or max_bytes)
        self.streamed = streamed

    def _error(self, limit: int) -> PayloadTooLarge:
        setting = "MAX_BODY_BYTES" if limit == self.max_bytes else "MAX_JSON_BYTES"
        return PayloadTooLarge(f"the body is larger than {limit} bytes (DUNNING_LEDGER_{setting})")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = self.whole_bytes
        content_type = headers.get(b"content-type", b"").lower()
        if scope.get("path") in self.streamed and not content_type.startswith(b"application/json"):
            limit = self.max_bytes
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            error = self._error(limit)
            await JSONResponse(error.body(), error.status_code)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise self._error(limit)
            return message

        await self.app(scope, limited, send)
