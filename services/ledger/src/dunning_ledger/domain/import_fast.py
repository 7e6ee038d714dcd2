"""The common case of an import row, checked without building the models (pure).

``validate_row`` builds the consumer and debt as pydantic models and validates an email
address with ``email-validator``: about 180 µs a row, far too slow for a million rows.
Most rows are plain: an E.164 phone, an ASCII address, dates, a decimal balance. For
those, ``fast_account`` checks each value with a precompiled pattern and writes the JSON
the models would write (same fields, same order, same bytes). Any value it is not sure
of (an error, or a valid but unusual value: a national phone notation, an address with
a quoted local part, a column it has no parser for) makes it answer None, and the row
goes the full way (``validate_row``), which accepts it or names its errors. So errors and
their messages come from one place, and accepting here never accepts more.

Columns are one table (``_COLUMNS``): a column added to the import format but not here
sends its non-empty rows the full way, which is correct, only slower.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import date
from functools import lru_cache
from typing import Any, Final

import orjson
from dunning_core.contracts.events import AccountOpened, AddressBasis, PhoneConsent
from dunning_core.contracts.ids import NAMESPACE
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

from dunning_ledger.domain.import_format import FALSE_WORDS, IDENTIFIER, PHONE_KINDS, TRUE_WORDS
from dunning_ledger.domain.import_itemization import COLUMNS as ITEMIZATION_COLUMNS
from dunning_ledger.domain.money import CURRENCY_EXPONENTS, MoneyError, parse_minor
from dunning_ledger.domain.regions import US_REGIONS

_SPECIAL_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ZIP = re.compile(r"(\d{5})(?:-\d{4})?")
_LOCALE = re.compile(r"([a-z]{2,3})(?:[_-]([A-Z]{2}))?")
_NANP = re.compile(r"\+1[2-9]\d{9}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A subset of what email-validator accepts, normalised as it normalises it (the domain in
# lower case): dot-atom local part of common characters, ASCII labels, a letters-only
# top-level domain; no "--" (Punycode and its look-alikes go the full way).
_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)@"
    r"(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_SPECIAL_USE_DOMAINS: Final = ("arpa", "invalid", "local", "localhost", "onion", "test")
_PHONE_KINDS: Final = frozenset(PHONE_KINDS)
_CONSENTS: Final = frozenset(c.value for c in PhoneConsent)
_BASES: Final = frozenset(b.value for b in AddressBasis)


class _Unsure(Exception):
    """This value is not one the fast path vouches for: the row goes the full way."""


def _text(limit: int) -> Callable[[str], str]:
    def read(value: str) -> str:
        if len(value) > limit or _SPECIAL_TEXT.search(value):
            raise _Unsure
        return value

    return read


def _identifier(value: str) -> str:
    if not IDENTIFIER.match(value):
        raise _Unsure
    return value


def _state(value: str) -> str:
    upper = value.upper()
    if upper not in US_REGIONS:
        raise _Unsure
    return upper


def _zip(value: str) -> str:
    match = _ZIP.fullmatch(value)
    if match is None:
        raise _Unsure
    return match.group(1)


def _nanp_region(region: str) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """A NANP region's leading digits and one pattern that a 10-digit national number
    matches exactly when ``phonenumbers`` gives it a type there: its general pattern,
    then any of its number types' (each kept only if it allows 10 digits)."""
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None:  # pragma: no cover - the regions come from the same metadata
        return None, None

    def pattern(desc: Any) -> str | None:
        lengths = desc.possible_length if desc is not None else ()
        if desc is None or not desc.national_number_pattern or (lengths and 10 not in lengths):
            return None
        return f"(?:{desc.national_number_pattern})"

    descs = [
        metadata.premium_rate, metadata.toll_free, metadata.shared_cost, metadata.voip,
        metadata.personal_number, metadata.pager, metadata.uan, metadata.voicemail,
        metadata.fixed_line,
    ]  # fmt: skip
    if not metadata.same_mobile_and_fixed_line_pattern:
        descs.append(metadata.mobile)
    general = pattern(metadata.general_desc)
    kinds = [p for p in map(pattern, descs) if p is not None]
    typed = re.compile(f"(?={general}$)(?:{'|'.join(kinds)})") if general and kinds else None
    leading = None if metadata.leading_digits is None else re.compile(metadata.leading_digits)
    return leading, typed


