"""Checking in a booked visit at the desk: on time it queues for its booked time, late it joins as a
walk-in; only a booked visit of today, once; and the visit ends with its ticket (DESIGN rule 5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from tests.queue.steps import (
    NOW,
    at,
    book_visit,
    booking_events,
    call,
    check_in_visit,
    counter,
    in_transaction,
    issue,
    nothing_issued,
    stored,
)

from kontor.audit.models import Channel
from kontor.booking.models import Booking
from kontor.booking.services import cancel
from kontor.queue.checkin import check_in, ticket_of_booking
from kontor.queue.counter import mark_no_show, mark_served
from kontor.queue.errors import CheckInRefused
from kontor.queue.models import Ticket

SECOND = timedelta(seconds=1)


async def _booking(read_session, booking_id: int) -> Booking:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        booking = await db.get(Booking, booking_id)
        assert booking is not None
        return booking


async def test_a_visit_checked_in_on_time_queues_for_its_booked_time(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    await issue(write_session, city)  # a walk-in's A001: bookings number in the same sequence
    visit = await book_visit(write_session, city, at(15, 10), language="fi", needs=["interpreter"])
    ticket, token, late = await check_in_visit(write_session, city, visit.id, at(15, 9, 52))

    assert (ticket.code, ticket.kind, ticket.status, late) == ("A002", "booking", "waiting", False)
    assert (ticket.booked_start, ticket.issued_at, ticket.booking_id) == (at(15, 10), at(15, 9, 52), visit.id)
    assert (ticket.language, ticket.needs_help, ticket.channel) == ("fi", True, "desk")
    assert len(token) >= 32
    assert (await _booking(read_session, visit.id)).status == "checked_in"
    async with read_session() as db:
        assert (await ticket_of_booking(db, visit.id)).id == ticket.id  # type: ignore[union-attr]
    checked = (await booking_events(read_session, visit.id))[-1]
    staff = city.users["staff"]
    assert (checked.action, checked.channel, checked.actor, checked.actor_id, checked.at) == (
        "checked_in",
        "desk",
        "staff",
        staff.id,
        at(15, 9, 52),
    )
    assert checked.changes == {"status": ["booked", "checked_in"], "ticket": "A002", "late": False}


LATENESS = [
    pytest.param(at(15, 9, 0), None, False, id="an-hour-early"),
    pytest.param(at(15, 10, 10), None, False, id="end-of-grace"),
    pytest.param(at(15, 10, 10) + SECOND, None, True, id="just-after-grace"),
    pytest.param(at(15, 11, 30), None, True, id="much-later"),
    pytest.param(at(15, 10, 0), timedelta(0), False, id="no-grace-on-the-minute"),
    pytest.param(at(15, 10, 1), timedelta(0), True, id="no-grace-a-minute-late"),
]


@pytest.mark.parametrize(("arrived", "grace", "expect_late"), LATENESS)
async def test_a_visitor_beyond_the_grace_period_joins_as_a_walk_in(
    city, write_session, read_session, arrived, grace, expect_late
) -> None:  # type: ignore[no-untyped-def]
    visit = await book_visit(write_session, city, at(15, 10))
    extra = {} if grace is None else {"grace": grace}
    ticket, _token, late = await check_in_visit(write_session, city, visit.id, arrived, **extra)

    assert late is expect_late
    expected = ("walk_in", None) if expect_late else ("booking", at(15, 10))
    assert (ticket.kind, ticket.booked_start) == expected
    # Late or not, the ticket belongs to the visit, whose end follows the ticket's.
    assert (ticket.booking_id, ticket.issued_at) == (visit.id, arrived)
    assert (await _booking(read_session, visit.id)).status == "checked_in"
    assert (await booking_events(read_session, visit.id))[-1].changes["late"] is expect_late


async def test_a_visit_is_checked_in_once(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    visit = await book_visit(write_session, city, at(15, 10))
    stale = await _booking(read_session, visit.id)  # what a second desk tablet still shows
    await check_in_visit(write_session, city, visit.id, at(15, 9, 50))

    with pytest.raises(CheckInRefused, match="already checked in"):
        await check_in_visit(write_session, city, visit.id, at(15, 9, 51))
    with pytest.raises(CheckInRefused, match="already checked in"):
        await in_transaction(
            write_session,
            lambda db: check_in(db, booking=stale, now=at(15, 9, 51), actor=city.users["staff"]),
        )
    async with read_session() as db:
        assert list(await db.scalars(select(Ticket.code))) == ["A001"]
    assert [event.action for event in await booking_events(read_session, visit.id)] == [
        "booked",
        "checked_in",
    ]


async def _cancelled(db, booking: Booking) -> None:  # type: ignore[no-untyped-def]
    await cancel(db, booking, channel=Channel.WEB, actor="resident", now=at(14, 12))


async def _over(db, booking: Booking) -> None:  # type: ignore[no-untyped-def]
    await db.execute(update(Booking).where(Booking.id == booking.id).values(status="no_show"))


REFUSALS = [
    pytest.param(at(22, 10), None, "another day", id="next-week"),
    pytest.param(at(15, 10), _cancelled, "cancelled or over", id="cancelled"),
    pytest.param(at(15, 10), _over, "cancelled or over", id="already-over"),
]


@pytest.mark.parametrize(("start", "change", "reason"), REFUSALS)
async def test_only_a_booked_visit_of_today_is_checked_in(
    city, write_session, read_session, start, change, reason
) -> None:  # type: ignore[no-untyped-def]
    visit = await book_visit(write_session, city, start)
    if change is not None:
        await in_transaction(write_session, lambda db: change(db, visit))
    status = (await _booking(read_session, visit.id)).status
    events = len(await booking_events(read_session, visit.id))

    with pytest.raises(CheckInRefused, match=reason):
        await check_in_visit(write_session, city, visit.id, at(15, 9, 50))
    assert (await _booking(read_session, visit.id)).status == status
    assert len(await booking_events(read_session, visit.id)) == events
    assert await nothing_issued(read_session)


ENDINGS = [
    pytest.param(mark_served, "served", id="served"),
    pytest.param(mark_no_show, "no_show", id="no-show"),
]


@pytest.mark.parametrize("late", [False, True], ids=["on-time", "late"])
@pytest.mark.parametrize(("end", "status"), ENDINGS)
async def test_the_visit_ends_with_its_ticket(city, write_session, read_session, end, status, late) -> None:  # type: ignore[no-untyped-def]
    visit = await book_visit(write_session, city, at(15, 10))
    arrival = at(15, 10, 30) if late else at(15, 9, 55)
    ticket, _token, _late = await check_in_visit(write_session, city, visit.id, arrival)
    desk = await counter(read_session, city)
    called = await call(write_session, city, desk, now=arrival + timedelta(minutes=1))
    assert called is not None and called.id == ticket.id

    ended_at = arrival + timedelta(minutes=15)
    staff = city.users["staff"]
    await in_transaction(
        write_session, lambda db: end(db, ticket=called, counter=desk, now=ended_at, actor=staff)
    )
    assert (await stored(read_session, ticket.id)).status == status
    assert (await _booking(read_session, visit.id)).status == status
    last = (await booking_events(read_session, visit.id))[-1]
    assert (last.action, last.channel, last.actor, last.actor_id, last.at) == (
        status,
        "counter",
        "staff",
        staff.id,
        ended_at,
    )
    assert last.changes == {"status": ["checked_in", status], "ticket": ticket.code}


async def test_a_walk_ins_end_touches_no_booking(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    visit = await book_visit(write_session, city, at(15, 10))
    await issue(write_session, city)
    desk = await counter(read_session, city)
    walk_in = await call(write_session, city, desk, now=NOW)
    await in_transaction(
        write_session, lambda db: mark_served(db, ticket=walk_in, counter=desk, now=NOW, actor="staff")
    )
    assert (await _booking(read_session, visit.id)).status == "booked"
    assert [event.action for event in await booking_events(read_session, visit.id)] == ["booked"]
