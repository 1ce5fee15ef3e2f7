"""A booking's private page, ``/bookings/{reference}?token=…``: a held time waiting for the resident's
details, the confirmation, and the place to move or cancel the visit; and the visit as ``.ics``.

Whoever has the link may act on the booking, like the holder of a paper confirmation. A wrong token
and an unknown reference get the same 404. The pages carry the token in their address, so they are
never cached and never send it on as a referrer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.forms import text as form_text
from kontor.audit.models import Channel
from kontor.booking import holds, services
from kontor.booking.models import Booking, BookingStatus, Need
from kontor.booking.notices import booking_calendar, tell_resident
from kontor.booking.policy import BookingRules
from kontor.booking.references import format_reference
from kontor.booking.visitor import BookingError
from kontor.calendars.http import FeedAnswer, calendar_response, etag_of
from kontor.hours.services import current_time
from kontor.i18n import LOCALES, N_, _, current_locale
from kontor.retention import purge
from kontor.web.templating import page

Db = NamedDependency[AsyncSession]
_PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
NEED_LABELS = {
    Need.INTERPRETER.value: N_("I need an interpreter"),
    Need.ACCESSIBILITY.value: N_("I need accessibility support, for example step-free access"),
    Need.COMPUTER_HELP.value: N_("I need help with computers"),
}
_DONE = {"confirmed", "rescheduled", "cancelled"}
# The visit is under way: its details are the office's to work with until it ends.
_NOT_FORGETTABLE = (BookingStatus.CHECKED_IN.value,)


async def _booking_or_404(db: AsyncSession, reference: str, token: str | None) -> Booking:
    booking = await services.find_by_reference(db, reference, token or "")
    if booking is None:
        raise NotFoundException("No booking with this reference for this link.")
    return booking


def _rules(request: Request[Any, Any, Any]) -> BookingRules:
    return BookingRules.from_settings(request.app.state.settings)


def _address(booking: Booking, token: str, **extra: str) -> str:
    query = urlencode({"token": token, **extra})
    return f"/bookings/{format_reference(booking.reference)}?{query}"


def _flow(booking: Booking, **extra: str) -> str:
    """The booking flow's time step for the booking's service and office."""
    return "/book?" + urlencode({"service": booking.service.code, "office": booking.office.slug, **extra})


def _render(
    request: Request[Any, Any, Any],
    booking: Booking,
    token: str,
    *,
    done: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Template:
    now = current_time(request.app.state)
    day = booking.starts_at.astimezone(_zone(booking)).date().isoformat()
    held = booking.status in (BookingStatus.HELD, BookingStatus.EXPIRED)
    context = {
        "booking": booking,
        "reference": format_reference(booking.reference),
        "token": token,
        "zone": _zone(booking),
        "service_name": booking.service.name(current_locale.get()),
        "need_labels": {key: _(label) for key, label in NEED_LABELS.items()},
        "held": held,
        "hold_running": booking.status == BookingStatus.HELD
        and booking.hold_expires_at is not None
        and booking.hold_expires_at > now,
        "changeable": booking.status == BookingStatus.BOOKED and booking.starts_at > now,
        # A held time has no details yet: letting it go is "Choose another time".
        "forgettable": not held and booking.status not in _NOT_FORGETTABLE,
        "forget_cancels": _forget_cancels(booking, now),
        "done": done if done in _DONE else None,
        "errors": errors or {},
        "values": values or {"language": current_locale.get(), "needs": []},
        "problem": problem,
        "languages": LOCALES,
        "manage_url": request.app.state.settings.public_url.rstrip("/") + _address(booking, token),
        "self_url": _address(booking, token),
        "calendar_url": f"/bookings/{format_reference(booking.reference)}.ics?{urlencode({'token': token})}",
        "change_url": _flow(booking, day=day, reschedule=format_reference(booking.reference), token=token),
        "again_url": _flow(booking, day=day),
    }
    template = page(request, "booking/manage.html", context, status_code=status_code)
    template.headers.update(_PRIVATE_HEADERS)
    return template


def _forget_cancels(booking: Booking, now: datetime) -> bool:
    """Whether deleting the resident's details cancels the visit first: it is still to come."""
    return booking.status in (BookingStatus.HELD, BookingStatus.BOOKED) and booking.ends_at > now


