"""The queue as pages show it: the board of an office (waiting per service, the wait for a newcomer
from recent service times, the latest calls), a ticket's place and wait, and the counters' line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from tests.queue.steps import (
    at,
    book_visit,
    call,
    check_in_visit,
    counter,
    in_transaction,
    issue,
    office,
)

from kontor.audit.models import Channel
from kontor.offices.models import Counter, OfficeService
from kontor.queue.counter import call_ticket, mark_served, open_shift
from kontor.queue.rules import WaitRange
from kontor.queue.tickets import issue_ticket
from kontor.queue.views import (
    counters_serving,
    queue_snapshot,
    recent_service_minutes,
    ticket_by_token,
    ticket_view,
    waiting_line,
    walk_in_services,
)

NOW = at(15, 11)


def _ids(city, *codes: str) -> list[int]:  # type: ignore[no-untyped-def]
    return [city.services[code].id for code in codes]


async def _serve(
    write_session, city, desk: Counter, called_at, minutes: float, service="eservice", where=None
):  # type: ignore[no-untyped-def]
    """One resident served at ``desk``: called at ``called_at``, served ``minutes`` later."""
    where = where or city.kista
    ticket = await issue(
        write_session, city, service=service, now=called_at - timedelta(minutes=1), office=where
    )

    async def work(db):  # type: ignore[no-untyped-def]
        called = await call_ticket(
            db, office=where, counter=desk, ticket_id=ticket.id, now=called_at, actor="staff"
        )
        done = called_at + timedelta(minutes=minutes)
        return await mark_served(db, ticket=called, counter=desk, now=done, actor="staff")

    return await in_transaction(write_session, work)


async def _shift(write_session, city, desk: Counter, *codes: str, now=NOW) -> None:  # type: ignore[no-untyped-def]
    await in_transaction(
        write_session,
        lambda db: open_shift(
            db, office=city.kista, counter=desk, user=None, service_ids=_ids(city, *codes), now=now
        ),
    )


async def _snapshot(read_session, slug: str = "kista", now=NOW):  # type: ignore[no-untyped-def]
    async with read_session() as db:
        return await queue_snapshot(db, await office(db, slug), now)


async def test_walk_in_services_follow_the_offices_offerings(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        shown = {
            slug: [s.code for s in walk_in_services(await office(db, slug))]
            for slug in ("kista", "tensta", "bromma")
        }
    # Budget advice is booked only; Bromma does not offer consumer advice.
    assert shown == {
        "kista": ["eservice", "consumer", "finnish"],
        "tensta": ["eservice", "consumer"],
        "bromma": ["eservice"],
    }
    await in_transaction(
        write_session,
        lambda db: db.execute(
            update(OfficeService)
            .where(
                OfficeService.office_id == city.kista.id,
                OfficeService.service_id == city.services["finnish"].id,
            )
            .values(walk_in=False)
        ),
    )
    async with read_session() as db:
        assert [s.code for s in walk_in_services(await office(db))] == ["eservice", "consumer"]


async def test_the_board_counts_waiting_estimates_from_service_times_and_lists_calls(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    one, two = await counter(read_session, city, 1), await counter(read_session, city, 2)
    # Three e-service visits this morning took ten minutes each; Tensta's slow ones do not count here.
    for minute in (5, 15, 25):
        await _serve(write_session, city, one, at(15, 9, minute), 10)
    tensta_desk = await counter(read_session, city, office=city.tensta)
    for minute in (5, 15, 25):
        await _serve(write_session, city, tensta_desk, at(15, 10, minute), 60, where=city.tensta)
    await _shift(write_session, city, one, "eservice", "consumer")
    await _shift(write_session, city, two, "eservice")
    for minute in range(5):
        await issue(write_session, city, now=at(15, 10, minute))
    await issue(write_session, city, service="consumer", now=at(15, 10, 10))
    await issue(write_session, city, now=at(14, 16))  # yesterday's, long gone
    current = await call(write_session, city, two, services=("eservice",), now=at(15, 10, 40))
    assert current is not None and current.code == "A004"

    board = await _snapshot(read_session)
    assert board.is_open and board.now == NOW
    assert [(line.service.code, line.waiting, line.counters, line.wait) for line in board.lines] == [
        # Four ahead of a newcomer, two counters, ten minutes each: 20 minutes.
        ("eservice", 4, 2, WaitRange(20, 20, 20)),
        # No service times yet: the planned 30 minutes for the one ahead, at the one counter.
        ("consumer", 1, 1, WaitRange(30, 30, 30)),
        ("finnish", 0, 0, WaitRange(0, 0, 0)),
    ]
    assert board.waiting == 5
    assert [(c.code, c.counter_number, c.counter_name, c.called_at, c.current) for c in board.called] == [
        ("A004", 2, "Lucka 2", at(15, 10, 40), True),
        ("A003", 1, "Lucka 1", at(15, 9, 25), False),
        ("A002", 1, "Lucka 1", at(15, 9, 15), False),
        ("A001", 1, "Lucka 1", at(15, 9, 5), False),
    ]
    assert board.called[0].service.code == "eservice"
    # The next day starts with an empty board (and the shifts of today count for nothing).
    tomorrow = await _snapshot(read_session, now=at(16, 9, 30))
    assert tomorrow.called == [] and tomorrow.waiting == 0
    assert [line.counters for line in tomorrow.lines] == [0, 0, 0]


SAMPLES = [
    pytest.param([10, 10, 10], WaitRange(20, 20, 20), id="three-alike"),
    pytest.param([6, 8, 10, 12, 14], WaitRange(16, 24, 20), id="quartiles-make-the-range"),
    pytest.param([10, 10], WaitRange(40, 40, 40), id="too-few-use-the-planned-20"),
]


@pytest.mark.parametrize(("minutes", "expected"), SAMPLES)
async def test_the_estimate_uses_the_offices_recent_service_times(
    city, write_session, read_session, minutes, expected
) -> None:  # type: ignore[no-untyped-def]
    one, two = await counter(read_session, city, 1), await counter(read_session, city, 2)
    for number, length in enumerate(minutes):
        await _serve(write_session, city, one, at(15, 9, 10 * number), length)
    # Served long ago: says nothing about today's service.
    for _ in range(3):
        await _serve(write_session, city, one, at(10, 10, month=11), 90)
    await _shift(write_session, city, one, "eservice")
    await _shift(write_session, city, two, "eservice")
    for minute in range(4):
        await issue(write_session, city, now=at(15, 10, minute))

    async with read_session() as db:
        samples = await recent_service_minutes(db, city.kista, NOW)
        assert sorted(samples[city.services["eservice"].id]) == sorted(minutes)
        assert (await counters_serving(db, city.kista, NOW))[city.services["eservice"].id] == 2
    eservice = (await _snapshot(read_session)).lines[0]
    assert (eservice.waiting, eservice.wait) == (4, expected)


async def test_a_service_without_walk_ins_shows_while_someone_waits_for_it(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    visit = await book_visit(write_session, city, at(15, 10, 30), service="budget")
    await check_in_visit(write_session, city, visit.id, at(15, 10, 25))
    lines = (await _snapshot(read_session)).lines
    assert [(line.service.code, line.waiting) for line in lines] == [
        ("eservice", 0),
        ("consumer", 0),
        ("finnish", 0),
        ("budget", 1),
    ]
    assert lines[-1].wait == WaitRange(45, 45, 45)  # one ahead of a newcomer, the planned 45 minutes


async def _issue_with_token(write_session, city, service: str, now, where=None):  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        return await issue_ticket(
            db,
            office=where or city.kista,
            service=city.services[service],
            now=now,
            channel=Channel.API,
            actor="telephony",
        )


async def _view(read_session, token: str, now=NOW):  # type: ignore[no-untyped-def]
    async with read_session() as db:
        ticket = await ticket_by_token(db, token)
        assert ticket is not None
        return await ticket_view(db, ticket, now)


async def test_a_ticket_shows_its_place_and_wait_and_then_its_counter(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    one, two = await counter(read_session, city, 1), await counter(read_session, city, 2)
    for minute in (5, 15, 25):
        await _serve(write_session, city, one, at(15, 9, minute), 10)
    await _shift(write_session, city, one, "eservice")
    await _shift(write_session, city, two, "eservice")
    issued = [
        await _issue_with_token(write_session, city, "eservice", at(15, 10, minute)) for minute in range(3)
    ]
    _consumer, consumer_token = await _issue_with_token(write_session, city, "consumer", at(15, 9, 59))
    _old, old_token = await _issue_with_token(write_session, city, "eservice", at(14, 16))

    third = await _view(read_session, issued[2][1])
    assert (third.position, third.wait, third.counter) == (3, WaitRange(10, 10, 10), None)
    # Another service's line does not count, however early its ticket came.
    first_consumer = await _view(read_session, consumer_token)
    assert (first_consumer.position, first_consumer.wait) == (1, WaitRange(0, 0, 0))

    called = await call(write_session, city, two, services=("eservice",), now=at(15, 10, 30))
    assert called is not None and called.id == issued[0][0].id
    at_counter = await _view(read_session, issued[0][1])
    assert (at_counter.position, at_counter.wait) == (None, None)
    assert at_counter.counter is not None and at_counter.counter.number == 2
    assert (await _view(read_session, issued[2][1])).position == 2

    await in_transaction(
        write_session,
        lambda db: mark_served(db, ticket=called, counter=two, now=at(15, 10, 45), actor="staff"),
    )
    served = await _view(read_session, issued[0][1])
    assert (served.ticket.status, served.position, served.counter) == ("served", None, None)
    # Yesterday's ticket waits no more, whatever its status says.
    stale = await _view(read_session, old_token)
    assert (stale.position, stale.wait, stale.counter) == (None, None, None)


async def test_a_ticket_is_found_by_its_token_only(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    ticket, token = await _issue_with_token(write_session, city, "eservice", NOW)
    async with read_session() as db:
        assert (await ticket_by_token(db, token)).id == ticket.id  # type: ignore[union-attr]
        for wrong in ("", token[:-1], token + "x", "x" * 201, ticket.token_hash):
            assert await ticket_by_token(db, wrong) is None


LINES = [
    pytest.param(
        at(15, 9, 56),
        [("A003", True), ("A001", False), ("A002", False), ("C001", False), ("A004", False)],
        id="ten-due",
    ),
    pytest.param(
        at(15, 10, 56),
        [("A003", True), ("A004", True), ("A001", False), ("A002", False), ("C001", False)],
        id="both-due",
    ),
]


@pytest.mark.parametrize(("now", "expected"), LINES)
async def test_the_counters_line_is_in_calling_order_and_says_which_bookings_are_due(
    city, write_session, read_session, now, expected
) -> None:  # type: ignore[no-untyped-def]
    for service, minute in (("eservice", 30), ("eservice", 35), ("consumer", 36)):
        await issue(write_session, city, service=service, now=at(15, 9, minute))
    for start, arrival in ((at(15, 10), at(15, 9, 50)), (at(15, 11), at(15, 9, 52))):
        visit = await book_visit(write_session, city, start)
        await check_in_visit(write_session, city, visit.id, arrival)
    # Called already: no longer in the line.
    await issue(write_session, city, service="finnish", now=at(15, 9, 20))
    await call(
        write_session, city, await counter(read_session, city), services=("finnish",), now=at(15, 9, 25)
    )

    async with read_session() as db:
        kista = await office(db)
        line = await waiting_line(db, kista, now)
        consumer_only = await waiting_line(db, kista, now, _ids(city, "consumer"))
        assert await waiting_line(db, kista, now, _ids(city, "finnish")) == []
    assert [(entry.ticket.code, entry.due) for entry in line] == expected
    assert [entry.position for entry in line] == [1, 2, 3, 4, 5]
    waited = {entry.ticket.code: entry.waited_minutes for entry in line}
    minutes = int((now - at(15, 9, 30)).total_seconds() // 60)
    assert (waited["A001"], waited["A003"]) == (minutes, minutes - 20)
    assert [(entry.ticket.code, entry.position, entry.due) for entry in consumer_only] == [("C001", 1, False)]
