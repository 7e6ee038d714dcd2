"""The ledger's account import format: its CSV columns, shared by the ledger and the CLI.

The ledger validates rows against these names (``POST /v1/accounts/import``); the CLI
writes sample portfolios with them (``to_csv``). One list, so the two cannot drift apart.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Final

IMPORT_COLUMNS: Final[tuple[str, ...]] = (
    "account_id", "full_name", "state", "zip", "phone", "phone_kind", "phone_consent",
    "phone_basis", "phone_reassigned_checked_on", "email", "email_basis", "email_workplace",
    "locale", "creditor", "debt_id", "balance", "currency", "due_date", "delinquent_since",
    "medical", "legal_action_authorized", "limitation_date", "validation_notice_sent_at",
    "ca_license_number", "charged_off_on", "last_payment_date",
    "itemization_date", "itemization_basis", "itemization_amount", "itemization_interest",
    "itemization_fees", "itemization_payments", "itemization_credits",
)  # fmt: skip


def to_csv(rows: Iterable[Mapping[str, str]]) -> str:
    """The rows as an import file: a header of ``IMPORT_COLUMNS``, one line per row."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=IMPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
