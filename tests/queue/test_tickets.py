"""Issuing walk-in tickets and calling the next one: codes per office, service and day, hashed
tokens, the order of calling, and the history each change leaves (DESIGN rules 4 and 5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from kontor.accounts.security import hash_token
from kontor.audit.models import Channel
from kontor.offices.models import Counter
from kontor.queue.models import Ticket, TicketEvent, TicketSequence
from kontor.queue.tickets import call_next, issue_ticket, office_day

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 15, 9, 30, tzinfo=STOCKHOLM)


async def _issue(write_session, city, office=None, service="eservice", now=NOW, **extra):  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        ticket, token = await issue_ticket(
            db,
            office=office or city.kista,
            service=city.services[service],
            now=now,
            channel=Channel.DESK,
            actor=city.users["staff"],
            **extra,
        )
        return ticket, token


async def _counter(read_session, city, number: int = 1) -> Counter:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        counter = await db.scalar(
            select(Counter).where(Counter.office_id == city.kista.id, Counter.number == number)
        )
        assert counter is not None
        return counter


async def _call(write_session, city, counter, services=("eservice", "consumer"), now=NOW):  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        return await call_next(
            db,
            office=city.kista,
            counter=counter,
            service_ids=[city.services[code].id for code in services],
            now=now,
            actor=city.users["staff"],
        )


def test_the_ticket_day_is_the_office_local_date(city) -> None:  # type: ignore[no-untyped-def]
    # 23:30 UTC on the 15th is already half past midnight on the 16th in Stockholm.
    assert office_day(city.kista, datetime(2026, 12, 15, 23, 30, tzinfo=UTC)) == date(2026, 12, 16)
    assert office_day(city.kista, datetime(2026, 12, 15, 22, 59, tzinfo=UTC)) == date(2026, 12, 15)


async def test_codes_count_per_office_service_and_day(city, write_session) -> None:  # type: ignore[no-untyped-def]
    codes = [(await _issue(write_session, city))[0].code for _ in range(3)]
    assert codes == ["A001", "A002", "A003"]

    assert (await _issue(write_session, city, service="consumer"))[0].code == "C001"
    assert (await _issue(write_session, city, office=city.tensta))[0].code == "A001"
    assert (await _issue(write_session, city))[0].code == "A004"

    tomorrow = NOW + timedelta(days=1)
    first, _ = await _issue(write_session, city, now=tomorrow)
    assert (first.code, first.number, first.day) == ("A001", 1, date(2026, 12, 16))
    # Just after midnight local time (still the 15th in UTC) is the new day already.
    late = datetime(2026, 12, 15, 23, 10, tzinfo=UTC)
    assert (await _issue(write_session, city, now=late))[0].code == "A002"


async def test_a_ticket_records_what_the_desk_asked_for(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    ticket, _ = await _issue(write_session, city, language="fi", needs_help=True)
    async with read_session() as db:
        stored = await db.get(Ticket, ticket.id)
        assert stored is not None
        assert (stored.status, stored.kind, stored.channel) == ("waiting", "walk_in", "desk")
        assert (stored.language, stored.needs_help) == ("fi", True)
        assert stored.issued_at == NOW
        assert stored.issued_by_id == city.users["staff"].id
        assert stored.office_id == city.kista.id
        assert stored.called_at is None and stored.counter_id is None
        assert stored.service.code == "eservice"
    assert ticket.service.letter == "A"


async def test_numbers_past_999_get_a_fourth_digit(city, write_session) -> None:  # type: ignore[no-untyped-def]
    await _issue(write_session, city)
    async with write_session() as db, db.begin():
        await db.execute(update(TicketSequence).values(last_number=999))
    ticket, _ = await _issue(write_session, city)
    assert (ticket.number, ticket.code) == (1000, "A1000")


async def test_a_rolled_back_ticket_gives_its_number_back(city, write_session) -> None:  # type: ignore[no-untyped-def]
    await _issue(write_session, city)
    with pytest.raises(RuntimeError):
        async with write_session() as db, db.begin():
            ticket, _ = await issue_ticket(
                db,
                office=city.kista,
                service=city.services["eservice"],
                now=NOW,
                channel=Channel.DESK,
                actor="desk",
            )
            assert ticket.code == "A002"
            raise RuntimeError("the printer jammed")
    assert (await _issue(write_session, city))[0].code == "A002"


async def test_tokens_are_unique_and_stored_only_hashed(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    issued = [await _issue(write_session, city) for _ in range(20)]
    tokens = {token for _ticket, token in issued}
    assert len(tokens) == 20
    assert all(len(token) >= 32 for token in tokens)  # 192 random bits, URL-safe
    async with read_session() as db:
        hashes = set(await db.scalars(select(Ticket.token_hash)))
    assert hashes == {hash_token(token) for token in tokens}
    assert not hashes & tokens


async def test_the_database_refuses_a_number_twice(city, write_session) -> None:  # type: ignore[no-untyped-def]
    ticket, _ = await _issue(write_session, city)
    row = {
        "office_id": ticket.office_id, "service_id": ticket.service_id, "day": ticket.day,
        "number": ticket.number, "code": ticket.code, "token_hash": "f" * 64, "status": "waiting",
        "kind": "walk_in", "needs_help": False, "issued_at": NOW, "channel": "desk",
    }  # fmt: skip
    with pytest.raises(IntegrityError):
        async with write_session() as db, db.begin():
            await db.execute(insert(Ticket).values(**row))


async def test_issuing_through_a_channel_tickets_do_not_know_is_refused(city, write_session) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="web"):
        async with write_session() as db, db.begin():
            await issue_ticket(
                db,
                office=city.kista,
                service=city.services["eservice"],
                now=NOW,
                channel=Channel.WEB,
                actor="resident",
            )


async def test_call_next_takes_the_longest_waiting_of_the_counters_services(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    counter = await _counter(read_session, city)
    minute = timedelta(minutes=1)
    # Waited since yesterday or at another office: never called here today.
    await _issue(write_session, city, now=NOW - timedelta(days=1))
    await _issue(write_session, city, office=city.tensta, now=NOW - 5 * minute)
    a1, _ = await _issue(write_session, city, now=NOW)
    c1, _ = await _issue(write_session, city, service="consumer", now=NOW + minute)
    a2, _ = await _issue(write_session, city, now=NOW + 2 * minute)
    f1, _ = await _issue(write_session, city, service="finnish", now=NOW - minute)

    later = NOW + 10 * minute
    called = [await _call(write_session, city, counter, now=later) for _ in range(3)]
    assert [t.code for t in called] == [a1.code, c1.code, a2.code]
    assert await _call(write_session, city, counter, now=later) is None
    # The Finnish ticket waited longest, but this counter does not serve Finnish.
    finnish = await _call(write_session, city, counter, services=("finnish",), now=later)
    assert finnish is not None and finnish.id == f1.id
    assert await _call(write_session, city, counter, services=(), now=later) is None

    first = called[0]
    assert (first.status, first.counter_id, first.called_at) == ("called", counter.id, later)
    assert first.called_by_id == city.users["staff"].id
    assert first.counter is not None and first.counter.number == 1
    async with read_session() as db:
        waiting = await db.scalars(select(Ticket.code).where(Ticket.status == "waiting").order_by(Ticket.id))
        assert list(waiting) == ["A001", "A001"]  # yesterday's at Kista, and Tensta's


async def test_ties_in_arrival_go_by_issue_order(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    counter = await _counter(read_session, city)
    first, _ = await _issue(write_session, city, service="consumer")
    second, _ = await _issue(write_session, city)
    assert first.issued_at == second.issued_at
    assert [(await _call(write_session, city, counter)).id for _ in range(2)] == [first.id, second.id]


async def test_issuing_and_calling_leave_events(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    counter = await _counter(read_session, city, 2)
    ticket, _ = await _issue(write_session, city)
    called_at = NOW + timedelta(minutes=3)
    await _call(write_session, city, counter, now=called_at)
    async with read_session() as db:
        events = list(
            await db.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
            )
        )
    staff = city.users["staff"]
    assert [(e.action, e.channel, e.actor, e.actor_id, e.at) for e in events] == [
        ("issued", "desk", "staff", staff.id, NOW),
        ("called", "counter", "staff", staff.id, called_at),
    ]
    assert events[0].changes == {
        "status": "waiting",
        "service": "eservice",
        "code": "A001",
        "kind": "walk_in",
    }
    assert events[1].changes == {"status": ["waiting", "called"], "counter": 2}
