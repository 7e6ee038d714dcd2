"""Send one email through the official SendGrid SDK (v3 Mail Send).

Outcomes are values, not exceptions, so the caller decides what each means:

    EmailSendResult
    ├── EmailAccepted    SendGrid took the message as `X-Message-Id`; events follow
    ├── EmailRejected    permanent: the request itself is wrong (400/413), never retry
    └── EmailTransient   may succeed later: 429, 5xx, timeout, network, or the API key is
                         refused (401/403: fix it, retry); `retry_after_s` from
                         `Retry-After` or the `X-RateLimit-Reset` instant

The SDK is blocking (urllib, one connection per request), so each call runs in a
worker thread, at most `max_concurrency` at a time. Every message carries RFC 8058
one-click unsubscribe headers and our custom args (step id, account id), which
SendGrid copies into every event of the message.

`SendGridStepSender` is the channel's `Sender` port on top: an approved step in, one of
the domain's outcomes out. Its List-Unsubscribe targets come from the vetted content's
own headers, so the message that leaves carries exactly the headers the gate checked.
"""

from __future__ import annotations

import re
import time
import urllib.error
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import anyio.to_thread
import orjson
from dunning_channels.domain.outcomes import (
    Accepted,
    ProviderTransient,
    Rejected,
    SendOutcome,
    not_sent,
)
from dunning_channels.domain.reconcile import Found, Lookup, LookupFailed, NotFound
from dunning_channels.domain.retry import retry_after_seconds
from dunning_core.contracts.events import OutreachStep
from dunning_core.runtime.errors import PermanentError
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Category, CustomArg, From, Header, Mail, ReplyTo, To

SENDGRID_API_HOST = "https://api.sendgrid.com"

_EMAIL_LIKE = re.compile(r"[^\s@\"'<>(),;:]+@[^\s@\"'<>(),;:]+")


@dataclass(frozen=True, slots=True)
class EmailAccepted:
    """SendGrid queued the message as `provider_message_id` (its `X-Message-Id`)."""

    provider_message_id: str


@dataclass(frozen=True, slots=True)
class EmailRejected:
    """SendGrid (or the SDK, `http_status` None) refused the message for good.

    Addresses in `message` are redacted.
    """

    code: str
    message: str
    http_status: int | None
    fields: tuple[str, ...] = ()


# Sending failed in a way that may pass; SendGrid gives no error code of its own.
EmailTransient = ProviderTransient

EmailSendResult = EmailAccepted | EmailRejected | EmailTransient


def redact(text: str) -> str:
    """`text` with anything that looks like an email address replaced."""
    return _EMAIL_LIKE.sub("[redacted]", text)


def _error_details(body: bytes) -> tuple[str, tuple[str, ...]]:
    try:
        errors = orjson.loads(body).get("errors") or []
    except (orjson.JSONDecodeError, AttributeError):
        return redact(body[:200].decode("utf-8", "replace")), ()
    messages = [str(e.get("message", "")) for e in errors if isinstance(e, dict)]
    fields = tuple(str(e["field"]) for e in errors if isinstance(e, dict) and e.get("field"))
    return redact("; ".join(messages)), fields


def classify_error(
    http_status: int, body: bytes, headers: Mapping[str, str] | None = None, now: float = 0.0
) -> EmailRejected | EmailTransient:
    """What a SendGrid error answer means for this message."""
    message, fields = _error_details(body)
    now = now or time.time()
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    retry_after = retry_after_seconds(lowered.get("retry-after"), now)
    if http_status == 429:
        reset = lowered.get("x-ratelimit-reset")
        if retry_after is None and reset and reset.isdigit():
            retry_after = max(0.0, int(reset) - now)
        return EmailTransient(
            "rate_limited", message, http_status=http_status, retry_after_s=retry_after
        )
    if http_status >= 500:
        return EmailTransient(
            "server_error", message, http_status=http_status, retry_after_s=retry_after
        )
    if http_status in (401, 403):
        return EmailTransient("auth", message, http_status=http_status)
    return EmailRejected(str(http_status), message, http_status, fields)


def build_mail(
    *,
    to: str,
    from_email: str,
    from_name: str | None,
    subject: str,
    text: str,
    html: str | None,
    unsubscribe_url: str,
    unsubscribe_mailto: str | None,
    custom_args: Mapping[str, str],
    reply_to: str | None = None,
    categories: Sequence[str] = (),
) -> dict[str, Any]:
    """The v3 Mail Send body, built with the SDK's `Mail` helper."""
    mail = Mail(
        from_email=From(from_email, from_name),
        to_emails=To(to),
        subject=subject,
        plain_text_content=text,
        html_content=html,
    )
    targets = f"<{unsubscribe_url}>"
    if unsubscribe_mailto:
        targets += f", <mailto:{unsubscribe_mailto}>"
    mail.header = [
        Header("List-Unsubscribe", targets),
        Header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]
    # On the personalization: SendGrid copies these into each of the recipient's events.
    for key, value in custom_args.items():
        mail.custom_arg = CustomArg(key, value, p=0)
    if reply_to:
        mail.reply_to = ReplyTo(reply_to)
    for category in categories:
        mail.category = Category(category)
    body: dict[str, Any] = mail.get()
    return body


