"""Seats of a slot: which are taken, and taking a free one so the database has the last word.

The seats of a slot are numbered 1..seats and the database refuses a second holder of a seat (the
unique index ``ux_bookings_seat``): two app instances that race for the last seat cannot both get it.
Which seats a booker may take, and in what order, is :mod:`kontor.booking.phone_seats`' rule: seats
kept for the phone are numbered last, so a resident who tries only the others cannot get one.
A seat whose booking was cancelled a moment ago rests for ``release_delay`` before it is offered again,
so a booking cannot be handed over by cancelling it at an agreed minute (slot trading).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.booking.models import SEATLESS, Booking, BookingStatus
from kontor.booking.phone_seats import is_released, seat_order
from kontor.booking.visitor import BookingError
from kontor.i18n import N_
from kontor.offices.models import Office, OfficeService


def _holds_a_seat(now: datetime, release_delay: timedelta):  # type: ignore[no-untyped-def]
    """Bookings that keep a seat from being offered: all but expired holds and cancellations, plus
    cancellations younger than ``release_delay``."""
    return or_(
        and_(
            Booking.status.not_in(SEATLESS),
            or_(
                Booking.status != BookingStatus.HELD.value,
                Booking.hold_expires_at.is_(None),
                Booking.hold_expires_at > now,
            ),
        ),
        and_(
            Booking.status == BookingStatus.CANCELLED.value,
            Booking.cancelled_at > now - release_delay,
        ),
    )


async def expire_holds(db: AsyncSession, now: datetime, **slot: object) -> int:
    """Turn holds that ran out into expired ones, which frees their seats; all of them, or only those
    of one slot (``office_id``, ``service_id``, ``starts_at``)."""
    where = [Booking.status == BookingStatus.HELD.value, Booking.hold_expires_at <= now]
    where += [getattr(Booking, key) == value for key, value in slot.items()]
    result = await db.execute(
        update(Booking)
        .where(*where)
        .values(status=BookingStatus.EXPIRED.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


async def _seats_unavailable(
    db: AsyncSession, offering: OfficeService, start: datetime, now: datetime, release_delay: timedelta
) -> set[int]:
    """The seats of the slot that cannot be given out; holds that ran out are marked expired on the
    way (only when there are any, so the usual booking costs one query here, not two)."""
    rows = (
        await db.execute(
            select(Booking.seat, Booking.status, Booking.hold_expires_at, Booking.cancelled_at).where(
                Booking.office_id == offering.office_id,
                Booking.service_id == offering.service_id,
                Booking.starts_at == start,
                Booking.status != BookingStatus.EXPIRED.value,
            )
        )
    ).all()
    resting_since = now - release_delay
    unavailable: set[int] = set()
    ran_out = False
    for seat, status, hold_expires_at, cancelled_at in rows:
        if status == BookingStatus.CANCELLED:
            if cancelled_at is not None and cancelled_at > resting_since:
                unavailable.add(seat)
        elif status == BookingStatus.HELD and hold_expires_at is not None and hold_expires_at <= now:
            ran_out = True
        else:
            unavailable.add(seat)
    if ran_out:
        await expire_holds(
            db, now, office_id=offering.office_id, service_id=offering.service_id, starts_at=start
        )
    return unavailable


async def take_seat(
    db: AsyncSession,
    offering: OfficeService,
    start: datetime,
    now: datetime,
    claim: Callable[[int], Awaitable[bool]],
    *,
    release_delay: timedelta = timedelta(0),
    staff: bool = False,
) -> int:
    """Call ``await claim(seat)`` for the first free seat the booker may take (a resident: the lowest
    public one; staff: a kept one first, see :func:`~kontor.booking.phone_seats.seat_order`) until it
    returns True (the database took it) or no such seat is left: BookingError('full').

    ``claim`` returns False when the seat went to another transaction meanwhile (an insert that
    does nothing on conflict, or an update refused by the unique index in a savepoint). On
    PostgreSQL such a statement waits for the other transaction to end; the seats are then read
    again (its row is visible now) and the next free one is tried.
    """
    released = is_released(start, now, timedelta(hours=offering.phone_release_hours))
    order = seat_order(offering.seats, offering.phone_seats, staff=staff, released=released)
    for _ in range(offering.seats + 3):  # each failure means a seat went; a few more guard rare collisions
        unavailable = await _seats_unavailable(db, offering, start, now, release_delay)
        free = [seat for seat in order if seat not in unavailable]
        if not free:
            break
        if await claim(free[0]):
            return free[0]
    raise BookingError("full", N_("This time has just been fully booked. Choose another time."), "start")


async def in_savepoint(db: AsyncSession, change: Callable[[], Awaitable[object]]) -> bool:
    """Run ``change`` in a savepoint: True when the database took it, False when the unique index of
    the seats refused it (the savepoint is rolled back, the transaction goes on)."""
    try:
        async with db.begin_nested():
            await change()
    except IntegrityError:
        return False
    return True


def local_days(office: Office, first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants from the start of ``first`` to the end of ``last`` at the office."""
    zone = ZoneInfo(office.timezone)
    return (
        datetime.combine(first, time(), zone).astimezone(UTC),
        datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC),
    )


