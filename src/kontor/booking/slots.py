"""Free slots of online booking: which visit starts an office offers, and how many seats are left.

Pure and clock-free: `now` is injected. Slots are cut from the real instants of the opening
intervals (interval_bounds), so daylight-saving days neither invent nor repeat a slot. Seats kept for
the phone (:mod:`kontor.booking.phone_seats`) are left out of a resident's view until their release.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from kontor.booking.phone_seats import is_released, seats_seen
from kontor.hours.rules import HoursKind, OfficeHours, hours_for_range, interval_bounds

__all__ = ["Slot", "SlotPolicy", "free_slots", "is_bookable_start", "slot_policy_kinds"]

_ONE_DAY = timedelta(days=1)
_ONE_MINUTE = timedelta(minutes=1)


def _whole_minutes(name: str, value: object) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0) or value % _ONE_MINUTE:
        raise ValueError(f"{name} must be a positive whole number of minutes, got {value!r}")


def _whole_number(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum}, got {value!r}")


@dataclass(frozen=True, slots=True)
class SlotPolicy:
    """How a service is booked: visit length, parallel seats, notice, horizon and spacing of starts;
    and who looks: ``phone_seats`` of the seats are kept for staff until ``phone_release`` before a
    slot, so a resident (``staff`` False) sees only the others until then."""

    duration: timedelta
    seats: int = 1
    min_notice: timedelta = timedelta(hours=2)
    horizon_days: int = 60
    step: timedelta | None = None
    kinds: frozenset[HoursKind] = frozenset({HoursKind.APPOINTMENT})
    phone_seats: int = 0
    phone_release: timedelta = timedelta(hours=48)
    staff: bool = False

    def __post_init__(self) -> None:
        _whole_minutes("duration", self.duration)
        if self.step is not None:
            _whole_minutes("step", self.step)
        _whole_number("seats", self.seats, minimum=1)
        if not isinstance(self.min_notice, timedelta) or self.min_notice < timedelta(0):
            raise ValueError(f"min_notice must not be negative, got {self.min_notice!r}")
        _whole_number("horizon_days", self.horizon_days, minimum=0)
        _whole_number("phone_seats", self.phone_seats, minimum=0)
        if self.phone_seats > self.seats:
            raise ValueError(f"phone_seats must not exceed seats ({self.seats}), got {self.phone_seats!r}")
        if not isinstance(self.phone_release, timedelta) or self.phone_release < timedelta(0):
            raise ValueError(f"phone_release must not be negative, got {self.phone_release!r}")
        kinds = frozenset(HoursKind(k) for k in self.kinds)
        if not kinds:
            raise ValueError("kinds must name at least one kind of opening hours")
        object.__setattr__(self, "kinds", kinds)

    @property
    def spacing(self) -> timedelta:
        """Distance between two slot starts in one interval."""
        return self.duration if self.step is None else self.step

    @property
    def hides_kept_seats(self) -> bool:
        """Whether some slots show fewer seats than there are: seats are kept and a resident looks."""
        return self.phone_seats > 0 and not self.staff


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable start; ``seats`` are those the viewer may book (a resident's view leaves out seats
    still kept for the phone) and ``taken`` how many of those are gone."""

    start: datetime
    end: datetime
    seats: int
    taken: int = 0

    @property
    def seats_left(self) -> int:
        return max(0, self.seats - self.taken)


def slot_policy_kinds(hours: OfficeHours) -> frozenset[HoursKind]:
    """Appointment hours when the office has any weekly or special interval of kind APPOINTMENT; otherwise
    every kind (an office without separate appointment hours takes bookings in its opening hours)."""
    intervals = [w.interval for w in hours.weekly] + [i for c in hours.closures for i in c.intervals]
    if any(i.kind == HoursKind.APPOINTMENT for i in intervals):
        return frozenset({HoursKind.APPOINTMENT})
    return frozenset(HoursKind)


def _require_aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"`{name}` must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


def _taken_by_start(taken: Mapping[datetime, int] | None) -> dict[datetime, int]:
    counts: dict[datetime, int] = {}
    for start, count in (taken or {}).items():
        if count < 0:
            raise ValueError(f"seats taken must not be negative, got {count!r} for {start!r}")
        key = _require_aware("taken", start)
        counts[key] = counts.get(key, 0) + count
    return counts


