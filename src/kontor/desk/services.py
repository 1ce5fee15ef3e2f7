"""The front desk's view of an office's booked visits: today's, then the coming days', searchable.

Personal data (names) appears here because the front desk needs it to welcome people; this module
reads it for that page only and never logs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.booking.models import Booking, BookingStatus, Need
from kontor.booking.references import format_reference, normalize_reference
from kontor.i18n import N_
from kontor.offices.models import Office, Service

# How far ahead the "Upcoming" list looks, in days after today.
UPCOMING_DAYS = 14

# Visits the desk expects or has dealt with; a hold is a booking not yet made, a cancellation none.
DESK_STATUSES = (
    BookingStatus.BOOKED.value,
    BookingStatus.CHECKED_IN.value,
    BookingStatus.SERVED.value,
    BookingStatus.NO_SHOW.value,
)

NEED_LABELS = {
    Need.INTERPRETER.value: N_("Interpreter"),
    Need.ACCESSIBILITY.value: N_("Accessibility"),
    Need.COMPUTER_HELP.value: N_("Help with computers"),
}
CHANNEL_LABELS = {
    "web": N_("Online"),
    "phone": N_("Phone"),
    "desk": N_("Front desk"),
    "counter": N_("Counter"),
    "api": N_("Integration"),
}
STATUS_LABELS = {
    BookingStatus.BOOKED.value: N_("Booked"),
    BookingStatus.CHECKED_IN.value: N_("Checked in"),
    BookingStatus.SERVED.value: N_("Served"),
    BookingStatus.NO_SHOW.value: N_("No-show"),
}


@dataclass(frozen=True, slots=True)
class DeskBooking:
    """One booked visit as the desk shows it; labels are English msgids for the template to translate."""

    reference: str  # as shown: "ACDE-4779"
    starts_at: datetime  # in the office's zone
    name: str
    service: Service
    needs: tuple[str, ...]
    language: str
    channel: str
    status: str

    @property
    def need_labels(self) -> list[str]:
        return [NEED_LABELS.get(need, need) for need in self.needs]

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS.get(self.channel, self.channel)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True, slots=True)
class DeskDay:
    day: date
    bookings: list[DeskBooking]


@dataclass(frozen=True, slots=True)
class DeskBookings:
    """Today's visits and those of the coming days (grouped by day), as filtered by ``query``."""

    today: date
    last_day: date
    query: str
    todays: list[DeskBooking] = field(default_factory=list)
    upcoming: list[DeskDay] = field(default_factory=list)

    @property
    def upcoming_count(self) -> int:
        return sum(len(day.bookings) for day in self.upcoming)


def desk_window(office: Office, now: datetime) -> tuple[date, date]:
    """Today in the office's zone and the last day the desk looks ahead to."""
    today = now.astimezone(ZoneInfo(office.timezone)).date()
    return today, today + timedelta(days=UPCOMING_DAYS)


async def desk_office(db: AsyncSession, slug: str) -> Office | None:
    """The active office ``slug``, or None: a closed-down office has no front desk."""
    return await db.scalar(select(Office).where(Office.slug == slug, Office.active.is_(True)))


def matches(booking: Booking, query: str) -> bool:
    """Whether a search finds the booking: its reference as typed (any case, dash or not), or part of
    the visitor's name in any case. An empty search finds everything."""
    query = query.strip()
    if not query:
        return True
    reference = normalize_reference(query)
    if reference is not None and booking.reference == reference:
        return True
    return query.casefold() in booking.name.casefold()


def _shown(booking: Booking, zone: ZoneInfo) -> DeskBooking:
    return DeskBooking(
        reference=format_reference(booking.reference),
        starts_at=booking.starts_at.astimezone(zone),
        name=booking.name,
        service=booking.service,
        needs=tuple(booking.needs or ()),
        language=booking.language,
        channel=booking.channel,
        status=booking.status,
    )


async def bookings_for_desk(
    db: AsyncSession, office: Office, first_day: date, last_day: date, query: str, now: datetime
) -> DeskBookings:
    """The office's visits from ``first_day`` to ``last_day`` (local dates, inclusive) that ``query``
    finds, in time order: those of today (by ``now``, in the office's zone) apart from the later days'.
    Held and cancelled bookings are left out."""
    zone = ZoneInfo(office.timezone)
    today = now.astimezone(zone).date()
    start = datetime.combine(first_day, time(), zone).astimezone(UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(), zone).astimezone(UTC)
    rows = await db.scalars(
        select(Booking).where(
            Booking.office_id == office.id,
            Booking.starts_at >= start,
            Booking.starts_at < end,
            Booking.status.in_(DESK_STATUSES),
        )
    )
    # Searched in Python: one office's few weeks are a few hundred rows at most, and SQLite's lower()
    # folds ASCII only, so "åsa" would not find "Åsa" there.
    found = [booking for booking in rows.unique() if matches(booking, query)]
    found.sort(key=lambda b: (b.starts_at, b.service.sort_order, b.service.code, b.name.casefold(), b.id))
    shown = [_shown(booking, zone) for booking in found]
    todays = [b for b in shown if b.starts_at.date() == today]
    later = [b for b in shown if b.starts_at.date() > today]
    upcoming = [DeskDay(day, list(group)) for day, group in groupby(later, key=lambda b: b.starts_at.date())]
    return DeskBookings(today=today, last_day=last_day, query=query.strip(), todays=todays, upcoming=upcoming)


async def desk_bookings(db: AsyncSession, office: Office, query: str, now: datetime) -> DeskBookings:
    """What the desk page shows: today and the next :data:`UPCOMING_DAYS` days."""
    first_day, last_day = desk_window(office, now)
    return await bookings_for_desk(db, office, first_day, last_day, query, now)
