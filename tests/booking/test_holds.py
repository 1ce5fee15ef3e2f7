"""Holding a time while the resident types: the hold keeps its seat, runs out by itself, and becomes
a booking on confirmation, also after running out while the seat is still free."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kontor.audit.models import Channel
from kontor.booking import holds, services
from kontor.booking.models import Booking, BookingEvent
from kontor.booking.policy import BookingRules
from kontor.booking.seats import expire_holds, taken_seats

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
NINE = datetime(2026, 12, 15, 9, 0, tzinfo=STOCKHOLM)
RULES = BookingRules(hold=timedelta(minutes=10))
VISITOR = {"name": "Anna", "email": "anna@example.se"}


async def _hold(write_session, now: datetime = NOW) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        booking, token = await holds.hold(
            db, office_slug="kista", service_code="eservice", start=NINE,
            channel=Channel.WEB, actor="resident", now=now, rules=RULES,
        )  # fmt: skip
        return booking.id, token


async def _confirm(write_session, booking_id: int, now: datetime, **visitor: str) -> Booking:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        booking = await db.get(Booking, booking_id)
        return await holds.confirm(
            db, booking, **(visitor or VISITOR), channel=Channel.WEB, actor="resident", now=now, rules=RULES
        )


async def _book_other(write_session, now: datetime) -> Booking:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        booking, _ = await services.book(
            db, office_slug="kista", service_code="eservice", start=NINE, name="Bertil",
            email="bertil@example.se", channel=Channel.WEB, actor="resident", now=now, rules=RULES,
        )  # fmt: skip
        return booking


async def _taken(read_session, city, now: datetime) -> int:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        seats = await taken_seats(db, city.kista.id, city.services["eservice"].id, NINE, NINE, now)
        return sum(seats.values())


async def test_a_hold_keeps_its_seat_until_it_runs_out(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    await _hold(write_session)
    assert await _taken(read_session, city, NOW + timedelta(minutes=9)) == 1
    with pytest.raises(services.BookingError) as refused:
        await _book_other(write_session, NOW + timedelta(minutes=9))
    assert refused.value.kind == "full"
    assert await _taken(read_session, city, NOW + timedelta(minutes=10)) == 0
    other = await _book_other(write_session, NOW + timedelta(minutes=10))
    assert other.seat == 1


async def test_confirming_a_hold_makes_it_a_booking(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    booking_id, _token = await _hold(write_session)
    booking = await _confirm(write_session, booking_id, NOW + timedelta(minutes=5))
    assert (booking.status, booking.name, booking.contact_key, booking.hold_expires_at) == (
        "booked", "Anna", "anna@example.se", None,
    )  # fmt: skip
    async with read_session() as db:
        actions = list(await db.scalars(select(BookingEvent.action).order_by(BookingEvent.id)))
    assert actions == ["held", "confirmed"]


async def test_a_hold_that_ran_out_is_confirmed_while_its_slot_is_free(city, write_session) -> None:  # type: ignore[no-untyped-def]
    booking_id, _ = await _hold(write_session)
    async with write_session() as db, db.begin():
        assert await expire_holds(db, NOW + timedelta(minutes=11)) == 1  # the sweeper passed
    booking = await _confirm(write_session, booking_id, NOW + timedelta(minutes=20))
    assert (booking.status, booking.seat) == ("booked", 1)


async def test_a_hold_that_ran_out_and_was_taken_is_refused(city, write_session) -> None:  # type: ignore[no-untyped-def]
    booking_id, _ = await _hold(write_session)
    await _book_other(write_session, NOW + timedelta(minutes=15))
    with pytest.raises(services.BookingError) as refused:
        await _confirm(write_session, booking_id, NOW + timedelta(minutes=20))
    assert refused.value.kind == "full"


async def test_the_sweeper_expires_only_holds_that_ran_out(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    first, _ = await _hold(write_session)
    async with write_session() as db, db.begin():
        assert await expire_holds(db, NOW + timedelta(minutes=5)) == 0
        assert await expire_holds(db, NOW + timedelta(minutes=10)) == 1
    async with read_session() as db:
        assert (await db.get(Booking, first)).status == "expired"


async def test_confirmation_checks_the_details_and_keeps_the_hold(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    booking_id, _ = await _hold(write_session)
    with pytest.raises(services.BookingError) as refused:
        await _confirm(write_session, booking_id, NOW, name="Anna", email="not-an-address")
    assert (refused.value.kind, refused.value.field) == ("invalid", "email")
    async with read_session() as db:
        assert (await db.get(Booking, booking_id)).status == "held"


async def test_the_background_worker_sweeps_expired_holds(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    booking_id, _ = await _hold(write_session)
    assert await holds.sweep_expired_holds(write_session, NOW + timedelta(minutes=10)) == 1
    async with read_session() as db:
        assert (await db.get(Booking, booking_id)).status == "expired"
    # A day later the expired hold (it has no personal data) is gone, with its history.
    assert await holds.sweep_expired_holds(write_session, NOW + timedelta(days=1, minutes=11)) == 0
    async with read_session() as db:
        assert await db.get(Booking, booking_id) is None
        assert list(await db.scalars(select(BookingEvent).where(BookingEvent.booking_id == booking_id))) == []


async def test_one_contact_racing_for_many_times_gets_only_the_limit(city, write_session, read_session):  # type: ignore[no-untyped-def]
    """Six requests with the same e-mail address at once, each for another time: the limit of two
    upcoming visits holds under a race too (on PostgreSQL the contact's bookings take turns)."""
    starts = [NINE + timedelta(minutes=20 * n) for n in range(6)]

    async def attempt(start: datetime) -> str:
        try:
            async with write_session() as db, db.begin():
                await services.book(
                    db, office_slug="kista", service_code="eservice", start=start, name="Anna",
                    email="anna@example.se", channel=Channel.WEB, actor="resident", now=NOW, rules=RULES,
                )  # fmt: skip
        except services.BookingError as error:
            return error.kind
        return "booked"

    outcomes = await asyncio.gather(*(attempt(start) for start in starts))
    assert sorted(outcomes) == ["booked"] * 2 + ["limit"] * 4
