"""The waiting-room screen, ``/offices/{slug}/display``: the latest calls with their counters and the
waiting per service, in Swedish with Finnish and English lines where the office serves them.

Public and without login, so it shows codes, counters, service names and counts only, never anything
about a person. Its live stream sends the board ("board") on every change and, when a ticket is
called, an announcement ("call") for the screen's live region and chime. Alarms never reach it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.hours.services import current_time
from kontor.i18n import N_, translations
from kontor.live.events import CALLED, RESYNC, TICKET, LiveEvent
from kontor.live.stream import live_stream, read_session
from kontor.offices.models import Office
from kontor.offices.services import office_by_slug
from kontor.queue.views import QueueSnapshot, queue_snapshot

Db = NamedDependency[AsyncSession]
# Swedish first; then the city's other official language and English, where the office serves them.
SCREEN_LANGUAGES = ("sv", "fi", "en")
# A call this recent is highlighted on the board as new.
FRESH = timedelta(seconds=20)
# Kinds of event that change the board (alarms are for staff only and never reach the screen).
BOARD_EVENTS = frozenset({TICKET, CALLED, RESYNC})


def screen_languages(office: Office) -> list[str]:
    """The languages the screen speaks: always Swedish, then Finnish and English if the office does."""
    spoken = set(office.languages or ())
    return ["sv", *(code for code in SCREEN_LANGUAGES[1:] if code in spoken)]


def say(locale: str, message: str, **variables: object) -> str:
    """``message`` (an English msgid) in ``locale``, whatever the reader's own language."""
    text = translations(locale).gettext(message)
    return text % variables if variables else text


def say_plural(locale: str, singular: str, plural: str, num: int, **variables: object) -> str:
    text = translations(locale).ngettext(singular, plural, num)
    return text % {"num": num, **variables}


@dataclass(frozen=True, slots=True)
class Call:
    """An announcement for the live region: a code and the counter to go to."""

    code: str
    counter: int


def _board_context(snapshot: QueueSnapshot, now: datetime) -> dict[str, Any]:
    office = snapshot.office
    newest = snapshot.called[0] if snapshot.called else None
    return {
        "office": office,
        "snapshot": snapshot,
        "languages": screen_languages(office),
        "say": say,
        # Marks the screen's msgids for extraction; ``say`` translates them per language.
        "N_": N_,
        "say_plural": say_plural,
        "zone": ZoneInfo(office.timezone),
        "now": now,
        "fresh": newest is not None and now - newest.called_at <= FRESH,
    }


@get("/offices/{slug:str}/display", name="office_display", cache=False, include_in_schema=False)
async def display_page(request: Request[Any, Any, Any], db_session: Db, slug: FromPath[str]) -> Template:
    office = await office_by_slug(db_session, slug)
    if office is None:
        raise NotFoundException(f"No office {slug!r}.")
    now = current_time(request.app.state)
    context = _board_context(await queue_snapshot(db_session, office, now), now)
    # Always current: a screen that reloads must not be shown an old board by a cache.
    return Template(
        template_name="queue/display.html", context=context, headers={"Cache-Control": "no-store"}
    )


@get("/offices/{slug:str}/display/events", name="office_display_events", cache=False, include_in_schema=False)
async def display_events(
    request: Request[Any, Any, Any], db_session: Db, slug: FromPath[str]
) -> ServerSentEvent:
    """The screen's live stream: "board" at once and on every change, and "call" (sent first, so
    the chime is not held up) when a ticket is called or recalled."""
    office = await office_by_slug(db_session, slug)
    if office is None:
        raise NotFoundException(f"No office {slug!r}.")
    office_id = office.id
    engine = request.app.template_engine

    def fragment(name: str, context: dict[str, Any]) -> str:
        text = engine.get_template(name).render(**context)
        return " ".join(line.strip() for line in text.splitlines() if line.strip())

    async def render(event: LiveEvent | None) -> list[ServerSentEventMessage]:
        if event is not None and event.kind not in BOARD_EVENTS:
            return []
        if event is None:
            return await build(event)
        # Every screen of the office gets the same event object: the first to render it renders
        # for all, so a call costs one board however many screens hang in the office.
        shared = request.app.state.setdefault("display_renders", {})
        last = shared.get(office_id)
        if last is not None and last[0] is event:
            return await asyncio.shield(last[1])
        future = asyncio.ensure_future(build(event))
        shared[office_id] = (event, future)
        return await asyncio.shield(future)

    async def build(event: LiveEvent | None) -> list[ServerSentEventMessage]:
        async with read_session(request.app.state) as db:
            live_office = await office_by_slug(db, slug)
            if live_office is None or live_office.id != office_id:
                return []
            now = current_time(request.app.state)
            context = _board_context(await queue_snapshot(db, live_office, now), now)
        messages = []
        call = _call_of(event)
        if call is not None:
            messages.append(
                ServerSentEventMessage(
                    event="call", data=fragment("queue/_display_call.html", {**context, "call": call})
                )
            )
        messages.append(
            ServerSentEventMessage(event="board", data=fragment("queue/_display_board.html", context))
        )
        return messages

    return live_stream(request, office_id, render)


def _call_of(event: LiveEvent | None) -> Call | None:
    """The announcement a "called" event makes; anything malformed announces nothing."""
    if event is None or event.kind != CALLED:
        return None
    code, counter = event.data.get("code"), event.data.get("counter")
    if not isinstance(code, str) or not code or len(code) > 12 or type(counter) is not int:
        return None
    return Call(code, counter)


ROUTES: list = [display_page, display_events]
