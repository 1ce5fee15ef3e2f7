"""Seats of a slot: which are taken, and taking the lowest free one so the database has the last word.

The seats of a slot are numbered 1..seats and the database refuses a second holder of a seat (the
unique index ``ux_bookings_seat``): two app instances that race for the last seat cannot both get it.
A seat whose booking was cancelled a moment ago rests for ``release_delay`` before it is offered again,
so a booking cannot be handed over by cancelling it at an agreed minute (slot trading).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.booking.models import SEATLESS, Booking, BookingStatus
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
) -> int:
    """Call ``await claim(seat)`` for the lowest free seat until it returns True (the database took
    it) or no seat is left: BookingError('full').

    ``claim`` returns False when the seat went to another transaction meanwhile (an insert that
    does nothing on conflict, or an update refused by the unique index in a savepoint). On
    PostgreSQL such a statement waits for the other transaction to end; the seats are then read
    again (its row is visible now) and the next free one is tried.
    """
    for _ in range(offering.seats + 3):  # each failure means a seat went; a few more guard rare collisions
        unavailable = await _seats_unavailable(db, offering, start, now, release_delay)
        free = [seat for seat in range(1, offering.seats + 1) if seat not in unavailable]
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
    rows = await db.execute(
        select(Booking.office_id, Booking.starts_at, func.count())
        .where(
            Booking.office_id.in_(office_ids),
            Booking.service_id == service_id,
            Booking.starts_at >= first_start,
            Booking.starts_at <= last_start,
            _holds_a_seat(now, release_delay),
        )
        .group_by(Booking.office_id, Booking.starts_at)
    )
    found: dict[int, dict[datetime, int]] = {}
    for office_id, start, count in rows:
        found.setdefault(office_id, {})[start.astimezone(UTC)] = count
    return found
