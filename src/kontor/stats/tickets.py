"""Figures from the queue's tickets: visits by day, hour and channel, waits and service times, the time
spent serving residents in person, and tickets left unserved at closing.

Definitions (what the page and the API say the numbers mean):

- A *visit* is a served ticket (status "served"), dated by the office-local day and hour of its
  ``called_at``, in the office's own zone (each office's, when the offices in a report differ).
  Its *channel*: a walk-in ticket is "walk_in"; a checked-in booking's ticket takes its booking's
  channel: "phone" → "agent" (booked by the contact center), "web" or "api" → "web", any other
  (desk, counter, or a booking no longer there) → "desk".
- The *wait* is ``called_at - issued_at`` for a walk-in; for a booking's ticket it runs from the later
  of check-in and the booked time (waiting before one's booked time is not waiting); never negative.
  The *service time* is ``served_at - called_at``.
- Medians and 90th percentiles are nearest-rank over whole minutes (rounded down), read from
  per-minute histograms the database counts: the median of 3, 5 and 20 minutes is 5. "Within 15
  minutes" means a wait of at most 15:00 (a wait of exactly fifteen minutes counts as within).
- *Time serving in person* is the sum of the visits' service times per office and ISO week (weeks
  begin on the local Monday; the first and last week count only the days in the range). Its *help*
  part is the time of visits whose ticket says the resident asked for help, or whose booking's needs
  include computer help or an interpreter.
- *Unserved at closing*: tickets the day's end closed (status "closed"), by their office-local issue
  day (the ticket's ``day``), beside all tickets issued that day.

Everything is counted and summed in the database, grouped by office (and day, hour, week, service or
minute); Python only fills in the zeros and reads percentiles off the histograms. No figure holds
anything about a person: offices, services, days, counts and durations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Float, Text, and_, case, cast, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from kontor.booking.models import Booking, Need
from kontor.offices.models import Office
from kontor.queue.models import Ticket, TicketKind, TicketStatus
from kontor.stats.local import (
    local_day,
    local_hour,
    local_time,
    local_week,
    local_weekday,
    seconds_between,
    whole_minutes,
)
from kontor.stats.query import StatsQuery

CHANNELS = ("walk_in", "web", "agent", "desk")
WITHIN_SECONDS = 15 * 60
# A ticket is called on the day it was issued (the day's end closes the rest), so one called in the
# range was issued at most a day before it: a bound on issued_at lets the tickets' index do the work.
_ISSUED_BEFORE_CALL = timedelta(days=1)
# Constants written into the SQL rather than bound, so an expression that holds them reads the same
# in a SELECT and its GROUP BY.
_ZERO = literal_column("0.0", Float())
_WITHIN = literal_column(str(WITHIN_SECONDS), Float())


@dataclass(frozen=True, slots=True)
class DayVisits:
    """Visits on one office-local day, by channel; ``office_id`` None for all offices together."""

    day: date
    office_id: int | None
    walk_in: int = 0
    web: int = 0
    agent: int = 0
    desk: int = 0

    @property
    def total(self) -> int:
        return self.walk_in + self.web + self.agent + self.desk


@dataclass(frozen=True, slots=True)
class HourVisits:
    """Visits in one office-local hour of the week (weekday 0 = Monday) over the whole range."""

    weekday: int
    hour: int
    office_id: int | None
    walk_in: int = 0
    web: int = 0
    agent: int = 0
    desk: int = 0

    @property
    def total(self) -> int:
        return self.walk_in + self.web + self.agent + self.desk


V = TypeVar("V", DayVisits, HourVisits)


@dataclass(frozen=True, slots=True)
class ServiceTimes:
    """Waits and service times of one service's visits (minutes); ``office_id`` None for all offices."""

    service_id: int
    office_id: int | None
    served: int
    wait_median: int
    wait_p90: int
    within_15: int  # visits that waited at most 15 minutes
    service_median: int
    service_p90: int

    @property
    def within_15_share(self) -> float:
        return self.within_15 / self.served


@dataclass(frozen=True, slots=True)
class InPersonWeek:
    """Minutes one office spent serving residents in one ISO week (``week`` is its local Monday)."""

    office_id: int
    week: date
    visits: int
    minutes: float
    help_minutes: float

    @property
    def help_share(self) -> float | None:
        return self.help_minutes / self.minutes if self.minutes else None


@dataclass(frozen=True, slots=True)
class UnservedDay:
    day: date
    issued: int
    closed: int


