"""The import's response bodies: counts, or every row error of a rejected file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from dunning_ledger.domain import import_format
from dunning_ledger.payments.schemas import Amount

if TYPE_CHECKING:
    from dunning_ledger.imports.service import ImportCounts


class BalanceKeptOut(BaseModel):
    """A balance the file names for an account whose payments already moved it."""

    account_id: str
    row: int = Field(description="Data row, counted from 1.")
    file_balance: Amount = Field(description="The balance in the file: not applied.")
    ledger_balance: Amount = Field(description="The ledger's balance after payments: kept.")


class ImportResult(BaseModel):
    received: int = Field(description="Data rows in the file.")
    opened: int = Field(description="New accounts (revision 1, AccountOpened sent).")
    updated: int = Field(description="Changed accounts (revision + 1, AccountUpdated sent).")
    unchanged: int = Field(description="Accounts whose content was already recorded.")
    balances_kept: list[BalanceKeptOut] | None = Field(
        default=None,
        description="Present when some accounts' balance in the file differs from the "
        "ledger's own after payments: their other data was imported, their balance was not.",
    )
    recorded_by: str | None = Field(
        default=None, description="The principal of the API key that imported the file."
    )

    @classmethod
    def of(cls, counts: ImportCounts, recorded_by: str | None = None) -> ImportResult:
        return cls(
            recorded_by=recorded_by,
            received=counts.received,
            opened=counts.opened,
            updated=counts.updated,
            unchanged=counts.unchanged,
            balances_kept=[
                BalanceKeptOut(
                    account_id=k.account_id,
                    row=k.row,
                    file_balance=Amount.of(k.file_minor, k.currency),
                    ledger_balance=Amount.of(k.ledger_minor, k.currency),
                )
                for k in counts.balances_kept
            ]
            or None,
        )


class ImportRowError(BaseModel):
    row: int = Field(description="Data row, counted from 1; 0 is the header.")
    line: int | None = Field(description="CSV line in the file; the header is line 1.")
    field: str | None
    message: str


class ImportErrorBody(BaseModel):
    error: Literal["import_rejected"]
    message: str
    received: int
    error_count: int
    row_numbering: str
    errors: list[ImportRowError]


IMPORT_DOC = (  # the import route's OpenAPI description
    "Import accounts: a CSV file (the body with `Content-Type: text/csv`, or multipart "
    "field `file`), JSON Lines (`application/x-ndjson` or `application/jsonl`: one object "
    'of column: value a line) or JSON `{"accounts": [{column: value}]}`. CSV and JSON '
    "Lines stream: the ledger never holds the file whole (limit "
    "DUNNING_LEDGER_MAX_BODY_BYTES); a JSON array is read whole (limit "
    "DUNNING_LEDGER_MAX_JSON_BYTES). Every row is checked; any error rejects the whole "
    "file with 422 (the first 1,000 errors and their count) and imports nothing.\n\n"
    + (import_format.__doc__ or "").split("\n\n", 1)[1]
)
IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
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
