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
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from dunning_ledger.accounts.schemas import AccountOut
from dunning_ledger.accounts.service import AccountService
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
from dunning_ledger.errors import ErrorBody, InvalidRequest, LedgerError, UnsupportedMediaType
from dunning_ledger.imports.schemas import ImportErrorBody, ImportResult
from dunning_ledger.imports.service import ImportService
from dunning_ledger.payments.schemas import PaymentIn, PaymentOut, PlanIn, PlanOut
from dunning_ledger.payments.service import PaymentService

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UseCases:
    """The use cases the routes call, one service per aggregate (built by the bootstrap)."""

    accounts: AccountService
    payments: PaymentService
    communications: CommunicationService
    imports: ImportService


def get_use_cases(request: Request) -> UseCases:
    use_cases: UseCases = request.app.state.use_cases
    return use_cases


Service = Annotated[UseCases, Depends(get_use_cases)]

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
    404: {"model": ErrorBody},
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
    api = APIRouter(prefix="/v1", tags=["ledger"])

    @api.post(
        "/accounts/import",
        response_model=ImportResult,
        summary="Import accounts (CSV or JSON), all or nothing",
        description=_IMPORT_DOC,
        openapi_extra=_IMPORT_BODY,
        responses={**_ERRORS, 422: {"model": ImportErrorBody}, 415: {"model": ErrorBody}},
    )
    async def import_accounts(request: Request, service: Service) -> ImportResult:
        validated = await _read_import(request)
        return ImportResult.of(await service.imports.import_accounts(validated))

    @api.get("/accounts/{account_id}", response_model=AccountOut, responses=_ERRORS)
    async def get_account(account_id: str, service: Service) -> AccountOut:
        return AccountOut.of(await service.accounts.account(account_id))

    @api.get(
        "/accounts/{account_id}/communications",
        response_model=CommunicationsOut,
        response_model_exclude_none=False,
        responses=_ERRORS,
        summary="The account's steps: decision, rule ids and final delivery status",
    )
    async def communications(
        account_id: str,
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
        summary="One step: its log row, every gate decision with its findings, its deliveries",
    )
    async def step(step_id: str, service: Service) -> StepRecordOut:
        return StepRecordOut.of(await service.communications.step(step_id))

    @api.post(
        "/accounts/{account_id}/payments",
        response_model=PaymentOut,
        status_code=201,
        responses={**_ERRORS, 200: {"model": PaymentOut, "description": "Already recorded"}},
        summary="Record a payment (idempotent by payment_id)",
    )
    async def record_payment(
        account_id: str, body: PaymentIn, service: Service, response: Response
    ) -> PaymentOut:
        result = await service.payments.record_payment(account_id, body)
        if result.replayed:
            response.status_code = 200
        return PaymentOut.of(result.payment, result.replayed)

    @api.post(
        "/accounts/{account_id}/plans",
        response_model=PlanOut,
        status_code=201,
        responses={**_ERRORS, 200: {"model": PlanOut, "description": "Already agreed"}},
        summary="Record an agreed payment plan (idempotent by plan_id)",
    )
    async def agree_plan(
        account_id: str, body: PlanIn, service: Service, response: Response
    ) -> PlanOut:
        result = await service.payments.agree_plan(account_id, body)
        if result.replayed:
            response.status_code = 200
        return PlanOut.of(result.plan, result.replayed)

    @api.post(
        "/accounts/{account_id}/signals",
        response_model=SignalOut,
        status_code=201,
        responses={**_ERRORS, 200: {"model": SignalOut, "description": "Already recorded"}},
        summary="Record an operator-entered signal (dispute, cease, attorney, ...)",
    )
    async def record_signal(
        account_id: str, body: SignalIn, service: Service, response: Response
    ) -> SignalOut:
        result = await service.communications.record_signal(account_id, body)
        if result.replayed:
            response.status_code = 200
        return SignalOut(
            account_id=result.account_id,
            signal_id=result.signal_id,
            kind=result.kind,
            ce_id=result.ce_id,
            occurred_at=result.occurred_at,
            replayed=result.replayed,
        )

    @api.get("/summary", summary="Counts for the demo", responses={503: {"model": ErrorBody}})
    async def summary(service: Service) -> dict[str, Any]:
        return await service.accounts.summary()

    return api


def install_error_handlers(app: FastAPI) -> None:
    async def ledger_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, LedgerError)
        return JSONResponse(exc.body(), status_code=exc.status_code)

    async def invalid_body(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"] if p != "body") or None,
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        body = {"error": "invalid_request", "message": "the request is invalid", "errors": errors}
        return JSONResponse(body, status_code=422)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"error": code, "message": str(exc.detail)},
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
