"""Signed unsubscribe tokens: the scheduler puts them in links, the email worker checks them.

A token names the account and the address it unsubscribes, with an HMAC so nobody can
unsubscribe someone else by guessing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unsubscribe_token(secret: str, account_id: str, address: str) -> str:
    payload = f"{account_id}\x1f{address.lower()}".encode()
    mac = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:16]
    return f"{_b64(payload)}.{_b64(mac)}"


def read_unsubscribe_token(secret: str, token: str) -> tuple[str, str] | None:
    """The (account id, address) a valid token names, or None for a forged one."""
    try:
        payload_part, mac_part = token.split(".", 1)
        payload = _unb64(payload_part)
        mac = _unb64(mac_part)
    except (ValueError, TypeError):
        return None
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(mac, expected):
        return None
    account_id, _, address = payload.decode().partition("\x1f")
    return account_id, address
