"""The two roots of every handler error.

DunningError
├── TransientError   retry later: the broker, Redis or the database is unreachable
└── PermanentError   this input can never succeed: dead-letter it with the reason
    └── (EnvelopeError is treated as permanent by the consumer loop)
"""

from __future__ import annotations


class DunningError(Exception):
    """Root of our errors."""


class TransientError(DunningError):
    """Retry with backoff; the record is not acknowledged."""


class PermanentError(DunningError):
    """The record can never be handled; it goes to the dead-letter topic."""
