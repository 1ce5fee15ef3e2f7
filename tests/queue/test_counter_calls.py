"""A counter's shift, calling one ticket out of turn (also by ten counters at once), cancelling a
ticket, and the alarm; each step in a session and transaction of its own, as separate requests."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from tests.queue.steps import NOW, call, counter, in_transaction, issue, stored, ticket_events

from kontor.audit.models import AuditEntry
from kontor.offices.models import Counter
from kontor.queue.counter import (
    call_ticket,
    cancel_ticket,
    close_shift,
    open_shift,
    raise_alarm,
    services_of,
    shifts_today,
)
from kontor.queue.errors import NotWaiting
from kontor.queue.models import CounterShift, Ticket
from kontor.queue.views import ticket_by_id

MINUTE = timedelta(minutes=1)


def _staff(city):  # type: ignore[no-untyped-def]
    return city.users["staff"]


def _ids(city, *codes: str) -> list[int]:  # type: ignore[no-untyped-def]
    return [city.services[code].id for code in codes]


# -- calling one ticket, cancelling -------------------------------------------------------------


async def test_a_ticket_called_out_of_turn_is_the_counters(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = await counter(read_session, city, 1), await counter(read_session, city, 2)
    await issue(write_session, city)
    later = await issue(write_session, city, service="consumer", now=NOW + MINUTE)

    def call_it(desk, ticket_id: int, office=None):  # type: ignore[no-untyped-def]
        return lambda db: call_ticket(
            db,
            office=office or city.kista,
            counter=desk,
            ticket_id=ticket_id,
            now=NOW + 2 * MINUTE,
            actor=_staff(city),
        )

    called = await in_transaction(write_session, call_it(mine, later.id))
    assert (called.status, called.counter_id, called.called_at, called.called_by_id) == (
        "called", mine.id, NOW + 2 * MINUTE, _staff(city).id,
    )  # fmt: skip
    event = (await ticket_events(read_session, later.id))[-1]
    assert (event.action, event.channel, event.changes) == (
        "called", "counter", {"status": ["waiting", "called"], "counter": 1, "out_of_turn": True},
    )  # fmt: skip

    with pytest.raises(NotWaiting):  # already called, by counter 1
        await in_transaction(write_session, call_it(theirs, later.id))
    tensta = await issue(write_session, city, office=city.tensta)
    with pytest.raises(NotWaiting):  # another office's ticket
        await in_transaction(write_session, call_it(theirs, tensta.id))
    with pytest.raises(NotWaiting):  # no such ticket
        await in_transaction(write_session, call_it(theirs, 10**6))
    assert (await stored(read_session, later.id)).counter_id == mine.id
    assert (await stored(read_session, tensta.id)).status == "waiting"


async def test_cancel_takes_a_waiting_or_called_ticket_out_of_the_queue(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    desk = await counter(read_session, city)
    called = await issue(write_session, city)
    waiting = await issue(write_session, city)
    await call(write_session, city, desk, now=NOW + MINUTE)

    for ticket in (waiting, called):
        cancelled = await in_transaction(
            write_session,
            lambda db, t=ticket: cancel_ticket(db, ticket=t, now=NOW + 2 * MINUTE, actor=_staff(city)),
        )
        assert (cancelled.status, cancelled.finished_at, cancelled.served_at) == (
            "cancelled",
            NOW + 2 * MINUTE,
            None,
        )
    event = (await ticket_events(read_session, waiting.id))[-1]
    assert (event.action, event.channel, event.actor, event.at) == (
        "cancelled",
        "desk",
        "staff",
        NOW + 2 * MINUTE,
    )
    assert event.changes == {"status": ["waiting", "cancelled"]}

    with pytest.raises(NotWaiting):
        await in_transaction(
            write_session, lambda db: cancel_ticket(db, ticket=waiting, now=NOW, actor="staff")
        )
    assert await call(write_session, city, desk, now=NOW + 3 * MINUTE) is None
    async with read_session() as db:
        assert set(await db.scalars(select(Ticket.status))) == {"cancelled"}


async def test_history_of_a_cancel_made_in_the_handlers_session_says_what_was_cancelled(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    ticket = await issue(write_session, city)

    async def work(db):  # type: ignore[no-untyped-def]
        fresh = await ticket_by_id(db, city.kista, ticket.id)
        return await cancel_ticket(db, ticket=fresh, now=NOW + MINUTE, actor="desk")

    await in_transaction(write_session, work)
    assert (await ticket_events(read_session, ticket.id))[-1].changes == {"status": ["waiting", "cancelled"]}


async def test_ten_counters_calling_the_same_ticket_at_once_only_one_gets_it(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    async def more_counters(db):  # type: ignore[no-untyped-def]
        db.add_all(Counter(office_id=city.kista.id, number=n, name=f"Lucka {n}") for n in range(3, 11))
        await db.flush()
        return list(await db.scalars(select(Counter).where(Counter.office_id == city.kista.id)))

    counters = await in_transaction(write_session, more_counters)
    assert len(counters) == 10
    ticket = await issue(write_session, city)

    async def press(desk: Counter) -> Ticket:
        async with write_session() as db, db.begin():
            return await call_ticket(
                db, office=city.kista, counter=desk, ticket_id=ticket.id, now=NOW + MINUTE, actor=_staff(city)
            )

    results = await asyncio.gather(*(press(desk) for desk in counters), return_exceptions=True)
    winners = [result for result in results if isinstance(result, Ticket)]
    assert len(winners) == 1
    assert all(isinstance(result, NotWaiting) for result in results if result is not winners[0])
    after = await stored(read_session, ticket.id)
    assert (after.status, after.counter_id) == ("called", winners[0].counter_id)
    calls = [event for event in await ticket_events(read_session, ticket.id) if event.action == "called"]
    assert len(calls) == 1


# -- shifts and the alarm -----------------------------------------------------------------------


async def test_opening_a_shift_replaces_the_counters_previous_one(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    desk = await counter(read_session, city)
    staff, manager = city.users["staff"], city.users["manager"]
    first = await in_transaction(
        write_session,
        lambda db: open_shift(
            db,
            office=city.kista,
            counter=desk,
            user=staff,
            service_ids=_ids(city, "consumer", "eservice", "consumer"),
            now=NOW,
        ),
    )
    assert first.service_ids == sorted(_ids(city, "eservice", "consumer"))
    assert (first.user_id, first.day, first.started_at) == (staff.id, date(2026, 12, 15), NOW)

    later = NOW + timedelta(hours=2)
    await in_transaction(
        write_session,
        lambda db: open_shift(
            db, office=city.kista, counter=desk, user=manager, service_ids=_ids(city, "finnish"), now=later
        ),
    )
    async with read_session() as db:
        shifts = list(await db.scalars(select(CounterShift)))
    assert [(s.counter_id, s.user_id, s.service_ids, s.started_at) for s in shifts] == [
        (desk.id, manager.id, _ids(city, "finnish"), later)
    ]
    # The shift's services are what "next" calls; without a shift the counter page's choice counts.
    assert services_of(shifts[0], [1, 2]) == _ids(city, "finnish")
    assert services_of(None, [1, 2]) == [1, 2]

    await in_transaction(write_session, lambda db: close_shift(db, counter=desk, now=later, actor=manager))
    async with read_session() as db:
        assert await db.scalar(select(func.count()).select_from(CounterShift)) == 0


async def test_a_shift_is_opened_only_at_the_counters_own_office(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    tensta_desk = await counter(read_session, city, office=city.tensta)
    with pytest.raises(ValueError, match="another office"):
        await in_transaction(
            write_session,
            lambda db: open_shift(
                db, office=city.kista, counter=tensta_desk, user=None, service_ids=[], now=NOW
            ),
        )


async def test_todays_shifts_leave_out_yesterdays_and_other_offices(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    one, two = await counter(read_session, city, 1), await counter(read_session, city, 2)
    tensta_desk = await counter(read_session, city, office=city.tensta)
    yesterday = NOW - timedelta(days=1)
    for office, desk, when in (
        (city.kista, two, yesterday),
        (city.kista, one, NOW),
        (city.tensta, tensta_desk, NOW),
    ):
        await in_transaction(
            write_session,
            lambda db, office=office, desk=desk, when=when: open_shift(
                db, office=office, counter=desk, user=None, service_ids=_ids(city, "eservice"), now=when
            ),
        )
    async with read_session() as db:
        assert [shift.counter_id for shift in await shifts_today(db, city.kista, NOW)] == [one.id]
        assert [shift.counter_id for shift in await shifts_today(db, city.kista, yesterday)] == [two.id]


async def test_the_alarm_is_kept_in_the_audit_log(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    desk = await counter(read_session, city, 2)
    staff = _staff(city)
    await in_transaction(
        write_session, lambda db: raise_alarm(db, office=city.kista, counter=desk, user=staff, now=NOW)
    )
    await in_transaction(
        write_session, lambda db: raise_alarm(db, office=city.kista, counter=None, user=staff, now=NOW)
    )
    async with read_session() as db:
        entries = list(await db.scalars(select(AuditEntry).where(AuditEntry.action == "alarm")))
    assert [(e.actor, e.actor_id, e.channel, e.entity, e.office_id, e.changes, e.at) for e in entries] == [
        ("staff", staff.id, "counter", "office", city.kista.id, {"counter": 2}, NOW),
        ("staff", staff.id, "counter", "office", city.kista.id, {"counter": None}, NOW),
    ]


async def test_a_ticket_left_called_at_a_closed_counter_waits_again_in_its_place(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    desk = await counter(read_session, city)
    first = await issue(write_session, city)
    second = await issue(write_session, city, now=NOW + timedelta(minutes=1))
    called = await call(write_session, city, desk, now=NOW + timedelta(minutes=2))
    assert called is not None and called.id == first.id

    later = NOW + timedelta(minutes=3)
    await in_transaction(
        write_session, lambda db: close_shift(db, counter=desk, now=later, actor=_staff(city))
    )
    back = await stored(read_session, first.id)
    assert (back.status, back.counter_id, back.called_at) == ("waiting", None, None)
    events = await ticket_events(read_session, first.id)
    assert (events[-1].action, events[-1].changes, events[-1].at) == (
        "returned",
        {"status": ["called", "waiting"], "counter": desk.number},
        later,
    )
    # It kept its arrival, so the next counter calls it before the later ticket.
    other = await counter(read_session, city, 2)
    again = await call(write_session, city, other, now=later)
    assert again is not None and again.id == first.id != second.id
