"""Send one SMS through the official Twilio SDK, on its asynchronous (aiohttp) client.

Outcomes are values, not exceptions, so the caller decides what each means:

    SmsSendResult
    ├── SmsAccepted    Twilio took the message; its statuses follow by status callback
    ├── SmsRejected    permanent: this message will never be sent (invalid or landline
    │                  number, recipient unsubscribed = `opted_out`, bad content …)
    └── SmsTransient   may succeed later: 429, 5xx, timeout, network, or the account and
                       credentials are refused (401/403/404: fix the configuration, retry);
                       `retry_after_s` when Twilio said how long to wait (`Retry-After`)

The host is overridden the way Twilio documents for proxies and test servers: a custom
HTTP client, here one that rewrites `https://api.twilio.com` to `base_url`. The SDK's
asynchronous client outpaces its blocking one run in threads: against the provider
sandbox on two cores, 700-2,600 sends/s vs 400-700/s (bench/bench_provider_adapters.py
in the sandbox).

`TwilioStepSender` is the channel's `Sender` port on top: an approved step in, one of
the domain's outcomes out (`AmbiguousSend` for a timeout, `Unavailable` to retry).
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

import aiohttp
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
from dunning_core.runtime.closing import AsyncClosing
from redis.exceptions import RedisError
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from dunning_sms.domain import public_url
from dunning_sms.ports import Locales

log = logging.getLogger(__name__)
TWILIO_API_BASE_URL = "https://api.twilio.com"
OPTED_OUT_CODE = "21610"

# The SDK logs every request at INFO (URLs carry the account sid); keep it to warnings.
_sdk_logger = logging.getLogger("dunning_sms.twilio_sdk")
_sdk_logger.setLevel(logging.WARNING)

# "+" and digits, or seven digits and more (with the usual separators).
_PHONE_LIKE = re.compile(r"\+\d[\d\s().-]*\d|\d[\d\s().-]{5,}\d")

# The SDK turns an error answer into an exception without its headers: the HTTP client
# notes a `Retry-After` here, in the sending task's context, for `send` to read.
_RETRY_AFTER: contextvars.ContextVar[list[float]] = contextvars.ContextVar("twilio_retry_after")
# The SDK takes no timeout per call: a tighter bound for this call travels here.
_TIMEOUT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "twilio_timeout", default=None
)


@dataclass(frozen=True, slots=True)
class SmsAccepted:
    """Twilio queued the message as `provider_message_id` (its `SM…` sid)."""

    provider_message_id: str
    status: str


@dataclass(frozen=True, slots=True)
class SmsRejected:
    """Twilio refused this message for good; `message` has phone numbers redacted."""

    code: str
    message: str
    http_status: int

    @property
    def opted_out(self) -> bool:
        """The recipient replied STOP to this sender (Twilio error 21610)."""
        return self.code == OPTED_OUT_CODE


SmsTransient = ProviderTransient

SmsSendResult = SmsAccepted | SmsRejected | SmsTransient


def redact(text: str) -> str:
    """`text` with anything that looks like a phone number replaced."""
    return _PHONE_LIKE.sub("[redacted]", text)


def classify_error(
    http_status: int, code: int | None, message: str, retry_after_s: float | None = None
) -> SmsRejected | SmsTransient:
    """What a Twilio error answer means for this message."""
    code_text = str(code) if code is not None else None
    safe = redact(message)
    if http_status == 429 or code == 20429:
        return SmsTransient("rate_limited", safe, code_text, http_status, retry_after_s)
    if http_status >= 500:
        return SmsTransient("server_error", safe, code_text, http_status, retry_after_s)
    if http_status in (401, 403, 404):
        return SmsTransient("auth", safe, code_text, http_status)
    return SmsRejected(code_text or str(http_status), safe, http_status)


def _last(noted: list[float]) -> float | None:
    return noted[-1] if noted else None


class _RebasedAsyncHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The SDK's aiohttp client, sending to `base_url` instead of api.twilio.com.

    Its session is made on first use, inside the running event loop, as aiohttp wants.
    """

    def __init__(self, base_url: str, timeout_s: float, max_connections: int) -> None:
        super().__init__(pool_connections=False, timeout=timeout_s, logger=_sdk_logger)
        self.session: aiohttp.ClientSession | None = None
        self._base_url = base_url.rstrip("/")
        # Against the real API the SDK's own edge/region host selection stays in charge.
        self._rebase = self._base_url != TWILIO_API_BASE_URL
        self._max_connections = max_connections

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the SDK's signature)
        allow_redirects: bool = False,
    ) -> Any:
        if self.session is None:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections)
            )
        if self._rebase:
            parts = urlsplit(url)
            url = self._base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers or {})
        if auth is not None:
            # aiohttp deprecates its `auth=` argument; the header is the same thing.
            credentials = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {credentials}"
        response = await super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=None,
            # The SDK passes None, which aiohttp takes as "no timeout at all".
            timeout=_bounded(timeout if timeout is not None else self.timeout),
            allow_redirects=allow_redirects,
        )
        if response.status_code == 429 or response.status_code >= 500:
            wait = retry_after_seconds((response.headers or {}).get("Retry-After"), time.time())
            noted = _RETRY_AFTER.get(None)
            if wait is not None and noted is not None:
                noted.append(wait)
        return response


def _bounded(timeout_s: float) -> float:
    bound = _TIMEOUT.get()
    return timeout_s if bound is None else max(0.001, min(timeout_s, bound))


