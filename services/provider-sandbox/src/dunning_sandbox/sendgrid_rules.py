"""What the sandboxed SendGrid v3 Mail Send API accepts and which events follow; no I/O.

Validation covers what the workers can get wrong, with SendGrid's own messages and
`field` paths. Recipient addresses drive deterministic outcomes: the local part (before
`@`, and before any `+tag`) decides.

| local part | events posted to the Event Webhook |
|---|---|
| `bounce…` | processed, bounce (type bounce, status 5.1.1) |
| `blocked…` | processed, bounce (type blocked, status 5.7.1) |
| `dropped…` | dropped (reason "Bounced Address") |
| `deferred…` | processed, deferred, delivered |
| `spamreport…` | processed, delivered, spamreport |
| `unsubscribe…` | processed, delivered, unsubscribe |
| anything else | processed, delivered |

`mail_settings.sandbox_mode.enable: true` is honoured as SendGrid does: 200, no mail,
no events.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_PERSONALIZATIONS = 1000


@dataclass(frozen=True, slots=True)
class FieldError:
    """One entry of SendGrid's `{"errors": [...]}` answer."""

    message: str
    field: str | None
    help: str | None

    def to_json(self) -> dict[str, str | None]:
        return {"message": self.message, "field": self.field, "help": self.help}


@dataclass(frozen=True, slots=True)
class Recipient:
    """One address of one personalization, with the custom args its events carry."""

    email: str
    custom_args: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlannedEvent:
    """An event to post for a recipient, with the extra fields SendGrid adds to it."""

    event: str
    extra: Mapping[str, str] = field(default_factory=dict)


def errors_json(errors: list[FieldError]) -> dict[str, list[dict[str, str | None]]]:
    return {"errors": [e.to_json() for e in errors]}


UNAUTHORIZED = [
    FieldError("The provided authorization grant is invalid, expired, or revoked", None, None)
]
AUTHORIZATION_REQUIRED = [FieldError("authorization required", None, None)]
BAD_JSON = [FieldError("Bad Request", None, None)]


def fault_errors(http_status: int) -> list[FieldError]:
    """The error body of a configured fault (see `faults`)."""
    if http_status == 429:
        return [FieldError("too many requests", None, None)]
    return [FieldError("internal server error", None, None)]


def validate_mail(body: Any) -> list[FieldError]:
    """SendGrid's validation of a v3 mail body, for the fields the sandbox reads."""
    if not isinstance(body, dict):
        return BAD_JSON
    personalizations, errors = _required_list(
        body.get("personalizations"),
        "The personalizations field is required and must have at least one personalization.",
        "personalizations",
        "-Personalizations-Errors",
    )
    if len(personalizations) > MAX_PERSONALIZATIONS:
        errors.append(
            FieldError(
                "The personalization block is limited to 1000 personalizations per API "
                f"request. You have provided {len(personalizations)} personalizations.",
                "personalizations",
                f"{_HELP}#-Personalizations-Errors",
            )
        )
    all_have_subject = bool(personalizations)
    for i, p in enumerate(personalizations):
        if not isinstance(p, dict):
            errors.append(FieldError("Invalid type.", f"personalizations.{i}", None))
            all_have_subject = False
            continue
        all_have_subject = all_have_subject and bool(p.get("subject"))
        errors.extend(_validate_personalization(i, p))
    errors.extend(_validate_from(body.get("from")))
    has_template = bool(body.get("template_id"))
    if not has_template and not body.get("subject") and not all_have_subject:
        errors.append(
            FieldError(
                "The subject is required. You can get around this requirement if you use a "
                "template with a subject defined or if every personalization has a subject "
                "defined.",
                "subject",
                f"{_HELP}#message.subject",
            )
        )
    errors.extend(_validate_content(body.get("content"), has_template))
    errors.extend(_validate_custom_args(body.get("custom_args"), "custom_args"))
    return errors


def is_sandbox_mode(body: Mapping[str, Any]) -> bool:
    settings = body.get("mail_settings")
    if not isinstance(settings, dict):
        return False
    mode = settings.get("sandbox_mode")
    return isinstance(mode, dict) and mode.get("enable") is True


def recipients(body: Mapping[str, Any]) -> list[Recipient]:
    """Every to/cc/bcc address of a valid body, with merged custom args (personalization wins)."""
    shared = body.get("custom_args") or {}
    found: list[Recipient] = []
    for p in body["personalizations"]:
        args = {**shared, **(p.get("custom_args") or {})}
        for kind in ("to", "cc", "bcc"):
            for address in p.get(kind) or []:
                found.append(Recipient(email=address["email"], custom_args=args))
    return found


