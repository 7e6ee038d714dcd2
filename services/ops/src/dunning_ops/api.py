"""The dashboard's routes: sign-in, the pages (HTML), and the JSON their charts are drawn from.

Nothing but /health, /signin and /static answers without a session: a page redirects to
/signin (303), a JSON endpoint answers 401. Every write is a form POST carrying the session's
CSRF token (besides the SameSite=Strict cookie) and is checked against the role before any
service is called; the services, sent the user's own key, check it again.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from dunning_core.runtime.auth import AuthError
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from dunning_ops.domain.sessions import COOKIE
from dunning_ops.pages import Pages
from dunning_ops.ports import Upstream
from dunning_ops.service import Ops
from dunning_ops.sessions import Session, Sessions

log = logging.getLogger(__name__)

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
}


class SignInNeeded(Exception):
    def __init__(self, json: bool, path: str) -> None:
        self.json = json
        self.path = path


class Refused(Exception):
    """The role may not do this (403), said before any service is asked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
        sessions.sign_out(request.cookies.get(COOKIE))
        response = RedirectResponse("/signin", status_code=303, headers=HEADERS)
        response.delete_cookie(COOKIE, path="/")
        return response

    @api.get("/", response_class=HTMLResponse)
    async def portfolio(session: Signed) -> HTMLResponse:
        view = await ops.portfolio(session)
        return html(pages.render("portfolio.html", session, "/", view=view))

    @api.get("/api/portfolio")
    async def portfolio_json(session: Signed) -> JSONResponse:
        view = await ops.portfolio(session)
        body: dict[str, Any] = {
            "tiles": [t.__dict__ for t in view.tiles],
            "charts": [c.json() for c in view.charts],
        }
        return JSONResponse(body, headers=HEADERS)

    return api
