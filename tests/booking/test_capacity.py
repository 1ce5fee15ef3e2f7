"""Rule 3: a slot never holds more bookings than its seats, and the database is what enforces it.

Fifty residents press "book" for the same two-seat slot at the same moment, each in a transaction
of their own: exactly two get a seat, the rest are told the slot is full, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from kontor.audit.models import Channel
from kontor.booking.models import Booking, BookingStatus
from kontor.booking.services import BookingError, book, cancel
from kontor.offices.models import OfficeService

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
# Kista's appointment hours, Tuesday 2026-12-15 09:00–12:00: 20-minute slots.
SLOTS = [
    datetime(2026, 12, 15, hour, minute, tzinfo=STOCKHOLM) for hour, minute in ((9, 0), (10, 20), (11, 40))
]
RACERS = 50


async def _set_seats(write_session, city, seats: int) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        await db.execute(
            update(OfficeService)
            .where(
                OfficeService.office_id == city.kista.id,
                OfficeService.service_id == city.services["eservice"].id,
            )
            .values(seats=seats)
        )


async def _book_alone(write_session, start: datetime, n: int, now: datetime = NOW) -> Booking:  # type: ignore[no-untyped-def]
    """One resident's request: its own session and transaction, committed at the end."""
    async with write_session() as db, db.begin():
        booking, _token = await book(
            db,
            office_slug="kista",
            service_code="eservice",
            start=start,
            name=f"Resident {n}",
            email=f"resident{n}-{start:%H%M}@example.se",
            channel=Channel.WEB,
            actor="resident",
            now=now,
        )
        return booking


async def _seats_held(read_session, start: datetime) -> list[int]:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        rows = await db.scalars(
            select(Booking.seat).where(
                Booking.starts_at == start, Booking.status != BookingStatus.CANCELLED.value
            )
        )
        return sorted(rows)


async def test_fifty_at_once_fill_two_seats_and_no_more(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    await _set_seats(write_session, city, 2)

    for start in SLOTS:
        outcomes = await asyncio.gather(
            *(_book_alone(write_session, start, n) for n in range(RACERS)), return_exceptions=True
        )

        booked = [o for o in outcomes if isinstance(o, Booking)]
        full = [o for o in outcomes if isinstance(o, BookingError) and o.kind == "full"]
        other = [o for o in outcomes if not isinstance(o, Booking) and o not in full]
        assert other == [], f"unexpected outcomes: {other[:3]!r}"
        assert len(booked) == 2
        assert len(full) == RACERS - 2
        assert sorted(b.seat for b in booked) == [1, 2]
        assert await _seats_held(read_session, start) == [1, 2]


async def test_a_cancelled_seat_rests_then_goes_to_the_next_booking(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    start = SLOTS[0]
    first = await _book_alone(write_session, start, 1)
    with pytest.raises(BookingError) as refused:
        await _book_alone(write_session, start, 2)
    assert refused.value.kind == "full"

    async with write_session() as db, db.begin():
        mine = await db.get(Booking, first.id)
        await cancel(db, mine, channel=Channel.WEB, actor="resident", now=NOW)

    # Offered again only once the rest is over (BookingRules.release_delay, 5 minutes by default).
    with pytest.raises(BookingError) as resting:
        await _book_alone(write_session, start, 3, now=NOW + timedelta(minutes=4))
    assert resting.value.kind == "full"
    again = await _book_alone(write_session, start, 3, now=NOW + timedelta(minutes=5, seconds=1))
    assert again.seat == 1
    assert await _seats_held(read_session, start) == [1]


async def test_the_database_refuses_a_second_holder_of_a_seat(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    await _set_seats(write_session, city, 2)
    start = SLOTS[1]
    taken = await _book_alone(write_session, start, 1)

    row = {
        "reference": "CCCCCCCC",
        "token_hash": "0" * 64,
        "office_id": city.kista.id,
        "service_id": city.services["eservice"].id,
        "starts_at": start.astimezone(UTC),
        "ends_at": taken.ends_at,
        "seat": taken.seat,
        "status": "booked",
        "name": "Intruder",
        "email": "x@example.se",
        "language": "sv",
        "needs": [],
        "channel": "web",
        "created_at": NOW,
        "updated_at": NOW,
    }
    with pytest.raises(IntegrityError):
        async with write_session() as db, db.begin():
            await db.execute(insert(Booking).values(**row))

    # Cancelled rows hold no seat: the same seat number is accepted for one of them.
    async with write_session() as db, db.begin():
        await db.execute(insert(Booking).values(**row | {"status": "cancelled"}))
    assert await _seats_held(read_session, start) == [taken.seat]
