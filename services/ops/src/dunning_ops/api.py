"""The dashboard's routes: sign-in, the pages (HTML), and the JSON their charts are drawn from.

Nothing but /health, /signin and /static answers without a session: a page redirects to
/signin (303), a JSON endpoint answers 401. Every write is a form POST carrying the session's
CSRF token (besides the SameSite=Strict cookie) and is checked against the role before any
service is called; the services, sent the user's own key, check it again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Protocol
from urllib.parse import quote

import httpx
from dunning_core.runtime.auth import AuthError
from dunning_core.runtime.page_headers import page_headers
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from dunning_ops.domain.actions import Action, may_replay
from dunning_ops.domain.forms import FormError
from dunning_ops.domain.sessions import COOKIE
from dunning_ops.pages import Pages
from dunning_ops.ports import Upstream
from dunning_ops.service import Ops, Refused
from dunning_ops.sessions import Session, Sessions

log = logging.getLogger(__name__)

HEADERS = page_headers(
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


class SignInNeeded(Exception):
    def __init__(self, json: bool, path: str) -> None:
        self.json = json
        self.path = path


def html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def session_of(request: Request) -> Session:
    sessions: Sessions = request.app.state.sessions
    session = await sessions.current(request.cookies.get(COOKIE))
    if session is None:
        raise SignInNeeded(wants_json(request), request.url.path)
    return session


Signed = Annotated[Session, Depends(session_of)]


async def form_of(request: Request, session: Session) -> dict[str, str]:
    """The POSTed form, once its CSRF token is the session's (else 403)."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if form.get("csrf") != session.csrf:
        raise Refused("the form is stale or forged: reload the page and try again")
    return form


def install_errors(app: FastAPI, pages: Pages) -> None:
    async def sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInNeeded)
        if exc.json:
            return JSONResponse(
                {"error": "unauthorized", "message": "sign in first (POST /signin)"},
                status_code=401,
                headers={**HEADERS, "WWW-Authenticate": 'Cookie realm="dunning-ops"'},
            )
        target = "/signin" if exc.path == "/" else f"/signin?next={quote(exc.path, safe='/')}"
        return RedirectResponse(target, status_code=303, headers=HEADERS)

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused | Upstream)
        status = exc.status if isinstance(exc, Upstream) else 403
        if wants_json(request):
            return JSONResponse({"error": "refused", "message": exc.message}, status, HEADERS)
        session = await request.app.state.sessions.current(request.cookies.get(COOKIE))
        page = pages.render("problem.html", session, title="Not done", message=exc.message)
        return html(page, status)

    async def unavailable(request: Request, exc: Exception) -> Response:
        log.warning("a service did not answer", extra={"error": type(exc).__name__})
        message = "a service did not answer; try again in a moment"
        if wants_json(request):
            return JSONResponse({"error": "unavailable", "message": message}, 503, HEADERS)
        return html(pages.render("problem.html", None, title="Unavailable", message=message), 503)

    app.add_exception_handler(SignInNeeded, sign_in)
    app.add_exception_handler(Refused, refused)
    app.add_exception_handler(Upstream, refused)
    app.add_exception_handler(httpx.HTTPError, unavailable)


def _safe_next(value: str | None) -> str:
    # Only a path of this site: never an absolute URL (an open redirect).
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


class View(Protocol):
    def json(self) -> dict[str, Any]: ...


def board(
    api: APIRouter,
    pages: Pages,
    name: str,
    path: str,
    read: Callable[[Session], Awaitable[View]],
) -> None:
    """A read-only board: its page at ``path`` (``<name>.html``) and the same view as JSON
    at ``/api/<name>``, which its charts are drawn from."""

    async def page(session: Signed) -> HTMLResponse:
        return html(pages.render(f"{name}.html", session, path, view=await read(session)))

    async def as_json(session: Signed) -> JSONResponse:
        return JSONResponse((await read(session)).json(), headers=HEADERS)

    api.add_api_route(path, page, methods=["GET"], response_class=HTMLResponse, name=name)
    api.add_api_route(f"/api/{name}", as_json, methods=["GET"], name=f"{name}_json")


