"""Walk-in queue rules: ticket codes, the order in which counters call, wait estimates and day's end.

Pure and clock-free: every function that depends on "now" takes it as an argument. Instants are
timezone-aware datetimes (stored as UTC); nothing here reads the database or the request.
"""

import math
import statistics
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

__all__ = [
    "DEFAULT_DUE_WINDOW",
    "DEFAULT_GRACE",
    "MIN_SAMPLES",
    "OPEN_STATUSES",
    "EntryKind",
    "WaitRange",
    "Waiting",
    "closes_unserved",
    "estimate_wait",
    "is_late",
    "next_for_counter",
    "position_in_line",
    "queue_order",
    "service_day",
    "ticket_code",
]

DEFAULT_GRACE = timedelta(minutes=10)
DEFAULT_DUE_WINDOW = timedelta(minutes=5)
# Below this many recent service times a median says more about chance than about the service.
MIN_SAMPLES = 3
# A ticket in one of these states at closing time was never served.
OPEN_STATUSES = frozenset({"waiting", "called"})


class EntryKind(StrEnum):
    WALK_IN = "walk_in"
    BOOKING = "booking"


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


@dataclass(frozen=True, slots=True)
class Waiting:
    """One person waiting in an office's queue.

    A walk-in's place is its arrival (`issued_at`). A booking enters the queue when it is checked in
    and carries its `booked_start`; a walk-in's `booked_start` is ignored by the ordering (a late
    booking turned walk-in may keep it for the record).
    """

    id: int
    service: str
    issued_at: datetime
    kind: EntryKind = EntryKind.WALK_IN
    booked_start: datetime | None = None
    checked_in_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", EntryKind(self.kind))
        _require_aware("issued_at", self.issued_at)
        _require_aware("booked_start", self.booked_start)
        _require_aware("checked_in_at", self.checked_in_at)
        if self.kind is EntryKind.BOOKING and (self.booked_start is None or self.checked_in_at is None):
            raise ValueError("a booking waits in the queue only once checked in, with its booked start")


@dataclass(frozen=True, slots=True)
class WaitRange:
    """An estimated wait in whole minutes: `low` <= `typical` <= `high`, none negative."""

    low: int
    high: int
    typical: int


def ticket_code(letter: str, number: int) -> str:
    """The code shown on a ticket: the service letter and the day's number, three digits at least.

    `ticket_code("A", 7)` is "A007"; after "A999" comes "A1000" (never truncated, so never repeated).
    """
    if len(letter) != 1 or not letter.isalpha() or not letter.isupper():
        raise ValueError(f"a service letter is one capital letter, got {letter!r}")
    if isinstance(number, bool) or number < 1:
        raise ValueError(f"ticket numbers start at 1, got {number!r}")
    return f"{letter}{number:03d}"


def is_late(booked_start: datetime, checked_in_at: datetime, grace: timedelta = DEFAULT_GRACE) -> bool:
    """Whether a booking checked in at `checked_in_at` has missed its time and joins as a walk-in.

    Late means strictly after `booked_start + grace`: checking in exactly at the end of the grace
    period still counts as on time.
    """
    _require_aware("booked_start", booked_start)
    _require_aware("checked_in_at", checked_in_at)
    if grace < timedelta(0):
        raise ValueError(f"grace must not be negative, got {grace}")
    return checked_in_at > booked_start + grace


def _is_due(entry: Waiting, now: datetime, due_window: timedelta) -> bool:
    assert entry.booked_start is not None
    return entry.booked_start - due_window <= now


def _line_key(entry: Waiting, now: datetime, due_window: timedelta) -> tuple[int, datetime, datetime, int]:
    # Three bands: bookings due now (by booked start), then arrivals (walk-ins by arrival), then
    # bookings not yet due, which are called early only when nobody else waits.
    if entry.kind is EntryKind.BOOKING:
        assert entry.booked_start is not None
        band = 0 if _is_due(entry, now, due_window) else 2
        return (band, entry.booked_start, entry.issued_at, entry.id)
    return (1, entry.issued_at, entry.issued_at, entry.id)


def queue_order(
    waiting: Iterable[Waiting],
    services: Collection[str],
    now: datetime,
    *,
    due_window: timedelta = DEFAULT_DUE_WINDOW,
) -> list[Waiting]:
    """Everyone waiting for one of `services`, in the order a counter handling them calls them.

    1. Checked-in bookings that are due (`booked_start - due_window <= now`), earliest booked start
       first.
    2. Walk-ins (including late bookings turned walk-ins) in order of arrival: `issued_at`, then id.
    3. Checked-in bookings not yet due, earliest booked start first: nobody is called before their
       time while someone else waits, but a counter with nothing else to do may take them early.

    Ties within a band fall back to `issued_at` and then id, so the order is total and stable.
    """
    _require_aware("now", now)
    return sorted(
        (entry for entry in waiting if entry.service in services),
        key=lambda entry: _line_key(entry, now, due_window),
    )