class SendGridEmailSender:
    """Sends email through one SendGrid API key, to `host` (the real API by default)."""

    def __init__(
        self,
        *,
        api_key: str,
        host: str = SENDGRID_API_HOST,
        timeout_s: float = 10.0,
        max_concurrency: int = 32,
    ) -> None:
        self._client = SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
        self._timeout_s = timeout_s
        self._limiter = anyio.CapacityLimiter(max_concurrency)

    async def send(
        self,
        *,
        to: str,
        from_email: str,
        subject: str,
        text: str,
        unsubscribe_url: str,
        custom_args: Mapping[str, str],
        from_name: str | None = None,
        html: str | None = None,
        unsubscribe_mailto: str | None = None,
        reply_to: str | None = None,
        categories: Sequence[str] = (),
        timeout_s: float | None = None,
    ) -> EmailSendResult:
        """Ask SendGrid to send one message to `to`; `timeout_s` bounds this call below
        the client's timeout."""
        try:
            body = build_mail(
                to=to,
                from_email=from_email,
                from_name=from_name,
                subject=subject,
                text=text,
                html=html,
                unsubscribe_url=unsubscribe_url,
                unsubscribe_mailto=unsubscribe_mailto,
                custom_args=custom_args,
                reply_to=reply_to,
                categories=categories,
            )
        except (KeyError, TypeError, ValueError) as exc:
            # The SDK's helper chokes on some malformed addresses before anything is sent.
            return EmailRejected("invalid_message", redact(repr(exc)), None)
        return await self.send_body(body, timeout_s)

    async def send_body(
        self, body: dict[str, Any], timeout_s: float | None = None
    ) -> EmailSendResult:
        """Send a ready v3 Mail Send body."""
        timeout = self._timeout_s if timeout_s is None else min(self._timeout_s, timeout_s)
        return await anyio.to_thread.run_sync(
            self._post, body, max(0.001, timeout), limiter=self._limiter
        )

    async def find_sent(self, name: str, value: str) -> str | None:
        """The X-Message-Id of a message whose custom arg `name` is `value`, from the
        Email Activity API; None when there is none. Raises what the SDK raises."""
        return await anyio.to_thread.run_sync(self._find, name, value, limiter=self._limiter)

    def _find(self, name: str, value: str) -> str | None:
        query = f"unique_args['{name}']=\"{value}\""
        response = self._client.client.messages.get(
            query_params={"query": query, "limit": 10}, timeout=self._timeout_s
        )
        found = orjson.loads(response.body or b"{}").get("messages") or []
        # msg_id is the X-Message-Id and SendGrid's filter suffix.
        return str(found[0]["msg_id"]).split(".", 1)[0] if found else None

    def _post(self, body: dict[str, Any], timeout_s: float) -> EmailSendResult:
        try:
            response = self._client.client.mail.send.post(request_body=body, timeout=timeout_s)
        except HTTPError as exc:
            headers = dict(exc.headers.items()) if exc.headers is not None else {}
            return classify_error(int(exc.status_code), exc.body or b"", headers)
        except TimeoutError:
            return EmailTransient("timeout", "no answer from SendGrid in time")
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                return EmailTransient("timeout", "no answer from SendGrid in time")
            return EmailTransient("network", type(exc.reason).__name__)
        except OSError as exc:
            return EmailTransient("network", type(exc).__name__)
        # 202 normally; a sandbox-mode send (200) has no id, which is still no failure.
        return EmailAccepted(response.headers.get("X-Message-Id") or "")


_TARGET = re.compile(r"<([^>]+)>")


def unsubscribe_targets(header: str) -> tuple[str, str | None]:
    """(https URL, mailto address or None) from a List-Unsubscribe header value."""
    url: str | None = None
    mailto: str | None = None
    for target in _TARGET.findall(header):
        if target.startswith("https://") or target.startswith("http://"):
            url = url or target
        elif target.startswith("mailto:"):
            mailto = mailto or target.removeprefix("mailto:")
    if url is None:
        raise PermanentError("List-Unsubscribe has no http(s) target")
    return url, mailto


class SendGridStepSender:
    """The email channel's ``Sender``: an approved step through ``SendGridEmailSender``."""

    def __init__(self, client: SendGridEmailSender, *, from_address: str, from_name: str) -> None:
        self.client = client
        self.from_address = from_address
        self.from_name = from_name

    @property
    def provider(self) -> Literal["sendgrid"]:
        return "sendgrid"

    def sender_id(self, step: OutreachStep) -> str:
        return self.from_address

    async def find(self, account_id: str, step: OutreachStep, since: float) -> Lookup:
        try:
            message_id = await self.client.find_sent("step_id", step.step_id)
        except (HTTPError, urllib.error.URLError, OSError, TimeoutError, ValueError) as exc:
            return LookupFailed(f"sendgrid: {type(exc).__name__}: {redact(str(exc))}"[:300])
        return NotFound() if message_id is None else Found(message_id)

    async def send(
        self, account_id: str, step: OutreachStep, timeout_s: float | None = None
    ) -> SendOutcome:
        content = step.content
        url, mailto = unsubscribe_targets(content.headers.get("List-Unsubscribe", ""))
        result = await self.client.send(
            to=step.destination,
            from_email=self.from_address,
            from_name=self.from_name,
            subject=content.subject or "",
            text=content.body,
            unsubscribe_url=url,
            unsubscribe_mailto=mailto,
            custom_args={"account_id": account_id, "step_id": step.step_id},
            categories=(step.stage.value,),
            timeout_s=timeout_s,
        )
        if isinstance(result, EmailAccepted):
            return Accepted(result.provider_message_id)
        if isinstance(result, EmailRejected):
            return Rejected(result.code, result.message)
        return not_sent("sendgrid", result.kind, result.message, result.retry_after_s)
