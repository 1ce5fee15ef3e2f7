"""Issuing a walk-in ticket and calling the next one to a counter: the queue's two writes that race.

Numbers come from :class:`TicketSequence` through one upsert that raises and returns the day's last
number; it runs in the issuing transaction, so a rollback hands the number back with the ticket and
numbers are never skipped nor given twice (DESIGN rule 4). A counter claims a ticket with an UPDATE
that only succeeds while the ticket still waits, so two counters never call the same ticket. Writes
happen in the caller's transaction; every change writes a :class:`TicketEvent` (DESIGN rule 5).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from kontor.accounts.models import User
from kontor.accounts.security import hash_token, new_token
from kontor.audit.history import actor_of, record_change
from kontor.audit.models import Channel
from kontor.hours.rules import HoursKind, OfficeHours, is_open_at
from kontor.hours.services import office_hours, status_window
from kontor.live.bus import announce
from kontor.offices.models import Counter, Office, Service
from kontor.queue.errors import OfficeClosed, UnknownService
from kontor.queue.models import TICKET_CHANNELS, Ticket, TicketEvent, TicketKind, TicketSequence, TicketStatus
from kontor.queue.rules import EntryKind, Waiting, queue_order, service_day, ticket_code

__all__ = [
    "call_next",
    "claim",
    "issue_ticket",
    "issue_walk_in",
    "next_number",
    "office_day",
    "record_ticket_change",
    "walk_in_service",
]

# A counter that loses its pick to another counter looks again; each loss means someone else got one.
CALL_ATTEMPTS = 5


def office_day(office: Office, now: datetime) -> date:
    """The date at the office when ``now`` happens: what a ticket's number counts within."""
    return service_day(now, ZoneInfo(office.timezone))


async def next_number(db: AsyncSession, office_id: int, service_id: int, day: date) -> int:
    """Raise the day's counter of the office and service by one and return it, in one statement.

    The row stays locked (PostgreSQL) or the database stays reserved (SQLite's BEGIN IMMEDIATE) until
    the caller's transaction ends, so concurrent issuers queue up behind it instead of colliding.
    """
    insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = TicketSequence.__table__
    statement = (
        insert(table)
        .values(office_id=office_id, service_id=service_id, day=day, last_number=1)
        .on_conflict_do_update(
            index_elements=[table.c.office_id, table.c.service_id, table.c.day],
            set_={"last_number": table.c.last_number + 1},
        )
        .returning(table.c.last_number)
    )
    number = await db.scalar(statement)
    assert number is not None
    return number


def record_ticket_change(
    db: AsyncSession,
    ticket: Ticket,
    action: str,
    *,
    channel: Channel,
    actor: User | str,
    now: datetime,
    changes: dict[str, Any],
) -> None:
    """Write the ticket's history row (DESIGN rule 5)."""
    record_change(
        db, TicketEvent, action, channel=channel, actor=actor, now=now, changes=changes, ticket_id=ticket.id
    )


async def issue_ticket(
    db: AsyncSession,
    *,
    office: Office,
    service: Service,
    now: datetime,
    channel: Channel,
    actor: User | str,
    language: str | None = None,
    needs_help: bool = False,
    kind: TicketKind = TicketKind.WALK_IN,
    booking_id: int | None = None,
    booked_start: datetime | None = None,
) -> tuple[Ticket, str]:
    """Give a resident the next ticket of ``service`` at ``office``; the token is returned only here.

    A checked-in booking gets a ticket too (``kind`` booking, with its ``booked_start``), numbered
    in the same sequence, so the screen can call it like any other.
    """
    if channel.value not in TICKET_CHANNELS:
        raise ValueError(f"tickets are not issued through {channel.value!r}")
    if (kind is TicketKind.BOOKING) != (booked_start is not None):
        raise ValueError("a booking's ticket, and only it, carries the booked start")
    day = office_day(office, now)
    number = await next_number(db, office.id, service.id, day)
    token = new_token()
    issued_by_id, _label = actor_of(actor)
    ticket = Ticket(
        office_id=office.id,
        service_id=service.id,
        issued_service_id=service.id,
        day=day,
        number=number,
        code=ticket_code(service.letter, number),
        token_hash=hash_token(token),
        status=TicketStatus.WAITING.value,
        kind=kind.value,
        booking_id=booking_id,
        booked_start=booked_start,
        language=language,
        needs_help=needs_help,
        issued_at=now,
        channel=channel.value,
        issued_by_id=issued_by_id,
    )
    db.add(ticket)
    await db.flush()
    # Known already: no lazy load (which async sessions cannot do) when a caller reads them.
    set_committed_value(ticket, "office", office)
    set_committed_value(ticket, "service", service)
    set_committed_value(ticket, "counter", None)
    changes = {
        "status": TicketStatus.WAITING.value,
        "service": service.code,
        "code": ticket.code,
        "kind": kind.value,
    }
    record_ticket_change(db, ticket, "issued", channel=channel, actor=actor, now=now, changes=changes)
    await db.flush()
    await announce(db, office.id, "ticket", {"code": ticket.code})
    return ticket, token


