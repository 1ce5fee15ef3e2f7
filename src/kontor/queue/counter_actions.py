"""What a clerk does at the counter page: open or close the counter, call, recall, finish, transfer,
and raise the alarm. Plain forms get a 303 back to the counter (a notice key in the address); htmx
gets the counter's working area at once. A ticket someone else got first is a notice, never an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Request, Response, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import current_user, requires_login
from kontor.accounts.models import User
from kontor.hours.services import current_time
from kontor.i18n import _
from kontor.offices.access import staff_office
from kontor.offices.models import Counter, Office
from kontor.offices.services import office_by_slug
from kontor.queue.counter import (
    call_ticket,
    close_shift,
    current_ticket,
    mark_no_show,
    mark_served,
    open_shift,
    raise_alarm,
    recall,
    shift_of,
    transfer,
)
from kontor.queue.counter_view import (
    counter_numbered,
    notice_for,
    office_counters,
    open_today,
    remember_counter,
    setup_context,
    station_url,
    work_context,
)
from kontor.queue.errors import NotWaiting, NotYourTicket, QueueError
from kontor.queue.models import CounterShift, Ticket, TicketStatus
from kontor.queue.tickets import call_next
from kontor.queue.views import ticket_by_id, walk_in_services
from kontor.web.templating import is_htmx

Db = NamedDependency[AsyncSession]
Answer = Response[Any]
TicketChange = Callable[..., Awaitable[Ticket]]
_OPTS: dict[str, Any] = {"guards": [requires_login], "include_in_schema": False}


@dataclass(frozen=True, slots=True)
class Station:
    """A POST's counter: the office, the counter with its open shift, the clerk and the time."""

    office: Office
    counter: Counter
    shift: CounterShift
    user: User
    now: datetime
    show_all: bool


def _go(request: Request[Any, Any, Any], url: str) -> Answer:
    # htmx would follow a 303 and put the whole page into the fragment's place: it navigates instead.
    if is_htmx(request):
        return Response(content="", status_code=200, headers={"HX-Redirect": url})
    return Redirect(url, status_code=303)


def _whole(value: object, digits: int) -> int | None:
    """A number of at most ``digits`` ASCII digits; anything else (``"¹"``, which ``isdigit()``
    accepts and ``int()`` refuses, other scripts' digits, signs) is no number."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > digits or not (value.isascii() and value.isdecimal()):
        return None
    return int(value)


def _number(form: FormMultiDict, name: str = "counter") -> int | None:
    return _whole(form.get(name), 6)


async def _station(request: Request[Any, Any, Any], db: AsyncSession, slug: str) -> Station | Answer:
    """The counter a POST is about, with its shift; or where to send a clerk whose counter is not open."""
    office = await staff_office(request, db, slug)
    form = await request.form()
    user = current_user(request)
    assert user is not None  # the guard saw to it
    now = current_time(request.app.state)
    counter = counter_numbered(await office_counters(db, office), _number(form))
    shift = open_today(await shift_of(db, counter.id), office, now) if counter is not None else None
    if counter is None or shift is None:
        number = counter.number if counter is not None else None
        query = f"?counter={number}&notice=no-shift" if number else "?notice=no-shift"
        return _go(request, f"/counter/{slug}{query}")
    return Station(office, counter, shift, user, now, form.get("all") == "1")


async def _answer(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    at: Station,
    notice: str | None,
    code: str | None = None,
) -> Answer:
    """Back to the counter: the working area for htmx, a redirect for a plain form."""
    if not is_htmx(request):
        url = station_url(
            at.office.slug, at.counter.number, notice=notice, code=code, all=at.show_all and "1"
        )
        return Redirect(url, status_code=303)
    # Read again: a ticket's fresh row (joined with its office) leaves the office's offering unloaded.
    office = await office_by_slug(db, at.office.slug) or at.office
    context = await work_context(db, office, at.counter, at.shift, at.now, show_all=at.show_all)
    context.update(notice=notice_for(notice, code), focus=True, notice_oob=True)
    response = Template(template_name="queue/_counter_work.html", context=context)
    response.headers.update({"Cache-Control": "no-store", "Vary": "HX-Request"})
    return response


async def _act(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    slug: str,
    action: Callable[[Station], Awaitable[tuple[str | None, str | None]]],
) -> Answer:
    """Run ``action`` at the POST's counter; it returns the notice to show (and a ticket code)."""
    at = await _station(request, db, slug)
    if not isinstance(at, Station):
        return at
    try:
        notice, code = await action(at)
    except NotYourTicket:
        notice, code = "not-yours", None
    except QueueError:  # no longer waiting or called: finished, moved or cancelled meanwhile
        notice, code = "gone", None
    return await _answer(request, db, at, notice, code)


