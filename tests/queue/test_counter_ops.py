"""What a counter does with tickets: the order it calls them in, transfer, recall, served and
no-show, and the history each change leaves (DESIGN rules 4 and 5). Calling out of turn, cancel and
shifts are in test_counter_calls.py.

Each step runs in a session and transaction of its own, as the requests of the counter page do.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from tests.queue.steps import (
    NOW,
    at,
    book_visit,
    call,
    check_in_visit,
    counter,
    in_transaction,
    issue,
    stored,
    ticket_events,
)

from kontor.audit.models import Channel
from kontor.queue.counter import mark_no_show, mark_served, recall, transfer
from kontor.queue.errors import NotWaiting, NotYourTicket
from kontor.queue.models import TicketEvent
from kontor.queue.views import ticket_by_id

MINUTE = timedelta(minutes=1)


def _staff(city):  # type: ignore[no-untyped-def]
    return city.users["staff"]


# -- the order of calling -----------------------------------------------------------------------

# Two walk-ins of e-services and one of consumer advice arrive 09:30–09:36; visits booked for 10:00 and
# 11:00 check in at 09:50 and 09:52. A booking is due five minutes before its time.
ORDERS = [
    pytest.param(at(15, 9, 54), ["A001", "A002", "C001", "A003", "A004"], id="no-booking-due-yet"),
    pytest.param(at(15, 9, 55), ["A003", "A001", "A002", "C001", "A004"], id="ten-o-clock-due"),
    pytest.param(at(15, 10, 56), ["A003", "A004", "A001", "A002", "C001"], id="both-due"),
]


@pytest.mark.parametrize(("called_at", "expected"), ORDERS)
async def test_due_bookings_go_first_and_bookings_not_yet_due_after_the_walk_ins(
    city, write_session, read_session, called_at, expected
) -> None:  # type: ignore[no-untyped-def]
    await issue(write_session, city, now=at(15, 9, 30))
    await issue(write_session, city, now=at(15, 9, 35))
    await issue(write_session, city, service="consumer", now=at(15, 9, 36))
    ten = await book_visit(write_session, city, at(15, 10))
    eleven = await book_visit(write_session, city, at(15, 11))
    ten_ticket, _token, late = await check_in_visit(write_session, city, ten.id, at(15, 9, 50))
    assert (ten_ticket.code, ten_ticket.kind, late) == ("A003", "booking", False)
    # Early is not late: the 11:00 visit keeps its time and waits for it.
    assert (await check_in_visit(write_session, city, eleven.id, at(15, 9, 52)))[0].code == "A004"

    desk = await counter(read_session, city)
    called = [await call(write_session, city, desk, now=called_at) for _ in range(5)]
    assert [ticket.code for ticket in called] == expected
    assert await call(write_session, city, desk, now=called_at) is None


async def test_walk_ins_by_arrival_across_the_services_the_counter_calls(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    arrivals = [("consumer", 20), ("eservice", 25), ("finnish", 26), ("consumer", 27), ("eservice", 40)]
    for service, minute in arrivals:
        await issue(write_session, city, service=service, now=at(15, 9, minute))
    desk = await counter(read_session, city)
    called = [await call(write_session, city, desk, services=("eservice", "finnish")) for _ in range(4)]
    assert [ticket and ticket.code for ticket in called] == ["A001", "F001", "A002", None]
    # Consumer advice is not this counter's: its tickets wait, in their own order, for another one.
    other = await counter(read_session, city, 2)
    rest = [await call(write_session, city, other, services=("consumer",)) for _ in range(2)]
    assert [ticket.code for ticket in rest if ticket] == ["C001", "C002"]


# -- transfer -----------------------------------------------------------------------------------


async def test_a_transferred_ticket_keeps_its_code_and_its_place_by_arrival(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    c1 = await issue(write_session, city, service="consumer", now=at(15, 9, 20))
    a1 = await issue(write_session, city, now=at(15, 9, 30))
    c2 = await issue(write_session, city, service="consumer", now=at(15, 9, 40))
    first = await counter(read_session, city)
    called = await call(write_session, city, first, services=("eservice",), now=at(15, 9, 45))
    assert called is not None and called.id == a1.id

    moved = await in_transaction(
        write_session,
        lambda db: transfer(
            db, ticket=called, service=city.services["consumer"], now=at(15, 9, 50), actor=_staff(city)
        ),
    )
    assert (moved.code, moved.number, moved.issued_at) == ("A001", 1, at(15, 9, 30))
    assert (moved.status, moved.service_id, moved.service.code) == (
        "waiting",
        city.services["consumer"].id,
        "consumer",
    )
    assert (moved.counter_id, moved.called_at, moved.called_by_id) == (None, None, None)
    # The numbers of both services go on as before: no C001 twice, no gap in the A's.
    assert (await issue(write_session, city, service="consumer", now=at(15, 9, 51))).code == "C003"
    assert (await issue(write_session, city, now=at(15, 9, 52))).code == "A002"

    second = await counter(read_session, city, 2)
    line = [
        await call(write_session, city, second, services=("consumer",), now=at(15, 9, 55)) for _ in range(4)
    ]
    assert [ticket.code for ticket in line if ticket] == ["C001", "A001", "C002", "C003"]
    assert [ticket.id for ticket in line[:3] if ticket] == [c1.id, a1.id, c2.id]

    events = await ticket_events(read_session, a1.id)
    assert [event.action for event in events] == ["issued", "called", "transferred", "called"]
    moved_event = events[2]
    assert (moved_event.channel, moved_event.actor, moved_event.actor_id, moved_event.at) == (
        "counter", "staff", _staff(city).id, at(15, 9, 50),
    )  # fmt: skip
    assert moved_event.changes == {"status": ["called", "waiting"], "service": ["eservice", "consumer"]}


async def test_history_of_a_transfer_made_in_the_handlers_session_says_where_the_ticket_came_from(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    # The counter's handler reads the ticket and transfers it in one session, as here. The event must
    # still record the status the ticket had before (called), not the one the transfer gave it.
    ticket = await issue(write_session, city)
    await call(write_session, city, await counter(read_session, city), now=NOW + MINUTE)

    async def work(db):  # type: ignore[no-untyped-def]
        fresh = await ticket_by_id(db, city.kista, ticket.id)
        return await transfer(
            db, ticket=fresh, service=city.services["consumer"], now=NOW + 2 * MINUTE, actor="staff"
        )

    await in_transaction(write_session, work)
    events = await ticket_events(read_session, ticket.id)
    assert events[-1].changes["status"] == ["called", "waiting"]


async def test_transferring_a_finished_ticket_is_refused(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    desk = await counter(read_session, city)
    await issue(write_session, city)
    called = await call(write_session, city, desk, now=NOW + MINUTE)
    await in_transaction(
        write_session,
        lambda db: mark_served(db, ticket=called, counter=desk, now=NOW + 5 * MINUTE, actor="staff"),
    )
    with pytest.raises(NotWaiting):
        await in_transaction(
            write_session,
            lambda db: transfer(db, ticket=called, service=city.services["consumer"], now=NOW, actor="staff"),
        )
    assert (await stored(read_session, called.id)).service.code == "eservice"


# -- served, no-show, recall --------------------------------------------------------------------


async def test_served_and_no_show_end_the_counters_ticket_and_are_recorded(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    desk = await counter(read_session, city, 2)
    await issue(write_session, city)
    await issue(write_session, city)
    first = await call(write_session, city, desk, now=at(15, 9, 40))
    staff = _staff(city)
    served = await in_transaction(
        write_session,
        lambda db: recall(db, ticket=first, counter=desk, now=at(15, 9, 41), actor=staff),
    )
    assert served.status == "called"
    served = await in_transaction(
        write_session, lambda db: mark_served(db, ticket=first, counter=desk, now=at(15, 9, 52), actor=staff)
    )
    assert (served.status, served.served_at, served.finished_at) == ("served", at(15, 9, 52), at(15, 9, 52))

    second = await call(write_session, city, desk, now=at(15, 9, 53))
    gone = await in_transaction(
        write_session,
        lambda db: mark_no_show(
            db, ticket=second, counter=desk, now=at(15, 9, 58), actor=staff, channel=Channel.API
        ),
    )
    again = await stored(read_session, second.id)
    assert (gone.status, again.status, again.served_at, again.finished_at) == (
        "no_show", "no_show", None, at(15, 9, 58),
    )  # fmt: skip

    history = [
        (e.action, e.channel, e.actor, e.actor_id, e.at, e.changes)
        for e in await ticket_events(read_session, first.id)
    ]
    assert history[2:] == [
        ("recalled", "counter", "staff", staff.id, at(15, 9, 41), {"counter": 2}),
        ("served", "counter", "staff", staff.id, at(15, 9, 52), {"status": ["called", "served"]}),
    ]
    last = (await ticket_events(read_session, second.id))[-1]
    assert (last.action, last.channel, last.actor, last.changes) == (
        "no_show", "api", "staff", {"status": ["called", "no_show"]},
    )  # fmt: skip


ACTIONS = [pytest.param(action, id=action.__name__) for action in (recall, mark_served, mark_no_show)]


@pytest.mark.parametrize("action", ACTIONS)
async def test_only_the_counters_own_called_ticket_can_be_acted_on(
    city, write_session, read_session, action
) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = await counter(read_session, city, 1), await counter(read_session, city, 2)
    await issue(write_session, city)
    elsewhere = await call(write_session, city, theirs, now=NOW + MINUTE)
    await issue(write_session, city)
    finished = await call(write_session, city, mine, now=NOW + MINUTE)
    await in_transaction(
        write_session,
        lambda db: mark_served(db, ticket=finished, counter=mine, now=NOW + 3 * MINUTE, actor="staff"),
    )
    waiting_now = await issue(write_session, city)
    events_before = await _event_count(read_session)

    cases = [
        (elsewhere, NotYourTicket),  # called, but to the other counter
        (waiting_now, NotWaiting),  # nobody called it yet
        (await stored(read_session, finished.id), NotWaiting),  # served already
    ]
    for ticket, refusal in cases:
        with pytest.raises(refusal):
            await in_transaction(
                write_session,
                lambda db, ticket=ticket: action(
                    db, ticket=ticket, counter=mine, now=NOW + 5 * MINUTE, actor="staff"
                ),
            )
    assert (await stored(read_session, elsewhere.id)).status == "called"
    assert (await stored(read_session, waiting_now.id)).status == "waiting"
    assert await _event_count(read_session) == events_before


async def test_a_ticket_finished_meanwhile_is_not_finished_twice(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    desk = await counter(read_session, city)
    await issue(write_session, city)
    seen = await call(write_session, city, desk, now=NOW + MINUTE)
    # Another tab of the same counter marks it served; this one still shows it as called.
    await in_transaction(
        write_session,
        lambda db: mark_served(db, ticket=seen, counter=desk, now=NOW + 4 * MINUTE, actor="staff"),
    )
    with pytest.raises(NotWaiting):
        await in_transaction(
            write_session,
            lambda db: mark_no_show(db, ticket=seen, counter=desk, now=NOW + 5 * MINUTE, actor="staff"),
        )
    after = await stored(read_session, seen.id)
    assert (after.status, after.finished_at) == ("served", NOW + 4 * MINUTE)


async def test_a_ticket_called_meanwhile_to_another_counter_is_not_finished_here(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    # Counter 1 shows the ticket as its own while it is transferred and called to counter 2.
    mine, theirs = await counter(read_session, city, 1), await counter(read_session, city, 2)
    await issue(write_session, city)
    seen = await call(write_session, city, mine, now=NOW + MINUTE)
    await in_transaction(
        write_session,
        lambda db: transfer(
            db, ticket=seen, service=city.services["consumer"], now=NOW + 2 * MINUTE, actor="staff"
        ),
    )
    await call(write_session, city, theirs, services=("consumer",), now=NOW + 3 * MINUTE)
    with pytest.raises((NotYourTicket, NotWaiting)):
        await in_transaction(
            write_session,
            lambda db: mark_served(db, ticket=seen, counter=mine, now=NOW + 4 * MINUTE, actor="staff"),
        )
    after = await stored(read_session, seen.id)
    assert (after.status, after.counter_id) == ("called", theirs.id)


async def _event_count(read_session) -> int:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        return await db.scalar(select(func.count()).select_from(TicketEvent)) or 0