# ``phonenumbers.is_valid_number`` for +1: the first region whose leading digits match
# decides; a region without leading digits claims the number if it has a type there.
_NANP_REGIONS: Final = [_nanp_region(r) for r in COUNTRY_CODE_TO_REGION_CODE[1]]


def valid_nanp(national: str) -> bool:
    for leading, typed in _NANP_REGIONS:
        if leading is not None:
            if leading.match(national):
                return typed is not None and typed.fullmatch(national) is not None
        elif typed is not None and typed.fullmatch(national) is not None:
            return True
    return False


def _phone(value: str) -> str:
    """A NANP number already in E.164: the same test as ``parse_phone`` without parsing
    (``phonenumbers``' validity from its own metadata, without its per-call overhead)."""
    if not _NANP.fullmatch(value) or not valid_nanp(value[2:]):
        raise _Unsure
    return value


def _email(value: str) -> str:
    match = _EMAIL.fullmatch(value)
    if match is None or len(value) > 254 or len(match.group("local")) > 64 or "--" in value:
        raise _Unsure
    domain = match.group("domain").lower()
    top = domain.rsplit(".", 1)[-1]
    if top in _SPECIAL_USE_DOMAINS or any(domain.endswith("." + d) for d in _SPECIAL_USE_DOMAINS):
        raise _Unsure
    local = match.group("local")
    # email-validator writes RFC 2142's role mailboxes (postmaster, abuse, noc ...) in lower
    # case, whatever the case given: NOC@x.com is noc@x.com either way.
    if local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES:
        local = local.lower()
    return f"{local}@{domain}"


def _choice(choices: frozenset[str]) -> Callable[[str], str]:
    def read(value: str) -> str:
        lowered = value.lower()
        if lowered not in choices:
            raise _Unsure
        return lowered

    return read


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise _Unsure


@lru_cache(maxsize=1 << 14)  # a portfolio's dates repeat: due dates, notice dates
def _checked_day(value: str) -> bool:
    if not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _day(value: str) -> str:
    if not _checked_day(value):
        raise _Unsure
    return value  # a valid YYYY-MM-DD is its own JSON form


def _instant(value: str) -> str:
    """A bare date is 00:00 UTC that day (written as the models write it); other instants
    go the full way."""
    return _day(value) + "T00:00:00Z"


def _locale(value: str) -> str:
    match = _LOCALE.fullmatch(value)
    if match is None:
        raise _Unsure
    return match.group(1) + (f"_{match.group(2)}" if match.group(2) else "")


def _currency(value: str) -> str:
    upper = value.upper()
    if upper not in CURRENCY_EXPONENTS:
        raise _Unsure
    return upper


_REQUIRED: Final[Any] = object()  # no default: the column must have a value
# column: (reader of its stripped non-empty text, its value when empty)
_COLUMNS: Final[dict[str, tuple[Callable[[str], Any], Any]]] = {
    "account_id": (_identifier, _REQUIRED),
    "full_name": (_text(200), _REQUIRED),
    "state": (_state, _REQUIRED),
    "zip": (_zip, None),
    "phone": (_phone, None),
    "phone_kind": (_choice(_PHONE_KINDS), "mobile"),
    "phone_consent": (_choice(_CONSENTS), "creditor_provided"),
    "phone_basis": (_choice(_BASES), "consumer_used"),
    "phone_reassigned_checked_on": (_day, None),
    "email": (_email, None),
    "email_basis": (_choice(_BASES), "consumer_used"),
    "email_workplace": (_boolean, False),
    "locale": (_locale, "en_US"),
    "creditor": (_text(200), _REQUIRED),
    "debt_id": (_identifier, _REQUIRED),
    "balance": (_text(32), _REQUIRED),  # parsed below, with the currency
    "currency": (_currency, "USD"),
    "due_date": (_day, _REQUIRED),
    "delinquent_since": (_day, None),
    "medical": (_boolean, False),
    "legal_action_authorized": (_boolean, False),
    "limitation_date": (_day, None),
    "validation_notice_sent_at": (_instant, None),
    "ca_license_number": (_text(64), None),
    "charged_off_on": (_day, None),
    "last_payment_date": (_day, None),
}
_DEFAULTS: Final = {c: d for c, (_, d) in _COLUMNS.items() if d is not _REQUIRED}
_REQUIRED_COLUMNS: Final = frozenset(c for c, (_, d) in _COLUMNS.items() if d is _REQUIRED)
# Left empty, the Regulation F itemization is absent (as the full way reads it); a row that
# gives one goes the full way (its sum is checked against the balance there).
_EMPTY_MEANS_ABSENT: Final = frozenset(ITEMIZATION_COLUMNS)


