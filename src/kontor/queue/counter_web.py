"""The counter page, ``/counter/{slug}``: a clerk opens a counter for some services, then works
through the office's walk-in line; its live stream keeps the line current and carries alarms.

The page shows the clerk's counter and its current ticket, the line, and an alarm button; the
POSTs that change them live in :mod:`kontor.queue.counter_actions`. Without an open shift (or with
``?change=1``) the page asks for a counter and its services first.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import requires_login
from kontor.hours.services import current_time
from kontor.i18n import current_locale
from kontor.live.events import ALARM, CALLED, RESYNC, TICKET, LiveEvent
from kontor.live.stream import live_stream, read_session
from kontor.offices.access import staff_office
from kontor.offices.models import Counter
from kontor.offices.services import office_by_slug
from kontor.queue.counter import shift_of
from kontor.queue.counter_view import (
    counter_numbered,
    csrf_input,
    notice_for,
    office_counters,
    open_today,
    remembered_counter,
    setup_context,
    shift_services,
    work_context,
)
from kontor.web.templating import page, render_fragment

Db = NamedDependency[AsyncSession]


@get("/counter/{slug:str}", name="counter", guards=[requires_login], cache=False, include_in_schema=False)
async def counter_page(
    request: Request[Any, Any, Any],
    db_session: Db,
    slug: FromPath[str],
    counter: FromQuery[int | None] = None,
    change: FromQuery[bool] = False,
    all: FromQuery[bool] = False,
    notice: FromQuery[str | None] = None,
    code: FromQuery[str | None] = None,
) -> Template:
    office = await staff_office(request, db_session, slug)
    now = current_time(request.app.state)
    counters = await office_counters(db_session, office)
    number = counter if counter is not None else remembered_counter(request, office)
    station = counter_numbered(counters, number)
    shift = open_today(await shift_of(db_session, station.id), office, now) if station is not None else None
    shown = notice_for(notice, code)
    if station is None or shift is None or change:
        context = await setup_context(
            db_session, office, counters, now, chosen=station.number if station else None, notice=shown
        )
        return _private(page(request, "queue/counter.html", context))
    context = await work_context(db_session, office, station, shift, now, show_all=all)
    context.update(notice=shown, services_named=shift_services(office, shift), focus=True)
    return _private(page(request, "queue/counter.html", context))


def _private(response: Template) -> Template:
    # A checked-in visitor's name may be on the page: no browser or proxy keeps a copy.
    response.set_header("Cache-Control", "no-store")
    return response


@get(
    "/counter/{slug:str}/events",
    name="counter_events",
    guards=[requires_login],
    cache=False,
    include_in_schema=False,
)
async def counter_events(
    request: Request[Any, Any, Any],
    db_session: Db,
    slug: FromPath[str],
    counter: FromQuery[int],
    all: FromQuery[bool] = False,
) -> ServerSentEvent:
    """The counter page's live stream: "line" (the waiting line) on every change of the office's
    queue, "current" when this counter's ticket changed, and "alarm" when another counter raises one."""
    office = await staff_office(request, db_session, slug)
    station = counter_numbered(await office_counters(db_session, office), counter)
    if station is None:
        raise NotFoundException(f"No counter {counter} at this office.")
    office_id, counter_id, number = office.id, station.id, station.number
    locale, token_field = current_locale.get(), csrf_input(request)
    # The code of the ticket the page shows now: a change of it re-renders the current ticket.
    shown: dict[str, str | None] = {"code": None}

    async def render(event: LiveEvent | None) -> list[ServerSentEventMessage]:
        if event is not None and event.kind == ALARM:
            return _alarm_message(request, event, number)
        current_locale.set(locale)
        async with read_session(request.app.state) as db:
            live_office = await office_by_slug(db, slug)
            live_counter = await db.get(Counter, counter_id)
            if live_office is None or live_office.id != office_id or live_counter is None:
                return []
            now = current_time(request.app.state)
            shift = open_today(await shift_of(db, counter_id), live_office, now)
            context = await work_context(db, live_office, live_counter, shift, now, show_all=all)
        context.update(csrf_input=token_field, focus=False)
        messages = [
            ServerSentEventMessage(event="line", data=_one_line(request, "queue/_counter_line.html", context))
        ]
        code = context["current"].code if context["current"] is not None else None
        if _current_changed(event, number, shown["code"], code):
            current_html = _one_line(request, "queue/_counter_current.html", context)
            messages.append(ServerSentEventMessage(event="current", data=current_html))
        shown["code"] = code
        return messages

    return live_stream(request, office_id, render)


def _current_changed(event: LiveEvent | None, number: int, shown: str | None, code: str | None) -> bool:
    """Whether the current ticket needs a new render: after a reconnect, a call to this counter, or
    a change of the ticket it shows (finished, moved or cancelled elsewhere)."""
    if event is None or event.kind == RESYNC or shown != code:
        return True
    if event.kind == CALLED:
        return event.data.get("counter") == number
    return event.kind == TICKET and event.data.get("code") == shown and shown is not None


def _alarm_message(
    request: Request[Any, Any, Any], event: LiveEvent, number: int
) -> list[ServerSentEventMessage]:
    # The counter that raised the alarm stays quiet: whoever threatens the clerk must not hear it.
    raised_at = event.data.get("counter")
    if raised_at == number:
        return []
    context = {"alarm_counter": raised_at, "alarm_name": str(event.data.get("name") or "")}
    return [
        ServerSentEventMessage(event="alarm", data=_one_line(request, "queue/_counter_alarm.html", context))
    ]


def _one_line(request: Request[Any, Any, Any], template: str, context: dict[str, Any]) -> str:
    # SSE data lines are split on newlines and joined again by the browser; fewer lines, fewer bytes.
    return " ".join(
        line.strip() for line in render_fragment(request, template, context).splitlines() if line.strip()
    )


ROUTES: list = [counter_page, counter_events]
