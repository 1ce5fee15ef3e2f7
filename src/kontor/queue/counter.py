"""What a counter does with tickets: its shift, calling a given ticket, recall, served, no-show,
transfer, cancel, and the alarm.

Each change is a conditional UPDATE on the ticket's status (see :func:`kontor.queue.tickets.claim`),
so two clerks acting at once on one ticket never both succeed; the loser gets a :class:`NotWaiting`.
Every change is timed and attributed in a TicketEvent and reaches the live pages after commit.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import User
from kontor.audit.history import actor_of
from kontor.audit.models import Channel
from kontor.audit.services import record
from kontor.live.bus import announce
from kontor.offices.models import Counter, Office, Service
from kontor.queue.checkin import finish_booking
from kontor.queue.errors import NotWaiting, NotYourTicket
from kontor.queue.models import CounterShift, Ticket, TicketStatus
from kontor.queue.tickets import announce_call, called_values, claim, office_day, record_ticket_change

__all__ = [
    "call_ticket",
    "cancel_ticket",
    "close_shift",
    "current_ticket",
    "mark_no_show",
    "mark_served",
    "open_shift",
    "raise_alarm",
    "recall",
    "shift_of",
    "shifts_today",
    "transfer",
]

WAITING, CALLED = TicketStatus.WAITING.value, TicketStatus.CALLED.value


async def open_shift(
    db: AsyncSession,
    *,
    office: Office,
    counter: Counter,
    user: User | None,
    service_ids: list[int],
    now: datetime,
) -> CounterShift:
    """Staff ``counter`` with ``user`` calling ``service_ids``; replaces whoever had it before."""
    if counter.office_id != office.id:
        raise ValueError("the counter belongs to another office")
    insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {
        "counter_id": counter.id,
        "office_id": office.id,
        "user_id": user.id if user is not None else None,
        "service_ids": sorted(set(service_ids)),
        "day": office_day(office, now),
        "started_at": now,
    }
    table = CounterShift.__table__
    await db.execute(
        insert(table)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[table.c.counter_id], set_={k: v for k, v in values.items() if k != "counter_id"}
        )
    )
    shift = await db.scalar(
        select(CounterShift)
        .where(CounterShift.counter_id == counter.id)
        .execution_options(populate_existing=True)
    )
    assert shift is not None
    await announce(db, office.id, "ticket", {})
    return shift


async def close_shift(
    db: AsyncSession,
    *,
    counter: Counter,
    now: datetime,
    actor: User | str,
    channel: Channel = Channel.COUNTER,
) -> None:
    """The clerk leaves the counter; its services no longer count as served there. A ticket it had
    called and not finished goes back to waiting, in its place by arrival, for another counter."""
    await db.execute(delete(CounterShift).where(CounterShift.counter_id == counter.id))
    left = list(
        await db.scalars(select(Ticket.id).where(Ticket.counter_id == counter.id, Ticket.status == CALLED))
    )
    for ticket_id in left:
        back = await claim(
            db, ticket_id, [CALLED], only_at=counter.id, status=WAITING, called_at=None, counter_id=None
        )
        if back is not None:
            changes = {"status": [CALLED, WAITING], "counter": counter.number}
            record_ticket_change(db, back, "returned", channel=channel, actor=actor, now=now, changes=changes)
    await db.flush()
    await announce(db, counter.office_id, "ticket", {})


async def shift_of(db: AsyncSession, counter_id: int) -> CounterShift | None:
    return await db.scalar(select(CounterShift).where(CounterShift.counter_id == counter_id))


async def shifts_today(db: AsyncSession, office: Office, now: datetime) -> list[CounterShift]:
    """The office's staffed counters today (a shift left open yesterday does not count)."""
    rows = await db.scalars(
        select(CounterShift).where(
            CounterShift.office_id == office.id, CounterShift.day == office_day(office, now)
        )
    )
    return sorted(rows.unique(), key=lambda shift: shift.counter.number)


async def current_ticket(db: AsyncSession, counter: Counter, now: datetime) -> Ticket | None:
    """The ticket this counter has called and not finished, the latest call if several (day's end
    closes what a counter leaves called overnight)."""
    return await db.scalar(
        select(Ticket)
        .where(Ticket.counter_id == counter.id, Ticket.status == CALLED)
        .order_by(Ticket.called_at.desc(), Ticket.id.desc())
        .limit(1)
    )


def _actor_id(actor: User | str) -> int | None:
    return actor_of(actor)[0]


async def call_ticket(
    db: AsyncSession,
    *,
    office: Office,
    counter: Counter,
    ticket_id: int,
    now: datetime,
    actor: User | str,
    channel: Channel = Channel.COUNTER,
) -> Ticket:
    """Call one particular waiting ticket of the office to ``counter`` (out of turn)."""
    current = await db.scalar(select(Ticket.office_id).where(Ticket.id == ticket_id))
    if current != office.id:
        raise NotWaiting()
    ticket = await claim(db, ticket_id, [WAITING], **called_values(counter, now, _actor_id(actor)))
    if ticket is None:
        raise NotWaiting()
    changes = {"status": [WAITING, CALLED], "counter": counter.number, "out_of_turn": True}
    record_ticket_change(db, ticket, "called", channel=channel, actor=actor, now=now, changes=changes)
    await db.flush()
    await announce_call(db, ticket, counter)
    return ticket


