"""Opening hours from the database, and what they mean right now.

Loading is batched: the hours of any number of offices come in two queries (weekly intervals,
closures with their special intervals), whatever the number of offices, because the finder and the
office page are the busiest pages. Closures are loaded only for the window of dates asked for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.hours import models
from kontor.hours.rules import (
    Closure,
    DayHours,
    DayStatus,
    HoursKind,
    Interval,
    OfficeHours,
    WeeklyInterval,
    current_interval,
    day_hours,
    hours_for_range,
    next_opening,
)

if TYPE_CHECKING:
    from kontor.offices.models import Office

__all__ = [
    "NEXT_OPENING_HORIZON_DAYS",
    "Deviation",
    "OpenStatus",
    "current_time",
    "deviations",
    "load_hours",
    "office_hours",
    "open_status",
    "status_window",
]

# How far "opens …" looks ahead; the window of closures loaded for an open/closed status matches it.
NEXT_OPENING_HORIZON_DAYS = 60


def current_time(state: Any) -> datetime:
    """Now, as an aware UTC datetime. Tests (and demos) fix the time by putting a callable that
    returns an aware datetime in ``app.state.clock``; without one this is the real clock."""
    clock: Callable[[], datetime] | None = state.get("clock") if state is not None else None
    return (clock() if clock is not None else datetime.now(UTC)).astimezone(UTC)


# Built once: the finder runs these on every request, and building a statement costs more than
# running it. The office ids expand at execution; the dates are compared with Date columns.
_W = models.WeeklyHours
_WEEKLY = (
    select(_W.office_id, _W.weekday, _W.opens, _W.closes, _W.kind, _W.valid_from, _W.valid_until)
    .where(
        _W.office_id.in_(bindparam("ids", expanding=True)),
        or_(_W.valid_from.is_(None), _W.valid_from <= bindparam("last")),
        or_(_W.valid_until.is_(None), _W.valid_until >= bindparam("first")),
    )
    .order_by(_W.office_id, _W.weekday, _W.opens)
)
# Columns, not entities: one joined query instead of closures plus a select-in for their intervals.
_C, _CI = models.Closure, models.ClosureInterval
_CLOSURES = (
    select(_C.id, _C.office_id, _C.first_day, _C.last_day, _C.reason, _CI.opens, _CI.closes, _CI.kind)
    .outerjoin(_CI, _CI.closure_id == _C.id)
    .where(
        _C.office_id.in_(bindparam("ids", expanding=True)),
        _C.first_day <= bindparam("last"),
        _C.last_day >= bindparam("first"),
    )
    .order_by(_C.id, _CI.opens)
)


async def load_hours(
    db: AsyncSession, offices: Iterable[Office], first: date, last: date
) -> dict[int, OfficeHours]:
    """The opening hours of each office (by id), with the closures that touch first..last."""
    zones = {office.id: office.timezone for office in offices}
    if not zones:
        return {}
    params = {"ids": list(zones), "first": first, "last": last}

    weekly: dict[int, list[WeeklyInterval]] = defaultdict(list)
    for office_id, weekday, opens, closes, kind, valid_from, valid_until in await db.execute(_WEEKLY, params):
        interval = Interval(opens, closes, HoursKind(kind))
        weekly[office_id].append(WeeklyInterval(weekday, interval, valid_from, valid_until))

    found: dict[int, tuple[int, date, date, str, list[Interval]]] = {}
    for closure_id, office_id, first_day, last_day, reason, opens, closes, kind in await db.execute(
        _CLOSURES, params
    ):
        entry = found.setdefault(closure_id, (office_id, first_day, last_day, reason or "", []))
        if opens is not None:
            entry[4].append(Interval(opens, closes, HoursKind(kind)))
    closures: dict[int, list[Closure]] = defaultdict(list)
    for office_id, first_day, last_day, reason, intervals in found.values():
        closures[office_id].append(Closure(first_day, last_day, reason, tuple(intervals)))

    return {
        office_id: OfficeHours(zone, tuple(weekly[office_id]), tuple(closures[office_id]))
        for office_id, zone in zones.items()
    }


async def office_hours(db: AsyncSession, office: Office, first: date, last: date) -> OfficeHours:
    """One office's hours with the closures that touch first..last."""
    return (await load_hours(db, [office], first, last))[office.id]


