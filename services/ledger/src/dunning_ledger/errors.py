"""The ledger's errors; each carries the HTTP status an API caller receives.

LedgerError                 500  unexpected
├── InvalidCursor           400  a paging cursor this ledger did not give out
├── NotFound                404  no such account or step
├── Conflict                409  an idempotency key reused with different content,
│   │                            or an import raced with another for the same new account
│   └── TaskConflict        409  an agent task claimed by someone else, or closed
├── PayloadTooLarge         413  a body over the configured limit (DUNNING_LEDGER_MAX_*_BYTES)
├── UnsupportedMediaType    415  a body in a format the ledger does not read
├── InvalidRequest          422  the request can never succeed as sent
│   └── ImportRejected      422  the import file has errors; nothing was imported
└── Unavailable             503  the database cannot be reached; retry later
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel

from dunning_ledger.domain.import_format import RowError


class ErrorBody(BaseModel):
    """What every error response carries (``ImportRejected`` adds the row errors)."""

    error: str
    message: str
    errors: list[dict[str, Any]] | None = None


class LedgerError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None) -> None:
        """``class NotFound(LedgerError, status=404, code="not_found")``: what it answers."""
        super().__init_subclass__()
        cls.status_code = cls.status_code if status is None else status
        cls.code = cls.code if code is None else code

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}


class InvalidCursor(LedgerError, status=400, code="invalid_cursor"):
    def body(self) -> dict[str, Any]:
        return {**super().body(), "errors": [{"field": "query.cursor", "message": self.message}]}


class NotFound(LedgerError, status=404, code="not_found"): ...


class Conflict(LedgerError, status=409, code="conflict"): ...


class TaskConflict(Conflict, code="task_conflict"):
    """The body says who holds the task and until when, and its status."""

    def __init__(
        self, message: str, status: str, claimed_by: str | None, lease_until: str | None
    ) -> None:
        super().__init__(message)
        self.status, self.claimed_by, self.lease_until = status, claimed_by, lease_until

    def body(self) -> dict[str, Any]:
        held = {"claimed_by": self.claimed_by, "lease_until": self.lease_until}
        return {**super().body(), "status": self.status, **held}


class UnsupportedMediaType(LedgerError, status=415, code="unsupported_media_type"): ...


class InvalidRequest(LedgerError, status=422, code="invalid_request"):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def body(self) -> dict[str, Any]:
        if self.field is None:
            return super().body()
        return {**super().body(), "errors": [{"field": self.field, "message": self.message}]}


class PayloadTooLarge(LedgerError, status=413, code="payload_too_large"): ...


class ImportRejected(InvalidRequest, code="import_rejected"):
    max_listed: ClassVar[int] = 1000

    def __init__(
        self, errors: Sequence[RowError], received: int, error_count: int | None = None
    ) -> None:
        """``errors`` may be the first of ``error_count`` (a streamed file keeps 1,000)."""
        count = len(errors) if error_count is None else error_count
        rows = len({e.row for e in errors})
        where = f"{rows} row(s)" if count == len(errors) else f"{rows}+ row(s)"
        super().__init__(f"{count} error(s) in {where} of {received}; nothing was imported")
        self.errors = list(errors)
        self.received = received
        self.error_count = count

    def body(self) -> dict[str, Any]:
        listed = self.errors[: self.max_listed]
        return {
            **super().body(),
            "received": self.received,
            "error_count": self.error_count,
            "row_numbering": "row counts data rows from 1; the header is row 0; "
            "line is the line in the CSV file, where the header is line 1",
            "errors": [
                {"row": e.row, "line": e.line, "field": e.field, "message": e.message}
                for e in listed
            ],
        }


class Unavailable(LedgerError, status=503, code="unavailable"): ...
