"""Payment link tokens: the scheduler puts one in every message's pay link, the portal reads it.

A token names an account, the step whose message carried it and the instant it expires, with
a truncated HMAC-SHA256 under ``DUNNING_PAYLINK_KEY`` (one key for scheduler and portal), so
nobody reaches another account's page by guessing. It names nothing personal (an account id is
a reference, not a name) and is deterministic: the same step and expiry give the same token.

Kept short for SMS: the fields are packed in bytes (the usual ``stp_<uuid>`` step id in its 16
bytes), base64url without padding, followed by the 12-byte MAC (always its last 16
characters). No ``.`` or other punctuation, so a link at the end of a sentence is still whole.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

VERSION: Final = 1
MAC_BYTES: Final = 12
_MAC_CHARS: Final = 16  # base64 of 12 bytes, no padding
_STEP_PREFIX: Final = "stp_"
_PLAIN, _UUID = 0, 1  # how the step id is packed
_ALPHABET: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class Refusal(StrEnum):
    """Why a token does not open a page."""

    FORGED = "forged"  # malformed, tampered with, or signed under another key
    EXPIRED = "expired"


@dataclass(frozen=True)
class PayLink:
    account_id: str
    step_id: str
    expires_at: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, payload: bytes) -> bytes:
    return hmac.new(key.encode(), b"paylink\x00" + payload, hashlib.sha256).digest()[:MAC_BYTES]


def _step_bytes(step_id: str) -> bytes:
    if step_id.startswith(_STEP_PREFIX):
        try:
            parsed = uuid.UUID(step_id[len(_STEP_PREFIX) :])
        except ValueError:
            parsed = None
        if parsed is not None and f"{_STEP_PREFIX}{parsed}" == step_id:
            return bytes([_UUID]) + parsed.bytes
    raw = step_id.encode()
    return bytes([_PLAIN, len(raw)]) + raw


def _short(text: str, what: str) -> bytes:
    raw = text.encode()
    if not 0 < len(raw) < 256:
        raise ValueError(f"{what} must be 1-255 bytes")
    return raw


def sign(account_id: str, step_id: str, expires_at: datetime, key: str) -> str:
    """The token for ``account_id``'s page, reached from step ``step_id``, until ``expires_at``
    (whole seconds; an aware datetime)."""
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must carry a UTC offset")
    account = _short(account_id, "account_id")
    _short(step_id, "step_id")
    payload = (
        bytes([VERSION])
        + struct.pack(">I", int(expires_at.timestamp()))
        + bytes([len(account)])
        + account
        + _step_bytes(step_id)
    )
    return _b64(payload) + _b64(_mac(key, payload))


def _unpack(payload: bytes) -> PayLink | None:
    if len(payload) < 7 or payload[0] != VERSION:
        return None
    (expires,) = struct.unpack(">I", payload[1:5])
    size = payload[5]
    account = payload[6 : 6 + size]
    rest = payload[6 + size :]
    if len(account) != size or not rest:
        return None
    if rest[0] == _UUID and len(rest) == 17:
        step_id = f"{_STEP_PREFIX}{uuid.UUID(bytes=rest[1:])}"
    elif rest[0] == _PLAIN and len(rest) >= 2 and len(rest) == 2 + rest[1]:
        step_id = rest[2:].decode()
    else:
        return None
    return PayLink(account.decode(), step_id, datetime.fromtimestamp(expires, UTC))


def read(token: str, key: str, now: datetime) -> PayLink | Refusal:
    """What a token names, or why it is refused. Forged wins over expired: an expired
    token is only reported as such once its MAC is good."""
    if len(token) <= _MAC_CHARS or not _ALPHABET.issuperset(token):
        return Refusal.FORGED
    try:
        payload, mac = _unb64(token[:-_MAC_CHARS]), _unb64(token[-_MAC_CHARS:])
    except (ValueError, binascii.Error):
        return Refusal.FORGED
    if not hmac.compare_digest(mac, _mac(key, payload)):
        return Refusal.FORGED
    try:
        link = _unpack(payload)
    except (UnicodeDecodeError, ValueError):
        link = None
    if link is None:
        return Refusal.FORGED
    if now >= link.expires_at:
        return Refusal.EXPIRED
    return link


def verify(token: str, key: str, now: datetime) -> tuple[str, str] | Refusal:
    """``(account_id, step_id)`` of a valid token, else the reason it is refused."""
    link = read(token, key, now)
    return link if isinstance(link, Refusal) else (link.account_id, link.step_id)
