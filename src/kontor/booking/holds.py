"""Holding a time while the resident types, and turning the hold into a booking.

A hold is a booking row with status ``held`` that keeps a seat until ``hold_expires_at``. Past that
it no longer counts (:mod:`kontor.booking.seats`) and is marked ``expired`` by the next taker of the
slot or by the background sweeper; the row stays, so the resident's page can say what happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from kontor.accounts.models import User
from kontor.audit.models import Channel
from kontor.booking.models import Booking, BookingStatus
from kontor.booking.policy import (
    BookingRules,
    booking_offering,
    check_limit,
    check_start,
    contact_keys,
    find_offering,
)
from kontor.booking.seats import expire_holds, in_savepoint, take_seat
from kontor.booking.services import DEFAULT_RULES, aware, by_resident, fill_visitor, new_booking, record_event
from kontor.booking.visitor import BookingError, check_visitor
from kontor.i18n import N_

__all__ = ["confirm", "expire_holds", "hold", "sweep_expired_holds"]


async def hold(
    db: AsyncSession,
    *,
    office_slug: str,
    service_code: str,
    start: datetime,
    channel: Channel,
    actor: User | str,
    now: datetime,
    rules: BookingRules = DEFAULT_RULES,
) -> tuple[Booking, str]:
    """Hold a seat of the slot at ``start`` for ``rules.hold`` while the resident gives their details;
    the held booking and its private token, which :func:`confirm` needs. A hold that runs out frees
    its seat by itself (it no longer counts, and the next taker or the sweeper marks it expired).
    Like :func:`~kontor.booking.services.book`, a resident holds no seat kept for the phone."""
    start = aware(start)
    office, offering = await find_offering(db, office_slug, service_code)
    await check_start(db, office, offering, start, now)
    return await new_booking(
        db, office, offering, start, status=BookingStatus.HELD, visitor=None,
        channel=channel, actor=actor, now=now, rules=rules,
    )  # fmt: skip


async def confirm(
    db: AsyncSession,
    booking: Booking,
    *,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    language: str = "sv",
    needs: Iterable[str] = (),
    channel: Channel,
    actor: User | str,
    now: datetime,
    rules: BookingRules = DEFAULT_RULES,
) -> Booking:
    """Turn a hold into a booking with the visitor's details. A hold that ran out still becomes a
    booking when its seat (or another of the slot) is free; otherwise BookingError('full')."""
    visitor = check_visitor(name, email, phone, language, needs)
    if booking.status == BookingStatus.BOOKED:
        return booking  # the confirmation was sent twice (a double click, a reload)
    if booking.status not in (BookingStatus.HELD, BookingStatus.EXPIRED):
        raise BookingError("invalid", N_("This booking can no longer be changed."))
    if by_resident(channel, actor):
        keys = contact_keys(visitor.email, visitor.phone)
        await check_limit(db, booking.service_id, keys, now, rules, exclude=booking.id)
    expired = booking.status == BookingStatus.EXPIRED or (
        booking.hold_expires_at is not None and booking.hold_expires_at <= now
    )
    if expired:
        await _retake(db, booking, now, rules, staff=not by_resident(channel, actor))
    # Conditional, so a sweeper that expires the hold at this moment cannot be overwritten unseen.
    result = await db.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == BookingStatus.HELD.value)
        .values(status=BookingStatus.BOOKED.value, hold_expires_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        raise BookingError("full", N_("The time you chose is no longer held for you. Choose a time again."))
    for key, value in (
        ("status", BookingStatus.BOOKED.value),
        ("hold_expires_at", None),
        ("updated_at", now),
    ):
        set_committed_value(booking, key, value)
    fill_visitor(booking, visitor)
    record_event(
        db,
        booking,
        "confirmed",
        channel=channel,
        actor=actor,
        now=now,
        changes={"status": ["held", "booked"]},
    )
    await db.flush()
    return booking


async def _retake(
    db: AsyncSession, booking: Booking, now: datetime, rules: BookingRules, *, staff: bool
) -> None:
    """Give a hold that ran out a seat of its slot again, if one the confirming booker may take is
    free, and a fresh hold."""
    offering = await booking_offering(db, booking)
    await check_start(db, booking.office, offering, booking.starts_at, now)

    async def claim(seat: int) -> bool:
        return await in_savepoint(
            db,
            lambda: db.execute(
                update(Booking)
                .where(Booking.id == booking.id)
                .values(status=BookingStatus.HELD.value, seat=seat, hold_expires_at=now + rules.hold)
                .execution_options(synchronize_session=False)
            ),
        )

    # Its own row has run out (or is marked expired), so it does not count against itself.
    try:
        seat = await take_seat(
            db, offering, booking.starts_at, now, claim, release_delay=rules.release_delay, staff=staff
        )
    except BookingError:
        raise BookingError(
            "full", N_("The time you chose was taken while you were away. Choose another time."), "start"
        ) from None
    set_committed_value(booking, "seat", seat)


# An expired hold's row answers its holder's page for a while ("the time you chose was taken");
# after a day nobody comes back to it, and it carries no personal data to keep.
EXPIRED_KEPT = timedelta(days=1)


async def sweep_expired_holds(session_maker: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """The background worker's step: mark every hold that ran out as expired, so staff lists show
    only live holds, and delete expired holds older than :data:`EXPIRED_KEPT`."""
    async with session_maker() as db, db.begin():
        expired = await expire_holds(db, now)
        await db.execute(
            delete(Booking).where(
                Booking.status == BookingStatus.EXPIRED.value, Booking.updated_at < now - EXPIRED_KEPT
            )
        )
        return expired