def router(ops: Ops, sessions: Sessions, pages: Pages, secure_cookie: bool) -> APIRouter:
    api = APIRouter()

    @api.get("/signin", response_class=HTMLResponse)
    async def signin_page(next: str | None = None) -> HTMLResponse:
        return html(pages.render("signin.html", None, next=_safe_next(next)))

    @api.post("/signin")
    async def signin(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        target = _safe_next(form.get("next"))
        try:
            cookie, session = await sessions.sign_in(form.get("key", ""))
        except AuthError as exc:
            page = pages.render("signin.html", None, next=target, problem=exc.message)
            return html(page, 401)
        log.info(
            "signed in",
            extra={"key_id": session.principal.key_id, "role": session.principal.role.value},
        )
        response = RedirectResponse(target, status_code=303, headers=HEADERS)
        response.set_cookie(
            COOKIE, cookie, httponly=True, samesite="strict", secure=secure_cookie, path="/"
        )
        return response

    @api.post("/signout")
    async def signout(request: Request, session: Signed) -> Response:
        await form_of(request, session)
        await sessions.sign_out(request.cookies.get(COOKIE))
        response = RedirectResponse("/signin", status_code=303, headers=HEADERS)
        response.delete_cookie(COOKIE, path="/")
        return response

    board(api, pages, "portfolio", "/", ops.portfolio)

    @api.get("/accounts", response_class=HTMLResponse)
    async def accounts(request: Request, session: Signed) -> HTMLResponse:
        query = dict(request.query_params)
        found = await ops.search(session, query) if any(query.values()) else None
        page = pages.render("accounts.html", session, "/accounts", query=query, found=found)
        return html(page)

    @api.get("/accounts/{account_id}", response_class=HTMLResponse)
    async def account(account_id: str, session: Signed, done: str | None = None) -> HTMLResponse:
        view = await ops.account(session, account_id)
        return html(pages.render("account.html", session, "/accounts", view=view, done=done))

    @api.post("/accounts/{account_id}/whatif", response_class=HTMLResponse)
    async def what_if(account_id: str, request: Request, session: Signed) -> HTMLResponse:
        form = await form_of(request, session)
        answer = await ops.what_if(session, account_id, form.get("channel", ""))
        view = await ops.account(session, account_id)
        page = pages.render("account.html", session, "/accounts", view=view, verdict=answer)
        return html(page)

    @api.post("/accounts/{account_id}/actions/{action}")
    async def act(account_id: str, action: str, request: Request, session: Signed) -> Response:
        form = await form_of(request, session)
        try:
            chosen = Action(action)
        except ValueError:
            raise Refused(f"no such action {action!r}") from None
        try:
            await ops.act(session, account_id, chosen, form)
        except FormError as exc:
            view = await ops.account(session, account_id)
            page = pages.render(
                "account.html", session, "/accounts", view=view, problem=str(exc), form=form
            )
            return html(page, 422)
        log.info(
            "account action",
            extra={"key_id": session.principal.key_id, "action": chosen.value},
        )
        target = f"/accounts/{quote(account_id, safe='')}?done={chosen.value}"
        return RedirectResponse(target, status_code=303, headers=HEADERS)

    @api.get("/api/accounts/{account_id}")
    async def account_json(account_id: str, session: Signed) -> JSONResponse:
        view = await ops.account(session, account_id)
        body = {
            "account_id": view.account_id,
            "status": view.status,
            "balance": view.balance,
            "actions": [a.value for a in view.actions],
            "entries": [e.__dict__ for e in view.entries],
        }
        return JSONResponse(body, headers=HEADERS)

    board(api, pages, "pipeline", "/pipeline", ops.pipeline)

    @api.get("/pipeline/dlq/{topic}", response_class=HTMLResponse)
    async def dead_letters(
        topic: str, session: Signed, replayed: str | None = None
    ) -> HTMLResponse:
        letters = await ops.dead_letters(session, topic)
        page = pages.render(
            "dead_letters.html", session, "/pipeline", topic=topic, letters=letters,
            may_replay=may_replay(session.principal.role), replayed=replayed,
        )  # fmt: skip
        return html(page)

    @api.post("/pipeline/dlq/{topic}/{partition}/{offset}/replay")
    async def replay(
        topic: str, partition: int, offset: int, request: Request, session: Signed
    ) -> Response:
        await form_of(request, session)
        target = await ops.replay(session, topic, partition, offset)
        log.info(
            "dead letter replayed",
            extra={"key_id": session.principal.key_id, "topic": topic, "offset": offset},
        )
        where = f"/pipeline/dlq/{quote(topic, safe='')}?replayed={offset}:{quote(target)}"
        return RedirectResponse(where, status_code=303, headers=HEADERS)

    board(api, pages, "policies", "/policies", ops.policies)
    return api