async def _own_ticket(db: AsyncSession, at: Station, ticket_id: int) -> Ticket:
    """The ticket, if it is the one called to this counter."""
    ticket = await ticket_by_id(db, at.office, ticket_id)
    if ticket is None or ticket.status != TicketStatus.CALLED.value:
        raise NotWaiting()
    if ticket.counter_id != at.counter.id:
        raise NotYourTicket()
    return ticket


@post("/counter/{slug:str}/shift", name="counter_open", **_OPTS)
async def open_counter(request: Request[Any, Any, Any], db_write: Db, slug: FromPath[str]) -> Answer:
    """Open (or change) the clerk's counter: the counter and the services it calls."""
    office = await staff_office(request, db_write, slug)
    form = await request.form()
    now = current_time(request.app.state)
    counters = await office_counters(db_write, office)
    counter = counter_numbered(counters, _number(form))
    offered = {service.id for service in walk_in_services(office)}
    # Ids of the database's 32-bit integers; whatever is not one matches no service.
    chosen = {number for value in form.getall("services", []) if (number := _whole(value, 9)) is not None}
    errors: dict[str, str] = {}
    if counter is None:
        errors["counter"] = _("Choose your counter.")
    if not chosen & offered:
        errors["services"] = _("Choose at least one service for the counter to call.")
    if errors:
        context = await setup_context(
            db_write,
            office,
            counters,
            now,
            chosen=counter.number if counter else None,
            service_ids=chosen & offered,
            errors=errors,
        )
        return Template(template_name="queue/counter.html", context=context, status_code=422)
    assert counter is not None
    user = current_user(request)
    await open_shift(
        db_write, office=office, counter=counter, user=user, service_ids=sorted(chosen & offered), now=now
    )
    # Committed now: on SQLite the session store's own write would wait for this transaction.
    await db_write.commit()
    remember_counter(request, office, counter.number)
    return Redirect(station_url(slug, counter.number), status_code=303)


@post("/counter/{slug:str}/close", name="counter_close", **_OPTS)
async def close_counter(request: Request[Any, Any, Any], db_write: Db, slug: FromPath[str]) -> Answer:
    """The clerk leaves: the counter no longer calls anyone."""
    office = await staff_office(request, db_write, slug)
    form = await request.form()
    counter = counter_numbered(await office_counters(db_write, office), _number(form))
    if counter is not None and await shift_of(db_write, counter.id) is not None:
        await close_shift(
            db_write,
            counter=counter,
            now=current_time(request.app.state),
            actor=current_user(request) or "staff",
        )
    await db_write.commit()
    remember_counter(request, office, None)
    target = f"/counter/{slug}?counter={counter.number}" if counter is not None else f"/counter/{slug}"
    return _go(request, target)


@post("/counter/{slug:str}/next", name="counter_next", **_OPTS)
async def call_next_ticket(request: Request[Any, Any, Any], db_write: Db, slug: FromPath[str]) -> Answer:
    async def action(at: Station) -> tuple[str | None, str | None]:
        if await current_ticket(db_write, at.counter, at.now) is not None:
            return "busy", None
        ticket = await call_next(
            db_write,
            office=at.office,
            counter=at.counter,
            service_ids=at.shift.service_ids,
            now=at.now,
            actor=at.user,
        )
        return ("none-waiting", None) if ticket is None else (None, None)

    return await _act(request, db_write, slug, action)