def _zone(booking: Booking) -> ZoneInfo:
    return ZoneInfo(booking.office.timezone)


@get("/bookings/{reference:str}", name="booking_page", include_in_schema=False, cache=False)
async def booking_page(
    request: Request[Any, Any, Any],
    db_session: Db,
    reference: FromPath[str],
    token: FromQuery[str | None] = None,
    done: FromQuery[str | None] = None,
) -> Response[Any]:
    # One path segment holds both "ACDE-4779" and "ACDE-4779.ics": Litestar parameters are whole segments.
    if reference.lower().endswith(".ics"):
        return await _calendar(request, db_session, reference[:-4], token)
    booking = await _booking_or_404(db_session, reference, token)
    return _render(request, booking, token or "", done=done)


async def _calendar(
    request: Request[Any, Any, Any], db: AsyncSession, reference: str, token: str | None
) -> Response[bytes]:
    booking = await _booking_or_404(db, reference, token)
    if booking.status in (BookingStatus.HELD, BookingStatus.EXPIRED):
        raise NotFoundException("No booking with this reference for this link.")
    body = await booking_calendar(
        db,
        booking,
        settings=request.app.state.settings,
        token=token or "",
        now=current_time(request.app.state),
    )
    answer = FeedAnswer(
        key=f"booking:{booking.id}",
        etag=etag_of(body),
        build=lambda: body,
        headers=_PRIVATE_HEADERS,
        filename=f"{format_reference(booking.reference)}.ics",
    )
    return await calendar_response(request, answer, current_time(request.app.state))


def _visitor_form(form: Any) -> dict[str, Any]:
    needs = [value for value in form.getall("needs", []) if isinstance(value, str)]
    return {
        "name": form_text(form, "name", 200),
        "email": form_text(form, "email", 300),
        "phone": form_text(form, "phone", 60),
        "language": form_text(form, "language", 5),
        "needs": needs,
    }


async def _posted(
    request: Request[Any, Any, Any], db: AsyncSession, reference: str
) -> tuple[Any, str, Booking]:
    """The form of a POST to a booking's page, the token it carries, and the booking it opens."""
    form = await request.form()
    value = form.get("token")
    token = value if isinstance(value, str) else ""
    return form, token, await _booking_or_404(db, reference, token)


async def _tell(
    request: Request[Any, Any, Any], db: AsyncSession, booking: Booking, event: str, token: str, now: datetime
) -> None:
    await tell_resident(db, booking, event, settings=request.app.state.settings, token=token, now=now)


@post("/bookings/{reference:str}/confirm", name="booking_confirm", include_in_schema=False)
async def confirm_booking(
    request: Request[Any, Any, Any], db_write: Db, reference: FromPath[str]
) -> Response[Any]:
    form, token, booking = await _posted(request, db_write, reference)
    values = _visitor_form(form)
    now = current_time(request.app.state)
    if booking.status == BookingStatus.BOOKED:  # sent twice (a double click, a reload): done already
        return Redirect(_address(booking, token, done="confirmed"), status_code=303)
    try:
        await holds.confirm(
            db_write, booking, **values, channel=Channel.WEB, actor="resident", now=now, rules=_rules(request)
        )
    except BookingError as error:
        if error.kind == "invalid" and error.field:
            errors = {error.field: _(error.message)}
            return _render(request, booking, token, errors=errors, values=values, status_code=422)
        await db_write.refresh(booking)
        return _render(request, booking, token, values=values, problem=_(error.message), status_code=409)
    await _tell(request, db_write, booking, "booked", token, now)
    return Redirect(_address(booking, token, done="confirmed"), status_code=303)


