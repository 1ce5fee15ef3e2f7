"""Day's end: waiting tickets close at the office's closing time, called ones when the day is over,
earlier days' in any case; yesterday's shifts end and numbers start again (DESIGN rules 4 and 5)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from tests.queue.steps import at, call, counter, in_transaction, issue, stored, ticket_events

from kontor.queue.counter import mark_served, open_shift
from kontor.queue.dayend import close_all_days, close_day, closing_time
from kontor.queue.models import CounterShift, Ticket

CLOSING_TIMES = [
    pytest.param("kista", at(15, 9, 30), at(15, 17), id="tuesday"),
    pytest.param("kista", at(16, 8), at(16, 19), id="wednesday-evening-hours"),
    pytest.param("kista", at(18, 16), at(18, 15), id="friday-after-closing"),
    pytest.param("tensta", at(15, 9, 30), at(15, 16), id="another-office"),
    # No opening at all: the day's start, so whatever waits that day is closed at once.
    pytest.param("kista", at(20, 11), at(20, 0), id="sunday"),
    pytest.param("kista", at(24, 11), at(24, 0), id="christmas-eve"),
    pytest.param("bromma", at(29, 11), at(29, 0), id="closure"),
]


@pytest.mark.parametrize(("slug", "now", "expected"), CLOSING_TIMES)
async def test_closing_time_is_the_end_of_the_days_last_opening(
    city, read_session, slug, now, expected
) -> None:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        assert await closing_time(db, getattr(city, slug), now) == expected


async def _close(write_session, city, now, office=None) -> int:  # type: ignore[no-untyped-def]
    return await in_transaction(write_session, lambda db: close_day(db, office=office or city.kista, now=now))


async def _statuses(read_session, *tickets: Ticket) -> list[str]:  # type: ignore[no-untyped-def]
    return [(await stored(read_session, ticket.id)).status for ticket in tickets]


async def test_waiting_tickets_close_at_closing_time_and_called_ones_when_the_day_is_over(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    desk = await counter(read_session, city)
    # Monday's: one left waiting, one left called at the counter.
    await issue(write_session, city, now=at(14, 16, 40))
    old_called = await call(write_session, city, desk, now=at(14, 16, 45))
    old_waiting = await issue(write_session, city, now=at(14, 16, 50))
    # Tuesday's: one served, one called, one waiting.
    await issue(write_session, city, now=at(15, 16))
    served = await call(write_session, city, desk, now=at(15, 16, 5))
    await in_transaction(
        write_session,
        lambda db: mark_served(db, ticket=served, counter=desk, now=at(15, 16, 20), actor="staff"),
    )
    await issue(write_session, city, now=at(15, 16, 30))
    called = await call(write_session, city, desk, now=at(15, 16, 40))
    waiting = await issue(write_session, city, now=at(15, 16, 50))
    tensta = await issue(write_session, city, office=city.tensta, now=at(14, 12))
    today = (served, called, waiting)

    # Before closing only the earlier day is cleared up.
    assert await _close(write_session, city, at(15, 16, 59)) == 2
    assert await _statuses(read_session, old_called, old_waiting) == ["closed", "closed"]
    assert await _statuses(read_session, *today) == ["served", "called", "waiting"]
    # At closing the waiting go; the one at the counter is still being served.
    assert await _close(write_session, city, at(15, 17)) == 1
    assert await _statuses(read_session, *today) == ["served", "called", "closed"]
    assert await _close(write_session, city, at(15, 23, 59)) == 0
    assert await _statuses(read_session, *today) == ["served", "called", "closed"]
    # Once the day is over nothing of it stays open.
    assert await _close(write_session, city, at(16, 0, 5)) == 1
    assert await _statuses(read_session, *today) == ["served", "closed", "closed"]
    # Another office's tickets are that office's business.
    assert await _statuses(read_session, tensta) == ["waiting"]

    closed_waiting = await stored(read_session, waiting.id)
    assert (closed_waiting.finished_at, closed_waiting.served_at) == (at(15, 17), None)
    assert (await stored(read_session, called.id)).finished_at == at(16, 0, 5)
    assert (await stored(read_session, served.id)).finished_at == at(15, 16, 20)
    for ticket, before, when in ((waiting, "waiting", at(15, 17)), (old_called, "called", at(15, 16, 59))):
        last = (await ticket_events(read_session, ticket.id))[-1]
        assert (last.action, last.channel, last.actor, last.actor_id, last.at, last.changes) == (
            "closed",
            "system",
            "system",
            None,
            when,
            {"status": [before, "closed"]},
        )
    # Nothing closes twice: every closed ticket has one "closed" event.
    for ticket in (old_called, old_waiting, called, waiting):
        actions = [event.action for event in await ticket_events(read_session, ticket.id)]
        assert actions.count("closed") == 1


async def test_on_a_day_the_office_does_not_open_waiting_tickets_close_at_once(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    sunday = await issue(write_session, city, now=at(20, 11))
    assert await _close(write_session, city, at(20, 11, 5)) == 1
    assert await _statuses(read_session, sunday) == ["closed"]


async def test_numbers_start_again_the_next_day(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    codes = [(await issue(write_session, city, now=at(15, 16, minute))).code for minute in (1, 2)]
    await _close(write_session, city, at(15, 17))
    tomorrow = await issue(write_session, city, now=at(16, 9))
    assert [*codes, tomorrow.code] == ["A001", "A002", "A001"]
    assert tomorrow.day.isoformat() == "2026-12-16"


async def test_shifts_of_earlier_days_end(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    one, two = await counter(read_session, city, 1), await counter(read_session, city, 2)
    tensta_desk = await counter(read_session, city, office=city.tensta)
    for office, desk, when in (
        (city.kista, two, at(14, 9)),
        (city.kista, one, at(15, 9)),
        (city.tensta, tensta_desk, at(14, 10)),
    ):
        await in_transaction(
            write_session,
            lambda db, office=office, desk=desk, when=when: open_shift(
                db, office=office, counter=desk, user=None, service_ids=[], now=when
            ),
        )
    await _close(write_session, city, at(15, 9, 30))
    async with read_session() as db:
        left = set(await db.scalars(select(CounterShift.counter_id)))
    assert left == {one.id, tensta_desk.id}


async def test_the_worker_ends_the_day_of_every_office(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    # At 16:30 on Tuesday Tensta and Bromma (16:00) have closed, Kista (17:00) has not.
    kista = await issue(write_session, city, now=at(15, 16, 10))
    kista_monday = await issue(write_session, city, now=at(14, 16, 10))
    tensta = await issue(write_session, city, office=city.tensta, now=at(15, 15, 50))
    bromma = await issue(write_session, city, office=city.bromma, now=at(15, 15, 55))

    assert await close_all_days(write_session, at(15, 16, 30)) == 3
    assert await _statuses(read_session, kista, kista_monday, tensta, bromma) == [
        "waiting",
        "closed",
        "closed",
        "closed",
    ]
    assert await close_all_days(write_session, at(15, 17)) == 1
    assert await close_all_days(write_session, at(15, 17, 1)) == 0
    assert await _statuses(read_session, kista) == ["closed"]
    last = (await ticket_events(read_session, tensta.id))[-1]
    assert (last.action, last.channel, last.at) == ("closed", "system", at(15, 16, 30))


async def test_workers_racing_record_each_closed_ticket_once(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    """Several instances run day's end at the same moment: the tickets close once, with one event each."""
    left = [await issue(write_session, city, now=at(14, 16, minute)) for minute in (10, 20, 30, 40, 50)]

    counts = await asyncio.gather(*(close_all_days(write_session, at(15, 9)) for _ in range(3)))

    assert sum(counts) == len(left)
    assert await _statuses(read_session, *left) == ["closed"] * len(left)
    for ticket in left:
        actions = [event.action for event in await ticket_events(read_session, ticket.id)]
        assert actions.count("closed") == 1, actions
