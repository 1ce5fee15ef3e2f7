"""Booking a visit, cancelling and moving it, and finding it again by its reference.

The seats of a slot are numbered 1..seats and the database refuses a second holder of a seat (the
unique index ``ux_bookings_seat``): two app instances that race for the last seat cannot both get it.
Every change writes a :class:`BookingEvent` in the same transaction (DESIGN rule 5).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from kontor.accounts.models import User
from kontor.accounts.security import hash_token, new_token, token_matches
from kontor.audit.models import Channel
from kontor.booking.models import Booking, BookingEvent, BookingStatus
from kontor.booking.references import new_reference, normalize_reference
from kontor.booking.slots import SlotPolicy, is_bookable_start, slot_policy_kinds
from kontor.booking.visitor import BookingError, check_visitor
from kontor.hours.rules import OfficeHours
from kontor.hours.services import office_hours
from kontor.i18n import N_
from kontor.offices.models import Office, OfficeService, Service

__all__ = [
    "BookingError",
    "book",
    "cancel",
    "find_by_reference",
    "hours_window",
    "reschedule",
    "slot_policy",
    "taken_seats",
    "taken_seats_on",
]

# Compared against when a reference is unknown, so the answer takes as long as for a wrong token.
_NO_SUCH_TOKEN = hash_token("kontor-no-such-booking")


def _actor(actor: User | str) -> tuple[int | None, str]:
    return (actor.id, actor.username) if isinstance(actor, User) else (None, actor)


def _event(
    db: AsyncSession,
    booking: Booking,
    action: str,
    *,
    channel: Channel,
    actor: User | str,
    now: datetime,
    changes: dict[str, Any],
) -> None:
    actor_id, label = _actor(actor)
    db.add(
        BookingEvent(
            booking_id=booking.id,
            at=now,
            action=action,
            channel=channel.value,
            actor_id=actor_id,
            actor=label,
            changes=changes,
        )
    )


async def _offering(db: AsyncSession, office_slug: str, service_code: str) -> tuple[Office, OfficeService]:
    office = await db.scalar(select(Office).where(Office.slug == office_slug, Office.active.is_(True)))
    if office is None:
        raise BookingError("not_found", N_("There is no such office."), "office")
    service = await db.scalar(select(Service).where(Service.code == service_code))
    if service is None:
        raise BookingError("not_found", N_("There is no such service."), "service")
    offering = await db.scalar(
        select(OfficeService).where(
            OfficeService.office_id == office.id, OfficeService.service_id == service.id
        )
    )
    if offering is None or not offering.is_bookable:
        raise BookingError("not_bookable", N_("This service cannot be booked at this office."), "service")
    return office, offering


def hours_window(office: Office, service: Service, now: datetime) -> tuple[date, date]:
    """The dates whose hours decide the service's slots at the office: today to a day past the horizon.
    The slot listing, the search across offices and the booking check all load this same window, so
    they see the same kinds of hours and agree on every slot."""
    today = now.astimezone(ZoneInfo(office.timezone)).date()
    return today, today + timedelta(days=service.horizon_days + 1)


def slot_policy(offering: OfficeService, hours: OfficeHours) -> SlotPolicy:
    """The service's slot rules at the office: visit length, notice and horizon from the service, the
    seats from the office's offering, and the kinds of hours that hold slots there."""
    service = offering.service
    return SlotPolicy(
        duration=timedelta(minutes=service.duration_minutes),
        seats=offering.seats,
        min_notice=timedelta(minutes=service.min_notice_minutes),
        horizon_days=service.horizon_days,
        kinds=slot_policy_kinds(hours),
    )


async def _check_start(
    db: AsyncSession, office: Office, offering: OfficeService, start: datetime, now: datetime
) -> None:
    """Raise unless ``start`` is a slot start the office offers for the service now (seats aside)."""
    hours = await office_hours(db, office, *hours_window(office, offering.service, now))
    if not is_bookable_start(hours, slot_policy(offering, hours), start, now):
        raise BookingError("not_bookable", N_("This time cannot be booked. Choose another time."), "start")


