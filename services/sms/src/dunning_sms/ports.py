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
