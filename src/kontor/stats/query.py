"""What a statistics report covers: a range of office-local dates, the offices in scope (already
narrowed to what the reader may see), and optionally some services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A year and a day: a report over a whole year, leap years included.
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class StatsQuery:
    first: date  # office-local, included
    last: date  # office-local, included
    office_ids: tuple[int, ...]
    service_ids: tuple[int, ...] | None = None  # None: every service

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("the range ends before it begins")
        if (self.last - self.first).days + 1 > MAX_DAYS:
            raise ValueError(f"a range of at most {MAX_DAYS} days")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def utc_bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The instants the range covers in ``zone``: from the first day's midnight (included) to the
        midnight after the last day (excluded), in UTC. A DST day is 23 or 25 hours long here."""
        start = datetime.combine(self.first, time(0), zone)
        end = datetime.combine(self.last + timedelta(days=1), time(0), zone)
        return start.astimezone(UTC), end.astimezone(UTC)
