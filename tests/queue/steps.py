"""Shared steps of the queue's service tests: issue, call and look up tickets, book and check in
visits, each in a transaction of its own as separate requests would do.

The clock is Tuesday 2026-12-15 in Stockholm (no holiday): Kista is open 09:00–12:00 and 13:00–17:00
and takes bookings 09:00–12:00 (see tests/factories.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from kontor.audit.models import Channel
from kontor.booking.models import Booking, BookingEvent
from kontor.booking.services import book
from kontor.offices.models import Counter, Office
from kontor.offices.services import office_by_slug
from kontor.queue.checkin import check_in
from kontor.queue.models import Ticket, TicketEvent, TicketSequence
from kontor.queue.tickets import call_next, issue_ticket

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Bookings are made the day before, as residents do.
BOOKED_AT = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    """An instant in Stockholm in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=STOCKHOLM)


NOW = at(15, 9, 30)


async def issue(write_session, city, service: str = "eservice", now: datetime = NOW, office=None) -> Ticket:  # type: ignore[no-untyped-def]
    """A walk-in ticket issued at the desk."""
    async with write_session() as db, db.begin():
        ticket, _token = await issue_ticket(
            db,
            office=office or city.kista,
            service=city.services[service],
            now=now,
            channel=Channel.DESK,
            actor=city.users["staff"],
        )
        return ticket


async def counter(read_session, city, number: int = 1, office=None) -> Counter:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        found = await db.scalar(
            select(Counter).where(Counter.office_id == (office or city.kista).id, Counter.number == number)
        )
        assert found is not None
        return found


async def call(write_session, city, desk: Counter, services=("eservice", "consumer"), now: datetime = NOW):  # type: ignore[no-untyped-def]
    """Press "next" at ``desk`` for ``services``."""
    async with write_session() as db, db.begin():
        return await call_next(
            db,
            office=city.kista,
            counter=desk,
            service_ids=[city.services[code].id for code in services],
            now=now,
            actor=city.users["staff"],
        )


async def in_transaction(write_session, work):  # type: ignore[no-untyped-def]
    """``await work(db)`` in a write transaction that commits."""
    async with write_session() as db, db.begin():
        return await work(db)


async def office(db, slug: str = "kista") -> Office:  # type: ignore[no-untyped-def]
    """The office with its offerings loaded, as handlers get it."""
    found = await office_by_slug(db, slug)
    assert found is not None
    return found


async def stored(read_session, ticket_id: int) -> Ticket:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        ticket = await db.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


async def nothing_issued(read_session) -> bool:  # type: ignore[no-untyped-def]
    """No ticket, and no number taken from any sequence."""
    async with read_session() as db:
        tickets = await db.scalar(select(func.count()).select_from(Ticket))
        sequences = await db.scalar(select(func.count()).select_from(TicketSequence))
    return tickets == 0 and sequences == 0


async def ticket_events(read_session, ticket_id: int) -> list[TicketEvent]:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        query = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        return list(await db.scalars(query))


async def booking_events(read_session, booking_id: int) -> list[BookingEvent]:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        query = select(BookingEvent).where(BookingEvent.booking_id == booking_id).order_by(BookingEvent.id)
        return list(await db.scalars(query))


# A contact each: one person may hold only a few upcoming visits.
_visitors = iter(range(10**6))


async def book_visit(
    write_session, city, start: datetime, service: str = "eservice", **extra: Any
) -> Booking:  # type: ignore[no-untyped-def]
    """A visit booked through the booking service by a contact-center agent."""
    async with write_session() as db, db.begin():
        booking, _token = await book(
            db,
            office_slug="kista",
            service_code=service,
            start=start,
            name="Vera Besök",
            email=f"visitor{next(_visitors)}@example.se",
            channel=Channel.PHONE,
            actor=city.users["agent"],
            now=BOOKED_AT,
            **extra,
        )
        return booking


async def check_in_visit(write_session, city, booking_id: int, now: datetime, **extra: Any):  # type: ignore[no-untyped-def]
    """Check the visit in at the desk, the booking read afresh as the desk's handler does."""
    async with write_session() as db, db.begin():
        booking = await db.get(Booking, booking_id)
        assert booking is not None
        return await check_in(db, booking=booking, now=now, actor=city.users["staff"], **extra)
