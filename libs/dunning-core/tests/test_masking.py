from __future__ import annotations

from dunning_core.runtime.logging import mask_pii

from .json_logs import json_logged


def test_phone_numbers_keep_only_two_digits() -> None:
    assert mask_pii("sent to +14155550100 ok") == "sent to +*********00 ok"
    assert "5550100" not in mask_pii("call (415) 555-0100 now")


def test_emails_keep_first_letters_only() -> None:
    assert mask_pii("to jane.roe@example.com") == "to j***@e***.com"


def test_amounts_dates_and_ids_are_untouched() -> None:
    text = "balance 1234.50 due 2026-01-15 step stp_6f1c offset 1234567"
    assert mask_pii(text) == text


def test_json_logs_mask_extra_fields_and_exceptions() -> None:
    with json_logged("mask-test", "test") as (logger, stream):
        try:
            raise ValueError("bad number +14155550100")
        except ValueError:
            logger.exception("failed for %s", "jane@example.com", extra={"to": "+442071838750"})
    out = stream.getvalue()
    for leaked in ("4155550100", "jane@example.com", "2071838750"):
        assert leaked not in out
    assert '"service":"test"' in out