@dataclass(frozen=True, slots=True)
class UnservedAtClosing:
    """Tickets one office's day's end closed unserved, over the range and per local issue day."""

    office_id: int
    issued: int
    closed: int
    days: tuple[UnservedDay, ...]

    @property
    def closed_share(self) -> float | None:
        return self.closed / self.issued if self.issued else None


# -- scope ---------------------------------------------------------------------------------------


async def _offices_by_zone(db: AsyncSession, q: StatsQuery) -> list[tuple[ZoneInfo, tuple[int, ...]]]:
    """The offices of ``q`` that exist, grouped by their zone: local days are each office's own."""
    rows = await db.execute(select(Office.id, Office.timezone).where(Office.id.in_(q.office_ids)))
    zones: dict[str, list[int]] = defaultdict(list)
    for office_id, zone in rows:
        zones[zone].append(office_id)
    return [(ZoneInfo(zone), tuple(ids)) for zone, ids in sorted(zones.items())]


async def _office_order(db: AsyncSession, q: StatsQuery) -> list[int]:
    """The offices of ``q`` that exist, in the order the caller gave them."""
    found = set(await db.scalars(select(Office.id).where(Office.id.in_(q.office_ids))))
    return [office_id for office_id in dict.fromkeys(q.office_ids) if office_id in found]


def _services(q: StatsQuery) -> list[ColumnElement[bool]]:
    return [] if q.service_ids is None else [Ticket.service_id.in_(q.service_ids)]


def _visits_in(q: StatsQuery, zone: ZoneInfo, office_ids: tuple[int, ...]) -> tuple[Any, list[Any]]:
    """The local time of a visit and the conditions that pick the visits of ``q`` in ``zone``."""
    start, end = q.utc_bounds(zone)
    conditions = [
        Ticket.office_id.in_(office_ids),
        Ticket.status == TicketStatus.SERVED.value,
        Ticket.issued_at >= start - _ISSUED_BEFORE_CALL,
        Ticket.issued_at < end,
        Ticket.called_at >= start,
        Ticket.called_at < end,
        *_services(q),
    ]
    return local_time(Ticket.called_at, zone, start, end), conditions


def _channel_sums() -> list[ColumnElement[Any]]:
    """Visits in all and per channel but "desk" (the rest), as sums over a group of tickets."""
    booked = Ticket.kind == TicketKind.BOOKING.value

    def counted(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((condition, 1), else_=0))

    return [
        func.count(),
        counted(Ticket.kind == TicketKind.WALK_IN.value),
        counted(and_(booked, Booking.channel.in_(("web", "api")))),
        counted(and_(booked, Booking.channel == "phone")),
    ]


def _by_channel(total: int, walk_in: int, web: int, agent: int) -> dict[str, int]:
    walk_in, web, agent = int(walk_in or 0), int(web or 0), int(agent or 0)
    return {"walk_in": walk_in, "web": web, "agent": agent, "desk": int(total) - walk_in - web - agent}


def _days(q: StatsQuery) -> list[date]:
    return [q.first + timedelta(days=offset) for offset in range(q.days)]


# -- visits --------------------------------------------------------------------------------------


async def visits_by_day(db: AsyncSession, q: StatsQuery) -> list[DayVisits]:
    """Visits per office and local day by channel, every day of the range for every office (zeros
    included), by day and then in the order of ``q.office_ids``; ``over_offices`` totals them."""
    counts: dict[tuple[date, int], dict[str, int]] = {}
    for zone, office_ids in await _offices_by_zone(db, q):
        local, conditions = _visits_in(q, zone, office_ids)
        day = local_day(local)
        query = (
            select(Ticket.office_id, day, *_channel_sums())
            .outerjoin(Booking, Booking.id == Ticket.booking_id)
            .where(*conditions)
            .group_by(Ticket.office_id, day)
        )
        for office_id, on, *sums in await db.execute(query):
            counts[(on, office_id)] = _by_channel(*sums)
    offices = await _office_order(db, q)
    return [
        DayVisits(day, office_id, **counts.get((day, office_id), {}))
        for day in _days(q)
        for office_id in offices
    ]