async def taken_seats_on(
    db: AsyncSession,
    office: Office,
    service_id: int,
    first: date,
    last: date,
    now: datetime,
    *,
    release_delay: timedelta = timedelta(0),
) -> dict[datetime, int]:
    """:func:`taken_seats` for the slots whose local start date is first..last."""
    first_start, last_start = local_days(office, first, last)
    return await taken_seats(
        db, office.id, service_id, first_start, last_start, now, release_delay=release_delay
    )


async def taken_seats(
    db: AsyncSession,
    office_id: int,
    service_id: int,
    first_start: datetime,
    last_start: datetime,
    now: datetime,
    *,
    release_delay: timedelta = timedelta(0),
) -> dict[datetime, int]:
    """Seats taken per slot start (UTC) from first_start to last_start inclusive, for ``free_slots``:
    bookings and live holds, and cancellations still resting (see the module's docstring)."""
    found = await taken_seats_at(
        db, [office_id], service_id, first_start, last_start, now, release_delay=release_delay
    )
    return found.get(office_id, {})


async def taken_seats_at(
    db: AsyncSession,
    office_ids: Collection[int],
    service_id: int,
    first_start: datetime,
    last_start: datetime,
    now: datetime,
    *,
    release_delay: timedelta = timedelta(0),
) -> dict[int, dict[datetime, int]]:
    """:func:`taken_seats` of several offices in one query, by office id (searches across offices)."""
    found = await _count_taken(db, office_ids, service_id, first_start, last_start, now, release_delay, {})
    return {office_id: counts.taken for office_id, counts in found.items()}


@dataclass(frozen=True, slots=True)
class SeatCounts:
    """One office's seats taken per slot start (UTC), and of those the public ones (numbered up to
    the offering's seats less its phone seats) when they were counted; else ``public`` is None."""

    taken: dict[datetime, int] = field(default_factory=dict)
    public: dict[datetime, int] | None = None


def _public_seats(offerings: Collection[OfficeService], staff: bool) -> dict[int, int]:
    """By office id, the public seats of the offerings that keep seats, when a resident looks (staff
    may take every seat, so only the total counts for them)."""
    if staff:
        return {}
    return {o.office_id: o.seats - o.phone_seats for o in offerings if o.phone_seats > 0}


async def seat_counts_on(
    db: AsyncSession,
    office: Office,
    offering: OfficeService,
    first: date,
    last: date,
    now: datetime,
    *,
    release_delay: timedelta = timedelta(0),
    staff: bool = False,
) -> SeatCounts:
    """:func:`seat_counts_at` of one office for the slots whose local start date is first..last."""
    first_start, last_start = local_days(office, first, last)
    found = await seat_counts_at(
        db, [offering], first_start, last_start, now, release_delay=release_delay, staff=staff
    )
    return found[office.id]


async def seat_counts_at(
    db: AsyncSession,
    offerings: Collection[OfficeService],
    first_start: datetime,
    last_start: datetime,
    now: datetime,
    *,
    release_delay: timedelta = timedelta(0),
    staff: bool = False,
) -> dict[int, SeatCounts]:
    """By office id, the seats taken per slot start from first_start to last_start inclusive, of
    ``offerings`` of one service, in one query: as :func:`taken_seats`, and for a resident
    (``staff`` False) at an office that keeps seats for the phone also the taken public seats."""
    if not offerings:
        return {}
    public_seats = _public_seats(offerings, staff)
    office_ids = [o.office_id for o in offerings]
    service_id = next(iter(offerings)).service_id
    return await _count_taken(
        db, office_ids, service_id, first_start, last_start, now, release_delay, public_seats
    )


async def _count_taken(
    db: AsyncSession,
    office_ids: Collection[int],
    service_id: int,
    first_start: datetime,
    last_start: datetime,
    now: datetime,
    release_delay: timedelta,
    public_seats: Mapping[int, int],
) -> dict[int, SeatCounts]:
    columns = [Booking.office_id, Booking.starts_at, func.count()]
    if public_seats:
        # Only when some office keeps seats: the plain count stays as cheap as it always was.
        limit = case(dict(public_seats), value=Booking.office_id, else_=None)
        columns.append(func.count(case((Booking.seat <= limit, 1))))
    rows = await db.execute(
        select(*columns)
        .where(
            Booking.office_id.in_(office_ids),
            Booking.service_id == service_id,
            Booking.starts_at >= first_start,
            Booking.starts_at <= last_start,
            _holds_a_seat(now, release_delay),
        )
        .group_by(Booking.office_id, Booking.starts_at)
    )
    found = {
        office_id: SeatCounts(public={} if office_id in public_seats else None) for office_id in office_ids
    }
    if not public_seats:
        for office_id, start, count in rows:
            found[office_id].taken[start.astimezone(UTC)] = count
        return found
    for office_id, start, count, public in rows:
        counts, start = found[office_id], start.astimezone(UTC)
        counts.taken[start] = count
        if counts.public is not None:
            counts.public[start] = public
    return found
