"""The ledger's HTTP API: thin routes over each aggregate's use cases.

Errors come back as JSON ``{"error": code, "message": ...}`` with the status their
``LedgerError`` class carries (404, 409, 415, 422, 503); see ``errors``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import orjson
from dunning_core.contracts.access import Permission, Principal
from dunning_core.runtime.auth import authenticated, require
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dunning_ledger.accounts.api import JSON_ONLY, AccountId
from dunning_ledger.accounts.changes import ChangeService
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
from dunning_ledger.domain import import_format
from dunning_ledger.domain.import_rows import ValidatedImport, validate_csv, validate_json
from dunning_ledger.errors import (
    ErrorBody,
    InvalidRequest,
    LedgerError,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from dunning_ledger.imports.schemas import ImportErrorBody, ImportResult
from dunning_ledger.imports.service import ImportService
from dunning_ledger.keys.service import KeyService
from dunning_ledger.money.service import MoneyService
from dunning_ledger.payments.schemas import PaymentIn, PaymentOut
from dunning_ledger.payments.service import PaymentService
from dunning_ledger.plans.schemas import PlanIn, PlanOut
from dunning_ledger.plans.service import PlanService
from dunning_ledger.portfolio.service import PortfolioService
from dunning_ledger.promises.service import PromiseService

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


def get_use_cases(request: Request) -> UseCases:
    use_cases: UseCases = request.app.state.use_cases
    return use_cases


Service = Annotated[UseCases, Depends(get_use_cases)]


def _step_id(step_id: Annotated[str, Path(description="The step's id, e.g. stp_...")]) -> str:
    if len(step_id) > 200 or not step_id.isprintable():
        raise NotFound(f"no step {step_id!r}")
    return step_id


# The API key's principal, when its role grants the permission (else 401/403).
Importer = Annotated[Principal, Depends(require(Permission.IMPORT_ACCOUNTS))]
Cashier = Annotated[Principal, Depends(require(Permission.RECORD_PAYMENTS))]
PlanAgent = Annotated[Principal, Depends(require(Permission.AGREE_PLANS))]
SignalAgent = Annotated[Principal, Depends(require(Permission.RECORD_SIGNALS))]
READ = [Depends(require(Permission.READ))]

StepId = Annotated[str, Depends(_step_id)]

_CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain"})
_IMPORT_DOC = (
    "Import accounts: a CSV file (multipart field `file`, or the body with "
    '`Content-Type: text/csv`) or JSON `{"accounts": [{column: value}]}`. Every row is '
    "checked first; any error rejects the whole file with 422 and imports nothing.\n\n"
    + (import_format.__doc__ or "").split("\n\n", 1)[1]
)
_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "accounts": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    c: {"type": "string"} for c in import_format.COLUMNS
                                },
                                "required": list(import_format.REQUIRED_COLUMNS),
                            },
                        }
                    },
                    "required": ["accounts"],
                }
            },
        },
    }
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    413: {"model": ErrorBody},
    415: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
    503: {"model": ErrorBody},
}


async def _read_import(request: Request) -> ValidatedImport:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    # Validation is CPU work (about 0.1 ms a row): off the event loop, so consumers keep up.
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidRequest("a multipart import needs the CSV in a field named 'file'")
        return await asyncio.to_thread(validate_csv, await upload.read())
    if content_type in _CSV_TYPES:
        return await asyncio.to_thread(validate_csv, await request.body())
    if content_type == "application/json":
        try:
            payload = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise InvalidRequest(f"the body is not JSON: {exc}") from exc
        accounts = payload.get("accounts") if isinstance(payload, dict) else None
        if not isinstance(accounts, list):
            raise InvalidRequest('a JSON import is {"accounts": [ {column: value}, ... ]}')
        return await asyncio.to_thread(validate_json, accounts)
    raise UnsupportedMediaType(
        f"unsupported content type {content_type or '(none)'!r}; send text/csv, "
        "multipart/form-data with a 'file' field, or application/json"
    )


def router() -> APIRouter:
    # Every route: a valid key first (401), before any other check can answer.
    api = APIRouter(prefix="/v1", tags=["ledger"], dependencies=[Depends(authenticated)])

    @api.post(
        "/accounts/import",
        response_model=ImportResult,
        response_model_exclude_none=True,
        summary="Import accounts (CSV or JSON), all or nothing",
        description=_IMPORT_DOC,
        openapi_extra=_IMPORT_BODY,
        responses={**_ERRORS, 422: {"model": ImportErrorBody}},
    )
    async def import_accounts(who: Importer, request: Request, service: Service) -> ImportResult:
        validated = await _read_import(request)
        counts = await service.imports.import_accounts(validated)
        return ImportResult.of(counts, recorded_by=who.name)

    @api.get(
        "/accounts/{account_id}", response_model=AccountOut, responses=_ERRORS, dependencies=READ
    )
    async def get_account(account_id: AccountId, service: Service) -> AccountOut:
        return AccountOut.of(await service.accounts.account(account_id))

    @api.get(
        "/accounts/{account_id}/communications",
        response_model=CommunicationsOut,
        response_model_exclude_none=False,
        responses=_ERRORS,
        dependencies=READ,
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
            events=None if view.events is None else [EventOut.of(e) for e in view.events],
        )

    @api.get(
        "/steps/{step_id}",
        response_model=StepRecordOut,
        responses=_ERRORS,
        dependencies=READ,
        summary="One step: its log row, every gate decision with its findings, its deliveries",
    )
    async def step(step_id: StepId, service: Service) -> StepRecordOut:
        return StepRecordOut.of(await service.communications.step(step_id))

    @api.post(
        "/accounts/{account_id}/payments",
        response_model=PaymentOut,
        status_code=201,
        dependencies=JSON_ONLY,
        responses={**_ERRORS, 200: {"model": PaymentOut, "description": "Already recorded"}},
        summary="Record a payment (idempotent by payment_id)",
        description="Applied to the active plan's earliest unpaid installments, an open "
        "promise and an open settlement; what goes beyond the balance is kept as a credit.",
    )
    async def record_payment(
        who: Cashier, account_id: AccountId, body: PaymentIn, service: Service, response: Response
    ) -> PaymentOut:
        result = await service.payments.record_payment(account_id, body, recorded_by=who.name)
        if result.replayed:
            response.status_code = 200
        return PaymentOut.of(result.payment, result.replayed)

    @api.post(
        "/accounts/{account_id}/plans",
        response_model=PlanOut,
        status_code=201,
        dependencies=JSON_ONLY,
        responses={**_ERRORS, 200: {"model": PlanOut, "description": "Already agreed"}},
        summary="Agree a payment plan from an offer or its terms (idempotent by plan_id)",
        description=(PlanIn.__doc__ or "").replace("\n    ", " "),
    )
    async def agree_plan(
        who: PlanAgent, account_id: AccountId, body: PlanIn, service: Service, response: Response
    ) -> PlanOut:
        result = await service.plans.agree_plan(account_id, body, recorded_by=who.name)
        if result.replayed:
            response.status_code = 200
        return PlanOut.of(result.plan, result.replayed, result.installments)

    @api.post(
        "/accounts/{account_id}/signals",
        response_model=SignalOut,
        status_code=201,
        dependencies=JSON_ONLY,
        responses={**_ERRORS, 200: {"model": SignalOut, "description": "Already recorded"}},
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
        if result.replayed:
            response.status_code = 200
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
    """Refuses a request body over ``max_bytes`` with 413: by its Content-Length at once,
    else while it streams in (the route sees ``PayloadTooLarge`` and writes nothing)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _error(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"the body is larger than {self.max_bytes} bytes (DUNNING_LEDGER_MAX_BODY_BYTES)"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            error = self._error()
            await JSONResponse(error.body(), error.status_code)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._error()
            return message

        await self.app(scope, limited, send)
