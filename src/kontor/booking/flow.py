"""The resident's online booking, ``/book``: choose a service, then an office, then a time, which is
held while the resident gives their details on the booking's own page (``/bookings/{reference}``).

Every choice lives in the query string, so each step can be bookmarked and the back button works;
with htmx the office list and the calendar are swapped in place. ``?reschedule=REF&token=…`` shows
the time step for moving that booking; ``?release=REF&release_token=…`` lets an earlier hold go when
the resident picks another time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.forms import text as form_text
from kontor.audit.models import Channel
from kontor.booking import holds, services
from kontor.booking.listing import (
    bookable_offering,
    bookable_services,
    districts_offering,
    earliest_by_office,
    month_of_times,
    soonest,
)
from kontor.booking.models import BookingStatus
from kontor.booking.policy import BookingRules
from kontor.booking.references import format_reference
from kontor.booking.visitor import BookingError
from kontor.hours.services import current_time
from kontor.i18n import N_, _, current_locale
from kontor.offices.models import Service
from kontor.web.templating import page

Db = NamedDependency[AsyncSession]
STEPS = (N_("Service"), N_("Place"), N_("Time"), N_("Your details"), N_("Done"))
HEADINGS = {
    "service": (1, N_("Choose a service")),
    "place": (2, N_("Choose an office")),
    "time": (3, N_("Choose a time")),
    "unavailable": (3, N_("No times to choose from")),
}
FEW_SEATS = 2  # "1 left" is shown only when this few or fewer seats of a slot are left
_STATUS = {"invalid": 422, "not_found": 404}  # other refusals (full, not offered) are 409
_PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def book_url(**params: str | None) -> str:
    query = urlencode({key: value for key, value in params.items() if value})
    return "/book" + (f"?{query}" if query else "")


def _rules(request: Request[Any, Any, Any]) -> BookingRules:
    return BookingRules.from_settings(request.app.state.settings)


def _wants_fragment(request: Request[Any, Any, Any]) -> bool:
    # htmx restoring history after a cache miss needs the whole page, not the fragment alone.
    return request.headers.get("hx-history-restore-request") != "true"


def _render(
    request: Request[Any, Any, Any],
    step: str,
    context: Mapping[str, Any],
    *,
    fragment: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
    service_code: str | None = None,
    carry: Mapping[str, str] | None = None,
) -> Template:
    number, heading = HEADINGS[step]
    full = {**context, "step": step, "step_number": number, "heading": _(heading), "steps": STEPS}
    full |= {"problem": problem, "book_url": book_url, "few_seats": FEW_SEATS}
    # The steps done can be gone back to, except when moving a booking (its service and office stay).
    moving = carry is not None and "reschedule" in carry
    full["step_links"] = {} if moving else {1: book_url(), 2: book_url(service=service_code)}
    response = page(
        request,
        "booking/book.html",
        full,
        fragment=fragment if _wants_fragment(request) else None,
        status_code=status_code,
    )
    # Free times change by the minute; a link with a booking's token must not leak on.
    response.headers.update(_PRIVATE_HEADERS if carry else {"Cache-Control": "no-store"})
    return response


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _month(text: str | None) -> date | None:
    return _day(f"{text}-01") if text and len(text) == 7 else None


async def _service_step(
    request: Request[Any, Any, Any], db: AsyncSession, *, problem: str | None = None, status_code: int = 200
) -> Template:
    offices = await request.app.state.directory.offices(db)
    return _render(
        request, "service", {"services": bookable_services(offices)}, problem=problem, status_code=status_code
    )


async def _place_step(
    request: Request[Any, Any, Any], db: AsyncSession, service: Service, district: str | None
) -> Template:
    directory = request.app.state.directory
    service_code = service.code
    districts = districts_offering(await directory.offices(db), service_code)
    chosen = next((d for d in districts if d.slug == district), None)
    choices = await earliest_by_office(
        db,
        directory,
        service_code,
        current_time(request.app.state),
        district_slug=chosen.slug if chosen else None,
        release_delay=_rules(request).release_delay,
    )
    context = {
        "service": service,
        "districts": districts,
        "district": chosen,
        "choices": choices,
        "earliest": soonest(choices),
    }
    return _render(request, "place", context, fragment="booking/_offices.html", service_code=service_code)


async def _time_step(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    service_code: str,
    office_slug: str,
    *,
    month: date | None,
    day: date | None,
    carry: dict[str, str],
    problem: str | None = None,
    status_code: int = 200,
) -> Template:
    """The calendar and the free times of one office; ``carry`` holds the reschedule or release
    parameters that its links and form pass on."""
    directory = request.app.state.directory
    office = await directory.office(db, office_slug)
    offering = bookable_offering(office, service_code) if office is not None else None
    links = {"service_code": service_code, "carry": carry}
    if offering is None:
        message = _("This office does not take bookings for this service. Choose another office.")
        context = {"message": message, "back": {"service": service_code}}
        return _render(request, "unavailable", context, problem=problem, status_code=404, **links)
    assert office is not None
    booking = None
    if "reschedule" in carry:
        booking = await services.find_by_reference(db, carry["reschedule"], carry.get("token", ""))
        if booking is None or (booking.office.slug, booking.service.code) != (office_slug, service_code):
            context = {"message": _("No booking matches this link."), "back": {"service": service_code}}
            return _render(request, "unavailable", context, status_code=404, **links)
    shown = await month_of_times(
        db,
        directory,
        office,
        offering,
        current_time(request.app.state),
        month=month,
        day=day,
        release_delay=_rules(request).release_delay,
        leave_out=booking.starts_at if booking is not None else None,
    )
    link = {"service": service_code, "office": office_slug, **carry}

    def time_url(**choice: str) -> str:
        return book_url(**link, **choice)

    context = {
        "service": offering.service,
        "service_name": offering.service.name(current_locale.get()),
        "office": office,
        "zone": ZoneInfo(office.timezone),
        "shown": shown,
        "time_url": time_url,
        "carry": carry,
        "reference": format_reference(booking.reference) if booking is not None else None,
        "booking": booking,
    }
    return _render(
        request,
        "time",
        context,
        fragment="booking/_when.html",
        problem=problem,
        status_code=status_code,
        **links,
    )


def _carry(reschedule: str | None, token: str | None, release: str | None, release_token: str | None) -> dict:
    if reschedule:
        return {"reschedule": reschedule[:20], "token": (token or "")[:200]}
    if release:
        return {"release": release[:20], "release_token": (release_token or "")[:200]}
    return {}


@get("/book", name="book", include_in_schema=False, cache=False)
async def book_page(
    request: Request[Any, Any, Any],
    db_session: Db,
    service: FromQuery[str | None] = None,
    office: FromQuery[str | None] = None,
    district: FromQuery[str | None] = None,
    month: FromQuery[str | None] = None,
    day: FromQuery[str | None] = None,
    reschedule: FromQuery[str | None] = None,
    token: FromQuery[str | None] = None,
    release: FromQuery[str | None] = None,
    release_token: FromQuery[str | None] = None,
) -> Template:
    if not service:
        return await _service_step(request, db_session)
    offices = await request.app.state.directory.offices(db_session)
    chosen = next((s for s in bookable_services(offices) if s.code == service), None)
    if chosen is None:
        problem = _("This service cannot be booked online. Choose one of these services.")
        return await _service_step(request, db_session, problem=problem, status_code=404)
    if not office:
        return await _place_step(request, db_session, chosen, district)
    carry = _carry(reschedule, token, release, release_token)
    return await _time_step(
        request, db_session, service, office, month=_month(month), day=_day(day), carry=carry
    )


def _start(text: str) -> datetime | None:
    try:
        start = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return start if start is not None and start.utcoffset() is not None else None


async def _let_go_of_earlier_hold(db: AsyncSession, carry: dict[str, str], now: datetime) -> None:
    """The resident chose again: the time they held before is free for others at once."""
    if "release" not in carry:
        return
    earlier = await services.find_by_reference(db, carry["release"], carry["release_token"])
    if earlier is not None and earlier.status == BookingStatus.HELD:
        await services.cancel(db, earlier, channel=Channel.WEB, actor="resident", now=now)


@post("/book/hold", name="book_hold", include_in_schema=False)
async def hold_time(request: Request[Any, Any, Any], db_write: Db) -> Response[Any]:
    form = await request.form()
    service_code, office_slug = form_text(form, "service", 40), form_text(form, "office", 80)
    carry = _carry(None, None, form_text(form, "release", 20), form_text(form, "release_token", 200))
    start = _start(form_text(form, "start", 64))
    if start is None:
        return await _time_step(
            request, db_write, service_code, office_slug, month=None, day=None, carry=carry,
            problem=_("Choose one of the free times."), status_code=422,
        )  # fmt: skip
    now = current_time(request.app.state)
    # A refused hold rolls the whole request back: the earlier hold then stays the resident's.
    await _let_go_of_earlier_hold(db_write, carry, now)
    try:
        booking, token = await holds.hold(
            db_write, office_slug=office_slug, service_code=service_code, start=start,
            channel=Channel.WEB, actor="resident", now=now, rules=_rules(request),
        )  # fmt: skip
    except BookingError as error:
        return await _time_step(
            request, db_write, service_code, office_slug, month=None, day=start.date(), carry=carry,
            problem=_(error.message), status_code=_STATUS.get(error.kind, 409),
        )  # fmt: skip
    query = urlencode({"token": token})
    return Redirect(f"/bookings/{format_reference(booking.reference)}?{query}", status_code=303)


ROUTES: list = [book_page, hold_time]
