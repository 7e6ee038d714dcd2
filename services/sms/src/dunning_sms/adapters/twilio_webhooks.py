"""Twilio's webhooks: verify `X-Twilio-Signature` (reading their forms is pure:
`dunning_sms.domain`).

Twilio signs the URL it called (scheme, host, port, path, query) as configured on its
side, not what this process sees behind a proxy; `dunning_sms.domain.public_url` rebuilds
it from our public base URL.
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


class TwilioSignatureVerifier:
    """Checks signatures made with the account's auth token (Twilio's HMAC-SHA1 scheme)."""

    def __init__(self, auth_token: str) -> None:
        self._validator = RequestValidator(auth_token)

    def verify(self, url: str, params: Mapping[str, str], signature: str) -> bool:
        """True when `signature` is Twilio's signature of a POST of `params` to `url`.

        `params` may also be a multi-dict (Starlette's `FormData`): repeated fields count.
        """
        if not signature:
            return False
        return bool(self._validator.validate(url, params, signature))