def _starts_in(
    opens: datetime, closes: datetime, policy: SlotPolicy, earliest: datetime
) -> Iterator[datetime]:
    spacing = policy.spacing
    # Skip straight to the first start at or after `earliest` instead of walking past the notice.
    k = max(0, -((opens - earliest) // spacing))
    start = opens + k * spacing
    while start + policy.duration <= closes:
        yield start
        start += spacing


def _offered_starts(
    hours: OfficeHours, policy: SlotPolicy, first: date, last: date, now: datetime
) -> list[datetime]:
    """Sorted, unique UTC starts with a local date in first..last, clipped to the notice and horizon."""
    zone: tzinfo = ZoneInfo(hours.timezone)
    earliest = now + policy.min_notice
    today = now.astimezone(zone).date()
    first = max(first, earliest.astimezone(zone).date())
    if (last - today).days > policy.horizon_days:
        last = today + timedelta(days=policy.horizon_days)
    if last < first:
        return []
    starts: set[datetime] = set()
    # One date more on each side: near a clock change at midnight an interval's slots can start on
    # a neighbouring local date; the local start date is what counts.
    for dh in hours_for_range(hours, first - _ONE_DAY, last + _ONE_DAY):
        for interval in dh.intervals:
            if interval.kind in policy.kinds:
                opens, closes = interval_bounds(dh.day, interval, zone)
                starts.update(_starts_in(opens, closes, policy, earliest))
    return sorted(s for s in starts if first <= s.astimezone(zone).date() <= last)


def free_slots(
    hours: OfficeHours,
    policy: SlotPolicy,
    first: date,
    last: date,
    now: datetime,
    taken: Mapping[datetime, int] | None = None,
    *,
    include_full: bool = False,
    taken_public: Mapping[datetime, int] | None = None,
) -> list[Slot]:
    """Slots whose local start date is in first..last (inclusive), in start order, each with seats_left.

    `taken` maps a slot start (aware; compare in UTC) to the number of seats already booked or held,
    and `taken_public` to how many of those are public seats (numbered up to seats - phone_seats);
    without it, a resident is shown the fewest free public seats the counts allow. Full slots are left
    out unless include_full. Nothing starts before now + min_notice or on a local date after today +
    horizon_days, and the range is clipped to that window first, so asking for a huge range costs no
    more than the window.
    """
    if last < first:
        raise ValueError(f"last ({last}) is before first ({first})")
    now = _require_aware("now", now)
    counts = _taken_by_start(taken)
    starts = _offered_starts(hours, policy, first, last, now)
    if policy.hides_kept_seats:
        slots: Iterator[Slot] = _seen_by_resident(policy, starts, now, counts, taken_public)
    else:
        slots = (Slot(start, start + policy.duration, policy.seats, counts.get(start, 0)) for start in starts)
    return [s for s in slots if include_full or s.seats_left > 0]


def _seen_by_resident(
    policy: SlotPolicy,
    starts: list[datetime],
    now: datetime,
    counts: dict[datetime, int],
    taken_public: Mapping[datetime, int] | None,
) -> Iterator[Slot]:
    public = _taken_by_start(taken_public) if taken_public is not None else None
    seats, kept = policy.seats, policy.phone_seats
    for start in starts:
        taken = counts.get(start, 0)
        used_public = public.get(start, 0) if public is not None else min(taken, seats - kept)
        released = is_released(start, now, policy.phone_release)
        usable, used = seats_seen(seats, kept, taken, used_public, staff=False, released=released)
        yield Slot(start, start + policy.duration, usable, used)


def is_bookable_start(hours: OfficeHours, policy: SlotPolicy, start: datetime, now: datetime) -> bool:
    """Whether `start` is exactly the start of a slot that free_slots would offer (ignoring seats taken) —
    the booking service checks a client's requested start with it."""
    start = _require_aware("start", start)
    now = _require_aware("now", now)
    day = start.astimezone(ZoneInfo(hours.timezone)).date()
    return start in _offered_starts(hours, policy, day, day, now)
