"""Opening-hours rules of an office: weekly hours, closures, special hours and Swedish holidays.

Pure and clock-free: every function that depends on "now" takes `at`. Hours are wall-clock times
in the office's zone; instants are returned as UTC-aware datetimes.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kontor.hours.holidays import (
    HOLIDAY_NAME_SEPARATOR,
    HOLIDAY_NAMES_SV,
    holiday_names_in_year,
    swedish_holidays,
)

__all__ = [
    "HOLIDAY_NAMES_SV",
    "HOLIDAY_NAME_SEPARATOR",
    "Closure",
    "DayHours",
    "DayStatus",
    "HoursKind",
    "Interval",
    "OfficeHours",
    "WeeklyInterval",
    "current_interval",
    "day_hours",
    "hours_for_range",
    "interval_bounds",
    "is_open_at",
    "next_opening",
    "swedish_holidays",
]

DEFAULT_TIMEZONE = "Europe/Stockholm"
_ONE_DAY = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)


class HoursKind(StrEnum):
    DROP_IN = "drop_in"
    APPOINTMENT = "appointment"


class DayStatus(StrEnum):
    REGULAR = "regular"
    HOLIDAY = "holiday"
    CLOSED = "closed"
    SPECIAL = "special"


@dataclass(frozen=True, slots=True)
class Interval:
    opens: time
    closes: time
    kind: HoursKind = HoursKind.DROP_IN

    def __post_init__(self) -> None:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("interval times are wall-clock times and must not carry a tzinfo")
        if self.closes <= self.opens:
            raise ValueError(f"interval closes ({self.closes}) must be after it opens ({self.opens})")
        object.__setattr__(self, "kind", HoursKind(self.kind))


@dataclass(frozen=True, slots=True)
class WeeklyInterval:
    weekday: int
    interval: Interval
    valid_from: date | None = None
    valid_until: date | None = None

    def __post_init__(self) -> None:
        if isinstance(self.weekday, bool) or self.weekday not in range(7):
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday!r}")
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until < self.valid_from
        ):
            raise ValueError(f"valid_until ({self.valid_until}) is before valid_from ({self.valid_from})")

    def applies_to(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_until is None or day <= self.valid_until)
        )


@dataclass(frozen=True, slots=True)
class Closure:
    """A date range (inclusive) that overrides the weekly hours: closed when `intervals` is empty,
    otherwise special hours (which also open a holiday)."""

    first_day: date
    last_day: date
    reason: str
    intervals: tuple[Interval, ...] = ()

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError(f"closure last_day ({self.last_day}) is before first_day ({self.first_day})")
        object.__setattr__(self, "intervals", tuple(self.intervals))

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


@dataclass(frozen=True, slots=True)
class DayHours:
    day: date
    intervals: tuple[Interval, ...]
    status: DayStatus
    note: str | None = None
    holiday: str | None = None

    @property
    def is_open(self) -> bool:
        return bool(self.intervals)

    def of_kind(self, kind: HoursKind) -> tuple[Interval, ...]:
        return tuple(i for i in self.intervals if i.kind == kind)


@dataclass(frozen=True, slots=True)
class OfficeHours:
    timezone: str = DEFAULT_TIMEZONE
    weekly: tuple[WeeklyInterval, ...] = ()
    closures: tuple[Closure, ...] = ()

    def __post_init__(self) -> None:
        _zone(self.timezone)
        object.__setattr__(self, "weekly", tuple(self.weekly))
        object.__setattr__(self, "closures", tuple(self.closures))


def _zone(tz: tzinfo | str) -> tzinfo:
    if not isinstance(tz, str):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc


def _sorted_unique(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    return tuple(sorted(dict.fromkeys(intervals), key=lambda i: (i.opens, i.kind, i.closes)))


def _specificity(closure: Closure) -> tuple[date, int]:
    return closure.first_day, -(closure.last_day - closure.first_day).days


def _winning_closure(closures: Iterable[Closure], day: date) -> Closure | None:
    # Latest first_day is the most specific entry; on a tie the shorter range; then the first given.
    covering = [c for c in closures if c.covers(day)]
    return max(covering, key=_specificity) if covering else None


def day_hours(hours: OfficeHours, day: date, holidays: Mapping[date, str] | None = None) -> DayHours:
    """What one date looks like: closure entries win over holidays, which win over weekly hours.

    Pass `holidays` (e.g. from swedish_holidays) to use another calendar or to skip the lookup in loops.
    """
    holiday = holiday_names_in_year(day.year).get(day) if holidays is None else holidays.get(day)
    closure = _winning_closure(hours.closures, day)
    if closure is not None:
        status = DayStatus.SPECIAL if closure.intervals else DayStatus.CLOSED
        return DayHours(day, _sorted_unique(closure.intervals), status, closure.reason or None, holiday)
    if holiday is not None:
        return DayHours(day, (), DayStatus.HOLIDAY, holiday, holiday)
    weekly = (w.interval for w in hours.weekly if w.applies_to(day))
    return DayHours(day, _sorted_unique(weekly), DayStatus.REGULAR)


def hours_for_range(hours: OfficeHours, first: date, last: date) -> list[DayHours]:
    """One DayHours per date from first to last inclusive, for calendars and week views."""
    if last < first:
        raise ValueError(f"last ({last}) is before first ({first})")
    holidays = swedish_holidays(first, last)
    return [day_hours(hours, first + timedelta(days=n), holidays) for n in range((last - first).days + 1)]


def _wall_to_utc(wall: datetime, zone: tzinfo, fold: int) -> datetime:
    instant = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # `wall` was skipped by a forward transition. PEP 495 maps it with the offset before the gap
    # (fold=0, an instant after the transition) or after it (fold=1, an instant before); the first
    # instant after the gap is the transition itself, found by bisection (gaps need not be 1 h).
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    after = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    offset_after = after.astimezone(zone).utcoffset()
    low, high = 0, (after - before) // _MICROSECOND
    while high - low > 1:
        middle = (low + high) // 2
        if (before + middle * _MICROSECOND).astimezone(zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return before + high * _MICROSECOND


def interval_bounds(day: date, interval: Interval, tz: ZoneInfo | str) -> tuple[datetime, datetime]:
    """The interval's real instants (UTC) on `day`, so that DST days neither lose nor double-count time.

    A time in a spring-forward gap maps to the first instant after the gap; in the autumn repeat the
    opening takes the first occurrence and the closing the second. Thus start <= end, and start == end
    only for an interval lying wholly inside a gap (it does not happen that day).
    """
    zone = _zone(tz)
    start = _wall_to_utc(datetime.combine(day, interval.opens), zone, fold=0)
    end = _wall_to_utc(datetime.combine(day, interval.closes), zone, fold=1)
    return start, end


def _local_day(hours: OfficeHours, at: datetime) -> tuple[tzinfo, date]:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"`at` must be timezone-aware, got naive {at!r}")
    zone = _zone(hours.timezone)
    return zone, at.astimezone(zone).date()


def _bounds_on(
    hours: OfficeHours, zone: tzinfo, day: date, kind: HoursKind | None
) -> list[tuple[datetime, datetime]]:
    dh = day_hours(hours, day)
    intervals = dh.intervals if kind is None else dh.of_kind(kind)
    return [(s, e) for s, e in (interval_bounds(day, i, zone) for i in intervals) if s < e]


def _containing(hours: OfficeHours, at: datetime, kind: HoursKind | None) -> list[tuple[datetime, datetime]]:
    zone, today = _local_day(hours, at)
    # Neighbouring dates too: near a transition at midnight an interval can end on the next local date.
    days = (today - _ONE_DAY, today, today + _ONE_DAY)
    return [(s, e) for day in days for s, e in _bounds_on(hours, zone, day, kind) if s <= at < e]


def is_open_at(hours: OfficeHours, at: datetime, kind: HoursKind | None = None) -> bool:
    """Whether the office is open (for `kind`, or any kind when None) at the instant `at`."""
    return bool(_containing(hours, at, kind))


def current_interval(
    hours: OfficeHours, at: datetime, kind: HoursKind | None = None
) -> tuple[datetime, datetime] | None:
    """UTC bounds of the interval containing `at`, for "open until …".

    Where overlapping intervals contain `at`, the one closing last (then opening first) is chosen.
    """
    found = _containing(hours, at, kind)
    return max(found, key=lambda b: (b[1], at - b[0])) if found else None


def next_opening(
    hours: OfficeHours, at: datetime, kind: HoursKind | None = None, horizon_days: int = 60
) -> datetime | None:
    """The first interval start strictly after `at` (the next one even while open), for "opens …" notices.

    Looks at local dates up to `horizon_days` after today's and returns None when nothing opens there.
    """
    if horizon_days < 0:
        raise ValueError(f"horizon_days must not be negative, got {horizon_days}")
    zone, today = _local_day(hours, at)
    best: datetime | None = None
    found_on: int | None = None
    for offset in range(-1, horizon_days + 1):
        # Openings move later from one date to the next; the date after the first hit is checked
        # only to be safe around transitions at midnight.
        if found_on is not None and offset > found_on + 1:
            break
        starts = [s for s, _ in _bounds_on(hours, zone, today + offset * _ONE_DAY, kind) if s > at]
        if starts:
            best = min(starts) if best is None else min(best, *starts)
            found_on = offset if found_on is None else found_on
    return best
