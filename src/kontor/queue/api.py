"""The queue API: issue a walk-in ticket, follow it, call the next one to a counter, read the board.

Issuing and calling need a staff bearer token of the office (see :mod:`kontor.queue.api_access`):
401 without one, 403 for someone else's office. Reading a ticket by its token and an office's queue
is public and shows no personal data. A queue action that cannot be done answers
``{"detail": message, "extra": {"kind": ...}}``: 409 when the office is closed or the ticket gone,
422 for a service the office does not take walk-ins for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.audit.models import Channel
from kontor.hours.services import current_time, status_window
from kontor.i18n import _, current_locale
from kontor.offices.api import (
    NO_OFFICE,
    NOT_JSON,
    ApiOperation,
    OptionalBodyOperation,
    Slug,
    answers,
    office_or_404,
)
from kontor.offices.models import Counter, Office
from kontor.offices.services import offerings
from kontor.queue import counter as counters
from kontor.queue import schemas, tickets, views
from kontor.queue.api_access import ensure_works_at, invalid, json_only, refused, staff_of
from kontor.queue.errors import QueueError
from kontor.queue.models import CounterShift
from kontor.queue.rules import WaitRange

_PRIVATE = {"cache_control": CacheControlHeader(no_store=True), "tags": ["queue"]}
# The board changes with every call: clients may keep it only to revalidate.
_PUBLIC = {
    "cache_control": CacheControlHeader(no_cache=True),
    "response_headers": [
        ResponseHeader(name="Vary", value="Accept-Language, Cookie", documentation_only=False)
    ],
    "tags": ["queue"],
    "operation_class": ApiOperation,
}
# The error answers of the staff operations, as the schema describes them.
_STAFF_ONLY = {
    401: "No bearer token was sent, or it is malformed, unknown or revoked.",
    403: "The token's user does not run this office's queue.",
}

Db = NamedDependency[AsyncSession]
CounterNumber = Annotated[int, PathParameter(description="The counter's number within the office: 1, 2, …")]
TicketToken = Annotated[str, PathParameter(description="The token returned when the ticket was issued.")]


def _local(moment: datetime | None, office: Office) -> datetime | None:
    return None if moment is None else moment.astimezone(ZoneInfo(office.timezone))


def _wait(wait: WaitRange | None) -> tuple[int | None, schemas.EstimatedWait | None]:
    if wait is None:
        return None, None
    return wait.typical, schemas.EstimatedWait(low=wait.low, high=wait.high)


def _language(office: Office, language: str | None) -> str | None:
    """The resident's language if the office serves in it (any, when it lists none)."""
    if language is None:
        return None
    spoken = list(office.languages or [])
    if spoken and language not in spoken:
        message = _(
            "This office serves in %(languages)s, not in %(language)s.",
            languages=", ".join(spoken),
            language=language,
        )
        raise invalid("language", message)
    return language


