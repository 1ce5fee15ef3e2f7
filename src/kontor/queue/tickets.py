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
from kontor.offices.models import Counter, Office, Service
from kontor.queue.models import TICKET_CHANNELS, Ticket, TicketEvent, TicketKind, TicketSequence, TicketStatus
from kontor.queue.rules import service_day, ticket_code

__all__ = ["call_next", "issue_ticket", "next_number", "office_day"]

# A counter that loses a ticket to another counter looks again; each loss means someone else got one.
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
) -> tuple[Ticket, str]:
    """Give a resident the next ticket of ``service`` at ``office``; the token is returned only here."""
    if channel.value not in TICKET_CHANNELS:
        raise ValueError(f"tickets are not issued through {channel.value!r}")
    day = office_day(office, now)
    number = await next_number(db, office.id, service.id, day)
    token = new_token()
    issued_by_id, _label = actor_of(actor)
    ticket = Ticket(
        office_id=office.id,
        service_id=service.id,
        day=day,
        number=number,
        code=ticket_code(service.letter, number),
        token_hash=hash_token(token),
        status=TicketStatus.WAITING.value,
        kind=TicketKind.WALK_IN.value,
        language=language,
        needs_help=needs_help,
        issued_at=now,
        channel=channel.value,
        issued_by_id=issued_by_id,
    )
    db.add(ticket)
    await db.flush()
    # Known already: no lazy load (which async sessions cannot do) when a caller reads them.
    set_committed_value(ticket, "service", service)
    set_committed_value(ticket, "counter", None)
    changes = {"status": TicketStatus.WAITING.value, "service": service.code, "code": ticket.code}
    record_change(
        db, TicketEvent, "issued", channel=channel, actor=actor, now=now, changes=changes, ticket_id=ticket.id
    )
    await db.flush()
    return ticket, token


def _first_waiting(office: Office, service_ids: Collection[int], day: date, *, skip_locked: bool):  # type: ignore[no-untyped-def]
    query = (
        select(Ticket.id)
        .where(
            Ticket.office_id == office.id,
            Ticket.day == day,
            Ticket.status == TicketStatus.WAITING.value,
            Ticket.service_id.in_(list(service_ids)),
        )
        .order_by(Ticket.issued_at, Ticket.id)
        .limit(1)
    )
    # PostgreSQL: a ticket another counter is claiming right now is passed over instead of waited for.
    return query.with_for_update(skip_locked=True, of=Ticket) if skip_locked else query


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
    """Call the ticket that has waited longest for one of ``service_ids`` today to ``counter``.

    Returns None when no one waits. The claim is an UPDATE that only matches a waiting ticket, so
    when two counters pick the same one, one of them gets it and the other looks again.
    """
    if not service_ids:
        return None
    day = office_day(office, now)
    skip_locked = db.get_bind().dialect.name == "postgresql"
    called_by_id, _label = actor_of(actor)
    for _attempt in range(CALL_ATTEMPTS):
        ticket_id = await db.scalar(_first_waiting(office, service_ids, day, skip_locked=skip_locked))
        if ticket_id is None:
            return None
        claimed = await db.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.status == TicketStatus.WAITING.value)
            .values(
                status=TicketStatus.CALLED.value,
                called_at=now,
                counter_id=counter.id,
                called_by_id=called_by_id,
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            break
    else:
        return None
    ticket = await db.scalar(
        select(Ticket).where(Ticket.id == ticket_id).execution_options(populate_existing=True)
    )
    assert ticket is not None
    changes = {"status": [TicketStatus.WAITING.value, TicketStatus.CALLED.value], "counter": counter.number}
    record_change(
        db, TicketEvent, "called", channel=channel, actor=actor, now=now, changes=changes, ticket_id=ticket.id
    )
    await db.flush()
    return ticket
