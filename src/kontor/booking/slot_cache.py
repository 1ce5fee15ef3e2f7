"""The slots API's answers, kept for a moment: in a release rush thousands of residents ask for the
same office's same weeks every second, and each answer costs a query and the slot rules.

An answer is kept for at most ``max_age`` seconds and for the minute of "now" it was made in (the
notice and the resting of cancelled seats move with the clock), and is dropped as soon as a session
in this process commits a change to a booking, an office, its offering or its hours. Another app
instance's booking shows here within ``max_age`` seconds; a slot shown a moment too long is refused
with 409 when booked, as capacity is the database's business, not the listing's.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
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
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}

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

    async def get_or_make(self, key: Hashable, make: Callable[[], Awaitable[Any]]) -> Any:
        """The kept answer, or ``await make()``; requests that miss the same key at the same moment
        wait for the first one's answer instead of all computing it (a rush starts with a miss)."""
        found = self.get(key)
        if found is not None:
            return found
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            generation = _generation()
            value = await make()
            self.put(key, value, generation)
            future.set_result(value)
            return value
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here: waiters, if any, get it too
            raise
        finally:
            del self._pending[key]
