"""The booking API: free slots, and booking, reading, cancelling and moving a visit.

Status codes of a refused booking (BookingError kinds): invalid → 422, full → 409, not_bookable
(the start or the service is not offered) → 409, not_found (office or service) → 404. The body is
``{"detail": message, "extra": {"kind": ..., "field": ...}}``. An anonymous client's booking is
recorded with channel ``api``; with an agent's bearer token it is a phone booking made by that agent
(other staff tokens book with channel ``api`` as themselves). Seats kept for the contact center are
listed and given out only to staff tokens until they are released to everyone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Request, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import bearer_user, can_work_in_office
from kontor.accounts.models import Role, User
from kontor.audit.models import Channel
from kontor.booking import schemas, services
from kontor.booking.listing import office_free_slots
from kontor.booking.models import Booking, BookingStatus
from kontor.booking.notices import tell_resident
from kontor.booking.references import format_reference, normalize_reference
from kontor.booking.visitor import BookingError
from kontor.hours.services import current_time
from kontor.i18n import _
from kontor.offices.api import (
    NOT_JSON,
    RATE_LIMITED,
    ApiOperation,
    Slug,
    answers,
    date_range,
    office_or_404,
    parse_date,
)
from kontor.offices.schemas import FIRST_DAY, LAST_DAY
from kontor.offices.services import bookable_offering
from kontor.queue.api_access import json_only

_PRIVATE = {
    "cache_control": CacheControlHeader(no_store=True),
    "tags": ["bookings"],
    "operation_class": ApiOperation,
}
_STATUS = {"invalid": 422, "full": 409, "not_bookable": 409, "limit": 409, "not_found": 404}
# Unknown reference, wrong token, or no right to see it: one answer, so none can be told apart.
_NO_BOOKING = "No booking with this reference for this token."
# The error answers of the operations, as the schema describes them.
_UNKNOWN_BOOKING = {404: f"{_NO_BOOKING} Also for staff whose token does not reach the booking's office."}
_UNKNOWN_OFFERING = {404: "No office has this slug, or no service has this code."}
_FULL = "The slot is full or not offered (`extra.kind`: `full`, `not_bookable`)"
_REFUSED_BOOKING = {
    409: f"{_FULL}, or the contact already has as many upcoming visits of the service as one may (`limit`).",
    422: "Invalid input; `extra.field` names it.",
}
_REFUSED_MOVE = {
    409: f"{_FULL}; the booking is unchanged.",
    422: "An invalid start (`extra.field` is `start`), or a booking that can no longer be changed.",
}

Db = NamedDependency[AsyncSession]
Reference = Annotated[str, PathParameter(description="The booking's reference, e.g. ACDE-4779.")]
BookingToken = Annotated[
    str | None,
    HeaderParameter(
        name="X-Booking-Token",
        description="The token returned when the booking was made. Staff send a bearer token instead.",
        required=False,
    ),
]


def _json_body(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    # Only JSON: a cross-site form cannot send it without a CORS preflight (DESIGN rule 8).
    media_type = connection.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise HTTPException(status_code=415, detail="Send the body as application/json.")


_api_user = bearer_user


def _refused(error: BookingError) -> HTTPException:
    return HTTPException(
        status_code=_STATUS.get(error.kind, 422),
        detail=_(error.message),
        extra={"kind": error.kind, "field": error.field},
    )


def _in_calendar(start: datetime) -> datetime:
    """422 for a start on a date outside those kontor takes, with a detail that says which."""
    if not FIRST_DAY <= start.date() <= LAST_DAY:
        raise HTTPException(
            status_code=422,
            detail=f"'start' must be between {FIRST_DAY} and {LAST_DAY}.",
            extra={"kind": "invalid", "field": "start"},
        )
    return start


def _channel(user: User | None) -> tuple[Channel, User | str]:
    """Through which channel and by whom a change comes: agents work by phone."""
    if user is None:
        return Channel.API, "resident"
    return (Channel.PHONE if user.role == Role.AGENT else Channel.API), user


def _rules(request: Request[Any, Any, Any]) -> services.BookingRules:
    return services.BookingRules.from_settings(request.app.state.settings)


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def _booking_out(booking: Booking) -> schemas.Booking:
    zone = booking.office.timezone
    return schemas.Booking(
        reference=format_reference(booking.reference),
        office=booking.office.slug,
        service=booking.service.code,
        start=_local(booking.starts_at, zone),
        end=_local(booking.ends_at, zone),
        status=booking.status,  # type: ignore[arg-type]
        name=booking.name,
        email=booking.email,
        phone=booking.phone,
        language=booking.language,
        needs=list(booking.needs or []),
    )


@get(
    "/api/v1/offices/{slug:str}/slots",
    name="api_office_slots",
    summary="Free slots of a service at an office",
    description=(
        "Bookable starts whose local date is from `from` to `to` (both inclusive, at most 366 days), "
        "with the seats left; full slots are left out. Seats kept for the contact center count only "
        "for a staff bearer token until they are released. 404 when the office is unknown or does not "
        "take bookings for the service; 400 for a date that is not YYYY-MM-DD between 2000-01-01 and "
        "2199-12-31, a reversed range or one longer than 366 days."
    ),
    responses=answers({404: "No office has this slug, or it takes no bookings for the service."}),
    **_PRIVATE,
)
async def list_slots(
    request: Request[Any, Any, Any],
    db_session: Db,
    slug: Slug,
    service: Annotated[str, QueryParameter(description="The service's code.")],
    from_: Annotated[
        str | None,
        QueryParameter(name="from", description="First date (YYYY-MM-DD). Default: today.", format="date"),
    ] = None,
    to: Annotated[
        str | None,
        QueryParameter(description="Last date (YYYY-MM-DD). Default: 13 days after `from`.", format="date"),
    ] = None,
) -> list[schemas.Slot]:
    first, last = parse_date("from", from_), parse_date("to", to)
    office = await office_or_404(request, db_session, slug)
    offering = bookable_offering(office, service)
    if offering is None:
        raise NotFoundException(f"Office {slug!r} takes no bookings for service {service!r}.")
    now = current_time(request.app.state)
    zone = ZoneInfo(office.timezone)
    first, last = date_range(first, last, now.astimezone(zone).date())
    staff = _api_user(request) is not None

    async def make() -> list[schemas.Slot]:
        slots = await office_free_slots(
            db_session,
            request.app.state.directory,
            office,
            offering,
            first,
            last,
            now,
            release_delay=_rules(request).release_delay,
            staff=staff,
        )
        return [
            schemas.Slot(start=s.start.astimezone(zone), end=s.end.astimezone(zone), seats_left=s.seats_left)
            for s in slots
        ]

    cache = request.app.state.slot_cache
    return await cache.get_or_make(cache.key(office.id, service, first, last, staff, now=now), make)


@post(
    "/api/v1/bookings",
    name="api_book",
    summary="Book a visit",
    description=(
        "Books the slot that starts at `start`. Give an e-mail address or a phone number. Errors: 422 "
        "invalid input (`extra.field` names it), 409 the slot is full or not offered, or the contact "
        "already has as many upcoming visits of the service as one person may (`extra.kind` is "
        "`limit`), 404 unknown office or service, 415 a body that is not JSON, 429 too many requests "
        "from this address (wait `Retry-After` seconds). A confirmation goes to the e-mail address "
        "and/or phone number given."
    ),
    guards=[_json_body],
    status_code=201,
    responses=answers(_REFUSED_BOOKING, _UNKNOWN_OFFERING, NOT_JSON, RATE_LIMITED),
    **_PRIVATE,
)
async def create_booking(
    request: Request[Any, Any, Any], db_write: Db, data: JSONBody[schemas.NewBooking]
) -> schemas.BookingCreated:
    channel, actor = _channel(_api_user(request))
    try:
        booking, token = await services.book(
            db_write,
            office_slug=data.office,
            service_code=data.service,
            start=_in_calendar(data.start),
            name=data.name,
            email=data.email,
            phone=data.phone,
            language=data.language,
            needs=data.needs,
            channel=channel,
            actor=actor,
            now=current_time(request.app.state),
            rules=_rules(request),
        )
    except BookingError as error:
        raise _refused(error) from None
    settings = request.app.state.settings
    await tell_resident(db_write, booking, "booked", settings=settings, token=token, now=booking.created_at)
    out = _booking_out(booking)
    return schemas.BookingCreated(
        reference=out.reference,
        token=token,
        office=out.office,
        service=out.service,
        start=out.start,
        end=out.end,
        status=out.status,
    )


def _staff_may_see(user: User | None, office_id: int) -> bool:
    return user is not None and (user.role == Role.AGENT or can_work_in_office(user, office_id))


async def _booking_or_404(
    request: Request[Any, Any, Any], db: AsyncSession, reference: str, token: str | None
) -> Booking:
    """The booking for the holder of its token, or for staff who may see it; else the one 404."""
    booking = await services.find_by_reference(db, reference, token) if token else None
    user = _api_user(request)
    if booking is None and user is not None:
        key = normalize_reference(reference)
        found = await db.scalar(select(Booking).where(Booking.reference == key)) if key else None
        booking = found if found is not None and _staff_may_see(user, found.office_id) else None
    if booking is None:
        raise NotFoundException(_NO_BOOKING)
    return booking


@get(
    "/api/v1/bookings/{reference:str}",
    name="api_booking",
    summary="One booking",
    description="For the holder of the booking's token (X-Booking-Token) or staff with a bearer token.",
    responses=answers(_UNKNOWN_BOOKING),
    **_PRIVATE,
)
async def get_booking(
    request: Request[Any, Any, Any], db_session: Db, reference: Reference, token: BookingToken = None
) -> schemas.Booking:
    return _booking_out(await _booking_or_404(request, db_session, reference, token))


@post(
    "/api/v1/bookings/{reference:str}/cancel",
    name="api_booking_cancel",
    summary="Cancel a booking",
    description="Frees the seat. Cancelling twice changes nothing; 422 once the visit has begun.",
    guards=[json_only],
    status_code=200,
    responses=answers(
        _UNKNOWN_BOOKING,
        {422: "The visit has begun or taken place: it can no longer be cancelled."},
        NOT_JSON,
        RATE_LIMITED,
    ),
    **_PRIVATE,
)
async def cancel_booking(
    request: Request[Any, Any, Any], db_write: Db, reference: Reference, token: BookingToken = None
) -> schemas.Booking:
    booking = await _booking_or_404(request, db_write, reference, token)
    channel, actor = _channel(_api_user(request))
    now = current_time(request.app.state)
    was_booked = booking.status == BookingStatus.BOOKED
    try:
        booking = await services.cancel(db_write, booking, channel=channel, actor=actor, now=now)
    except BookingError as error:
        raise _refused(error) from None
    if was_booked:
        settings = request.app.state.settings
        await tell_resident(db_write, booking, "cancelled", settings=settings, token=token, now=now)
    return _booking_out(booking)


@post(
    "/api/v1/bookings/{reference:str}/reschedule",
    name="api_booking_reschedule",
    summary="Move a booking to another start",
    description="409 when the new slot is full or not offered; the booking is then unchanged.",
    guards=[_json_body],
    status_code=200,
    responses=answers(_UNKNOWN_BOOKING, _REFUSED_MOVE, NOT_JSON, RATE_LIMITED),
    **_PRIVATE,
)
async def reschedule_booking(
    request: Request[Any, Any, Any],
    db_write: Db,
    reference: Reference,
    data: JSONBody[schemas.Reschedule],
    token: BookingToken = None,
) -> schemas.Booking:
    booking = await _booking_or_404(request, db_write, reference, token)
    channel, actor = _channel(_api_user(request))
    now, before = current_time(request.app.state), booking.starts_at
    try:
        start = _in_calendar(data.start)
        booking = await services.reschedule(
            db_write, booking, start, channel=channel, actor=actor, now=now, rules=_rules(request)
        )
    except BookingError as error:
        raise _refused(error) from None
    if booking.starts_at != before:
        settings = request.app.state.settings
        await tell_resident(db_write, booking, "rescheduled", settings=settings, token=token, now=now)
    return _booking_out(booking)


ROUTES: list = [list_slots, create_booking, get_booking, cancel_booking, reschedule_booking]
