"""The slots API's answers, kept for a moment: in a release rush thousands of residents ask for the
same office's same weeks every second, and each answer costs a query and the slot rules.

An answer is kept for at most ``max_age`` seconds and for the minute of "now" it was made in (the
notice and the resting of cancelled seats move with the clock), and is dropped as soon as a session
in this process commits a change to a booking, an office, its offering or its hours. Another app
instance's booking shows here within ``max_age`` seconds; a slot shown a moment too long is refused
with 409 when booked, as capacity is the database's business, not the listing's.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime
from typing import Any

from kontor.booking.models import Booking
from kontor.db.changes import CommitCounter
from kontor.offices import directory

# Bumped on every committed change to bookings, process-wide.
_BOOKINGS = CommitCounter(Booking)


def _generation() -> tuple[int, int]:
    return _BOOKINGS.value, directory.generation()


class SlotCache:
    def __init__(self, max_age: float = 2.0, size: int = 1024) -> None:
        self.max_age = max_age
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[tuple[int, int], float, Any]] = OrderedDict()

    @staticmethod
    def key(*parts: Hashable, now: datetime) -> tuple[Hashable, ...]:
        return (*parts, now.replace(second=0, microsecond=0))

    def get(self, key: Hashable) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        generation, stored_at, value = entry
        if generation != _generation() or time.monotonic() - stored_at > self.max_age:
            del self._entries[key]
            return None
        return value

    def put(self, key: Hashable, value: Any, generation: tuple[int, int]) -> None:
        """Keep ``value``, computed from the data as of ``generation`` (read before computing it, so a
        change committed meanwhile makes the entry stale at once)."""
        self._entries[key] = (generation, time.monotonic(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    generation = staticmethod(_generation)
