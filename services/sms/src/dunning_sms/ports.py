"""What the sms worker needs from the outside, as small protocols."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class SignatureVerifier(Protocol):
    def verify(self, url: str, params: Mapping[str, str], signature: str) -> bool:
        """True when ``signature`` is Twilio's signature of ``url`` and ``params``."""
        ...


class AnswerLog(Protocol):
    async def first(self, message_sid: str) -> bool:
        """True the first time an answer to this inbound message is claimed, False after."""
        ...


class Locales(Protocol):
    """The locale each number is written to (the account's language, as last sent)."""

    async def remember(self, number: str, locale: str) -> None: ...

    async def locale_of(self, number: str) -> str | None: ...
