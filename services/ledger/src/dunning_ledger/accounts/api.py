"""``/v1/accounts`` beyond one account's body: search, timeline, changes, notes."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from anyio import CapacityLimiter, to_thread
from dunning_core.contracts.access import Permission, Principal
from dunning_core.runtime.auth import require
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from dunning_ledger.accounts.changes import ChangeService
from dunning_ledger.accounts.page import timeline_page, timeline_pdf
from dunning_ledger.accounts.pauses import PauseService
from dunning_ledger.accounts.schemas import (
    AccountHit,
    AccountPage,
    AccountPatch,
    ChangeOut,
    NoteIn,
    NoteOut,
    NotesOut,
    PauseIn,
    ResumeIn,
    TimelineOut,
)
from dunning_ledger.accounts.service import AccountService
from dunning_ledger.accounts.timeline import TimelineService
from dunning_ledger.communications.schemas import SignalOut
from dunning_ledger.domain import import_format
from dunning_ledger.domain.search import DEFAULT_LIMIT, MAX_LIMIT, SearchFilters
from dunning_ledger.errors import ErrorBody, NotFound
from dunning_ledger.routing import (
    ERRORS,
    JSON_ONLY,
    READ_WORDS,
    authenticated_router,
    read_route,
    use_case,
)

Changer = Annotated[Principal, Depends(require(Permission.CHANGE_ACCOUNTS))]
NoteTaker = Annotated[Principal, Depends(require(Permission.RECORD_NOTES))]
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"  # PostgreSQL refuses a NUL in text: a 422, not a 500
_Text = Annotated[str | None, Query(min_length=1, max_length=200, pattern=_PRINTABLE)]
_SEARCH_DOC = (
    "Accounts matching every filter given, in account_id order, a page at a time: pass "
    "`next_cursor` back as `cursor` for the next page. `name` matches anywhere in the full "
    "name, ignoring case. `phone` takes any notation (US by default). `balance_min` and "
    "`balance_max` are in major units of `currency` (USD unless given) and match only "
    "accounts in that currency. Days past due count from the debt's due date to the "
    "ledger's date (`as_of`). `stage` is the stage of the account's latest step in the "
    "ledger's communication log: the scheduler owns stages, and an account without a "
    "logged step has none here. The import has no external reference, so there is no "
    "such filter."
)


def _filters(
    account_id: _Text = None,
    name: _Text = None,
    phone: Annotated[str | None, Query(min_length=1, max_length=40, pattern=_PRINTABLE)] = None,
    email: Annotated[str | None, Query(min_length=3, max_length=320, pattern=_PRINTABLE)] = None,
    state: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    status: Literal["open", "paid"] | None = None,
    stage: _Text = None,
    balance_min: Annotated[str | None, Query(max_length=40, examples=["100.00"])] = None,
    balance_max: Annotated[str | None, Query(max_length=40)] = None,
    currency: Annotated[str, Query(pattern=r"^[A-Za-z]{3}$")] = "USD",
    days_past_due_min: Annotated[int | None, Query(ge=-100_000, le=100_000)] = None,
    days_past_due_max: Annotated[int | None, Query(ge=-100_000, le=100_000)] = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> SearchFilters:
    # The parameters are the filters' fields, by name (FastAPI reads their constraints).
    return SearchFilters(**locals())


Filters = Annotated[SearchFilters, Depends(_filters)]
Accounts = Annotated[AccountService, Depends(use_case("accounts"))]
Timelines = Annotated[TimelineService, Depends(use_case("timelines"))]
Changes = Annotated[ChangeService, Depends(use_case("changes"))]
Pauses = Annotated[PauseService, Depends(use_case("pauses"))]


def _account_id(
    account_id: Annotated[str, Path(description="1-64 of A-Z a-z 0-9 . _ : -")],
) -> str:
    # An id no import can create names no account; checked before it reaches the database.
    if not import_format.IDENTIFIER.match(account_id):
        raise NotFound(
            f"no account {account_id!r}: an account id is 1-64 of A-Z a-z 0-9 . _ : - "
            "starting with a letter or digit"
        )
    return account_id


AccountId = Annotated[str, Depends(_account_id)]


_MEDIA: Final = {"application/json": "json", "text/html": "html", "application/pdf": "pdf"}


def timeline_format(accept: str) -> Literal["json", "html", "pdf"]:
    """The timeline's form the Accept header prefers (by q, then listed order), else json."""
    best: tuple[float, str] = (0.0, "json")
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        found = _MEDIA.get(media.lower())
        if found is not None and q > best[0]:
            best = (q, found)
    form = best[1]
    return "html" if form == "html" else "pdf" if form == "pdf" else "json"


def _recorded(done: SignalOut, response: Response) -> SignalOut:
    """201 for a signal recorded now, 200 for a replay of one recorded before."""
    if done.replayed:
        response.status_code = 200
    return done


