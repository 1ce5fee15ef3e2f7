"""The waitlist's pages: joining the line of a service, ``/waitlist?service=&office=``, and an entry's
private page, ``/waitlist/{token}``, where the resident sees their place in line, takes or declines a
time offered to them, or leaves the line.

Whoever has the link may act on the entry, like the holder of a booking's link; the entry's own
token and the token of its current offer both open it, and an unknown one is a 404. The entry's page
carries the token in its address, so it is never cached and never sends it on as a referrer.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.forms import text as form_text
from kontor.booking.listing import bookable_services
from kontor.booking.manage import NEED_LABELS
from kontor.booking.references import format_reference
from kontor.booking.visitor import BookingError
from kontor.hours.services import current_time
from kontor.i18n import LOCALES, _, current_locale, format_date
from kontor.offices.models import Office, Service
from kontor.offices.services import bookable_offering
from kontor.waitlist import services
from kontor.waitlist.models import WaitlistEntry, WaitlistStatus
from kontor.web.templating import page

Db = NamedDependency[AsyncSession]
_PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
_DONE = {"joined", "left", "declined"}
_TOKEN_MAX = 200


# -- joining ---------------------------------------------------------------------------------------


class _Choices:
    """What the form offers: the services residents book online, the chosen one, and the offices that
    take bookings for it (for every such service when none is chosen yet)."""

    def __init__(self, offices: list[Office], service_code: str, office_slug: str) -> None:
        self.services: list[Service] = bookable_services(offices)
        self.service = next((s for s in self.services if s.code == service_code), None)
        codes = [self.service.code] if self.service else [s.code for s in self.services]
        self.offices = [o for o in offices if any(bookable_offering(o, code) for code in codes)]
        self.office = next((o for o in self.offices if o.slug == office_slug), None)

    def limits(self, request: Request[Any, Any, Any]) -> tuple[date, date]:
        """The first and last date one may choose: the chosen service's horizon, or the longest one."""
        settings = request.app.state.settings
        now = current_time(request.app.state)
        if self.service is not None:
            return services.date_limits(self.service, self.office, now, settings.default_timezone)
        today = now.astimezone(ZoneInfo(settings.default_timezone)).date()
        return today, today + timedelta(days=max((s.horizon_days for s in self.services), default=0))


async def _choices(request: Request[Any, Any, Any], db: AsyncSession, service: str, office: str) -> _Choices:
    return _Choices(await request.app.state.directory.offices(db), service, office)