def fast_values(values: Mapping[str, str]) -> dict[str, Any] | None:
    """Each column's value as the account stores it, or None if any is not plainly valid."""
    read = dict(_DEFAULTS)
    try:
        for column, text in values.items():
            value = text.strip()
            if value:
                read[column] = _COLUMNS[column][0](value)
            elif column in _EMPTY_MEANS_ABSENT:
                continue
            elif _COLUMNS[column][1] is _REQUIRED:
                return None
        read["balance"] = parse_minor(read["balance"], read["currency"])
    except (_Unsure, KeyError, MoneyError):
        return None
    if len(read) != len(_COLUMNS):  # a required column left out of the header
        return None
    return read


def fast_json(v: Mapping[str, Any]) -> tuple[str, str]:
    """The consumer's and the debt's JSON exactly as ``Consumer``/``Debt.model_dump_json``."""
    phones = []
    if v["phone"] is not None:
        phones.append(
            {"number": v["phone"], "kind": v["phone_kind"], "consent": v["phone_consent"],
             "basis": v["phone_basis"], "basis_on": None,
             "reassigned_checked_on": v["phone_reassigned_checked_on"],
             "consent_source": None, "consent_at": None}
        )  # fmt: skip
    emails = []
    if v["email"] is not None:
        emails.append(
            {"address": v["email"], "basis": v["email_basis"], "basis_on": None,
             "workplace": v["email_workplace"]}
        )  # fmt: skip
    consumer = {
        "full_name": v["full_name"], "locale": v["locale"], "state": v["state"],
        "zip_code": v["zip"], "city": None, "time_zones": [], "phones": phones,
        "emails": emails, "nyc_electronic_consent": False,
    }  # fmt: skip
    debt = {
        "debt_id": v["debt_id"], "creditor": v["creditor"],
        "balance": {"amount_minor": v["balance"], "currency": v["currency"]},
        "due_date": v["due_date"], "delinquent_since": v["delinquent_since"],
        "collector_type": "third_party", "medical": v["medical"],
        "legal_action_authorized": v["legal_action_authorized"],
        "limitation_date": v["limitation_date"],
        "validation_notice_sent_at": v["validation_notice_sent_at"],
        "ca_license_number": v["ca_license_number"], "charged_off_on": v["charged_off_on"],
        "last_payment_date": v["last_payment_date"],
    }  # fmt: skip
    return orjson.dumps(consumer).decode(), orjson.dumps(debt).decode()


def fingerprint(consumer_json: str, debt_json: str) -> str:
    """A digest of what was imported: equal digests mean a re-import changes nothing.

    Pydantic writes fields in declaration order, so equal content gives equal JSON.
    """
    return hashlib.sha256(f"{consumer_json}\x1f{debt_json}".encode()).hexdigest()


_OPENED_PREFIX: Final = NAMESPACE.bytes + f"{AccountOpened.event_type}\x1f".encode()


def opened_id(account_id: str) -> str:
    """The CloudEvents id of a new account's ``AccountOpened`` (revision 1): ``event_id``'s
    UUIDv5 computed without the ``uuid`` module's objects (a third of the cost, a million
    times an import)."""
    digest = bytearray(hashlib.sha1(_OPENED_PREFIX + f"{account_id}\x1f1".encode()).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
