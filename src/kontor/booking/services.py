"""Booking a visit, holding a time while the resident types, cancelling and moving a visit, and
finding it again by its reference.

Seats are taken through :mod:`kontor.booking.seats`, where the database has the last word on
capacity. Every change writes a :class:`BookingEvent` in the same transaction (DESIGN rule 5).
A resident's booking through the web or the API counts against the limit of upcoming visits per
contact, and gets none of the seats kept for the phone before their release; staff booking for
someone (phone, desk) are trusted to judge the limit themselves, and take a kept seat first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from kontor.accounts.models import User
from kontor.accounts.security import hash_token, new_token, token_matches
from kontor.audit.history import actor_of
from kontor.audit.models import Channel
from kontor.booking.models import HOLDS_SEAT, SEAT_KEY, Booking, BookingStatus
from kontor.booking.policy import (
    BookingRules,
    booking_offering,
    check_limit,
    check_start,
    contact_keys,
    find_offering,
    hours_window,
    record_event,
    slot_policy,
)
from kontor.booking.references import new_reference, normalize_reference
from kontor.booking.seats import in_savepoint, take_seat, taken_seats, taken_seats_on
from kontor.booking.visitor import BookingError, Visitor, check_visitor
from kontor.i18n import N_
from kontor.offices.models import Office, OfficeService
from kontor.offices.schemas import FIRST_DAY, LAST_DAY

__all__ = [
    "BookingError",
    "BookingRules",
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
DEFAULT_RULES = BookingRules()


def by_resident(channel: Channel, actor: User | str) -> bool:
    """Whether a resident books by themselves (web or API, no staff user): only they are held to the
    limit of visits and kept from the seats kept for the phone."""
    return channel in (Channel.WEB, Channel.API) and not isinstance(actor, User)


def aware(start: datetime) -> datetime:
    """``start`` in UTC. A time without an offset, or on a date outside those kontor takes, is no
    slot's start: near the calendar's ends, moving it to UTC would overflow."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise BookingError("invalid", N_("Choose a time."), "start")
    if not FIRST_DAY <= start.date() <= LAST_DAY:
        raise BookingError("invalid", N_("Choose one of the free times."), "start")
    return start.astimezone(UTC)


def fill_visitor(booking: Booking, visitor: Visitor) -> None:
    booking.name, booking.email, booking.phone = visitor.name, visitor.email, visitor.phone
    booking.language, booking.needs = visitor.language, visitor.needs
    booking.contact_key = contact_keys(visitor.email, visitor.phone)[0]


_TABLE = Booking.__table__
_COLUMNS = [column for column in _TABLE.columns if column.key != "id"]


def _insert(db: AsyncSession):  # type: ignore[no-untyped-def]
    # On the table, not the entity: the ORM's handling of an INSERT's values costs more than the INSERT.
    insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(_TABLE)


async def new_booking(
    db: AsyncSession,
    office: Office,
    offering: OfficeService,
    start: datetime,
    *,
    status: BookingStatus,
    visitor: Visitor | None,
    channel: Channel,
    actor: User | str,
    now: datetime,
    rules: BookingRules,
) -> tuple[Booking, str]:
    service = offering.service
    token = new_token()
    created_by_id, _label = actor_of(actor)
    booking: Booking | None = None

    async def claim(seat: int) -> bool:
        nonlocal booking
        candidate = Booking(
            reference=new_reference(),
            token_hash=hash_token(token),
            office_id=office.id,
            service_id=service.id,
            starts_at=start,
            ends_at=start + timedelta(minutes=service.duration_minutes),
            seat=seat,
            status=status.value,
            hold_expires_at=now + rules.hold if status == BookingStatus.HELD else None,
            name="",
            language="sv",
            needs=[],
            channel=channel.value,
            created_by_id=created_by_id,
            created_at=now,
            updated_at=now,
        )
        if visitor is not None:
            fill_visitor(candidate, visitor)
        # One statement that does nothing when the seat went meanwhile: no savepoint round trips.
        values = {column.key: getattr(candidate, column.key) for column in _COLUMNS}
        new_id = await db.scalar(
            _insert(db)
            .values(**values)
            .on_conflict_do_nothing(index_elements=SEAT_KEY, index_where=HOLDS_SEAT)
            .returning(_TABLE.c.id)
        )
        if new_id is None:
            return False
        candidate.id = new_id
        make_transient_to_detached(candidate)
        db.add(candidate)  # persistent now, without a second INSERT
        set_committed_value(candidate, "office", office)
        set_committed_value(candidate, "service", service)
        booking = candidate
        return True

    staff = not by_resident(channel, actor)
    seat = await take_seat(db, offering, start, now, claim, release_delay=rules.release_delay, staff=staff)
    assert booking is not None
    changes = {"office": office.slug, "service": service.code, "starts_at": start.isoformat(), "seat": seat}
    action = "held" if status == BookingStatus.HELD else "booked"
    record_event(db, booking, action, channel=channel, actor=actor, now=now, changes=changes)
    await db.flush()
    return booking, token


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
    rules: BookingRules = DEFAULT_RULES,
) -> tuple[Booking, str]:
    """Book the visit that starts at ``start``; the booking and its private token (returned only here)."""
    visitor = check_visitor(name, email, phone, language, needs)
    start = aware(start)
    office, offering = await find_offering(db, office_slug, service_code)
    await check_start(db, office, offering, start, now)
    if by_resident(channel, actor):
        keys = contact_keys(visitor.email, visitor.phone)
        await check_limit(db, offering.service_id, keys, now, rules, exclude=None)
    return await new_booking(
        db, office, offering, start, status=BookingStatus.BOOKED, visitor=visitor,
        channel=channel, actor=actor, now=now, rules=rules,
    )  # fmt: skip


