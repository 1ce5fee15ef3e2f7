"""What the booking pages list: the bookable services, each office's earliest free time, one office's
free slots for a range of dates, and a month of free times for the calendar.

Each office's hours come from the directory (one load for every office) and its taken seats from one
query per office and range, as in the slots API, so the pages and the API always agree on a slot.
Everything here is a resident's view unless `staff` says otherwise: seats kept for the phone are
shown to staff only until they are released.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from kontor.booking.availability import earliest_per_office, office_slots
from kontor.booking.policy import hours_window, slot_policy
from kontor.booking.schemas import AvailableSlot
from kontor.booking.seats import seat_counts_on
from kontor.booking.slots import Slot, free_slots
from kontor.offices.directory import OfficeDirectory
from kontor.offices.models import District, Office, OfficeService, Service
from kontor.offices.services import bookable_offering

__all__ = [
    "MonthOfTimes",
    "OfficeChoice",
    "bookable_services",
    "districts_offering",
    "earliest_by_office",
    "month_of_times",
    "month_weeks",
    "office_free_slots",
    "soonest",
]


def bookable_services(offices: Iterable[Office]) -> list[Service]:
    """Services that at least one of ``offices`` takes bookings for, in the catalogue's order."""
    found = {o.service.id: o.service for office in offices for o in office.offerings if o.is_bookable}
    return sorted(found.values(), key=lambda s: (s.sort_order, s.code))


def districts_offering(offices: Iterable[Office], service_code: str) -> list[District]:
    """The districts with an office that takes bookings for the service, by name."""
    found = {o.district.id: o.district for o in offices if bookable_offering(o, service_code) is not None}
    return sorted(found.values(), key=lambda d: d.name.casefold())


async def office_free_slots(
    db: AsyncSession,
    directory: OfficeDirectory,
    office: Office,
    offering: OfficeService,
    first: date,
    last: date,
    now: datetime,
    *,
    release_delay: timedelta = timedelta(0),
    staff: bool = False,
) -> list[Slot]:
    """The office's free slots of the service whose local date is first..last (both inclusive), in
    start order; clipped to the service's notice and horizon. With `staff`, the seats kept for the
    phone count as free."""
    hours = await directory.office_hours(db, office, *hours_window(office, offering.service, now))
    taken = await seat_counts_on(
        db, office, offering, first, last, now, release_delay=release_delay, staff=staff
    )
    policy = slot_policy(offering, hours, staff=staff)
    return free_slots(hours, policy, first, last, now, taken.taken, taken_public=taken.public)


@dataclass(frozen=True, slots=True)
class OfficeChoice:
    office: Office
    earliest: AvailableSlot | None


async def earliest_by_office(
    db: AsyncSession,
    directory: OfficeDirectory,
    service_code: str,
    now: datetime,
    *,
    district_slug: str | None = None,
    release_delay: timedelta = timedelta(0),
    staff: bool = False,
) -> list[OfficeChoice]:
    """Every active office that takes bookings for the service (only the district's, when given), in
    the directory's order, each with its earliest free slot within the horizon or None."""
    # The directory first: loading its snapshot detaches everything the session held.
    offices = await directory.offices(db)
    offered = [
        (office, offering)
        for office in offices
        if (offering := bookable_offering(office, service_code)) is not None
        and not (district_slug and office.district.slug != district_slug)
    ]
    per_office = await earliest_per_office(db, directory, offered, None, 1, now, release_delay, staff=staff)
    return [
        OfficeChoice(office, found[0] if found else None)
        for (office, _offering), found in zip(offered, per_office, strict=True)
    ]


def soonest(choices: Iterable[OfficeChoice]) -> OfficeChoice | None:
    """The office with the earliest free time of all (by office name when two start together)."""
    found = [(c.earliest.start.astimezone(UTC), c.office.name, c) for c in choices if c.earliest is not None]
    return min(found, key=lambda item: item[:2])[2] if found else None


def month_weeks(month: date) -> list[list[date | None]]:
    """The month's weeks, Monday first, with None for the days of the neighbouring months."""
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    return [[day if day.month == month.month else None for day in week] for week in weeks]


def _month_of(day: date) -> date:
    return day.replace(day=1)


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class MonthOfTimes:
    """A month of one office's free times of a service, and which day of it is chosen."""

    month: date  # its first day
    today: date
    first_month: date  # the months one may page between: today's to the horizon's
    last_month: date
    times: dict[date, list[Slot]] = field(default_factory=dict)
    day: date | None = None

    @property
    def weeks(self) -> list[list[date | None]]:
        return month_weeks(self.month)

    @property
    def previous_month(self) -> date | None:
        return _add_months(self.month, -1) if self.month > self.first_month else None

    @property
    def next_month(self) -> date | None:
        return _add_months(self.month, 1) if self.month < self.last_month else None

    @property
    def day_times(self) -> list[Slot]:
        return self.times.get(self.day, []) if self.day is not None else []


async def month_of_times(
    db: AsyncSession,
    directory: OfficeDirectory,
    office: Office,
    offering: OfficeService,
    now: datetime,
    *,
    month: date | None = None,
    day: date | None = None,
    release_delay: timedelta = timedelta(0),
    leave_out: datetime | None = None,
    staff: bool = False,
) -> MonthOfTimes:
    """The free times of the month shown in the booking calendar, by local date.

    The month is ``day``'s, else ``month``, else the month of the earliest free time (today's when
    there is none), kept between today's month and the horizon's. The chosen day is ``day`` when it
    lies in that month, else its first day with free times. ``leave_out`` is a start not to offer
    (a booking's own time when it is being moved).
    """
    zone = ZoneInfo(office.timezone)
    today = now.astimezone(zone).date()
    first_month = _month_of(today)
    last_month = _month_of(today + timedelta(days=offering.service.horizon_days))
    if day is not None:
        month = _month_of(day)
    elif month is None:
        # Two: the booking's own time, left out, could be the earliest.
        found = await office_slots(db, directory, office, offering, None, 2, now, release_delay, staff=staff)
        found = [s for s in found if leave_out is None or s.start.astimezone(UTC) != leave_out]
        month = _month_of(found[0].start.date()) if found else first_month
    month = min(max(_month_of(month), first_month), last_month)
    last = _add_months(month, 1) - timedelta(days=1)
    slots = await office_free_slots(
        db,
        directory,
        office,
        offering,
        max(month, today),
        last,
        now,
        release_delay=release_delay,
        staff=staff,
    )
    shown = MonthOfTimes(month, today, first_month, last_month)
    for slot in slots:
        if leave_out is None or slot.start != leave_out.astimezone(UTC):
            shown.times.setdefault(slot.start.astimezone(zone).date(), []).append(slot)
    if day is not None and _month_of(day) == month:
        shown.day = day
    else:
        shown.day = min(shown.times, default=None)
    return shown