class TwilioSmsSender(AsyncClosing):
    """Sends SMS through one Twilio account (auth token, or an API key and its secret)."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str | None = None,
        api_key_sid: str | None = None,
        api_key_secret: str | None = None,
        base_url: str = TWILIO_API_BASE_URL,
        timeout_s: float = 10.0,
        max_connections: int = 64,
    ) -> None:
        if api_key_sid is not None and api_key_secret is not None:
            username, password = api_key_sid, api_key_secret
        elif auth_token is not None:
            username, password = account_sid, auth_token
        else:
            raise ValueError("give an auth token, or an API key sid and secret")
        self._http = _RebasedAsyncHttpClient(base_url, timeout_s, max_connections)
        self._client = Client(username, password, account_sid=account_sid, http_client=self._http)
        # The SDK imports its REST API modules on first use (about 2 s of CPU here): pay
        # that at start-up rather than on the first message.
        _ = self._client.messages

    async def send(
        self,
        *,
        to: str,
        body: str,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
        timeout_s: float | None = None,
    ) -> SmsSendResult:
        """Ask Twilio to send `body` to `to`, from a number or a messaging service;
        `timeout_s` bounds this call below the client's timeout."""
        if from_ is None and messaging_service_sid is None:
            raise ValueError("give a From number or a messaging service sid")
        optional: dict[str, str] = {}
        if from_ is not None:
            optional["from_"] = from_
        if messaging_service_sid is not None:
            optional["messaging_service_sid"] = messaging_service_sid
        if status_callback is not None:
            optional["status_callback"] = status_callback
        noted: list[float] = []
        token = _RETRY_AFTER.set(noted)
        bound = _TIMEOUT.set(timeout_s)
        try:
            message = await self._client.messages.create_async(to=to, body=body, **optional)
        except TwilioRestException as exc:
            return classify_error(int(exc.status), exc.code, str(exc.msg), _last(noted))
        except TwilioServiceException as exc:
            return classify_error(
                int(exc.status), exc.code, str(exc.detail or exc.title), _last(noted)
            )
        except TimeoutError:
            return SmsTransient("timeout", "no answer from Twilio in time")
        except (aiohttp.ClientError, OSError) as exc:
            return SmsTransient("network", type(exc).__name__)
        except TwilioException as exc:
            return SmsTransient("server_error", redact(str(exc)))
        finally:
            _TIMEOUT.reset(bound)
            _RETRY_AFTER.reset(token)
        return SmsAccepted(provider_message_id=str(message.sid), status=str(message.status))

    async def find_sent(
        self, *, to: str, body: str, since: float, from_: str | None = None
    ) -> str | None:
        """The sid of a message to `to` with `body`, created at `since` (Unix seconds) or
        later, from Twilio's message list (newest first); None when there is none. Raises
        what the SDK and the network raise."""
        filters: dict[str, str] = {"to": to}
        if from_ is not None:
            filters["from_"] = from_
        # No DateSent filter: a message still queued has no date_sent yet.
        for message in await self._client.messages.list_async(limit=50, page_size=50, **filters):
            created = message.date_created
            if message.body == body and (created is None or created.timestamp() >= since):
                return str(message.sid)
        return None

    async def aclose(self) -> None:
        if self._http.session is not None:
            await self._http.session.close()
            # Let aiohttp finish closing its connections before the loop goes away.
            await asyncio.sleep(0)


class TwilioStepSender:
    """The sms channel's ``Sender``: an approved step through ``TwilioSmsSender``."""

    provider: Literal["twilio"] = "twilio"

    def __init__(
        self,
        client: TwilioSmsSender,
        *,
        from_number: str | None,
        messaging_service_sid: str | None,
        public_base_url: str,
        locales: Locales | None = None,
    ) -> None:
        self.client = client
        self.locales = locales  # told each accepted text's locale: HELP answers in it
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.public_base_url = public_base_url

    def sender_id(self, step: OutreachStep) -> str:
        return self.messaging_service_sid or self.from_number or ""

    def status_callback(self, account_id: str, step_id: str) -> str:
        # The step travels in the callback URL, so a status maps back to its step even if
        # the worker died before it recorded the provider's message id.
        # Built as the status handler rebuilds it to check Twilio's signature over it.
        query = urlencode({"account_id": account_id, "step_id": step_id})
        return public_url(self.public_base_url, "/webhooks/twilio/status", query)

    async def find(self, account_id: str, step: OutreachStep, since: float) -> Lookup:
        try:
            sid = await self.client.find_sent(
                to=step.destination,
                body=step.content.body,
                since=since,
                from_=None if self.messaging_service_sid else self.from_number,
            )
        except (TwilioException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            return LookupFailed(f"twilio: {type(exc).__name__}: {redact(str(exc))}"[:300])
        return NotFound() if sid is None else Found(sid)

    async def send(
        self, account_id: str, step: OutreachStep, timeout_s: float | None = None
    ) -> SendOutcome:
        result = await self.client.send(
            to=step.destination,
            body=step.content.body,
            from_=None if self.messaging_service_sid else self.from_number,
            messaging_service_sid=self.messaging_service_sid,
            status_callback=self.status_callback(account_id, step.step_id),
            timeout_s=timeout_s,
        )
        if isinstance(result, SmsAccepted):
            if self.locales is not None and step.content.locale:
                try:
                    await self.locales.remember(step.destination, step.content.locale)
                except (RedisError, OSError) as exc:  # a nicety: never fails a sent step
                    log.warning("locale not remembered", extra={"error": type(exc).__name__})
            return Accepted(result.provider_message_id)
        if isinstance(result, SmsRejected):
            return Rejected(result.code, result.message, opted_out=result.opted_out)
        return not_sent("twilio", result.kind, result.message, result.retry_after_s)