async def visits_by_hour(db: AsyncSession, q: StatsQuery) -> list[HourVisits]:
    """Visits per office and local hour of the week by channel, summed over the range: all 7 × 24
    hours for every office (zeros included), in the order of ``q.office_ids``, each from Monday 00:00.
    ``over_offices`` gives all offices together. A DST night's repeated hour counts both of its
    visits in the hour they happened (02:xx twice); the missing hour has none."""
    counts: dict[tuple[int, int, int], dict[str, int]] = {}
    for zone, office_ids in await _offices_by_zone(db, q):
        local, conditions = _visits_in(q, zone, office_ids)
        weekday, hour = local_weekday(local), local_hour(local)
        query = (
            select(Ticket.office_id, weekday, hour, *_channel_sums())
            .outerjoin(Booking, Booking.id == Ticket.booking_id)
            .where(*conditions)
            .group_by(Ticket.office_id, weekday, hour)
        )
        for office_id, on_weekday, at_hour, *sums in await db.execute(query):
            counts[(office_id, on_weekday, at_hour)] = _by_channel(*sums)
    return [
        HourVisits(weekday, hour, office_id, **counts.get((office_id, weekday, hour), {}))
        for office_id in await _office_order(db, q)
        for weekday in range(7)
        for hour in range(24)
    ]


def over_offices(rows: Iterable[V]) -> list[V]:
    """Rows of ``visits_by_day`` or ``visits_by_hour`` summed over the offices (``office_id`` None),
    in the order their days or hours first appear."""
    totals: dict[tuple[Any, ...], V] = {}
    for row in rows:
        key = (row.day,) if isinstance(row, DayVisits) else (row.weekday, row.hour)
        found = totals.get(key)
        if found is None:
            totals[key] = replace(row, office_id=None)
            continue
        totals[key] = replace(
            found,
            walk_in=found.walk_in + row.walk_in,
            web=found.web + row.web,
            agent=found.agent + row.agent,
            desk=found.desk + row.desk,
        )
    return list(totals.values())


# -- waits and service times ---------------------------------------------------------------------


def _not_negative(seconds: ColumnElement[float]) -> ColumnElement[float]:
    return case((seconds < _ZERO, _ZERO), else_=seconds)


def _wait_seconds() -> ColumnElement[float]:
    """From arrival, or from the booked time when a booking checked in early, to the call."""
    began = case((Ticket.booked_start > Ticket.issued_at, Ticket.booked_start), else_=Ticket.issued_at)
    return _not_negative(seconds_between(Ticket.called_at, began))


def _service_seconds() -> ColumnElement[float]:
    return _not_negative(seconds_between(Ticket.served_at, Ticket.called_at))


Histogram = dict[int, int]


