"""SendGrid's signed Event Webhook: verify a batch (reading it is pure:
`dunning_email.domain.parse_event_batch`).

SendGrid signs `timestamp + payload` with ECDSA P-256/SHA-256; the verification key is
the base64 DER public key shown on its Mail Settings page (and served by the sandbox).
Verification goes through the SDK's `EventWebhook`; a timestamp older than `max_age_s`
is refused as a replay.
"""

from __future__ import annotations

import binascii
import time
from collections.abc import Callable

from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader

SIGNATURE_HEADER: str = EventWebhookHeader.SIGNATURE
TIMESTAMP_HEADER: str = EventWebhookHeader.TIMESTAMP


class SendGridSignatureVerifier:
    """Checks Event Webhook signatures against one public key."""

    def __init__(
        self,
        public_key: str,
        *,
        max_age_s: float | None = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not public_key.strip():
            raise ValueError("no Event Webhook public key is configured")
        try:
            self._webhook = EventWebhook(public_key.strip())
        except ValueError as exc:
            raise ValueError("the Event Webhook public key is not a base64 DER key") from exc
        self._max_age_s = max_age_s
        self._clock = clock

    def verify(self, payload: bytes, signature: str, timestamp: str) -> bool:
        """True when `signature` signs `timestamp + payload` and the timestamp is recent."""
        if not signature or not timestamp.isdigit():
            return False
        if self._max_age_s is not None and abs(self._clock() - int(timestamp)) > self._max_age_s:
            return False
        try:
            return bool(
                self._webhook.verify_signature(payload.decode("utf-8"), signature, timestamp)
            )
        except (UnicodeDecodeError, binascii.Error, ValueError):
            return False
