"""The queue as pages and the API show it: a ticket's place and wait, the line a counter works
through, and an office's board of calls and waits. Read-only; no personal data except on the line
that staff see (a checked-in booking's visitor)."""

from __future__ import annotations

from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.security import hash_token
from kontor.hours.rules import OfficeHours
from kontor.offices.models import Counter, Office, Service
from kontor.queue.models import CounterShift, Ticket, TicketStatus
from kontor.queue.rules import DEFAULT_DUE_WINDOW, EntryKind, Waiting, WaitRange, estimate_wait
from kontor.queue.tickets import office_day, waiting_in_order

__all__ = [
    "CalledTicket",
    "LineEntry",
    "QueueSnapshot",
    "ServiceLine",
    "TicketView",
    "queue_snapshot",
    "ticket_by_id",
    "ticket_by_token",
    "ticket_view",
    "waiting_line",
    "walk_in_services",
]

# Service times older than this say little about today's service.
SAMPLE_DAYS = 30
# The latest this many service times per service make its estimate.
SAMPLES_PER_SERVICE = 20
CALLS_SHOWN = 8


@dataclass(frozen=True, slots=True)
class ServiceLine:
    service: Service
    waiting: int
    counters: int
    wait: WaitRange  # for someone who arrives now


@dataclass(frozen=True, slots=True)
class CalledTicket:
    code: str
    counter_number: int
    counter_name: str
    called_at: datetime
    service: Service
    current: bool  # still called (not yet served or otherwise finished)


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    office: Office
    now: datetime
    is_open: bool
    lines: list[ServiceLine]
    called: list[CalledTicket]  # the latest call first

    @property
    def waiting(self) -> int:
        return sum(line.waiting for line in self.lines)


@dataclass(frozen=True, slots=True)
class TicketView:
    ticket: Ticket
    position: int | None  # 1-based among those waiting for its service; None unless waiting
    wait: WaitRange | None
    counter: Counter | None


@dataclass(frozen=True, slots=True)
class LineEntry:
    ticket: Ticket
    position: int
    waited_minutes: int
    due: bool  # a checked-in booking whose time has come


def walk_in_services(office: Office) -> list[Service]:
    """The services the office takes walk-ins for, in the catalogue's order (offerings loaded)."""
    services = [
        offering.service
        for offering in office.offerings
        if offering.active and offering.walk_in and offering.service.walk_in
    ]
    return sorted(services, key=lambda service: (service.sort_order, service.code))


async def ticket_by_token(db: AsyncSession, token: str) -> Ticket | None:
    """The ticket a resident's link names; the token is looked up by its hash only."""
    if not token or len(token) > 200:
        return None
    return await db.scalar(select(Ticket).where(Ticket.token_hash == hash_token(token)))


async def ticket_by_id(db: AsyncSession, office: Office, ticket_id: int) -> Ticket | None:
    return await db.scalar(select(Ticket).where(Ticket.id == ticket_id, Ticket.office_id == office.id))


async def recent_service_minutes(db: AsyncSession, office: Office, now: datetime) -> dict[int, list[float]]:
    """Per service, the latest service times (called to served, in minutes) at the office."""
    rows = await db.execute(
        select(Ticket.service_id, Ticket.called_at, Ticket.served_at)
        .where(
            Ticket.office_id == office.id,
            Ticket.status == TicketStatus.SERVED.value,
            Ticket.served_at >= now - timedelta(days=SAMPLE_DAYS),
            Ticket.called_at.is_not(None),
        )
        .order_by(Ticket.served_at.desc())
        .limit(SAMPLES_PER_SERVICE * 25)
    )
    found: dict[int, list[float]] = defaultdict(list)
    for service_id, called_at, served_at in rows:
        if len(found[service_id]) < SAMPLES_PER_SERVICE:
            found[service_id].append((served_at - called_at).total_seconds() / 60)
    return found


async def counters_serving(db: AsyncSession, office: Office, now: datetime) -> Tally[int]:
    """How many of the office's staffed counters call each service today."""
    lists = await db.scalars(
        select(CounterShift.service_ids).where(
            CounterShift.office_id == office.id, CounterShift.day == office_day(office, now)
        )
    )
    return Tally(service_id for service_ids in lists for service_id in set(service_ids or ()))


def _estimate(
    position: int, service: Service, samples: dict[int, list[float]], counters: Tally[int]
) -> WaitRange:
    return estimate_wait(
        position, samples.get(service.id, []), counters[service.id], default_minutes=service.duration_minutes
    )