def walk_in_service(office: Office, service_code: str) -> Service:
    """The office's service ``service_code`` if it takes walk-ins there now (offerings loaded)."""
    for offering in office.offerings:
        service = offering.service
        if service.code == service_code and offering.active and offering.walk_in and service.walk_in:
            return service
    raise UnknownService()


async def issue_walk_in(
    db: AsyncSession,
    *,
    office: Office,
    service_code: str,
    now: datetime,
    channel: Channel,
    actor: User | str,
    language: str | None = None,
    needs_help: bool = False,
    hours: OfficeHours | None = None,
) -> tuple[Ticket, str]:
    """A walk-in ticket, issued only for a walk-in service of the office and only while it is open
    for walk-ins (drop-in hours). ``hours`` (covering :func:`status_window` of ``now``) saves their
    loading when the caller has them at hand."""
    service = walk_in_service(office, service_code)
    if hours is None:
        hours = await office_hours(db, office, *status_window(now))
    # Walk-ins during drop-in hours; hours for booked visits only take no walk-ins.
    if not is_open_at(hours, now, HoursKind.DROP_IN):
        raise OfficeClosed()
    return await issue_ticket(
        db,
        office=office,
        service=service,
        now=now,
        channel=channel,
        actor=actor,
        language=language,
        needs_help=needs_help,
    )


async def claim(
    db: AsyncSession,
    ticket_id: int,
    from_statuses: Collection[str],
    *,
    only_at: int | None = None,
    **values: Any,
) -> Ticket | None:
    """Change a ticket only if it is still in one of ``from_statuses``: one conditional UPDATE, so of
    two clerks acting on the same ticket at once exactly one succeeds; ``only_at`` also requires it
    to be at that counter. The fresh row, or None."""
    conditions = [Ticket.id == ticket_id, Ticket.status.in_(list(from_statuses))]
    if only_at is not None:
        conditions.append(Ticket.counter_id == only_at)
    result = await db.execute(
        update(Ticket).where(*conditions).values(**values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await db.scalar(
        select(Ticket).where(Ticket.id == ticket_id).execution_options(populate_existing=True)
    )


_WAITING_COLUMNS = (Ticket.id, Ticket.service_id, Ticket.issued_at, Ticket.kind, Ticket.booked_start)


async def waiting_in_order(
    db: AsyncSession, office: Office, now: datetime, service_ids: Collection[int] | None = None
) -> list[Waiting]:
    """Today's waiting tickets of ``office`` (for ``service_ids``, or all), in the order counters
    call them (:func:`kontor.queue.rules.queue_order`); ``Waiting.service`` is the service id."""
    query = select(*_WAITING_COLUMNS).where(
        Ticket.office_id == office.id,
        Ticket.day == office_day(office, now),
        Ticket.status == TicketStatus.WAITING.value,
    )
    if service_ids is not None:
        query = query.where(Ticket.service_id.in_(list(service_ids)))
    entries = [
        Waiting(
            id=ticket_id,
            service=str(service_id),
            issued_at=issued_at,
            kind=EntryKind(kind) if booked_start is not None else EntryKind.WALK_IN,
            booked_start=booked_start,
            checked_in_at=issued_at if booked_start is not None else None,
        )
        for ticket_id, service_id, issued_at, kind, booked_start in await db.execute(query)
    ]
    services = {entry.service for entry in entries}
    return queue_order(entries, services, now)


def called_values(counter: Counter, now: datetime, called_by_id: int | None) -> dict[str, Any]:
    """The columns a call sets on a ticket, whichever way it is called."""
    return {
        "status": TicketStatus.CALLED.value,
        "called_at": now,
        "counter_id": counter.id,
        "called_by_id": called_by_id,
    }


async def announce_call(db: AsyncSession, ticket: Ticket, counter: Counter) -> None:
    """Tell the screens a ticket is called: they chime and show it."""
    await announce(db, ticket.office_id, "called", {"code": ticket.code, "counter": counter.number})


async def call_next(
    db: AsyncSession,
    *,
    office: Office,
    counter: Counter,
    service_ids: Collection[int],
    now: datetime,
    actor: User | str,
    channel: Channel = Channel.COUNTER,
) -> Ticket | None:
    """Call to ``counter`` the ticket next in line for one of ``service_ids`` today, or return None
    when no one waits: checked-in bookings that are due first, then walk-ins by arrival (the order
    of :func:`kontor.queue.rules.queue_order`).

    The claim is a conditional UPDATE: when another counter takes the same ticket first, this one
    moves on to the next in line, and reads the line again if all it saw were taken.
    """
    if not service_ids:
        return None
    called_by_id, _label = actor_of(actor)
    for _attempt in range(CALL_ATTEMPTS):
        line = await waiting_in_order(db, office, now, service_ids)
        if not line:
            return None
        for entry in line[:CALL_ATTEMPTS]:
            ticket = await claim(
                db, entry.id, [TicketStatus.WAITING.value], **called_values(counter, now, called_by_id)
            )
            if ticket is not None:
                changes = {
                    "status": [TicketStatus.WAITING.value, TicketStatus.CALLED.value],
                    "counter": counter.number,
                }
                record_ticket_change(
                    db, ticket, "called", channel=channel, actor=actor, now=now, changes=changes
                )
                await db.flush()
                await announce_call(db, ticket, counter)
                return ticket
    return None
