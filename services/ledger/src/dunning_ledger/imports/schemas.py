"""The import's response bodies: counts, or every row error of a rejected file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from dunning_ledger.imports.service import ImportCounts


class ImportResult(BaseModel):
    received: int = Field(description="Data rows in the file.")
    opened: int = Field(description="New accounts (revision 1, AccountOpened sent).")
    updated: int = Field(description="Changed accounts (revision + 1, AccountUpdated sent).")
    unchanged: int = Field(description="Accounts whose content was already recorded.")

    @classmethod
    def of(cls, counts: ImportCounts) -> ImportResult:
        return cls(
            received=counts.received,
            opened=counts.opened,
            updated=counts.updated,
            unchanged=counts.unchanged,
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
