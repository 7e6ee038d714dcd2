"""What a provider's webhook adapter (the sms worker's Twilio, the email worker's SendGrid)
raises on a request it will not read.

    WebhookError
    ├── WebhookSignatureError   missing, wrong or stale signature: answer 403, touch nothing
    └── WebhookPayloadError     correctly signed, but not the expected form: answer 400
"""

from __future__ import annotations


class WebhookError(Exception):
    """Root of the errors of a provider's webhook adapter."""


class WebhookSignatureError(WebhookError):
    """The request is not signed by our provider account, or the signature is too old."""


class WebhookPayloadError(WebhookError):
    """A signed request that is not of the form we read (a field missing or of a wrong type)."""