def nearest_rank(histogram: Histogram, percent: int) -> int:
    """The ``percent``-th percentile (nearest rank) of the minutes a histogram counts (minute → how
    many); the histogram is not empty. Ranks are counted in integers: 90 % of 70 is rank 63."""
    total = sum(histogram.values())
    rank = max(1, -(-total * percent // 100))
    seen = 0
    for minute in sorted(histogram):
        seen += histogram[minute]
        if seen >= rank:
            return minute
    raise ValueError("an empty histogram has no percentiles")


async def service_times(db: AsyncSession, q: StatsQuery) -> list[ServiceTimes]:
    """Waits and service times per service over the visits of ``q``: for each service (by id) the
    figure of all offices together (``office_id`` None) and then one per office, in the order of
    ``q.office_ids``. A service or office without visits has no row."""
    waits: dict[tuple[int, int], Histogram] = defaultdict(dict)
    services: dict[tuple[int, int], Histogram] = defaultdict(dict)
    within: dict[tuple[int, int], int] = defaultdict(int)
    for zone, office_ids in await _offices_by_zone(db, q):
        _local, conditions = _visits_in(q, zone, office_ids)
        wait = _wait_seconds()
        wait_minute = whole_minutes(wait)
        query = (
            select(
                Ticket.office_id,
                Ticket.service_id,
                wait_minute,
                func.count(),
                func.sum(case((wait <= _WITHIN, 1), else_=0)),
            )
            .where(*conditions)
            .group_by(Ticket.office_id, Ticket.service_id, wait_minute)
        )
        for office_id, service_id, minute, count, counted_within in await db.execute(query):
            waits[(service_id, office_id)][minute] = count
            within[(service_id, office_id)] += int(counted_within)
        service_minute = whole_minutes(_service_seconds())
        query = (
            select(Ticket.office_id, Ticket.service_id, service_minute, func.count())
            .where(*conditions, Ticket.served_at.is_not(None))
            .group_by(Ticket.office_id, Ticket.service_id, service_minute)
        )
        for office_id, service_id, minute, count in await db.execute(query):
            services[(service_id, office_id)][minute] = count
    offices = await _office_order(db, q)
    rows: list[ServiceTimes] = []
    for service_id in sorted({service_id for service_id, _office in waits}):
        keys = [(service_id, office_id) for office_id in offices if (service_id, office_id) in waits]
        rows.append(_times(service_id, None, keys, waits, services, within))
        rows.extend(_times(service_id, key[1], [key], waits, services, within) for key in keys)
    return rows


def _times(
    service_id: int,
    office_id: int | None,
    keys: Sequence[tuple[int, int]],
    waits: dict[tuple[int, int], Histogram],
    services: dict[tuple[int, int], Histogram],
    within: dict[tuple[int, int], int],
) -> ServiceTimes:
    """One row from the histograms of ``keys`` (service, office) added together: sums of histograms
    are exact, so the all-offices percentiles are those of every visit, not an average of offices'."""
    wait = _added(waits[key] for key in keys)
    service = _added(services[key] for key in keys) or {0: 0}
    return ServiceTimes(
        service_id=service_id,
        office_id=office_id,
        served=sum(wait.values()),
        wait_median=nearest_rank(wait, 50),
        wait_p90=nearest_rank(wait, 90),
        within_15=sum(within[key] for key in keys),
        service_median=nearest_rank(service, 50),
        service_p90=nearest_rank(service, 90),
    )


def _added(histograms: Iterable[Histogram]) -> Histogram:
    total: Histogram = defaultdict(int)
    for histogram in histograms:
        for minute, count in histogram.items():
            total[minute] += count
    return dict(total)


# -- time in person ------------------------------------------------------------------------------


def _asked_for_help() -> ColumnElement[bool]:
    # The needs are a JSON list of known words; their quoted form is the same in either database's text.
    needs = cast(Booking.needs, Text)
    return or_(
        Ticket.needs_help.is_(True),
        needs.like(f'%"{Need.COMPUTER_HELP.value}"%'),
        needs.like(f'%"{Need.INTERPRETER.value}"%'),
    )


def _mondays(q: StatsQuery) -> list[date]:
    monday = q.first - timedelta(days=q.first.weekday())
    return [monday + timedelta(weeks=week) for week in range((q.last - monday).days // 7 + 1)]


async def in_person_time(db: AsyncSession, q: StatsQuery) -> list[InPersonWeek]:
    """Time serving residents in person per office and local ISO week: every week the range touches
    for every office (zeros included), by week and then in the order of ``q.office_ids``."""
    sums: dict[tuple[date, int], tuple[int, float, float]] = {}
    for zone, office_ids in await _offices_by_zone(db, q):
        local, conditions = _visits_in(q, zone, office_ids)
        week = local_week(local)
        seconds = _service_seconds()
        query = (
            select(
                Ticket.office_id,
                week,
                func.count(),
                func.sum(seconds),
                func.sum(case((_asked_for_help(), seconds), else_=_ZERO)),
            )
            .outerjoin(Booking, Booking.id == Ticket.booking_id)
            .where(*conditions, Ticket.served_at.is_not(None))
            .group_by(Ticket.office_id, week)
        )
        for office_id, monday, visits, serving, helping in await db.execute(query):
            sums[(monday, office_id)] = (int(visits), float(serving or 0), float(helping or 0))
    offices = await _office_order(db, q)
    rows = []
    for monday in _mondays(q):
        for office_id in offices:
            visits, serving, helping = sums.get((monday, office_id), (0, 0.0, 0.0))
            rows.append(InPersonWeek(office_id, monday, visits, serving / 60, helping / 60))
    return rows


# -- unserved at closing -------------------------------------------------------------------------


async def unserved_at_closing(db: AsyncSession, q: StatsQuery) -> list[UnservedAtClosing]:
    """Per office (in the order of ``q.office_ids``) the tickets issued and those closed unserved at
    the day's end, in all and for every local issue day of the range (zeros included)."""
    query = (
        select(
            Ticket.office_id,
            Ticket.day,
            func.count(),
            func.sum(case((Ticket.status == TicketStatus.CLOSED.value, 1), else_=0)),
        )
        .where(
            Ticket.office_id.in_(q.office_ids),
            Ticket.day >= q.first,
            Ticket.day <= q.last,
            *_services(q),
        )
        .group_by(Ticket.office_id, Ticket.day)
    )
    counts: dict[tuple[int, date], tuple[int, int]] = {}
    for office_id, day, issued, closed in await db.execute(query):
        counts[(office_id, day)] = (int(issued), int(closed))
    rows = []
    for office_id in await _office_order(db, q):
        days = tuple(UnservedDay(day, *counts.get((office_id, day), (0, 0))) for day in _days(q))
        rows.append(
            UnservedAtClosing(
                office_id=office_id,
                issued=sum(day.issued for day in days),
                closed=sum(day.closed for day in days),
                days=days,
            )
        )
    return rows
