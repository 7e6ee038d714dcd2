"""What the email worker needs from the outside, as small protocols."""

from __future__ import annotations

from typing import Protocol


class EventSignatureVerifier(Protocol):
    def verify(self, payload: bytes, signature: str, timestamp: str) -> bool:
        """True when ``signature`` is SendGrid's ECDSA signature of timestamp + payload."""
        ...