_CHANGEABLE = (BookingStatus.BOOKED.value,)


async def cancel(
    db: AsyncSession, booking: Booking, *, channel: Channel, actor: User | str, now: datetime
) -> Booking:
    """Cancel a booking and free its seat. Cancelling a cancelled booking changes nothing; a visit
    that has begun or taken place cannot be cancelled. A hold let go of simply expires: it was never
    a booking, so its seat is offered again at once."""
    if booking.status == BookingStatus.HELD:
        return await _let_go(db, booking, now)
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
    record_event(db, booking, "cancelled", channel=channel, actor=actor, now=now, changes=changes)
    await db.flush()
    return booking


async def _let_go(db: AsyncSession, booking: Booking, now: datetime) -> Booking:
    await db.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == BookingStatus.HELD.value)
        .values(status=BookingStatus.EXPIRED.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await db.refresh(booking)
    return booking


async def reschedule(
    db: AsyncSession,
    booking: Booking,
    new_start: datetime,
    *,
    channel: Channel,
    actor: User | str,
    now: datetime,
    rules: BookingRules = DEFAULT_RULES,
) -> Booking:
    """Move a booking to a free seat of the slot at ``new_start``. The same row moves, so its old seat
    is free the moment the new one is taken, and a failure leaves the booking as it was. The new time
    is reminded again; the last reminder's link keeps working (the resident may be using it now)."""
    if booking.status != BookingStatus.BOOKED:
        raise BookingError("invalid", N_("This booking can no longer be changed."))
    new_start = aware(new_start)
    if new_start == booking.starts_at:
        return booking
    offering = await booking_offering(db, booking)
    await check_start(db, booking.office, offering, new_start, now)
    old_start, old_seat = booking.starts_at, booking.seat
    new_end = new_start + timedelta(minutes=offering.service.duration_minutes)

    async def claim(seat: int) -> bool:
        return await in_savepoint(
            db,
            lambda: db.execute(
                update(Booking)
                .where(Booking.id == booking.id)
                .values(starts_at=new_start, ends_at=new_end, seat=seat, updated_at=now, reminded_at=None)
                .execution_options(synchronize_session=False)
            ),
        )

    staff = not by_resident(channel, actor)
    seat = await take_seat(
        db, offering, new_start, now, claim, release_delay=rules.release_delay, staff=staff
    )
    moved = {"starts_at": new_start, "ends_at": new_end, "seat": seat, "updated_at": now, "reminded_at": None}
    for key, value in moved.items():
        set_committed_value(booking, key, value)
    changes = {"starts_at": [old_start.isoformat(), new_start.isoformat()], "seat": [old_seat, seat]}
    record_event(db, booking, "rescheduled", channel=channel, actor=actor, now=now, changes=changes)
    await db.flush()
    return booking


async def find_by_reference(db: AsyncSession, reference: str, token: str) -> Booking | None:
    """The booking with this reference (as typed: any case, dash or not) if ``token`` is its token
    or the token of its reminder's link. An unknown reference and a wrong token get the same answer,
    None, after the same work."""
    key = normalize_reference(reference)
    booking = await db.scalar(select(Booking).where(Booking.reference == key)) if key else None
    hashes = (
        (booking.token_hash, booking.reminder_token_hash or _NO_SUCH_TOKEN)
        if booking is not None
        else (_NO_SUCH_TOKEN, _NO_SUCH_TOKEN)
    )
    # Both compared every time, so the answer takes as long whichever matched.
    matches = [token_matches(token or "", known) for known in hashes]
    return booking if booking is not None and any(matches) else None
