"""The front desk's writes and live updates: issuing a walk-in ticket (with, if the resident wants a
text message when their turn is near, their mobile number), checking in a booked visit, taking back
the ticket of someone who left, and ``/desk/{slug}/events``.

A plain form POST answers with a redirect (to the ticket's slip) or, when refused, the desk page again
with the reason (422). With htmx the answer is the fragment that changed: the new ticket's card, or the
reason (409) in its place. Refusals write nothing: the transaction commits only on success.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, ServerSentEvent, ServerSentEventMessage, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import current_user, requires_login
from kontor.accounts.forms import text as form_text
from kontor.accounts.models import User
from kontor.audit.models import Channel
from kontor.desk.queue import booking_at_office, desk_queue, ticket_languages
from kontor.desk.web import desk_context, no_store
from kontor.hours.services import current_time
from kontor.i18n import _
from kontor.live.events import ALARM, CALLBACKS, LiveEvent
from kontor.live.stream import live_stream, read_session
from kontor.offices.access import staff_office
from kontor.offices.models import Office
from kontor.offices.services import office_by_slug
from kontor.queue.alerts import PhoneError, check_phone, leave_phone
from kontor.queue.checkin import check_in
from kontor.queue.counter import cancel_ticket
from kontor.queue.errors import QueueError
from kontor.queue.models import Ticket
from kontor.queue.ticket_web import ticket_context
from kontor.queue.tickets import issue_walk_in
from kontor.queue.views import ticket_by_id, ticket_view
from kontor.web.templating import is_htmx, page, render_fragment

Db = NamedDependency[AsyncSession]
_GUARDS = [requires_login]
# Tells the desk's list of visits to reload (a visit was checked in): see templates/desk/desk.html.
BOOKINGS_CHANGED = "desk-bookings-changed"


async def _refused(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    office: Office,
    problem: str,
    *,
    values: dict[str, Any] | None = None,
    htmx_status: int = 409,
) -> Template:
    """Why the desk's request was not done: in the ticket card's place for htmx, else on the desk page."""
    if is_htmx(request):
        return no_store(
            Template("desk/_ticket_card.html", context={"problem": problem}, status_code=htmx_status)
        )
    context = await desk_context(db, office, current_time(request.app.state), problem=problem, values=values)
    return no_store(page(request, "desk/desk.html", context, status_code=422))


async def _issued(
    request: Request[Any, Any, Any], db: AsyncSession, ticket: Ticket, token: str
) -> Response[Any]:
    """A new ticket: its card on the desk for htmx, else its slip (which has a way back to the desk)."""
    if not is_htmx(request):
        return Redirect(f"/tickets/{token}/print?desk=1", status_code=303)
    view = await ticket_view(db, ticket, current_time(request.app.state))
    return no_store(Template("desk/_ticket_card.html", context=ticket_context(request, view, token)))


@post("/desk/{slug:str}/tickets", name="desk_issue", guards=_GUARDS, include_in_schema=False)
async def issue_from_desk(
    request: Request[Any, Any, Any], db_write: Db, slug: FromPath[str]
) -> Response[Any]:
    office = await staff_office(request, db_write, slug)
    form = await request.form()
    language = form_text(form, "language", 5) or None
    needs_help = form_text(form, "needs_help", 5) in {"1", "on", "true"}
    typed = form_text(form, "phone", 60)
    values: dict[str, Any] = {"language": language or "", "needs_help": needs_help, "phone": typed}
    if language is not None and language not in ticket_languages(office):
        problem = _("Choose a language from the list, or none.")
        return await _refused(request, db_write, office, problem, values=values, htmx_status=422)
    try:
        phone = _phone(request, typed)
    except PhoneError as error:
        values["phone_error"] = problem = _(error.message)
        return await _refused(request, db_write, office, problem, values=values, htmx_status=422)
    now = current_time(request.app.state)
    user: User = current_user(request)  # type: ignore[assignment]
    try:
        ticket, token = await issue_walk_in(
            db_write,
            office=office,
            service_code=form_text(form, "service", 40),
            now=now,
            channel=Channel.DESK,
            actor=user,
            language=language,
            needs_help=needs_help,
        )
        if phone is not None:
            # In the issuing transaction: the ticket and its number are kept together or not at all.
            ticket = await leave_phone(db_write, ticket, phone, channel=Channel.DESK, actor=user, now=now)
    except QueueError as error:
        return await _refused(request, db_write, office, _(error.message), values=values)
    return await _issued(request, db_write, ticket, token)


def _phone(request: Request[Any, Any, Any], typed: str) -> str | None:
    """The resident's number for the text message, checked; None when none was given or the offices
    send no such messages (then a number is not kept: only what the visit needs, DESIGN rule 6)."""
    if not typed or request.app.state.settings.ticket_alert_ahead <= 0:
        return None
    return check_phone(typed)


@post(
    "/desk/{slug:str}/bookings/{reference:str}/check-in",
    name="desk_check_in",
    guards=_GUARDS,
    include_in_schema=False,
)
async def check_in_visit(
    request: Request[Any, Any, Any], db_write: Db, slug: FromPath[str], reference: FromPath[str]
) -> Response[Any]:
    office = await staff_office(request, db_write, slug)
    booking = await booking_at_office(db_write, office, reference)
    if booking is None:
        raise NotFoundException("No booking with this reference at this office.")
    grace = timedelta(minutes=request.app.state.settings.checkin_grace_minutes)
    try:
        ticket, token, _late = await check_in(
            db_write,
            booking=booking,
            now=current_time(request.app.state),
            actor=current_user(request),  # type: ignore[arg-type]
            channel=Channel.DESK,
            grace=grace,
        )
    except QueueError as error:
        return await _refused(request, db_write, office, _(error.message))
    response = await _issued(request, db_write, ticket, token)
    response.headers["HX-Trigger"] = BOOKINGS_CHANGED
    return response


@post(
    "/desk/{slug:str}/tickets/{ticket_id:int}/cancel",
    name="desk_cancel_ticket",
    guards=_GUARDS,
    include_in_schema=False,
)
async def cancel_from_desk(
    request: Request[Any, Any, Any], db_write: Db, slug: FromPath[str], ticket_id: FromPath[int]
) -> Response[Any]:
    office = await staff_office(request, db_write, slug)
    ticket = await ticket_by_id(db_write, office, ticket_id)
    if ticket is None:
        raise NotFoundException("No such ticket at this office.")
    now = current_time(request.app.state)
    problem = None
    try:
        await cancel_ticket(db_write, ticket=ticket, now=now, actor=current_user(request))  # type: ignore[arg-type]
    except QueueError as error:
        problem = _(error.message)
    if not is_htmx(request):
        if problem is not None:
            return await _refused(request, db_write, office, problem)
        return Redirect(f"/desk/{office.slug}", status_code=303)
    # Changing the ticket reloaded its office (joined to it) without the offering the list needs.
    await db_write.refresh(office, ["offerings"])
    context = {"office": office, "zone": ZoneInfo(office.timezone), "problem": problem}
    context["queue"] = await desk_queue(db_write, office, now)
    return no_store(Template("desk/_waiting.html", context=context, status_code=409 if problem else 200))


@get("/desk/{slug:str}/events", name="desk_events", guards=_GUARDS, cache=False, include_in_schema=False)
async def desk_events(
    request: Request[Any, Any, Any], db_session: Db, slug: FromPath[str]
) -> ServerSentEvent:
    office = await staff_office(request, db_session, slug)
    state = request.app.state

    async def render(event: LiveEvent | None) -> list[ServerSentEventMessage]:
        async with read_session(state) as db:
            current = await office_by_slug(db, slug)
            if current is None:  # closed down meanwhile: nothing more to show
                return []
            now = current_time(state)
            zone = ZoneInfo(current.timezone)
            if event is not None and event.kind == ALARM:
                context = {
                    "office": current,
                    "counter": event.data.get("counter"),
                    "name": event.data.get("name") or "",
                    "raised_at": now.astimezone(zone),
                }
                return [
                    ServerSentEventMessage(
                        data=render_fragment(request, "desk/_alarm.html", context), event="alarm"
                    )
                ]
            context = {"office": current, "zone": zone, "queue": await desk_queue(db, current, now)}
            messages = [
                ServerSentEventMessage(
                    data=render_fragment(request, "desk/_walk_in.html", context), event="services"
                ),
                ServerSentEventMessage(
                    data=render_fragment(request, "desk/_waiting.html", context), event="waiting"
                ),
            ]
        if event is not None:
            # A ticket changed: a visit's ticket in the list of visits may show a new state. Any
            # event may have been merged with a change of the call-backs: the list fetches itself.
            messages.append(ServerSentEventMessage(data="changed", event="bookings"))
            messages.append(ServerSentEventMessage(data="changed", event="callbacks"))
        return messages

    return live_stream(request, office.id, render, also=frozenset({CALLBACKS}))


ROUTES: list = [issue_from_desk, check_in_visit, cancel_from_desk, desk_events]