async def _free_expired_holds(
    db: AsyncSession, office_id: int, service_id: int, start: datetime, now: datetime
) -> None:
    await db.execute(
        delete(Booking).where(
            Booking.office_id == office_id,
            Booking.service_id == service_id,
            Booking.starts_at == start,
            Booking.status == BookingStatus.HELD.value,
            Booking.hold_expires_at <= now,
        )
    )


async def _seats_taken(db: AsyncSession, office_id: int, service_id: int, start: datetime) -> set[int]:
    rows = await db.scalars(
        select(Booking.seat).where(
            Booking.office_id == office_id,
            Booking.service_id == service_id,
            Booking.starts_at == start,
            Booking.status != BookingStatus.CANCELLED.value,
        )
    )
    return set(rows)


async def _take_seat(db: AsyncSession, offering: OfficeService, start: datetime, now: datetime, claim) -> int:  # type: ignore[no-untyped-def]
    """Run ``await claim(seat)`` in a savepoint for the lowest free seat until the database accepts one.

    On PostgreSQL an insert that collides with another transaction's uncommitted seat waits for it and
    then fails; the seats are then read again (that transaction's row is visible now) and the next
    free one is tried. Raises BookingError('full') when none is left.
    """
    await _free_expired_holds(db, offering.office_id, offering.service_id, start, now)
    for _ in range(offering.seats + 3):  # each failure means a seat went; a few more guard rare collisions
        taken = await _seats_taken(db, offering.office_id, offering.service_id, start)
        free = [seat for seat in range(1, offering.seats + 1) if seat not in taken]
        if not free:
            break
        try:
            async with db.begin_nested():
                await claim(free[0])
        except IntegrityError:
            continue
        return free[0]
    raise BookingError("full", N_("This time has just been fully booked. Choose another time."), "start")


async def book(
    db: AsyncSession,
    *,
    office_slug: str,
    service_code: str,
    start: datetime,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    language: str = "sv",
    needs: Iterable[str] = (),
    channel: Channel,
    actor: User | str,
    now: datetime,
) -> tuple[Booking, str]:
    """Book the visit that starts at ``start``; the booking and its private token (returned only here)."""
    visitor = check_visitor(name, email, phone, language, needs)
    if start.tzinfo is None or start.utcoffset() is None:
        raise BookingError("invalid", N_("Choose a time."), "start")
    start = start.astimezone(UTC)
    office, offering = await _offering(db, office_slug, service_code)
    service = offering.service
    await _check_start(db, office, offering, start, now)

    token = new_token()
    created_by_id, _label = _actor(actor)
    booking: Booking | None = None

    async def claim(seat: int) -> None:
        nonlocal booking
        reference = new_reference()
        booking = Booking(
            reference=reference,
            token_hash=hash_token(token),
            office_id=office.id,
            service_id=service.id,
            starts_at=start,
            ends_at=start + timedelta(minutes=service.duration_minutes),
            seat=seat,
            status=BookingStatus.BOOKED.value,
            name=visitor.name,
            email=visitor.email,
            phone=visitor.phone,
            language=language,
            needs=visitor.needs,
            channel=channel.value,
            created_by_id=created_by_id,
            created_at=now,
            updated_at=now,
        )
        booking.office, booking.service = office, service
        db.add(booking)
        await db.flush()

    seat = await _take_seat(db, offering, start, now, claim)
    assert booking is not None
    changes = {"office": office.slug, "service": service.code, "starts_at": start.isoformat(), "seat": seat}
    _event(db, booking, "booked", channel=channel, actor=actor, now=now, changes=changes)
    await db.flush()
    return booking, token


_CHANGEABLE = (BookingStatus.HELD.value, BookingStatus.BOOKED.value)


