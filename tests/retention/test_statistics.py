"""Statistics are unchanged by the purge: a day at Kista made through the real services (bookings on
the web and by phone, a cancellation, a checked-in visit, walk-ins served, a no-show, contacts), then
everything purged long after; the counts per office, service and day, the queue's waits and service
times and the contacts' categories and outcomes are the same before and after."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.audit.models import Channel
from kontor.booking.models import Booking
from kontor.booking.services import book, cancel
from kontor.contacts.models import Contact
from kontor.contacts.services import log_contact
from kontor.notify.messages import queue_booking_messages
from kontor.queue.counter import mark_no_show, mark_served
from kontor.queue.models import Ticket
from kontor.retention.purge import purge_personal_data
from tests.queue.steps import (
    BOOKED_AT,
    STOCKHOLM,
    at,
    book_visit,
    call,
    check_in_visit,
    counter,
    in_transaction,
    issue,
)


async def statistics(db: AsyncSession) -> dict[str, Any]:
    """What the statistics are made of, as a statistics page would count it."""
    bookings = Counter(
        (
            b.office_id,
            b.service_id,
            b.starts_at.astimezone(STOCKHOLM).date(),
            b.status,
            b.channel,
            b.created_by_id,
        )
        for b in await db.scalars(select(Booking))
    )
    tickets = sorted(
        (
            t.office_id, t.service_id, t.day, t.status, t.kind, t.channel, t.language, t.needs_help,
            t.called_at - t.issued_at if t.called_at else None,
            t.served_at - t.called_at if t.served_at and t.called_at else None,
        )
        for t in await db.scalars(select(Ticket))
    )  # fmt: skip
    contacts = Counter(
        (
            c.office_id,
            c.service_id,
            c.created_at.astimezone(STOCKHOLM).date(),
            c.category,
            c.outcome,
            c.channel,
        )
        for c in await db.scalars(select(Contact))
    )
    return {"bookings": bookings, "tickets": tickets, "contacts": contacts}


async def _a_day_at_kista(city: Any, write_session: Any, settings: Any) -> None:
    agent, staff = city.users["agent"], city.users["staff"]
    nine = at(15, 9)
    by_phone = [await book_visit(write_session, city, nine + timedelta(minutes=20 * n)) for n in range(3)]

    async def on_the_web(db: AsyncSession) -> None:
        for n, minutes in enumerate((60, 80)):
            booking, token = await book(
                db, office_slug="kista", service_code="eservice", start=nine + timedelta(minutes=minutes),
                name=f"Webb Bokare {n}", phone=f"070-555 00 0{n}", needs=["computer_help"],
                channel=Channel.WEB, actor="resident", now=BOOKED_AT,
            )  # fmt: skip
            queue_booking_messages(db, booking, "booked", settings=settings, token=token, now=BOOKED_AT)
        await cancel(db, by_phone[2], channel=Channel.PHONE, actor=agent, now=BOOKED_AT + timedelta(hours=1))

    await in_transaction(write_session, on_the_web)
    await check_in_visit(write_session, city, by_phone[0].id, at(15, 8, 55))
    walk_ins = [await issue(write_session, city, now=at(15, 9, 2 + n)) for n in range(3)]
    await in_transaction(
        write_session,
        lambda db: db.execute(
            update(Ticket).where(Ticket.id == walk_ins[1].id).values(phone="070-777 11 22")
        ),
    )
    desk = await counter(write_session, city)
    served = await call(write_session, city, desk, now=at(15, 9, 1))  # the checked-in visit, due at nine
    await in_transaction(
        write_session, lambda db: mark_served(db, ticket=served, counter=desk, now=at(15, 9, 17), actor=staff)
    )
    walk_in = await call(write_session, city, desk, now=at(15, 9, 20))
    await in_transaction(
        write_session,
        lambda db: mark_served(db, ticket=walk_in, counter=desk, now=at(15, 9, 31), actor=staff),
    )
    gone = await call(write_session, city, desk, now=at(15, 9, 33))
    await in_transaction(
        write_session, lambda db: mark_no_show(db, ticket=gone, counter=desk, now=at(15, 9, 36), actor=staff)
    )

    async def calls(db: AsyncSession) -> None:
        for category, outcome in (("benefits", "solved"), ("housing", "forwarded"), ("benefits", "solved")):
            await log_contact(
                db, agent=agent, channel=Channel.PHONE, category=category, outcome=outcome,
                summary="Ringde om sin ansökan.", phone="070-999 88 77", office_id=city.kista.id,
                now=at(14, 10), settings=settings,
            )  # fmt: skip

    await in_transaction(write_session, calls)


async def test_the_purge_leaves_the_statistics_as_they_were(
    city, write_session, read_session, settings
) -> None:  # type: ignore[no-untyped-def]
    await _a_day_at_kista(city, write_session, settings)
    async with read_session() as db:
        before = await statistics(db)
    assert sum(before["bookings"].values()) == 5 and len(before["tickets"]) == 4

    result = await purge_personal_data(write_session, settings, at(15, 12) + timedelta(days=60))

    assert (result["bookings"], result["tickets"], result["contacts"]) == (5, 1, 3)
    assert result["messages"] >= 2
    async with read_session() as db:
        assert await statistics(db) == before
        names = set(await db.scalars(select(Booking.name)))
        phones = set(await db.scalars(select(Ticket.phone)))
    assert names == {""} and phones == {None}