def _join_form(
    request: Request[Any, Any, Any],
    choices: _Choices,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    first, last = choices.limits(request)
    context = {
        "choices": choices,
        "values": values,
        "errors": errors or {},
        "first": first,
        "last": last,
        "languages": LOCALES,
        "need_labels": {key: _(label) for key, label in NEED_LABELS.items()},
        "hold_minutes": request.app.state.settings.waitlist_offer_minutes,
    }
    response = page(request, "waitlist/join.html", context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


@get("/waitlist", name="waitlist_join", include_in_schema=False, cache=False)
async def join_page(
    request: Request[Any, Any, Any],
    db_session: Db,
    service: FromQuery[str | None] = None,
    office: FromQuery[str | None] = None,
) -> Template:
    choices = await _choices(request, db_session, (service or "")[:40], (office or "")[:80])
    first, last = choices.limits(request)
    values = {
        "service": choices.service.code if choices.service else "",
        "office": choices.office.slug if choices.office else "",
        "earliest": first.isoformat(),
        "latest": last.isoformat() if choices.service else "",
        "language": current_locale.get(),
        "needs": [],
    }
    return _join_form(request, choices, values)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _posted_values(form: Any) -> dict[str, Any]:
    return {
        "service": form_text(form, "service", 40),
        "office": form_text(form, "office", 80),
        "earliest": form_text(form, "earliest", 20),
        "latest": form_text(form, "latest", 20),
        "name": form_text(form, "name", 200),
        "email": form_text(form, "email", 300),
        "phone": form_text(form, "phone", 60),
        "language": form_text(form, "language", 5),
        "needs": [value for value in form.getall("needs", []) if isinstance(value, str)],
    }


@post("/waitlist", name="waitlist_join_post", include_in_schema=False)
async def join_waitlist(request: Request[Any, Any, Any], db_write: Db) -> Response[Any]:
    values = _posted_values(await request.form())
    # The form's choices first: the directory's snapshot detaches what the session holds.
    choices = await _choices(request, db_write, values["service"], values["office"])
    try:
        _entry, token = await services.join(
            db_write,
            service_code=values["service"],
            office_slug=values["office"] or None,
            earliest=_day(values["earliest"]),
            latest=_day(values["latest"]),
            name=values["name"],
            email=values["email"],
            phone=values["phone"],
            language=values["language"],
            needs=values["needs"],
            settings=request.app.state.settings,
            now=current_time(request.app.state),
        )
    except services.JoinError as error:
        dates = {
            "first": format_date(error.first) if error.first else "",
            "last": format_date(error.last) if error.last else "",
        }
        errors = {field: _(message, **dates) for field, message in error.errors.items()}
        return _join_form(request, choices, values, errors=errors, status_code=422)
    return Redirect(_entry_path(token, done="joined"), status_code=303)


# -- the entry's page ------------------------------------------------------------------------------


def _entry_path(token: str, **extra: str) -> str:
    query = f"?{urlencode(extra)}" if extra else ""
    return f"/waitlist/{quote(token, safe='')}{query}"


async def _entry_or_404(db: AsyncSession, token: str, *, for_update: bool = False) -> WaitlistEntry:
    entry = await services.find_entry(db, token[: _TOKEN_MAX + 1], for_update=for_update)
    if entry is None:
        raise NotFoundException("No waitlist entry for this link.")
    return entry


async def _entry_view(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    entry: WaitlistEntry,
    token: str,
    *,
    done: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Template:
    now = current_time(request.app.state)
    settings = request.app.state.settings
    booking = await services.offered_booking(db, entry) if entry.status == WaitlistStatus.OFFERED else None
    office = booking.office if booking is not None else entry.office
    zone = ZoneInfo(office.timezone if office is not None else settings.default_timezone)
    again = {"service": entry.service.code, **({"office": entry.office.slug} if entry.office else {})}
    context = {
        "entry": entry,
        "token": token,
        "self_url": _entry_path(token),
        "service_name": entry.service.name(current_locale.get()),
        "place": await services.place_in_line(db, entry),
        "booking": booking,
        "offer_running": booking is not None and services.offer_running(entry, now),
        "zone": zone,
        "hold_minutes": settings.waitlist_offer_minutes,
        "done": done if done in _DONE else None,
        "problem": problem,
        "again_url": "/waitlist?" + urlencode(again),
        "book_url": "/book?" + urlencode(again),
    }
    response = page(request, "waitlist/entry.html", context, status_code=status_code)
    response.headers.update(_PRIVATE_HEADERS)
    return response


@get("/waitlist/{token:str}", name="waitlist_entry", include_in_schema=False, cache=False)
async def entry_page(
    request: Request[Any, Any, Any], db_session: Db, token: FromPath[str], done: FromQuery[str | None] = None
) -> Template:
    entry = await _entry_or_404(db_session, token)
    return await _entry_view(request, db_session, entry, token, done=done)


@post("/waitlist/{token:str}/take", name="waitlist_take", include_in_schema=False)
async def take_offer(request: Request[Any, Any, Any], db_write: Db, token: FromPath[str]) -> Response[Any]:
    entry = await _entry_or_404(db_write, token, for_update=True)
    try:
        booking, booking_token = await services.take_offer(
            db_write, entry, settings=request.app.state.settings, now=current_time(request.app.state)
        )
    except BookingError as error:
        return await _entry_view(request, db_write, entry, token, problem=_(error.message), status_code=409)
    query = urlencode({"token": booking_token, "done": "confirmed"})
    return Redirect(f"/bookings/{format_reference(booking.reference)}?{query}", status_code=303)


@post("/waitlist/{token:str}/decline", name="waitlist_decline", include_in_schema=False)
async def decline_offer(request: Request[Any, Any, Any], db_write: Db, token: FromPath[str]) -> Response[Any]:
    entry = await _entry_or_404(db_write, token, for_update=True)
    try:
        await services.decline_offer(db_write, entry, now=current_time(request.app.state))
    except BookingError as error:
        return await _entry_view(request, db_write, entry, token, problem=_(error.message), status_code=409)
    return Redirect(_entry_path(token, done="declined"), status_code=303)


@post("/waitlist/{token:str}/leave", name="waitlist_leave", include_in_schema=False)
async def leave_waitlist(
    request: Request[Any, Any, Any], db_write: Db, token: FromPath[str]
) -> Response[Any]:
    entry = await _entry_or_404(db_write, token, for_update=True)
    await services.leave(db_write, entry, now=current_time(request.app.state))
    return Redirect(_entry_path(token, done="left"), status_code=303)


ROUTES: list = [join_page, join_waitlist, entry_page, take_offer, decline_offer, leave_waitlist]