def planned_events(email: str) -> tuple[PlannedEvent, ...]:
    """The events SendGrid will report for one recipient address."""
    local = email.split("@", 1)[0].split("+", 1)[0].lower()
    processed = PlannedEvent("processed")
    delivered = PlannedEvent("delivered", {"response": "250 2.0.0 OK"})
    if local.startswith("bounce"):
        return (
            processed,
            PlannedEvent(
                "bounce",
                {
                    "type": "bounce",
                    "status": "5.1.1",
                    "reason": "550 5.1.1 The email account that you tried to reach does not exist.",
                    "bounce_classification": "Invalid Address",
                },
            ),
        )
    if local.startswith("blocked"):
        return (
            processed,
            PlannedEvent(
                "bounce",
                {
                    "type": "blocked",
                    "status": "5.7.1",
                    "reason": "550 5.7.1 Message rejected due to local policy",
                    "bounce_classification": "Reputation",
                },
            ),
        )
    if local.startswith("dropped"):
        return (PlannedEvent("dropped", {"reason": "Bounced Address", "status": "5.0.0"}),)
    if local.startswith("deferred"):
        deferred = PlannedEvent("deferred", {"response": "400 try again later", "attempt": "1"})
        return (processed, deferred, delivered)
    if local.startswith("spamreport"):
        return (processed, delivered, PlannedEvent("spamreport"))
    if local.startswith("unsubscribe"):
        return (processed, delivered, PlannedEvent("unsubscribe"))
    return (processed, delivered)


def _required_list(
    value: Any, message: str, path: str, anchor: str
) -> tuple[list[Any], list[FieldError]]:
    """A field that must be a list of at least one entry: the list and no error, or an empty
    list and SendGrid's error."""
    if isinstance(value, list) and value:
        return value, []
    return [], [FieldError(message, path, f"{_HELP}#{anchor}")]


def _validate_personalization(i: int, p: Mapping[str, Any]) -> list[FieldError]:
    _, errors = _required_list(
        p.get("to"),
        "The to array is required for all personalization objects, and must have at "
        "least one email object with a valid email address.",
        f"personalizations.{i}.to",
        "message.personalizations.to",
    )
    for kind in ("to", "cc", "bcc"):
        addresses = p.get(kind) or []
        if not isinstance(addresses, list):
            errors.append(FieldError("Invalid type.", f"personalizations.{i}.{kind}", None))
            continue
        for j, address in enumerate(addresses):
            email = address.get("email") if isinstance(address, dict) else None
            if not isinstance(email, str) or not _EMAIL.match(email):
                errors.append(
                    FieldError(
                        "Does not contain a valid address.",
                        f"personalizations.{i}.{kind}.{j}.email",
                        f"{_HELP}#message.personalizations.{kind}",
                    )
                )
    errors.extend(_validate_custom_args(p.get("custom_args"), f"personalizations.{i}.custom_args"))
    return errors


def _validate_from(sender: Any) -> list[FieldError]:
    email = sender.get("email") if isinstance(sender, dict) else None
    if email is None:
        return [
            FieldError(
                "The from object must be provided for every email send. It is an object that "
                "requires the email parameter, but may also contain a name parameter.  e.g. "
                '{"email" : "example@example.com"}  or {"email" : "example@example.com", '
                '"name" : "Example Recipient"}.',
                "from.email",
                f"{_HELP}#message.from",
            )
        ]
    if not isinstance(email, str) or not _EMAIL.match(email):
        return [FieldError("The from email does not contain a valid address.", "from.email", None)]
    return []


def _validate_content(content: Any, has_template: bool) -> list[FieldError]:
    if content is None or content == []:
        if has_template:
            return []
        return [
            FieldError(
                "Unless a valid template_id is provided, the content parameter is required. "
                "There must be at least one defined content block. We typically suggest both "
                "text/plain and text/html blocks are included, but only one block is required.",
                "content",
                f"{_HELP}#message.content",
            )
        ]
    if not isinstance(content, list):
        return [FieldError("Invalid type.", "content", None)]
    errors: list[FieldError] = []
    for i, block in enumerate(content):
        value = block.get("value") if isinstance(block, dict) else None
        if not isinstance(value, str) or not value:
            errors.append(
                FieldError(
                    "The content value must be a string at least one character in length.",
                    f"content.{i}.value",
                    f"{_HELP}#message.content.value",
                )
            )
    return errors


def _validate_custom_args(args: Any, path: str) -> list[FieldError]:
    if args is None:
        return []
    if not isinstance(args, dict):
        return [FieldError("Invalid type. Expected: object.", path, None)]
    return [
        FieldError(
            f"Invalid type. Expected: string, given: {type(value).__name__}.", f"{path}.{key}", None
        )
        for key, value in args.items()
        if not isinstance(value, str)
    ]