@post("/bookings/{reference:str}/cancel", name="booking_cancel", include_in_schema=False)
async def cancel_booking(
    request: Request[Any, Any, Any], db_write: Db, reference: FromPath[str]
) -> Response[Any]:
    _form, token, booking = await _posted(request, db_write, reference)
    now = current_time(request.app.state)
    was_held = booking.status == BookingStatus.HELD
    was_booked = booking.status == BookingStatus.BOOKED
    try:
        await services.cancel(db_write, booking, channel=Channel.WEB, actor="resident", now=now)
    except BookingError as error:
        return _render(request, booking, token, problem=_(error.message), status_code=409)
    if was_held:  # letting a held time go: back to choosing one
        day = booking.starts_at.astimezone(_zone(booking)).date().isoformat()
        return Redirect(_flow(booking, day=day), status_code=303)
    if was_booked:
        await _tell(request, db_write, booking, "cancelled", token, now)
    return Redirect(_address(booking, token, done="cancelled"), status_code=303)


@post("/bookings/{reference:str}/reschedule", name="booking_reschedule", include_in_schema=False)
async def reschedule_booking(
    request: Request[Any, Any, Any], db_write: Db, reference: FromPath[str]
) -> Response[Any]:
    form, token, booking = await _posted(request, db_write, reference)
    raw = form.get("start")
    try:
        start = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        return _render(request, booking, token, problem=_("Choose a time."), status_code=422)
    now = current_time(request.app.state)
    before = booking.starts_at
    try:
        await services.reschedule(
            db_write, booking, start, channel=Channel.WEB, actor="resident", now=now, rules=_rules(request)
        )
    except BookingError as error:
        await db_write.refresh(booking)
        return _render(request, booking, token, problem=_(error.message), status_code=409)
    if booking.starts_at != before:
        await _tell(request, db_write, booking, "rescheduled", token, now)
    return Redirect(_address(booking, token, done="rescheduled"), status_code=303)


@post("/bookings/{reference:str}/forget", name="booking_forget", include_in_schema=False)
async def forget_booking(
    request: Request[Any, Any, Any], db_write: Db, reference: FromPath[str]
) -> Response[Any]:
    """Delete the resident's details at their request: an upcoming visit is cancelled first (its seat
    freed, the change recorded), no message goes to the address being deleted, and the booking is
    blanked as the retention purge blanks it. Its link then answers 404, as for any unknown booking."""
    form, token, booking = await _posted(request, db_write, reference)
    now = current_time(request.app.state)
    if booking.status in _NOT_FORGETTABLE:
        problem = N_("Your visit is under way. You can delete your details once it is over.")
        return _render(request, booking, token, errors={"forget": _(problem)}, status_code=409)
    if form.get("confirm") != "yes":
        problem = N_("Tick the box to confirm that your details may be deleted.")
        return _render(request, booking, token, errors={"forget": _(problem)}, status_code=422)
    if _forget_cancels(booking, now):
        try:
            await services.cancel(db_write, booking, channel=Channel.WEB, actor="resident", now=now)
        except BookingError as error:
            await db_write.refresh(booking)
            return _render(request, booking, token, errors={"forget": _(error.message)}, status_code=409)
    await purge.forget_booking(db_write, booking, now=now, actor="resident", channel=Channel.WEB)
    return Redirect("/bookings/forgotten", status_code=303)


@get("/bookings/forgotten", name="booking_forgotten", include_in_schema=False, cache=False)
async def booking_forgotten(request: Request[Any, Any, Any]) -> Template:
    template = page(request, "booking/manage.html", {"forgotten": True})
    template.headers.update(_PRIVATE_HEADERS)
    return template


ROUTES: list = [
    booking_page,
    confirm_booking,
    cancel_booking,
    reschedule_booking,
    forget_booking,
    booking_forgotten,
]
