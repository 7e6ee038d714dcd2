"""Configured faults: destinations whose sends the provider APIs answer with an error.

Set through `POST /_sandbox/faults` (see `control_api`), so a test or the demo can make
any number or address answer 429 (with `Retry-After`, and SendGrid's rate-limit
headers) or a 5xx, or take the message and answer only `hang_s` seconds later (a client
with a shorter timeout sees a timeout after accepting), always or for the next `times`
sends, beside the fixed last-digit and local-part rules. No I/O.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass(slots=True)
class Fault:
    """The answer a destination gets instead of being sent to (``hang_s``: it is sent,
    and the answer comes that late)."""

    status: int
    retry_after_s: float | None = None
    remaining: int | None = None  # None: every time
    hang_s: float | None = None

    @property
    def accepts(self) -> bool:
        return self.hang_s is not None

    def headers(self, *, sendgrid: bool = False) -> dict[str, str]:
        found: dict[str, str] = {}
        if self.retry_after_s is not None:
            found["Retry-After"] = str(math.ceil(self.retry_after_s))
        if sendgrid and self.status == 429:
            wait = self.retry_after_s or 1.0
            found.update(
                {
                    "X-RateLimit-Limit": "600",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(math.ceil(time.time() + wait)),
                }
            )
        return found


class Faults:
    """Faults by destination (phone numbers as given, addresses case-insensitive)."""

    def __init__(self) -> None:
        self._by_destination: dict[str, Fault] = {}

    def set(self, destinations: list[str], fault: Fault) -> None:
        for destination in destinations:
            self._by_destination[destination.lower()] = Fault(
                fault.status, fault.retry_after_s, fault.remaining, fault.hang_s
            )

    def take(self, destination: str) -> Fault | None:
        """The fault this send meets, counting it against a limited fault."""
        key = destination.lower()
        fault = self._by_destination.get(key)
        if fault is None:
            return None
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self._by_destination[key]
        return fault

    def clear(self) -> None:
        self._by_destination.clear()

    def to_json(self) -> dict[str, dict[str, float | int | None]]:
        return {
            destination: {
                "status": f.status,
                "retry_after_s": f.retry_after_s,
                "remaining": f.remaining,
                "hang_s": f.hang_s,
            }
            for destination, f in sorted(self._by_destination.items())
        }
