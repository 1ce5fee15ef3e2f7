"""What the agent console shows: the earliest free times of a service across offices with each
office's walk-in wait, today's hours and notes for agents, and the caller's bookings and contacts.

Reads only. The audit entries that every look at a person's data leaves are the handlers' part.
"""

from __future__ import annotations

import dataclasses
from collections import Counter as Tally
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.booking.availability import earliest_slots
from kontor.booking.listing import bookable_services
from kontor.booking.models import BookingStatus
from kontor.booking.schemas import AvailableSlot
from kontor.contacts.models import Outcome
from kontor.hours.rules import HoursKind, is_open_at
from kontor.hours.services import OpenStatus, status_window
from kontor.i18n import N_
from kontor.offices.directory import OfficeDirectory
from kontor.offices.models import District, Office, Service
from kontor.offices.services import offers
from kontor.queue.models import CounterShift, Ticket, TicketStatus
from kontor.queue.rules import WaitRange, estimate_wait
from kontor.queue.tickets import office_day
from kontor.queue.views import (
    SAMPLE_DAYS,
    SAMPLES_PER_SERVICE,
    QueueSnapshot,
    queue_snapshot,
    walk_in_services,
)

SLOTS_SHOWN = 12
# The outcomes of a call logged without a visit (a visit booked is logged with its booking).
CALL_OUTCOMES = (Outcome.SOLVED.value, Outcome.FORWARDED.value, Outcome.CALLBACK.value)
_LIMITS = {"phone": 40, "reference": 20, "service": 40, "district": 80, "office": 80}

STATUS_LABELS = {
    BookingStatus.HELD.value: N_("Held"),
    BookingStatus.EXPIRED.value: N_("Expired"),
    BookingStatus.BOOKED.value: N_("Booked"),
    BookingStatus.CANCELLED.value: N_("Cancelled"),
    BookingStatus.CHECKED_IN.value: N_("Checked in"),
    BookingStatus.SERVED.value: N_("Visit done"),
    BookingStatus.NO_SHOW.value: N_("Not attended"),
}
CHANNEL_LABELS = {
    "web": N_("Online"),
    "phone": N_("Phone"),
    "desk": N_("Front desk"),
    "counter": N_("Counter"),
    "api": N_("API"),
}


@dataclass(frozen=True, slots=True)
class ConsoleQuery:
    """The console's state as its address carries it, so every step is a plain GET that can be
    bookmarked and gone back to."""

    phone: str = ""
    reference: str = ""
    service: str = ""
    district: str = ""
    office: str = ""

    @classmethod
    def of(cls, **values: str | None) -> ConsoleQuery:
        return cls(**{name: (values.get(name) or "").strip()[:limit] for name, limit in _LIMITS.items()})

    @property
    def looks_up(self) -> bool:
        return bool(self.phone or self.reference)

    @classmethod
    def parse(cls, query_string: str) -> ConsoleQuery:
        """The state a form carries back in its hidden ``console`` field (see ``query_string``)."""
        found = parse_qs(query_string[:600])
        return cls.of(**{name: values[0] for name, values in found.items() if name in _LIMITS})

    @property
    def query_string(self) -> str:
        return urlencode({key: value for key, value in dataclasses.asdict(self).items() if value})

    def url(self, **changes: str) -> str:
        values = {key: value for key, value in (dataclasses.asdict(self) | changes).items() if value}
        return "/agent" + (f"?{urlencode(values)}" if values else "")


@dataclass(frozen=True, slots=True)
class WalkIn:
    """One service's walk-in line at an office now, as the queue's board shows it: whether the office
    takes walk-ins now (drop-in hours), how many wait, and the wait of someone arriving now."""

    is_open: bool
    waiting: int
    wait: WaitRange


@dataclass(frozen=True, slots=True)
class OfficeCard:
    """An office as the agent weighs it for a caller: open or not and today's hours (``status``), and
    either the chosen ``service``'s walk-in line (``walk_in``; None when the office takes no walk-ins
    for it) or, for the office's details, every walk-in line (``queue``)."""

    office: Office
    status: OpenStatus
    service: Service | None = None
    walk_in: WalkIn | None = None
    queue: QueueSnapshot | None = None


@dataclass(frozen=True, slots=True)
class Search:
    """The earliest free times of a service (those an agent may book, kept phone seats included) and
    the offices offering it, the ones with the earliest times first."""

    service: Service
    district: District | None
    slots: list[AvailableSlot]
    cards: list[OfficeCard]

    @property
    def days(self) -> list[tuple[date, list[AvailableSlot]]]:
        """The free times by the offices' local date."""
        grouped: dict[date, list[AvailableSlot]] = {}
        for slot in self.slots:
            grouped.setdefault(slot.start.date(), []).append(slot)
        return list(grouped.items())


def slot_value(slot: AvailableSlot) -> str:
    """How the booking form names a free time: the office and the start."""
    return f"{slot.office}|{slot.start.isoformat()}"


def parse_slot(value: str) -> tuple[str, datetime] | None:
    office, _sep, start = value.partition("|")
    try:
        parsed = datetime.fromisoformat(start)
    except ValueError:
        return None
    if not office or parsed.tzinfo is None:
        return None
    return office, parsed


def districts(offices: list[Office]) -> list[District]:
    found = {office.district.id: office.district for office in offices}
    return sorted(found.values(), key=lambda district: district.name.casefold())