async def _is_open(db: AsyncSession, office: Office, now: datetime, hours: OfficeHours | None) -> bool:
    from kontor.hours.rules import HoursKind, is_open_at
    from kontor.hours.services import office_hours, status_window

    if hours is None:
        hours = await office_hours(db, office, *status_window(now))
    return is_open_at(hours, now, HoursKind.DROP_IN)


async def queue_snapshot(
    db: AsyncSession,
    office: Office,
    now: datetime,
    *,
    line: list[Waiting] | None = None,
    hours: OfficeHours | None = None,
) -> QueueSnapshot:
    """The office's board: per walk-in service the people waiting and the wait for a newcomer, and
    the latest calls of the day. A caller that already read the office's :func:`waiting_in_order`
    or its hours over :func:`~kontor.hours.services.status_window` passes them in (``line``, ``hours``)."""
    if line is None:
        line = await waiting_in_order(db, office, now)
    per_service = Tally(int(entry.service) for entry in line)
    samples = await recent_service_minutes(db, office, now)
    counters = await counters_serving(db, office, now)
    services = walk_in_services(office)
    shown = {service.id for service in services}
    # A service no longer offered for walk-in still shows while someone waits for it.
    extra_ids = [service_id for service_id in per_service if service_id not in shown]
    if extra_ids:
        services += list(await db.scalars(select(Service).where(Service.id.in_(extra_ids))))
    lines = [
        ServiceLine(
            service,
            per_service[service.id],
            counters[service.id],
            _estimate(per_service[service.id] + 1, service, samples, counters),
        )
        for service in services
    ]
    calls = await db.scalars(
        select(Ticket)
        .where(
            Ticket.office_id == office.id,
            Ticket.day == office_day(office, now),
            Ticket.called_at.is_not(None),
        )
        .order_by(Ticket.called_at.desc(), Ticket.id.desc())
        .limit(CALLS_SHOWN)
    )
    called = [
        CalledTicket(
            code=ticket.code,
            counter_number=ticket.counter.number,
            counter_name=ticket.counter.name,
            called_at=ticket.called_at,
            service=ticket.service,
            current=ticket.status == TicketStatus.CALLED.value,
        )
        for ticket in calls.unique()
        if ticket.counter is not None and ticket.called_at is not None
    ]
    return QueueSnapshot(office, now, await _is_open(db, office, now, hours), lines, called)


async def ticket_view(db: AsyncSession, ticket: Ticket, now: datetime) -> TicketView:
    """Where a ticket stands: its place and estimated wait while it waits, its counter once called."""
    if ticket.status != TicketStatus.WAITING.value or ticket.day != office_day(ticket.office, now):
        return TicketView(
            ticket, None, None, ticket.counter if ticket.status == TicketStatus.CALLED.value else None
        )
    office = ticket.office
    line = await waiting_in_order(db, office, now, [ticket.service_id])
    position = next((place for place, entry in enumerate(line, start=1) if entry.id == ticket.id), None)
    if position is None:
        return TicketView(ticket, None, None, None)
    samples = await recent_service_minutes(db, office, now)
    counters = await counters_serving(db, office, now)
    return TicketView(ticket, position, _estimate(position, ticket.service, samples, counters), None)


def _due(entry: Waiting, now: datetime) -> bool:
    return (
        entry.kind is EntryKind.BOOKING
        and entry.booked_start is not None
        and entry.booked_start - DEFAULT_DUE_WINDOW <= now
    )


async def waiting_line(
    db: AsyncSession,
    office: Office,
    now: datetime,
    service_ids: Collection[int] | None = None,
    *,
    line: list[Waiting] | None = None,
) -> list[LineEntry]:
    """Everyone waiting today (for ``service_ids``, or all), in the order counters call them; ``line``
    is that order when the caller already read it."""
    if line is None:
        line = await waiting_in_order(db, office, now, service_ids)
    if not line:
        return []
    tickets = {
        t.id: t
        for t in (await db.scalars(select(Ticket).where(Ticket.id.in_([e.id for e in line])))).unique()
    }
    return [
        LineEntry(
            ticket=tickets[entry.id],
            position=place,
            waited_minutes=max(0, int((now - entry.issued_at).total_seconds() // 60)),
            due=_due(entry, now),
        )
        for place, entry in enumerate(line, start=1)
        if entry.id in tickets
    ]