def next_for_counter(
    waiting: Iterable[Waiting],
    services: Collection[str],
    now: datetime,
    *,
    due_window: timedelta = DEFAULT_DUE_WINDOW,
) -> Waiting | None:
    """The entry a counter handling `services` calls next, or None when none of them has anyone waiting.

    The order is that of `queue_order`.
    """
    line = queue_order(waiting, services, now, due_window=due_window)
    return line[0] if line else None


def position_in_line(
    waiting: Iterable[Waiting],
    entry: Waiting,
    now: datetime,
    *,
    due_window: timedelta = DEFAULT_DUE_WINDOW,
) -> int:
    """The 1-based place of `entry` among those waiting for the same service, in `queue_order`.

    The entry is found by id; a ValueError is raised when it is not among `waiting`.
    """
    line = queue_order(waiting, {entry.service}, now, due_window=due_window)
    for place, other in enumerate(line, start=1):
        if other.id == entry.id:
            return place
    raise ValueError(f"entry {entry.id} is not waiting for service {entry.service!r}")


def _usable(samples: Iterable[float]) -> list[float]:
    # Clocks of different instances can disagree by a little, so a measured duration can come out
    # negative; such samples (and non-finite ones) say nothing about the service and are left out.
    return [float(s) for s in samples if math.isfinite(s) and s >= 0]


def _whole_minutes(ahead: int, service_minutes: float, counters: int) -> int:
    # Rounded to microminutes first so 3 * (10 / 3) gives 10, not 11.
    return max(0, math.ceil(round(ahead * service_minutes / counters, 6)))


def estimate_wait(
    position: int,
    recent_service_minutes: Sequence[float],
    counters: int,
    *,
    default_minutes: float,
) -> WaitRange:
    """Estimated wait, in whole minutes, of the ticket at `position` (1-based) in its service's line.

    Method: the people ahead (`position - 1`) are shared among the counters serving the service, each
    taking one service time, so wait = ceil(ahead * service_time / max(1, counters)). Zero counters
    count as one: the estimate assumes a counter will open. The service time is the median of the
    recent service times of this service at this office (`typical`); the range uses their lower
    quartile (`low`) and upper quartile (`high`), computed with the inclusive method, so it stays
    within the observed times. With fewer than `MIN_SAMPLES` usable samples all three use
    `default_minutes` (the service's planned duration). Negative or non-finite samples are ignored.

    The first in line waits 0 minutes; the estimate never goes negative, `low <= typical <= high`,
    and it never decreases as the position grows.
    """
    if isinstance(position, bool) or position < 1:
        raise ValueError(f"position is 1-based, got {position!r}")
    if counters < 0:
        raise ValueError(f"counters must not be negative, got {counters!r}")
    if not math.isfinite(default_minutes) or default_minutes <= 0:
        raise ValueError(f"default_minutes must be a positive number, got {default_minutes!r}")
    samples = _usable(recent_service_minutes)
    if len(samples) < MIN_SAMPLES:
        lower = typical = upper = float(default_minutes)
    else:
        lower, typical, upper = statistics.quantiles(samples, n=4, method="inclusive")
    ahead, serving = position - 1, max(1, counters)
    return WaitRange(
        low=_whole_minutes(ahead, lower, serving),
        high=_whole_minutes(ahead, upper, serving),
        typical=_whole_minutes(ahead, typical, serving),
    )


def closes_unserved(status: str, closing_time: datetime, now: datetime) -> bool:
    """Whether a ticket in `status` is closed as not served at `now`, given the day's `closing_time`.

    At closing time (and after), tickets still waiting or called but not finished are closed as not
    served; served, no-show and already closed tickets are left as they are.
    """
    _require_aware("closing_time", closing_time)
    _require_aware("now", now)
    return status in OPEN_STATUSES and now >= closing_time


def service_day(at: datetime, zone: tzinfo) -> date:
    """The office's local date of the instant `at`: ticket numbers restart when this date changes.

    Numbering follows the office's calendar day, not the UTC day (which in Stockholm turns at 01:00
    or 02:00 local time).
    """
    _require_aware("at", at)
    return at.astimezone(zone).date()