def router() -> APIRouter:
    api = authenticated_router("/v1", "accounts")
    printing = CapacityLimiter(1)

    @read_route(
        api,
        "/accounts",
        AccountPage,
        summary="Search accounts (cursor paging, stable order)",
        description=_SEARCH_DOC,
    )
    async def search_accounts(filters: Filters, accounts: Accounts) -> AccountPage:
        page = await accounts.search(filters)
        return AccountPage(
            accounts=[AccountHit.of(a, page.today) for a in page.accounts],
            next_cursor=page.next_cursor,
            as_of=page.today,
        )

    @api.get(
        "/accounts/{account_id}/timeline",
        response_model=TimelineOut,
        responses={
            **ERRORS,
            200: {
                "content": {
                    "text/html": {"schema": {"type": "string"}},
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                }
            },
        },
        dependencies=READ_WORDS,
        summary="Everything recorded about the account, in order (JSON, a printable page, PDF)",
        description="Each step's gate decisions with their rules and the message vetted "
        "(subject and body, whole: what was sent when allowed), deliveries, signals "
        "(replies with their text and intent), payments, plans, promises, settlements, "
        "changes and notes, with who and when, in UTC and in the consumer's zone. "
        "`format=html` (or `Accept: text/html`) gives a printable page, `format=pdf` (or "
        "`Accept: application/pdf`) the same page as PDF; `format` wins over `Accept`.",
    )
    async def timeline(
        request: Request,
        response: Response,
        account_id: AccountId,
        timelines: Timelines,
        format: Annotated[
            Literal["json", "html", "pdf"] | None,
            Query(description="json, html or pdf; by default from the Accept header, else json"),
        ] = None,
    ) -> Any:
        wanted = format or timeline_format(request.headers.get("accept", ""))
        body = TimelineOut.of(await timelines.timeline(account_id))
        headers = {"Vary": "Accept"}  # one URL, three forms: caches keep them apart
        if wanted == "json":
            response.headers.update(headers)
            return body
        page = timeline_page(body)
        if wanted == "html":
            return HTMLResponse(page, headers=headers)
        # One PDF at a time per process: a long story takes a core for a while, and the
        # ledger's other requests and consumers must keep the other.
        pdf = await to_thread.run_sync(timeline_pdf, page, limiter=printing)
        headers["Content-Disposition"] = f'inline; filename="timeline-{account_id}.pdf"'
        return Response(pdf, media_type="application/pdf", headers=headers)

    @api.patch(
        "/accounts/{account_id}",
        response_model=ChangeOut,
        responses=ERRORS,
        dependencies=JSON_ONLY,
        summary="Change contact points, consent, language or flags (operator and up)",
        description="Each change is a new revision announced as `account.updated.v1` (with "
        "`changed` and `recorded_by`) so the gate and the scheduler see it. `phones` and "
        "`emails` replace the whole list; what is left out stays. A change that alters "
        "nothing answers `changed: []` and announces nothing.",
    )
    async def change_account(
        who: Changer, account_id: AccountId, body: AccountPatch, changes: Changes
    ) -> ChangeOut:
        done = await changes.change(account_id, body, recorded_by=who.name)
        return ChangeOut.model_validate(done)

    @api.post(
        "/accounts/{account_id}/pause",
        response_model=SignalOut,
        status_code=201,
        responses={**ERRORS, 200: {"model": SignalOut, "description": "Already recorded"}},
        dependencies=JSON_ONLY,
        summary="Pause outreach to the account (operator and up)",
        description="Recorded as an `outreach_paused` signal (the reason as its text, "
        "`details.until` when given) with who paused, announced on `consumer.signals.v1`: "
        "the scheduler plans nothing for the account, the gate blocks its steps "
        "(`operator.paused`) and the channel workers send nothing they already hold, until "
        "it is resumed or `until` comes (the ledger then records the resumption). "
        "Answered once the signal is on Kafka. Idempotent by `pause_id`.",
    )
    async def pause(
        who: Changer, account_id: AccountId, body: PauseIn, pauses: Pauses, response: Response
    ) -> SignalOut:
        done = await pauses.pause(account_id, body.pause_id, body.reason, body.until, who.name)
        return _recorded(done, response)

    @api.post(
        "/accounts/{account_id}/resume",
        response_model=SignalOut,
        status_code=201,
        responses={**ERRORS, 200: {"model": SignalOut, "description": "Already recorded"},
                   409: {"model": ErrorBody, "description": "Outreach is not paused"}},
        dependencies=JSON_ONLY,
        summary="Resume outreach paused by an operator (operator and up)",
        description="Recorded as an `outreach_resumed` signal with who resumed, announced "
        "on `consumer.signals.v1`. 409 when outreach is not paused. Idempotent by "
        "`resume_id`.",
    )  # fmt: skip
    async def resume(
        who: Changer, account_id: AccountId, body: ResumeIn, pauses: Pauses, response: Response
    ) -> SignalOut:
        done = await pauses.resume(account_id, body.resume_id, body.reason, who.name)
        return _recorded(done, response)

    @api.post(
        "/accounts/{account_id}/notes",
        response_model=NoteOut,
        status_code=201,
        responses=ERRORS,
        dependencies=JSON_ONLY,
        summary="Write a note on the account (agent and up)",
    )
    async def add_note(
        who: NoteTaker, account_id: AccountId, body: NoteIn, changes: Changes
    ) -> NoteOut:
        return NoteOut.model_validate(await changes.add_note(account_id, body.text, who.name))

    @read_route(
        api, "/accounts/{account_id}/notes", NotesOut, summary="The account's notes, oldest first"
    )
    async def notes(account_id: AccountId, changes: Changes) -> NotesOut:
        found = await changes.notes(account_id)
        return NotesOut(account_id=account_id, notes=[NoteOut.model_validate(n) for n in found])

    return api