async def cancel(
    db: AsyncSession, booking: Booking, *, channel: Channel, actor: User | str, now: datetime
) -> Booking:
    """Cancel a booking and free its seat. Cancelling a cancelled booking changes nothing; a visit
    that has begun or taken place cannot be cancelled."""
    # Conditional, so two cancellations at once record one event, not two.
    result = await db.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status.in_(_CHANGEABLE))
        .values(status=BookingStatus.CANCELLED.value, cancelled_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        await db.refresh(booking)
        if booking.status == BookingStatus.CANCELLED:
            return booking
        raise BookingError("invalid", N_("This visit has already begun and can no longer be changed."))
    old_status = booking.status
    for key, value in (("status", BookingStatus.CANCELLED.value), ("cancelled_at", now), ("updated_at", now)):
        set_committed_value(booking, key, value)
    changes = {"status": [old_status, BookingStatus.CANCELLED.value]}
    _event(db, booking, "cancelled", channel=channel, actor=actor, now=now, changes=changes)
    await db.flush()
    return booking


async def reschedule(
    db: AsyncSession,
    booking: Booking,
    new_start: datetime,
    *,
    channel: Channel,
    actor: User | str,
    now: datetime,
) -> Booking:
    """Move a booking to a free seat of the slot at ``new_start``. The same row moves, so its old seat
    is free the moment the new one is taken, and a failure leaves the booking as it was."""
    if booking.status not in _CHANGEABLE:
        raise BookingError("invalid", N_("This booking can no longer be changed."))
    if new_start.tzinfo is None or new_start.utcoffset() is None:
        raise BookingError("invalid", N_("Choose a time."), "start")
    new_start = new_start.astimezone(UTC)
    if new_start == booking.starts_at:
        return booking
    offering = await db.scalar(
        select(OfficeService).where(
            OfficeService.office_id == booking.office_id, OfficeService.service_id == booking.service_id
        )
    )
    if offering is None or not offering.is_bookable or not booking.office.active:
        raise BookingError("not_bookable", N_("This service cannot be booked at this office."), "service")
    await _check_start(db, booking.office, offering, new_start, now)
    old_start, old_seat = booking.starts_at, booking.seat
    new_end = new_start + timedelta(minutes=offering.service.duration_minutes)

    async def claim(seat: int) -> None:
        await db.execute(
            update(Booking)
            .where(Booking.id == booking.id)
            .values(starts_at=new_start, ends_at=new_end, seat=seat, updated_at=now)
            .execution_options(synchronize_session=False)
        )

    seat = await _take_seat(db, offering, new_start, now, claim)
    for key, value in (("starts_at", new_start), ("ends_at", new_end), ("seat", seat), ("updated_at", now)):
        set_committed_value(booking, key, value)
    changes = {"starts_at": [old_start.isoformat(), new_start.isoformat()], "seat": [old_seat, seat]}
    _event(db, booking, "rescheduled", channel=channel, actor=actor, now=now, changes=changes)
    await db.flush()
    return booking


async def find_by_reference(db: AsyncSession, reference: str, token: str) -> Booking | None:
    """The booking with this reference (as typed: any case, dash or not) if ``token`` is its token.
    An unknown reference and a wrong token get the same answer, None, after the same work."""
    key = normalize_reference(reference)
    booking = await db.scalar(select(Booking).where(Booking.reference == key)) if key else None
    matches = token_matches(token or "", booking.token_hash if booking is not None else _NO_SUCH_TOKEN)
    return booking if booking is not None and matches else None


async def taken_seats_on(
    db: AsyncSession, office: Office, service_id: int, first: date, last: date, now: datetime
) -> dict[datetime, int]:
    """:func:`taken_seats` for the slots whose local start date is first..last."""
    zone = ZoneInfo(office.timezone)
    first_start = datetime.combine(first, time(), zone).astimezone(UTC)
    last_start = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    return await taken_seats(db, office.id, service_id, first_start, last_start, now)


async def taken_seats(
    db: AsyncSession,
    office_id: int,
    service_id: int,
    first_start: datetime,
    last_start: datetime,
    now: datetime,
) -> dict[datetime, int]:
    """Seats taken per slot start (UTC) from first_start to last_start inclusive, for ``free_slots``:
    every booking not cancelled, except holds that have expired."""
    rows = await db.execute(
        select(Booking.starts_at, func.count())
        .where(
            Booking.office_id == office_id,
            Booking.service_id == service_id,
            Booking.starts_at >= first_start,
            Booking.starts_at <= last_start,
            Booking.status != BookingStatus.CANCELLED.value,
            or_(
                Booking.status != BookingStatus.HELD.value,
                Booking.hold_expires_at.is_(None),
                Booking.hold_expires_at > now,
            ),
        )
        .group_by(Booking.starts_at)
    )
    return {start.astimezone(UTC): count for start, count in rows}