@post("/counter/{slug:str}/tickets/{ticket_id:int}/call", name="counter_call", **_OPTS)
async def call_one(
    request: Request[Any, Any, Any], db_write: Db, slug: FromPath[str], ticket_id: FromPath[int]
) -> Answer:
    async def action(at: Station) -> tuple[str | None, str | None]:
        if await current_ticket(db_write, at.counter, at.now) is not None:
            return "busy", None
        try:
            await call_ticket(
                db_write, office=at.office, counter=at.counter, ticket_id=ticket_id, now=at.now, actor=at.user
            )
        except NotWaiting:
            return "taken", None
        return None, None

    return await _act(request, db_write, slug, action)


def _own_ticket_action(suffix: str, name: str, change: TicketChange, notice: str) -> Any:
    """A POST that does ``change`` to the ticket called to this counter (recall, served, no-show)."""

    @post(f"/counter/{{slug:str}}/tickets/{{ticket_id:int}}/{suffix}", name=name, **_OPTS)
    async def handler(
        request: Request[Any, Any, Any], db_write: Db, slug: FromPath[str], ticket_id: FromPath[int]
    ) -> Answer:
        async def action(at: Station) -> tuple[str | None, str | None]:
            ticket = await _own_ticket(db_write, at, ticket_id)
            await change(db_write, ticket=ticket, counter=at.counter, now=at.now, actor=at.user)
            return notice, ticket.code

        return await _act(request, db_write, slug, action)

    return handler


recall_one = _own_ticket_action("recall", "counter_recall", recall, "recalled")
served = _own_ticket_action("served", "counter_served", mark_served, "served")
no_show = _own_ticket_action("no-show", "counter_no_show", mark_no_show, "no-show")


@post("/counter/{slug:str}/tickets/{ticket_id:int}/transfer", name="counter_transfer", **_OPTS)
async def transfer_one(
    request: Request[Any, Any, Any], db_write: Db, slug: FromPath[str], ticket_id: FromPath[int]
) -> Answer:
    async def action(at: Station) -> tuple[str | None, str | None]:
        form = await request.form()
        wanted = form.get("service")
        service = next((s for s in walk_in_services(at.office) if s.code == wanted), None)
        if service is None:
            return "unknown-service", None
        ticket = await _own_ticket(db_write, at, ticket_id)
        await transfer(db_write, ticket=ticket, service=service, now=at.now, actor=at.user)
        return "transferred", ticket.code

    return await _act(request, db_write, slug, action)


@post("/counter/{slug:str}/alarm", name="counter_alarm", **_OPTS)
async def alarm(request: Request[Any, Any, Any], db_write: Db, slug: FromPath[str]) -> Answer:
    """Alert every other staff page of the office. Works with or without an open shift: a clerk in
    danger must not be sent to a form first."""
    office = await staff_office(request, db_write, slug)
    form = await request.form()
    user = current_user(request)
    assert user is not None
    counter = counter_numbered(await office_counters(db_write, office), _number(form))
    await raise_alarm(
        db_write, office=office, counter=counter, user=user, now=current_time(request.app.state)
    )
    if is_htmx(request):
        context = {"notice": notice_for("alarm")}
        return Template(template_name="queue/_counter_alarm_sent.html", context=context)
    number = counter.number if counter is not None else None
    target = station_url(slug, number, notice="alarm") if number else f"/counter/{slug}?notice=alarm"
    return Redirect(target, status_code=303)


ROUTES: list = [
    open_counter,
    close_counter,
    call_next_ticket,
    call_one,
    recall_one,
    served,
    no_show,
    transfer_one,
    alarm,
]
