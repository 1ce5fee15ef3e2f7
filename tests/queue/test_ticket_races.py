"""Rule 4 under load: many front-desk tablets issuing at once never duplicate or skip a number, and
many counters pressing "next" at once never call the same ticket twice, on SQLite and PostgreSQL.

Every issue and every call runs in a session and transaction of its own, as separate requests (or
app instances) would.
"""

from __future__ import annotations

import asyncio
from collections import Counter as Tally
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from kontor.audit.models import Channel
from kontor.offices.models import Counter
from kontor.queue.models import Ticket, TicketEvent, TicketSequence
from kontor.queue.tickets import call_next, issue_ticket

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 15, 10, 0, tzinfo=STOCKHOLM)
CLIENTS = 20
TICKETS = 500
COUNTERS = 10
ROUNDS = 5


async def _issue_one(write_session, city, now: datetime) -> Ticket:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        ticket, _token = await issue_ticket(
            db,
            office=city.kista,
            service=city.services["eservice"],
            now=now,
            channel=Channel.DESK,
            actor="desk",
        )
        return ticket


async def _client(write_session, city, share: int) -> list[Ticket]:  # type: ignore[no-untyped-def]
    return [await _issue_one(write_session, city, NOW) for _ in range(share)]


async def test_twenty_clients_issue_five_hundred_numbers_without_gaps_or_twins(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    shares = await asyncio.gather(*(_client(write_session, city, TICKETS // CLIENTS) for _ in range(CLIENTS)))

    numbers = sorted(ticket.number for share in shares for ticket in share)
    assert numbers == list(range(1, TICKETS + 1))
    async with read_session() as db:
        stored = list(
            await db.scalars(select(Ticket.code).where(Ticket.service_id == city.services["eservice"].id))
        )
        last = await db.scalar(select(TicketSequence.last_number))
    assert sorted(stored) == [f"A{n:03d}" for n in range(1, TICKETS + 1)]
    assert last == TICKETS


async def _counters(write_session, city) -> list[Counter]:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        db.add_all(
            Counter(office_id=city.kista.id, number=n, name=f"Lucka {n}") for n in range(3, COUNTERS + 1)
        )
        await db.flush()
        counters = await db.scalars(
            select(Counter).where(Counter.office_id == city.kista.id).order_by(Counter.number)
        )
        return list(counters)


async def _press_next(write_session, city, counter: Counter, now: datetime) -> Ticket | None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        return await call_next(
            db,
            office=city.kista,
            counter=counter,
            service_ids=[city.services["eservice"].id, city.services["consumer"].id],
            now=now,
            actor=city.users["staff"],
        )


async def test_ten_counters_pressing_next_at_once_never_share_a_ticket(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    counters = await _counters(write_session, city)
    assert len(counters) == COUNTERS

    for round_ in range(ROUNDS):
        now = NOW + timedelta(minutes=round_)
        waiting = [await _issue_one(write_session, city, now) for _ in range(COUNTERS)]
        called = await asyncio.gather(
            *(_press_next(write_session, city, counter, now) for counter in counters)
        )

        assert all(ticket is not None for ticket in called)
        assert sorted(ticket.id for ticket in called) == sorted(ticket.id for ticket in waiting)
        assert sorted(ticket.counter_id for ticket in called) == sorted(counter.id for counter in counters)
        # No one is left: every counter that presses again is told so.
        again = await asyncio.gather(
            *(_press_next(write_session, city, counter, now) for counter in counters[:3])
        )
        assert again == [None, None, None]

    async with read_session() as db:
        statuses = Tally(await db.scalars(select(Ticket.status)))
        calls = await db.execute(
            select(TicketEvent.ticket_id, func.count())
            .where(TicketEvent.action == "called")
            .group_by(TicketEvent.ticket_id)
        )
        per_ticket = dict(calls.all())
    assert statuses == {"called": ROUNDS * COUNTERS}
    assert len(per_ticket) == ROUNDS * COUNTERS
    assert set(per_ticket.values()) == {1}
