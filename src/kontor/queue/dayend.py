"""Day's end: tickets still open when the office has closed are closed as not served.

Waiting tickets close at the day's closing time; a ticket already called is being served, so it is
left to its clerk until the office's day is over. Tickets of earlier days close in any case, and
counter shifts of earlier days end. Numbers restart by themselves: they count per office-local day.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor.audit.history import record_change
from kontor.audit.models import Channel
from kontor.hours.rules import day_hours, interval_bounds
from kontor.hours.services import office_hours
from kontor.live.bus import announce
from kontor.offices.models import Office
from kontor.queue.models import CounterShift, Ticket, TicketEvent, TicketStatus
from kontor.queue.rules import closes_unserved
from kontor.queue.tickets import office_day

__all__ = ["close_all_days", "close_day", "closing_time"]

WAITING, CALLED, CLOSED = TicketStatus.WAITING.value, TicketStatus.CALLED.value, TicketStatus.CLOSED.value


async def closing_time(db: AsyncSession, office: Office, now: datetime) -> datetime:
    """When the office's doors close today (UTC); the day's start when it does not open today."""
    zone = ZoneInfo(office.timezone)
    today = office_day(office, now)
    hours = day_hours(await office_hours(db, office, today, today), today)
    ends = [interval_bounds(today, interval, zone)[1] for interval in hours.intervals]
    return max(ends, default=datetime.combine(today, time(), zone))


async def close_day(db: AsyncSession, *, office: Office, now: datetime) -> int:
    """Close the office's tickets that the day left unserved; returns how many were closed."""
    zone = ZoneInfo(office.timezone)
    today = office_day(office, now)
    day_over = datetime.combine(today + timedelta(days=1), time(), zone)
    closing = await closing_time(db, office, now)
    # The pure rule decides per status which of today's tickets are due; earlier days' all are.
    due_today = [status for status in (WAITING,) if closes_unserved(status, closing, now)]
    due_today += [status for status in (CALLED,) if closes_unserved(status, day_over, now)]
    conditions = [Ticket.day < today]
    if due_today:
        conditions.append((Ticket.day == today) & Ticket.status.in_(due_today))
    # Locked (on PostgreSQL; SQLite's writers are serial anyway): when several processes run day's
    # end at once, the second waits, then finds the tickets closed, so each gets one "closed" event.
    rows = await db.execute(
        select(Ticket.id, Ticket.status)
        .where(Ticket.office_id == office.id, Ticket.status.in_([WAITING, CALLED]), or_(*conditions))
        .with_for_update()
    )
    found = list(rows)
    if found:
        await db.execute(
            update(Ticket)
            .where(Ticket.id.in_([ticket_id for ticket_id, _ in found]), Ticket.status.in_([WAITING, CALLED]))
            .values(status=CLOSED, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        for ticket_id, status in found:
            changes = {"status": [status, CLOSED]}
            record_change(
                db, TicketEvent, "closed", channel=Channel.SYSTEM, actor="system", now=now, changes=changes,
                ticket_id=ticket_id,
            )  # fmt: skip
        await announce(db, office.id, "ticket", {})
    await db.execute(
        delete(CounterShift).where(CounterShift.office_id == office.id, CounterShift.day < today)
    )
    await db.flush()
    return len(found)


async def _due_offices(db: AsyncSession, now: datetime) -> list[int]:
    # Read first, write only where something is due: on SQLite each write transaction holds the
    # database's one writer, and this runs every few seconds.
    rows = await db.execute(
        select(Ticket.office_id, func.min(Ticket.day))
        .where(Ticket.status.in_([WAITING, CALLED]))
        .group_by(Ticket.office_id)
    )
    due = []
    for office_id, first_day in rows:
        office = await db.get(Office, office_id)
        if office is None:
            continue
        if first_day < office_day(office, now) or now >= await closing_time(db, office, now):
            due.append(office_id)
    return due


async def close_all_days(session_maker: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """The background worker's step: day's end for every office with tickets left open, each in its
    own transaction. Shifts of earlier days end with the first ticket closed the next day."""
    async with session_maker() as db:
        office_ids = await _due_offices(db, now)
    closed = 0
    for office_id in office_ids:
        async with session_maker() as db, db.begin():
            office = await db.get(Office, office_id)
            if office is not None:
                closed += await close_day(db, office=office, now=now)
    return closed
