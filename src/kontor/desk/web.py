"""The front desk page: walk-in tickets, the tickets waiting now, the office's call-backs, and its
booked visits, searchable, refreshed by htmx every minute and live through server-sent events.

One URL serves the page and, for htmx (live search, the minute's refresh), the bookings fragment alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import requires_login
from kontor.contacts.services import NOTE_MAX
from kontor.desk.queue import desk_queue, ticket_languages, visit_tickets
from kontor.desk.services import CALLBACK_NOTICES, desk_bookings, desk_callbacks
from kontor.hours.services import current_time
from kontor.i18n import _
from kontor.offices.access import staff_office
from kontor.offices.models import Office
from kontor.web.templating import is_htmx, page

Db = NamedDependency[AsyncSession]
QUERY_MAX = 120  # longer than any name or reference


async def desk_context(
    db: AsyncSession,
    office: Office,
    now: datetime,
    *,
    query: str = "",
    problem: str | None = None,
    values: dict[str, Any] | None = None,
    bookings_only: bool = False,
    callback_state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the desk page shows (with ``bookings_only``, what its list of visits needs);
    ``problem`` and ``values`` when a form comes back refused, ``callback_state`` (see
    :func:`callbacks_context`) after a call-back was marked done or refused."""
    bookings = await desk_bookings(db, office, query[:QUERY_MAX], now)
    zone = ZoneInfo(office.timezone)
    context = {
        "office": office,
        "zone": zone,
        "bookings": bookings,
        "query": bookings.query,
        "updated_at": now.astimezone(zone),
        "visit_tickets": await visit_tickets(db, office, now),
    }
    if bookings_only:
        return context
    return (
        context
        | {
            "queue": await desk_queue(db, office, now),
            "languages": ticket_languages(office),
            "values": values or {},
            "problem": problem,
        }
        | await callbacks_context(db, office, now, **(callback_state or {}))
    )


async def callbacks_context(
    db: AsyncSession,
    office: Office,
    now: datetime,
    *,
    notice: str | None = None,
    problem: str | None = None,
    problem_id: int | None = None,
    note: str = "",
    oob: bool = False,
) -> dict[str, Any]:
    """What the call-backs section shows: the list, the notice of a key of CALLBACK_NOTICES (an
    unknown key shows none), and the reason a call-back ``problem_id`` was not marked done, with the
    ``note`` as typed. ``oob``: the notice goes out of band (an htmx answer of the section alone)."""
    zone = ZoneInfo(office.timezone)
    return {
        "office": office,
        "zone": zone,
        "callbacks": await desk_callbacks(db, office, now),
        "callback_notice": _(CALLBACK_NOTICES[notice]) if notice in CALLBACK_NOTICES else None,
        "callback_problem": problem,
        "callback_problem_id": problem_id,
        "callback_note": note,
        "callback_oob": oob,
        "note_max": NOTE_MAX,
    }


def no_store(response: Template) -> Template:
    # Names of residents and tickets' links: no browser or proxy cache may keep a copy.
    response.set_header("Cache-Control", "no-store")
    return response


@get("/desk/{slug:str}", name="desk", guards=[requires_login], cache=False, include_in_schema=False)
async def desk_page(
    request: Request[Any, Any, Any],
    db_session: Db,
    slug: FromPath[str],
    q: FromQuery[str | None] = None,
    callback: FromQuery[str | None] = None,
) -> Template:
    office = await staff_office(request, db_session, slug)
    # htmx restoring history after a cache miss needs the whole page, not the list alone.
    restoring = request.headers.get("hx-history-restore-request") == "true"
    fragment = None if restoring else "desk/_bookings.html"
    list_only = not restoring and is_htmx(request)
    now = current_time(request.app.state)
    context = await desk_context(
        db_session, office, now, query=q or "", bookings_only=list_only, callback_state={"notice": callback}
    )
    return no_store(page(request, "desk/desk.html", context, fragment=fragment))


ROUTES: list = [desk_page]