@post(
    "/api/v1/offices/{slug:str}/tickets",
    name="api_issue_ticket",
    summary="Issue a walk-in ticket",
    description=(
        "Staff bearer token of the office. Issues the next ticket of a walk-in service while the office "
        "is open; `token` (private) opens the ticket page at `url`. Errors: 409 the office is closed, "
        "422 the office takes no walk-ins for the service or does not serve in the language, "
        "404 unknown office, 401 no bearer token, 403 not this office's staff, 415 a body that is not JSON."
    ),
    guards=[json_only],
    status_code=201,
    responses=answers(
        _STAFF_ONLY,
        NO_OFFICE,
        {
            409: "The office is closed now (`extra.kind` is `office_closed`).",
            422: "A service the office takes no walk-ins for, or a language it does not serve in.",
        },
        NOT_JSON,
    ),
    operation_class=ApiOperation,
    **_PRIVATE,
)
async def issue_ticket(
    request: Request[Any, Any, Any], db_write: Db, slug: Slug, data: JSONBody[schemas.NewTicket]
) -> schemas.TicketIssued:
    user = staff_of(request)
    office = await office_or_404(request, db_write, slug)
    ensure_works_at(user, office)
    language = _language(office, data.language)
    now = current_time(request.app.state)
    try:
        ticket, token = await tickets.issue_walk_in(
            db_write,
            office=office,
            service_code=data.service,
            now=now,
            channel=Channel.API,
            actor=user,
            language=language,
            needs_help=data.needs_help,
            # The app's few-seconds snapshot of every office's hours, as the office itself came from.
            hours=await request.app.state.directory.office_hours(db_write, office, *status_window(now)),
        )
    except QueueError as error:
        raise refused(error) from None
    view = await views.ticket_view(db_write, ticket, now)
    minutes, estimate = _wait(view.wait)
    return schemas.TicketIssued(
        code=ticket.code,
        token=token,
        url=f"{request.app.state.settings.public_url.rstrip('/')}/tickets/{token}",
        office=office.slug,
        service=ticket.service.code,
        status=ticket.status,  # type: ignore[arg-type]
        position=view.position,
        estimated_wait_minutes=minutes,
        estimated_wait=estimate,
        issued_at=_local(ticket.issued_at, office),  # type: ignore[arg-type]
    )


@get(
    "/api/v1/tickets/{token:str}",
    name="api_ticket",
    summary="A walk-in ticket by its token",
    description=(
        "Public, for the ticket's holder: its status, place in line and estimated wait while it waits, "
        "and its counter once called. 404 when no ticket has this token."
    ),
    responses=answers({404: "No ticket has this token."}),
    operation_class=ApiOperation,
    **_PRIVATE,
)
async def get_ticket(request: Request[Any, Any, Any], db_session: Db, token: TicketToken) -> schemas.Ticket:
    ticket = await views.ticket_by_token(db_session, token)
    if ticket is None:
        raise NotFoundException("No ticket has this token.")
    view = await views.ticket_view(db_session, ticket, current_time(request.app.state))
    office = ticket.office
    minutes, estimate = _wait(view.wait)
    return schemas.Ticket(
        code=ticket.code,
        status=ticket.status,  # type: ignore[arg-type]
        office=office.slug,
        office_name=office.name,
        service=ticket.service.code,
        service_name=ticket.service.name(current_locale.get()),
        position=view.position,
        estimated_wait_minutes=minutes,
        estimated_wait=estimate,
        counter=view.counter.number if view.counter is not None else None,
        issued_at=_local(ticket.issued_at, office),  # type: ignore[arg-type]
        called_at=_local(ticket.called_at, office),
    )


async def _counter(db: AsyncSession, office: Office, number: int) -> tuple[Counter, CounterShift | None]:
    """The office's active counter ``number`` and its shift, in one round trip; 404 if none."""
    found = (
        await db.execute(
            select(Counter, CounterShift)
            .outerjoin(CounterShift, CounterShift.counter_id == Counter.id)
            .where(Counter.office_id == office.id, Counter.number == number, Counter.active)
        )
    ).first()
    if found is None:
        raise NotFoundException(f"No counter {number} at office {office.slug!r}.")
    counter, shift = found
    return counter, shift


def _services_to_call(
    office: Office, shift: CounterShift | None, codes: list[str] | None, now: datetime
) -> list[int]:
    """The services asked for by code; else the counter's shift today; else all the office offers
    (booked services too: a checked-in visit waits in the same queue)."""
    offered = {offering.service.code: offering.service.id for offering in offerings(office)}
    if codes is not None:
        if not codes:
            raise invalid("services", _("Name one or more services of this office."))
        if unknown := sorted(set(codes) - set(offered)):
            message = _("Not services of this office: %(codes)s.", codes=", ".join(unknown))
            raise invalid("services", message)
        return [offered[code] for code in dict.fromkeys(codes)]
    if shift is not None and shift.day != tickets.office_day(office, now):
        shift = None  # left open yesterday: it says nothing about today
    return counters.services_of(shift, offered.values())


