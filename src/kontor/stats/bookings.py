"""Booked visits in a range: how many took place, were missed, or were cancelled, per office, service and
channel, with a row per office for comparing offices.

Definitions (issue 9):
- A booking counts when its ``starts_at`` falls on one of the range's days in its office's zone. Holds
  (``held``) and holds that ran out (``expired``) never became bookings and are left out; every other
  status counts as booked: ``booked`` (still to come, or not yet marked), ``checked_in``, ``served``,
  ``no_show`` and ``cancelled``. Purged bookings count too: the purge keeps these columns.
- The rates are shares of everything booked: no-shows / booked and cancellations / booked; None when
  nothing was booked.
- Channel, as the visit figures use it: a booking made by phone (an agent) → "agent", on the web or
  through the API → "web", at the desk or a counter → "desk".

The counting happens in the database (one GROUP BY over office, service, channel and status); Python only
folds the few resulting rows. No personal data is read: ids, statuses and counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from kontor.booking.models import Booking, BookingStatus
from kontor.i18n import N_
from kontor.offices.models import Office
from kontor.stats.query import StatsQuery

__all__ = [
    "CHANNELS",
    "CHANNEL_LABELS",
    "BookingCounts",
    "BookingOutcomes",
    "ChannelBookings",
    "OfficeBookings",
    "ServiceBookings",
    "booking_channel",
    "booking_outcomes",
    "in_range",
    "office_zones",
]

CHANNELS = ("web", "agent", "desk")
CHANNEL_LABELS = {
    "web": N_("Web booking"),
    "agent": N_("Booked by an agent"),
    "desk": N_("Booked at the office"),
}
_CHANNEL_OF = {"web": "web", "api": "web", "phone": "agent"}
# Never bookings: a hold the resident did not confirm.
_NOT_BOOKED = (BookingStatus.HELD.value, BookingStatus.EXPIRED.value)


def booking_channel(channel: str) -> str:
    """The statistics' channel of a booking's recorded channel (desk and counter are both "desk")."""
    return _CHANNEL_OF.get(channel, "desk")


@dataclass(frozen=True, slots=True)
class BookingCounts:
    """Bookings by how they ended; ``booked`` is their sum. The rates are stored, not computed on read, so
    the figures serialise (CSV, JSON) as they are."""

    booked: int = 0
    pending: int = 0  # status "booked": still to come, or the office has not marked it
    checked_in: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    no_show_rate: float | None = None
    cancellation_rate: float | None = None

    @classmethod
    def of(cls, statuses: Mapping[str, int]) -> BookingCounts:
        """The counts of a mapping of status → number of bookings (holds are not counted)."""
        pending = statuses.get(BookingStatus.BOOKED.value, 0)
        checked_in = statuses.get(BookingStatus.CHECKED_IN.value, 0)
        served = statuses.get(BookingStatus.SERVED.value, 0)
        no_show = statuses.get(BookingStatus.NO_SHOW.value, 0)
        cancelled = statuses.get(BookingStatus.CANCELLED.value, 0)
        booked = pending + checked_in + served + no_show + cancelled
        return cls(
            booked=booked,
            pending=pending,
            checked_in=checked_in,
            served=served,
            no_show=no_show,
            cancelled=cancelled,
            no_show_rate=no_show / booked if booked else None,
            cancellation_rate=cancelled / booked if booked else None,
        )


@dataclass(frozen=True, slots=True)
class ServiceBookings:
    office_id: int
    service_id: int
    counts: BookingCounts


@dataclass(frozen=True, slots=True)
class ChannelBookings:
    office_id: int
    channel: str  # one of CHANNELS
    counts: BookingCounts


@dataclass(frozen=True, slots=True)
class OfficeBookings:
    office_id: int
    counts: BookingCounts


@dataclass(frozen=True, slots=True)
class BookingOutcomes:
    """``by_service`` has a row for each office and service with bookings; ``by_channel`` and
    ``by_office`` have rows for every office in the query (zeros included, so offices compare), ordered
    by office id (and channel as in CHANNELS); ``total`` sums the offices."""

    by_service: tuple[ServiceBookings, ...]
    by_channel: tuple[ChannelBookings, ...]
    by_office: tuple[OfficeBookings, ...]
    total: BookingCounts


async def office_zones(db: AsyncSession, office_ids: Iterable[int]) -> dict[str, tuple[int, ...]]:
    """The offices grouped by time zone: a range of local days is one span of instants per zone."""
    ids = sorted(set(office_ids))
    if not ids:
        return {}
    rows = await db.execute(select(Office.timezone, Office.id).where(Office.id.in_(ids)).order_by(Office.id))
    zones: dict[str, list[int]] = defaultdict(list)
    for zone, office_id in rows:
        zones[zone].append(office_id)
    return {zone: tuple(found) for zone, found in zones.items()}


def in_range(
    q: StatsQuery,
    zones: Mapping[str, tuple[int, ...]],
    office: InstrumentedAttribute[Any],
    instant: InstrumentedAttribute[Any],
) -> ColumnElement[bool]:
    """Rows of the offices in ``zones`` whose ``instant`` falls on the range's local days (office-local:
    midnight to midnight in each office's zone, so a DST day is 23 or 25 hours)."""
    spans = []
    for zone, ids in zones.items():
        start, end = q.utc_bounds(ZoneInfo(zone))
        spans.append(and_(office.in_(ids), instant >= start, instant < end))
    return or_(*spans) if spans else false()


def _service_filter(q: StatsQuery) -> list[ColumnElement[bool]]:
    return [] if q.service_ids is None else [Booking.service_id.in_(q.service_ids)]


async def booking_outcomes(db: AsyncSession, q: StatsQuery) -> BookingOutcomes:
    """Bookings starting in the range, by office, service and channel (see the module's definitions)."""
    zones = await office_zones(db, q.office_ids)
    office_ids = sorted(office_id for ids in zones.values() for office_id in ids)
    rows = await db.execute(
        select(Booking.office_id, Booking.service_id, Booking.channel, Booking.status, func.count())
        .where(
            in_range(q, zones, Booking.office_id, Booking.starts_at),
            Booking.status.not_in(_NOT_BOOKED),
            *_service_filter(q),
        )
        .group_by(Booking.office_id, Booking.service_id, Booking.channel, Booking.status)
    )
    per_service: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_channel: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_office: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    overall: dict[str, int] = defaultdict(int)
    for office_id, service_id, channel, status, count in rows:
        per_service[office_id, service_id][status] += count
        per_channel[office_id, booking_channel(channel)][status] += count
        per_office[office_id][status] += count
        overall[status] += count
    return BookingOutcomes(
        by_service=tuple(
            ServiceBookings(office_id, service_id, BookingCounts.of(per_service[office_id, service_id]))
            for office_id, service_id in sorted(per_service)
        ),
        by_channel=tuple(
            ChannelBookings(office_id, channel, BookingCounts.of(per_channel.get((office_id, channel), {})))
            for office_id in office_ids
            for channel in CHANNELS
        ),
        by_office=tuple(
            OfficeBookings(office_id, BookingCounts.of(per_office.get(office_id, {})))
            for office_id in office_ids
        ),
        total=BookingCounts.of(overall),
    )