def _at_counter(ticket: Ticket, counter: Counter) -> None:
    if ticket.status != CALLED:
        raise NotWaiting()
    if ticket.counter_id != counter.id:
        raise NotYourTicket()


async def recall(
    db: AsyncSession,
    *,
    ticket: Ticket,
    counter: Counter,
    now: datetime,
    actor: User | str,
    channel: Channel = Channel.COUNTER,
) -> Ticket:
    """Call the counter's ticket again: the screens show and chime it once more."""
    _at_counter(ticket, counter)
    record_ticket_change(
        db, ticket, "recalled", channel=channel, actor=actor, now=now, changes={"counter": counter.number}
    )
    await db.flush()
    await announce_call(db, ticket, counter)
    return ticket


async def _finish(
    db: AsyncSession,
    ticket: Ticket,
    counter: Counter,
    status: TicketStatus,
    *,
    now: datetime,
    actor: User | str,
    channel: Channel,
) -> Ticket:
    _at_counter(ticket, counter)
    values = {"status": status.value, "finished_at": now}
    if status is TicketStatus.SERVED:
        values["served_at"] = now
    # Still at this counter: it may have been transferred and called elsewhere meanwhile.
    finished = await claim(db, ticket.id, [CALLED], only_at=counter.id, **values)
    if finished is None:
        raise NotWaiting()
    record_ticket_change(
        db,
        finished,
        status.value,
        channel=channel,
        actor=actor,
        now=now,
        changes={"status": [CALLED, status.value]},
    )
    if finished.booking_id is not None:
        # The booked visit's own status follows its ticket's end.
        await finish_booking(db, finished, status, now=now, actor=actor, channel=channel)
    await db.flush()
    await announce(db, finished.office_id, "ticket", {"code": finished.code})
    return finished


async def mark_served(
    db: AsyncSession,
    *,
    ticket: Ticket,
    counter: Counter,
    now: datetime,
    actor: User | str,
    channel: Channel = Channel.COUNTER,
) -> Ticket:
    """The resident has been served at ``counter``: the ticket's service ends now."""
    return await _finish(db, ticket, counter, TicketStatus.SERVED, now=now, actor=actor, channel=channel)


async def mark_no_show(
    db: AsyncSession,
    *,
    ticket: Ticket,
    counter: Counter,
    now: datetime,
    actor: User | str,
    channel: Channel = Channel.COUNTER,
) -> Ticket:
    """Nobody came to ``counter`` for the called ticket."""
    return await _finish(db, ticket, counter, TicketStatus.NO_SHOW, now=now, actor=actor, channel=channel)


async def transfer(
    db: AsyncSession,
    *,
    ticket: Ticket,
    service: Service,
    now: datetime,
    actor: User | str,
    channel: Channel = Channel.COUNTER,
) -> Ticket:
    """Send a called or waiting ticket on to ``service``: it waits again, keeping its code and its
    place by arrival time (``issued_at`` does not change)."""
    if service.id == ticket.service_id and ticket.status == WAITING:
        return ticket
    # Read before the claim, which refreshes the same object.
    old_service, old_status = ticket.service.code, ticket.status
    moved = await claim(
        db,
        ticket.id,
        [WAITING, CALLED],
        status=WAITING,
        service_id=service.id,
        called_at=None,
        counter_id=None,
        called_by_id=None,
    )
    if moved is None:
        raise NotWaiting()
    changes = {"status": [old_status, WAITING], "service": [old_service, service.code]}
    record_ticket_change(db, moved, "transferred", channel=channel, actor=actor, now=now, changes=changes)
    await db.flush()
    await announce(db, moved.office_id, "ticket", {"code": moved.code})
    return moved


async def cancel_ticket(
    db: AsyncSession, *, ticket: Ticket, now: datetime, actor: User | str, channel: Channel = Channel.DESK
) -> Ticket:
    """The resident left before being served (the desk takes the ticket back)."""
    old_status = ticket.status
    cancelled = await claim(
        db, ticket.id, [WAITING, CALLED], status=TicketStatus.CANCELLED.value, finished_at=now
    )
    if cancelled is None:
        raise NotWaiting()
    changes = {"status": [old_status, TicketStatus.CANCELLED.value]}
    record_ticket_change(db, cancelled, "cancelled", channel=channel, actor=actor, now=now, changes=changes)
    await db.flush()
    await announce(db, cancelled.office_id, "ticket", {"code": cancelled.code})
    return cancelled


async def raise_alarm(
    db: AsyncSession, *, office: Office, counter: Counter | None, user: User, now: datetime
) -> None:
    """A clerk feels threatened: every staff page of the office shows it at once, and the audit log
    keeps who raised it where and when."""
    where = counter.number if counter is not None else None
    entry = record(
        db,
        actor=user,
        channel=Channel.COUNTER,
        action="alarm",
        entity="office",
        entity_id=office.id,
        office_id=office.id,
        changes={"counter": where},
    )
    entry.at = now
    await db.flush()
    data: dict[str, object] = {"counter": where, "name": counter.name if counter is not None else ""}
    await announce(db, office.id, "alarm", data)


def services_of(shift: CounterShift | None, fallback: Collection[int]) -> list[int]:
    """The services a counter calls: its shift's choice, or ``fallback`` without a shift."""
    return list(shift.service_ids) if shift is not None and shift.service_ids else list(fallback)