@post(
    "/api/v1/offices/{slug:str}/counters/{counter:int}/next",
    name="api_call_next",
    summary="Call the next ticket to a counter",
    description=(
        "Staff bearer token of the office. Calls the next ticket (checked-in bookings due now first, "
        "then walk-ins by arrival) of the services in the body, or of the counter's open shift, or of "
        "every service of the office, to the counter; screens announce it. 204 when no one waits. "
        "Two counters calling at once never get the same ticket. 404 unknown office or counter, "
        "422 a service the office does not offer."
    ),
    guards=[json_only],
    status_code=200,
    responses=answers(
        {204: ResponseSpec(data_container=None, description="No one waits for these services.")},
        _STAFF_ONLY,
        {
            404: "No office has this slug, or it has no active counter with this number.",
            409: "The ticket could not be called (`extra.kind`), e.g. another counter called it first.",
            422: "A service the office does not offer, or an empty list of services.",
        },
        NOT_JSON,
    ),
    # The body is optional: without one, the counter calls from its shift's services.
    operation_class=OptionalBodyOperation,
    **_PRIVATE,
)
async def call_next(
    request: Request[Any, Any, Any],
    db_write: Db,
    slug: Slug,
    counter: CounterNumber,
    data: JSONBody[schemas.NextCall | None] = None,
) -> Response[schemas.CalledTicket]:
    user = staff_of(request)
    office = await office_or_404(request, db_write, slug)
    ensure_works_at(user, office)
    desk, shift = await _counter(db_write, office, counter)
    now = current_time(request.app.state)
    service_ids = _services_to_call(office, shift, data.services if data else None, now)
    try:
        ticket = await tickets.call_next(
            db_write,
            office=office,
            counter=desk,
            service_ids=service_ids,
            now=now,
            actor=user,
            channel=Channel.API,
        )
    except QueueError as error:
        raise refused(error) from None
    if ticket is None:
        return Response(content=None, status_code=204)
    called = schemas.CalledTicket(
        code=ticket.code,
        service=ticket.service.code,
        counter=desk.number,
        called_at=_local(ticket.called_at, office),  # type: ignore[arg-type]
        kind=ticket.kind,  # type: ignore[arg-type]
        booked_start=_local(ticket.booked_start, office),
    )
    return Response(content=called, status_code=200)


@get(
    "/api/v1/offices/{slug:str}/queue",
    name="api_office_queue",
    summary="An office's queue now",
    description=(
        "Public and without personal data: per walk-in service the tickets waiting, the counters "
        "serving it and the estimated wait for someone arriving now; the latest calls of the day."
    ),
    responses=answers(NO_OFFICE),
    **_PUBLIC,
)
async def get_queue(request: Request[Any, Any, Any], db_session: Db, slug: Slug) -> schemas.Queue:
    office = await office_or_404(request, db_session, slug)
    snapshot = await views.queue_snapshot(db_session, office, current_time(request.app.state))
    locale = current_locale.get()
    return schemas.Queue(
        office=office.slug,
        open=snapshot.is_open,
        services=[
            schemas.ServiceLine(
                code=line.service.code,
                name=line.service.name(locale),
                waiting=line.waiting,
                counters=line.counters,
                estimated_wait_minutes=line.wait.typical,
                estimated_wait=schemas.EstimatedWait(low=line.wait.low, high=line.wait.high),
            )
            for line in snapshot.lines
        ],
        now_serving=[
            schemas.NowServing(
                code=call.code,
                counter=call.counter_number,
                called_at=_local(call.called_at, office),  # type: ignore[arg-type]
            )
            for call in snapshot.called
            if call.current
        ],
    )


ROUTES: list = [issue_ticket, get_ticket, call_next, get_queue]
