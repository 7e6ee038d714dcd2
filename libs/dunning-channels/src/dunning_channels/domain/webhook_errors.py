"""What a provider's webhook parser (the sms worker's Twilio forms, the email worker's
SendGrid batches) raises on a signed request it will not read: answer 400, touch nothing.
A request that is not genuine never reaches a parser: its handler answers 403 first."""

from __future__ import annotations


class WebhookPayloadError(Exception):
    """A signed request that is not of the form we read (a field we need is missing)."""
