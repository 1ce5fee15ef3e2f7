"""Public pages: the office finder and an office's page.

"Now" comes from :func:`kontor.hours.services.current_time`, so tests fix the clock with
``app.state.clock``. Each page costs three queries: the offices (district and offering joined in),
then the weekly hours and the closures of the offices shown.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.calendars.links import hours_feed_url, webcal_url
from kontor.hours.names import day_note
from kontor.hours.rules import HoursKind, hours_for_range
from kontor.hours.services import (
    NEXT_OPENING_HORIZON_DAYS,
    current_time,
    deviations,
    open_status,
    status_window,
)
from kontor.i18n import current_locale
from kontor.offices.services import (
    group_by_district,
    offerings,
    offers,
    search_offices,
    services_offered,
)
from kontor.web.templating import page

Db = NamedDependency[AsyncSession]
# What the templates need besides the data: the day's "why" and the kinds of hours.
_HELPERS = {"day_note": day_note, "APPOINTMENT": HoursKind.APPOINTMENT}


def _wants_fragment(request: Request[Any, Any, Any]) -> bool:
    # htmx restoring history after a cache miss needs the whole page, not the list alone.
    return request.headers.get("hx-history-restore-request") != "true"


@get("/", name="office_finder", include_in_schema=False)
async def office_finder(
    request: Request[Any, Any, Any],
    db_session: Db,
    service: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
) -> Template:
    now = current_time(request.app.state)
    directory = request.app.state.directory
    offices = await directory.offices(db_session)
    services = services_offered(offices)
    # An unknown or retired service code (an old link) shows every office rather than none.
    chosen = service if any(s.code == service for s in services) else None
    shown = search_offices(offices, q or "")
    if chosen:
        shown = [office for office in shown if offers(office, chosen)]
    statuses = await directory.open_statuses(db_session, now)
    context = {
        **_HELPERS,
        "groups": group_by_district(shown),
        "statuses": statuses,
        "count": len(shown),
        "services": services,
        "chosen": chosen,
        "query": (q or "").strip(),
        "filtered": bool(chosen or (q or "").strip()),
    }
    fragment = "offices/_results.html" if _wants_fragment(request) else None
    return page(request, "offices/finder.html", context, fragment=fragment)


def _week(days: list[Any], monday: date) -> list[Any]:
    return [d for d in days if monday <= d.day < monday + timedelta(days=7)]


@get("/offices/{slug:str}", name="office_page", include_in_schema=False)
async def office_page(request: Request[Any, Any, Any], db_session: Db, slug: FromPath[str]) -> Template:
    directory = request.app.state.directory
    office = await directory.office(db_session, slug)
    if office is None:
        raise NotFoundException(f"No office with the address {slug!r}.")
    now = current_time(request.app.state)
    zone = ZoneInfo(office.timezone)
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    first, last = status_window(now)
    first = min(first, monday)
    hours = (await directory.hours(db_session, first, last))[office.id]
    days = hours_for_range(hours, monday, monday + timedelta(days=13))
    locale = current_locale.get()
    context = {
        **_HELPERS,
        "office": office,
        "status": open_status(hours, now),
        "today": today,
        "weeks": [
            (monday, _week(days, monday)),
            (monday + timedelta(days=7), _week(days, monday + timedelta(days=7))),
        ],
        "deviations": deviations(hours, today, today + timedelta(days=NEXT_OPENING_HORIZON_DAYS)),
        "horizon_days": NEXT_OPENING_HORIZON_DAYS,
        "hours_feed": hours_feed_links(request.app.state.settings.public_url, office.slug, locale),
        "offerings": [
            {
                "code": o.service.code,
                "name": o.service.name(locale),
                "description": o.service.description(locale),
                "bookable": o.is_bookable,
                "walk_in": o.is_walk_in,
            }
            for o in offerings(office)
        ],
    }
    return page(request, "offices/office.html", context)


def hours_feed_links(public_url: str, slug: str, locale: str) -> dict[str, str]:
    """The office's hours feed in the reader's language: to download, and to subscribe to."""
    url = f"{hours_feed_url(public_url, slug)}?lang={locale}"
    return {"url": url, "webcal": webcal_url(url)}


ROUTES: list = [office_finder, office_page]
