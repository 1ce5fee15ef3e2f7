"""A short-lived snapshot of the offices and their hours, for the busiest public pages.

Every public page needs every office with its district, offering and hours; loading them is most of
a request's work, and they change a few times a week. Each app keeps a snapshot for a few seconds
and drops it as soon as any session in this process commits a change to offices, services or hours
(an ORM event below), so a manager sees their own change at once and the other instances of a
city's installation see it within ``max_age`` seconds.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kontor.db.changes import CommitCounter
from kontor.hours.models import Closure, ClosureInterval, WeeklyHours
from kontor.hours.rules import OfficeHours
from kontor.hours.services import OpenStatus, load_hours, open_status, status_window
from kontor.offices.models import Counter, District, Office, OfficeService, Service
from kontor.offices.services import active_offices

WATCHED = (Office, District, Service, OfficeService, Counter, WeeklyHours, Closure, ClosureInterval)
_HOURS_WINDOWS = 16  # the finder, the office page and a few API ranges at a time


# Bumped on every committed change to what the directory holds, process-wide.
_CHANGES = CommitCounter(*WATCHED)


def generation() -> int:
    """Changes with every committed change to offices, services, offerings or hours in this process."""
    return _CHANGES.value


@dataclass
class _Snapshot:
    generation: int
    loaded_at: float
    offices: list[Office]
    by_slug: dict[str, Office]
    hours: OrderedDict[tuple[date, date], dict[int, OfficeHours]] = field(default_factory=OrderedDict)
    statuses: dict[datetime, dict[int, OpenStatus]] = field(default_factory=dict)


class OfficeDirectory:
    def __init__(self, max_age: float = 5.0) -> None:
        self.max_age = max_age
        self._snapshot: _Snapshot | None = None

    async def _current(self, db: AsyncSession) -> _Snapshot:
        snapshot = self._snapshot
        if (
            snapshot is None
            or snapshot.generation != _CHANGES.value
            or time.monotonic() - snapshot.loaded_at > self.max_age
        ):
            generation = _CHANGES.value
            offices = await active_offices(db)
            # Detached from the session that loaded them: every attribute the pages read is loaded.
            db.expunge_all()
            snapshot = _Snapshot(generation, time.monotonic(), offices, {o.slug: o for o in offices})
            self._snapshot = snapshot
        return snapshot

    async def offices(self, db: AsyncSession) -> list[Office]:
        """Every active office, as :func:`kontor.offices.services.active_offices` gives them."""
        return (await self._current(db)).offices

    async def office(self, db: AsyncSession, slug: str) -> Office | None:
        return (await self._current(db)).by_slug.get(slug)

    async def hours(self, db: AsyncSession, first: date, last: date) -> dict[int, OfficeHours]:
        """The hours of every active office with the closures that touch first..last."""
        snapshot = await self._current(db)
        key = (first, last)
        found = snapshot.hours.get(key)
        if found is None:
            found = await load_hours(db, snapshot.offices, first, last)
            snapshot.hours[key] = found
            while len(snapshot.hours) > _HOURS_WINDOWS:
                snapshot.hours.popitem(last=False)
        else:
            snapshot.hours.move_to_end(key)
        return found

    async def office_hours(self, db: AsyncSession, office: Office, first: date, last: date) -> OfficeHours:
        """One office's hours for first..last. The window is loaded for every office at once: that
        costs the same two queries, and API clients mostly ask for the same weeks."""
        return (await self.hours(db, first, last))[office.id]

    async def open_statuses(self, db: AsyncSession, now: datetime) -> dict[int, OpenStatus]:
        """Every active office's open/closed status, computed once a minute: hours begin and end on
        whole minutes, so any instant of a minute has the status of its first second."""
        minute = now.replace(second=0, microsecond=0)
        snapshot = await self._current(db)
        found = snapshot.statuses.get(minute)
        if found is None:
            hours = await self.hours(db, *status_window(minute))
            found = {office.id: open_status(hours[office.id], minute) for office in snapshot.offices}
            snapshot.statuses = {minute: found}
        return found

    def clear(self) -> None:
        self._snapshot = None
