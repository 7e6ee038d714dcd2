"""What the sandboxed Twilio Messages API accepts, refuses and later reports; no I/O.

Destination numbers drive deterministic outcomes, so tests and the demo can provoke
every path. The last four digits of `To` decide (the first three are Twilio's own
test-credential "magic numbers"):

| To ends in | synchronous answer | status callbacks |
|---|---|---|
| 0001 | 400, code 21211 (invalid 'To' number) | none |
| 0004 | 400, code 21610 (recipient unsubscribed, i.e. replied STOP) | none |
| 0009 | 400, code 21614 ('To' is not a mobile number) | none |
| 0429 | 429, code 20429 (too many requests) | none |
| 0500 | 500, code 20500 (internal server error) | none |
| 0003 | 201 queued | sent, then undelivered with ErrorCode 30003 (unreachable handset) |
| 0005 | 201 queued | failed with ErrorCode 30005 (unknown destination handset) |
| 0006 | 201 queued | sent, then undelivered with ErrorCode 30006 (landline / unreachable carrier) |
| 0007 | 201 queued | sent, then undelivered with ErrorCode 30007 (message filtered) |
| anything else | 201 queued | sent, then delivered |

Advanced Opt-Out, as Twilio has it on by default: once a number texts one of our numbers
an opt-out keyword (STOP, UNSUBSCRIBE, ...; the whole body, any case), every later
message from that number of ours to it is refused with 400 / 21610 until it texts an
opt-in keyword (START, UNSTOP, YES), whether or not our inbound webhook took the STOP.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

API_VERSION = "2010-04-01"
MAX_BODY_CHARS = 1600

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")  # 7 to 15 digits
_MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-f]{32}$")

# GSM 03.38 basic set and the characters of its extension table (which cost two septets).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True, slots=True)
class TwilioApiError:
    """An error answer in Twilio's REST error shape."""

    http_status: int
    code: int
    message: str

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.http_status,
        }


@dataclass(frozen=True, slots=True)
class DeliveryStage:
    """One status the message reaches, reported by one status callback."""

    status: str
    error_code: int | None = None


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """A validated Messages.json create request (the fields the sandbox uses)."""

    to: str
    body: str
    from_: str | None
    messaging_service_sid: str | None
    status_callback: str | None


AUTHENTICATE = TwilioApiError(401, 20003, "Authenticate")

_DELIVERED = (DeliveryStage("sent"), DeliveryStage("delivered"))

UNSUBSCRIBED = TwilioApiError(400, 21610, "Attempt to send to unsubscribed recipient")
OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})

_SYNC_ERRORS: dict[str, TwilioApiError] = {
    "0004": UNSUBSCRIBED,
    "0009": TwilioApiError(400, 21614, "'To' number is not a valid mobile number"),
    "0429": TwilioApiError(429, 20429, "Too Many Requests"),
    "0500": TwilioApiError(500, 20500, "An internal server error has occurred"),
}

_ASYNC_OUTCOMES: dict[str, tuple[DeliveryStage, ...]] = {
    "0003": (DeliveryStage("sent"), DeliveryStage("undelivered", 30003)),
    "0005": (DeliveryStage("failed", 30005),),
    "0006": (DeliveryStage("sent"), DeliveryStage("undelivered", 30006)),
    "0007": (DeliveryStage("sent"), DeliveryStage("undelivered", 30007)),
}


def opt_keyword(body: str) -> bool | None:
    """True for an opt-out keyword, False for an opt-in one, None for any other text."""
    word = body.strip().strip(".!").upper()
    if word in OPT_OUT_KEYWORDS:
        return True
    if word in OPT_IN_KEYWORDS:
        return False
    return None


def not_found(path: str) -> TwilioApiError:
    return TwilioApiError(404, 20404, f"The requested resource {path} was not found")


_FAULT_MESSAGES = {
    429: (20429, "Too Many Requests"),
    500: (20500, "An internal server error has occurred"),
    502: (20502, "Bad Gateway"),
    503: (20503, "Service Unavailable"),
}


def fault_error(http_status: int) -> TwilioApiError:
    """The error answer of a configured fault (see `faults`)."""
    code, message = _FAULT_MESSAGES.get(http_status, (20500, "An internal server error"))
    return TwilioApiError(http_status, code, message)


def parse_create_request(form: Mapping[str, str]) -> CreateRequest | TwilioApiError:
    """Validate the form fields of a create request as Twilio does, in Twilio's order."""
    to = form.get("To", "").strip()
    if not to:
        return TwilioApiError(400, 21604, "A 'To' phone number is required.")
    if not _E164.match(to):
        return TwilioApiError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    from_ = form.get("From", "").strip() or None
    service = form.get("MessagingServiceSid", "").strip() or None
    if from_ is None and service is None:
        return TwilioApiError(400, 21603, "A 'From' phone number is required.")
    if service is not None and not _MESSAGING_SERVICE_SID.match(service):
        return TwilioApiError(400, 21701, f"The Messaging Service Sid {service} is invalid.")
    if from_ is not None and not (_E164.match(from_) or _is_alphanumeric_sender(from_)):
        return TwilioApiError(400, 21212, f"The 'From' number {from_} is not a valid phone number.")
    body = form.get("Body", "")
    if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
        return TwilioApiError(400, 21602, "Message body is required.")
    if len(body) > MAX_BODY_CHARS:
        return TwilioApiError(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    callback = form.get("StatusCallback", "").strip() or None
    return CreateRequest(
        to=to, body=body, from_=from_, messaging_service_sid=service, status_callback=callback
    )


def invalid_status_callback(url: str) -> TwilioApiError:
    return TwilioApiError(
        400,
        21609,
        f"The StatusCallback URL {url} is not a valid URL for this sandbox "
        "(callbacks are delivered to loopback hosts only).",
    )


def outcome_for(to: str) -> TwilioApiError | tuple[DeliveryStage, ...]:
    """The synchronous refusal, or the statuses a message to `to` goes through."""
    if to.endswith("0001"):
        return TwilioApiError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    suffix = to[-4:]
    error = _SYNC_ERRORS.get(suffix)
    if error is not None:
        return error
    return _ASYNC_OUTCOMES.get(suffix, _DELIVERED)


def segment_count(body: str) -> int:
    """How many SMS segments `body` takes: GSM-7 160/153 septets, else UCS-2 70/67 units."""
    if not body:
        return 1
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in body):
        septets = sum(2 if ch in _GSM_EXTENDED else 1 for ch in body)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def _is_alphanumeric_sender(value: str) -> bool:
    return 1 <= len(value) <= 11 and value.isascii() and value.replace(" ", "").isalnum()
