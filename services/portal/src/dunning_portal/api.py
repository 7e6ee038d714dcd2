"""The page's routes (thin: the work is in ``service``, the HTML in ``page``).

GET /p/{token} shows the account; POST /p/{token}/{action} carries out one choice; POST
/webhooks/stripe takes the processor's signed events. Nothing else answers but /health: every
route needs a token or a signature. Every answer is marked not to be cached nor to leak the
token in a Referer, and allows no script.
"""

from __future__ import annotations

import logging
from typing import Annotated

import httpx
from dunning_core.runtime.page_headers import page_headers
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, Response

from dunning_portal.domain.actions import LANGUAGES, Action
from dunning_portal.page import Pages
from dunning_portal.ports import LedgerRefused, ProcessorWebhooks
from dunning_portal.service import Portal, Problem, Refused

log = logging.getLogger(__name__)

HEADERS = page_headers(
    "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
REFUSED_STATUS = {"forged": 403, "expired": 410}

Lang = Annotated[str | None, Query(pattern="^(en|es|zh)$")]
Signature = Annotated[str | None, Header(alias="Stripe-Signature")]


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def _lang(value: str | None) -> str | None:
    return value if value in LANGUAGES else None


def router(portal: Portal, pages: Pages, webhooks: ProcessorWebhooks | None) -> APIRouter:
    api = APIRouter()

    def refused(outcome: Refused, lang: str | None) -> HTMLResponse:
        return _html(pages.refused(outcome, lang), REFUSED_STATUS[outcome.reason.value])

    def unavailable(lang: str | None, exc: Exception) -> HTMLResponse:
        if isinstance(exc, LedgerRefused) and exc.status == 404:
            return _html(pages.refused(None, lang, "not_found"), 404)
        log.warning("ledger unavailable", extra={"error": type(exc).__name__})
        return _html(pages.refused(None, lang, "unavailable"), 503)

    @api.get("/p/{token}", response_class=HTMLResponse)
    async def show(token: str, lang: Lang = None) -> HTMLResponse:
        try:
            seen = await portal.view(token)
        except (LedgerRefused, httpx.HTTPError) as exc:
            return unavailable(lang, exc)
        if isinstance(seen, Refused):
            return refused(seen, lang)
        return _html(pages.page(token, seen, lang))

    @api.post("/p/{token}/{action}", response_class=HTMLResponse)
    async def act(token: str, action: str, request: Request) -> HTMLResponse:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        lang = _lang(form.get("lang"))
        try:
            chosen = Action(action)
        except ValueError:
            return _html(pages.refused(None, lang, "refused_forged"), 404)
        try:
            outcome = await portal.act(token, chosen, form)
        except (LedgerRefused, httpx.HTTPError) as exc:
            return unavailable(lang, exc)
        if isinstance(outcome, Refused):
            return refused(outcome, lang)
        if isinstance(outcome, Problem):
            return _html(pages.problem(token, outcome, lang), outcome.status)
        return _html(pages.done(token, outcome, lang))

    @api.post("/webhooks/stripe")
    async def stripe(request: Request, stripe_signature: Signature = None) -> Response:
        if webhooks is None:
            return Response(status_code=503)  # not configured: the processor retries
        payload = await request.body()
        try:
            event = await webhooks.read(payload, stripe_signature)
        except ValueError:
            log.warning("processor webhook refused: not genuine")
            return Response(status_code=400)
        except Exception as exc:  # the processor unreachable for the event's payment
            log.warning("processor webhook not read", extra={"error": type(exc).__name__})
            return Response(status_code=503)  # the processor retries
        if event is None:
            return Response(status_code=204)
        try:
            await portal.processor_event(event)
        except (LedgerRefused, httpx.HTTPError) as exc:
            log.warning("processor event not recorded", extra={"error": type(exc).__name__})
            return Response(status_code=503)  # the processor retries
        return Response(status_code=204)

    return api