def status_window(at: datetime) -> tuple[date, date]:
    """The dates whose closures decide :func:`open_status` at ``at``, in any office's zone: its
    local date can be a day off the UTC date, and an interval near midnight can belong to the
    neighbouring date, hence two days' margin on either side."""
    utc_day = at.astimezone(UTC).date()
    return utc_day - timedelta(days=2), utc_day + timedelta(days=NEXT_OPENING_HORIZON_DAYS + 2)


@dataclass(frozen=True, slots=True)
class OpenStatus:
    """Open or closed at an instant, and what a visitor wants to know next. Times are local."""

    is_open: bool
    today: DayHours
    until: datetime | None = None
    opens_at: datetime | None = None
    opens_in_days: int | None = None

    @property
    def closed_all_day(self) -> bool:
        """Closed today for a reason worth saying (a holiday or a closure), not just after hours."""
        return self.today.status in {DayStatus.HOLIDAY, DayStatus.CLOSED}


def open_status(hours: OfficeHours, at: datetime) -> OpenStatus:
    """Whether the office is open at ``at`` (any kind of hours), until when, or when it next opens.

    Intervals that follow each other without a gap (drop-in until 12, appointments from 12) count
    as one opening, so "open until" names the time the doors really close.
    """
    zone = _zone_of(hours)
    today = at.astimezone(zone).date()
    today_hours = day_hours(hours, today)
    bounds = current_interval(hours, at)
    if bounds is not None:
        end = bounds[1]
        for _ in range(12):  # a day has few intervals; the bound only guards against bad data
            following = current_interval(hours, end)
            if following is None or following[1] <= end:
                break
            end = following[1]
        return OpenStatus(True, today_hours, until=end.astimezone(zone))
    opening = next_opening(hours, at, horizon_days=NEXT_OPENING_HORIZON_DAYS)
    if opening is None:
        return OpenStatus(False, today_hours)
    local = opening.astimezone(zone)
    return OpenStatus(False, today_hours, opens_at=local, opens_in_days=(local.date() - today).days)


def _zone_of(hours: OfficeHours) -> tzinfo:
    return ZoneInfo(hours.timezone)


@dataclass(frozen=True, slots=True)
class Deviation:
    """Consecutive dates that differ from the weekly hours in the same way."""

    first: date
    last: date
    status: DayStatus
    intervals: tuple[Interval, ...]
    note: str | None
    holiday: str | None

    @property
    def is_open(self) -> bool:
        return bool(self.intervals)


def deviations(hours: OfficeHours, first: date, last: date) -> list[Deviation]:
    """Holidays, closures and special hours from first to last, for "changes to opening hours".

    A holiday on a day the office is closed anyway (a Saturday's All Saints' Day) is no news and
    is left out; closures are listed as entered.
    """
    regular = OfficeHours(hours.timezone, hours.weekly)
    found: list[Deviation] = []
    for day in hours_for_range(hours, first, last):
        if day.status == DayStatus.REGULAR:
            continue
        if day.status == DayStatus.HOLIDAY and not day_hours(regular, day.day, holidays={}).is_open:
            continue
        previous = found[-1] if found else None
        if (
            previous is not None
            and previous.last + timedelta(days=1) == day.day
            and (previous.status, previous.intervals, previous.note) == (day.status, day.intervals, day.note)
        ):
            found[-1] = Deviation(
                previous.first, day.day, day.status, day.intervals, day.note, previous.holiday
            )
            continue
        found.append(Deviation(day.day, day.day, day.status, day.intervals, day.note, day.holiday))
    return found