def services(offices: list[Office]) -> list[Service]:
    """The services an agent can book at some office, in the catalogue's order."""
    return bookable_services(offices)


def _takes_walk_ins(office: Office, service: Service) -> bool:
    return any(s.id == service.id for s in walk_in_services(office))


async def walk_in_lines(
    db: AsyncSession, directory: OfficeDirectory, offices: list[Office], service: Service, now: datetime
) -> dict[int, WalkIn]:
    """The service's walk-in line at each of ``offices`` that takes walk-ins for it, by office id.

    The same figures as :func:`kontor.queue.views.queue_snapshot` gives each office's board, for
    every office in three queries instead of six per office: the console's search shows them all.
    """
    offices = [office for office in offices if _takes_walk_ins(office, service)]
    if not offices:
        return {}
    ids = [office.id for office in offices]
    days = {office.id: office_day(office, now) for office in offices}
    today = sorted(set(days.values()))
    waiting_rows = await db.execute(
        select(Ticket.office_id, Ticket.day, func.count())
        .where(
            Ticket.office_id.in_(ids),
            Ticket.service_id == service.id,
            Ticket.status == TicketStatus.WAITING.value,
            Ticket.day.in_(today),
        )
        .group_by(Ticket.office_id, Ticket.day)
    )
    waiting = {office_id: count for office_id, day, count in waiting_rows if days[office_id] == day}
    latest = (
        select(
            Ticket.office_id,
            Ticket.called_at,
            Ticket.served_at,
            func.row_number()
            .over(partition_by=Ticket.office_id, order_by=Ticket.served_at.desc())
            .label("latest"),
        )
        .where(
            Ticket.office_id.in_(ids),
            Ticket.service_id == service.id,
            Ticket.status == TicketStatus.SERVED.value,
            Ticket.served_at >= now - timedelta(days=SAMPLE_DAYS),
            Ticket.called_at.is_not(None),
        )
        .subquery()
    )
    samples: dict[int, list[float]] = defaultdict(list)
    for office_id, called_at, served_at in await db.execute(
        select(latest.c.office_id, latest.c.called_at, latest.c.served_at).where(
            latest.c.latest <= SAMPLES_PER_SERVICE
        )
    ):
        samples[office_id].append((served_at - called_at).total_seconds() / 60)
    shifts = await db.execute(
        select(CounterShift.office_id, CounterShift.day, CounterShift.service_ids).where(
            CounterShift.office_id.in_(ids), CounterShift.day.in_(today)
        )
    )
    counters = Tally(
        office_id
        for office_id, day, chosen in shifts
        if days[office_id] == day and service.id in set(chosen or ())
    )
    hours = await directory.hours(db, *status_window(now))
    return {
        office.id: WalkIn(
            is_open=is_open_at(hours[office.id], now, HoursKind.DROP_IN),
            waiting=waiting.get(office.id, 0),
            wait=estimate_wait(
                waiting.get(office.id, 0) + 1,
                samples[office.id],
                counters[office.id],
                default_minutes=service.duration_minutes,
            ),
        )
        for office in offices
    }


async def search(
    db: AsyncSession,
    directory: OfficeDirectory,
    offices: list[Office],
    query: ConsoleQuery,
    now: datetime,
    *,
    release_delay: timedelta,
) -> Search | None:
    """The free times and office cards for the query's service (near its district), or None when it
    names no bookable service. ``offices`` are the directory's, loaded before."""
    service = next((s for s in services(offices) if s.code == query.service), None)
    if service is None:
        return None
    district = next((d for d in districts(offices) if d.slug == query.district), None)
    slots = await earliest_slots(
        db,
        directory,
        service.code,
        None,
        SLOTS_SHOWN,
        now,
        district_slug=district.slug if district else None,
        release_delay=release_delay,
        staff=True,
    )
    statuses = await directory.open_statuses(db, now)
    shown = [
        office
        for office in offices
        if offers(office, service.code) and (district is None or office.district_id == district.id)
    ]
    first_slot = {}
    for index, slot in enumerate(slots):
        first_slot.setdefault(slot.office, index)
    shown.sort(key=lambda office: first_slot.get(office.slug, len(slots)))
    lines = await walk_in_lines(db, directory, shown, service, now)
    cards = [
        OfficeCard(office, statuses[office.id], service, walk_in=lines.get(office.id)) for office in shown
    ]
    return Search(service, district, slots, cards)


async def office_details(
    db: AsyncSession, directory: OfficeDirectory, offices: list[Office], slug: str, now: datetime
) -> OfficeCard | None:
    """The card of the office the agent opened, with all its walk-in lines."""
    office = next((office for office in offices if office.slug == slug), None)
    if office is None:
        return None
    statuses = await directory.open_statuses(db, now)
    queue = await queue_snapshot(db, office, now) if walk_in_services(office) else None
    return OfficeCard(office, statuses[office.id], queue=queue)


def mask_email(email: str | None) -> str:
    """ "a…@example.se": enough to check with the caller, too little to read out to someone else."""
    if not email:
        return ""
    local, at, domain = email.partition("@")
    return f"{local[:1]}…@{domain}" if at else "…"


def office_zone(office: Office) -> ZoneInfo:
    return ZoneInfo(office.timezone)


def office_names(offices: list[Office]) -> dict[int, str]:
    return {office.id: office.name for office in offices}
