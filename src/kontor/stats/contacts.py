"""The contact center's figures: contacts by outcome and category, booked visits that took place, and
call-backs done on time, per office.

Definitions (issue 9):
- A contact counts when its ``created_at`` falls on one of the range's days in its office's zone.
  Contacts not routed to any office (``office_id`` None) are counted only when the caller asks for them
  with ``unrouted_zone`` (the city's default zone, in which their days are reckoned): they belong to the
  city, not to an office, so a manager's view of their own offices leaves them out.
- With a service filter, only contacts about one of those services count (a contact without a service
  does not).
- Visits from contacts: of an office's contacts with outcome "visit_booked", the bookings they made
  (each booking once, however many calls were logged with it), and of those the ones whose visit took
  place (the booking was checked in or served). The share is visits / bookings; bookings still to come
  (status "booked") are given apart, as they may yet take place.
- Call-backs: those whose ``callback_due_at`` falls in the range; done on time when
  ``callback_done_at <= callback_due_at``; the on-time share is done on time / due (None when none was
  due). Overdue: still open and past due at ``now``.

Every figure is a COUNT in the database grouped by office (or category and outcome); no summary, number
or need of a caller is read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.booking.models import Booking, BookingStatus
from kontor.contacts.models import CallbackStatus, Category, Contact, Outcome
from kontor.stats.bookings import in_range, office_zones
from kontor.stats.query import StatsQuery

__all__ = [
    "CategoryContacts",
    "ContactOutcomes",
    "ContactVisits",
    "OfficeCallbacks",
    "OfficeContacts",
    "OutcomeCounts",
    "callbacks_on_time",
    "contact_categories",
    "contact_outcomes",
    "visits_from_contacts",
]

_VISITED = (BookingStatus.CHECKED_IN.value, BookingStatus.SERVED.value)
_OPEN, _DONE = CallbackStatus.OPEN.value, CallbackStatus.DONE.value


@dataclass(frozen=True, slots=True)
class OutcomeCounts:
    """Contacts by how the call ended; ``total`` is their sum."""

    total: int = 0
    solved: int = 0
    visit_booked: int = 0
    forwarded: int = 0
    callback: int = 0

    @classmethod
    def of(cls, outcomes: Mapping[str, int]) -> OutcomeCounts:
        counts = {outcome.value: outcomes.get(outcome.value, 0) for outcome in Outcome}
        return cls(total=sum(counts.values()), **counts)


@dataclass(frozen=True, slots=True)
class OfficeContacts:
    office_id: int | None  # None: not routed to an office
    counts: OutcomeCounts


@dataclass(frozen=True, slots=True)
class ContactOutcomes:
    """A row for every office in the query (zeros included), by office id, then the unrouted row when
    asked for; ``total`` sums them all."""

    by_office: tuple[OfficeContacts, ...]
    total: OutcomeCounts


@dataclass(frozen=True, slots=True)
class CategoryContacts:
    category: str
    counts: OutcomeCounts


@dataclass(frozen=True, slots=True)
class ContactVisits:
    office_id: int
    booked: int  # bookings made by the contact center's calls
    visited: int  # of those, checked in or served
    pending: int  # of those, still booked (to come, or not yet marked)
    share: float | None  # visited / booked


@dataclass(frozen=True, slots=True)
class OfficeCallbacks:
    office_id: int
    due: int
    done: int
    on_time: int
    late: int  # done after the due time
    open: int
    overdue: int  # open and past due at ``now``
    on_time_share: float | None  # on_time / due


@dataclass(frozen=True, slots=True)
class _Scope:
    zones: dict[str, tuple[int, ...]]
    office_ids: tuple[int, ...]
    where: tuple[ColumnElement[bool], ...]


async def _scope(db: AsyncSession, q: StatsQuery, unrouted_zone: str | None = None) -> _Scope:
    zones = await office_zones(db, q.office_ids)
    dated = in_range(q, zones, Contact.office_id, Contact.created_at)
    if unrouted_zone is not None:
        start, end = q.utc_bounds(ZoneInfo(unrouted_zone))
        unrouted = and_(Contact.office_id.is_(None), Contact.created_at >= start, Contact.created_at < end)
        dated = or_(dated, unrouted)
    where = [dated] if q.service_ids is None else [dated, Contact.service_id.in_(q.service_ids)]
    office_ids = tuple(sorted(office_id for ids in zones.values() for office_id in ids))
    return _Scope(zones=zones, office_ids=office_ids, where=tuple(where))


async def contact_outcomes(
    db: AsyncSession, q: StatsQuery, *, unrouted_zone: str | None = None
) -> ContactOutcomes:
    """Contacts created in the range by office and outcome (see the module's definitions)."""
    scope = await _scope(db, q, unrouted_zone)
    rows = await db.execute(
        select(Contact.office_id, Contact.outcome, func.count())
        .where(*scope.where)
        .group_by(Contact.office_id, Contact.outcome)
    )
    found: dict[int | None, dict[str, int]] = defaultdict(dict)
    overall: dict[str, int] = defaultdict(int)
    for office_id, outcome, count in rows:
        found[office_id][outcome] = count
        overall[outcome] += count
    shown: list[int | None] = list(scope.office_ids)
    if unrouted_zone is not None:
        shown.append(None)
    return ContactOutcomes(
        by_office=tuple(
            OfficeContacts(office_id, OutcomeCounts.of(found.get(office_id, {}))) for office_id in shown
        ),
        total=OutcomeCounts.of(overall),
    )


async def contact_categories(
    db: AsyncSession, q: StatsQuery, *, unrouted_zone: str | None = None
) -> tuple[CategoryContacts, ...]:
    """Contacts created in the range by category and outcome, over all the offices in the query: every
    known category in the catalogue's order (zeros included), then any other category found, by name."""
    scope = await _scope(db, q, unrouted_zone)
    rows = await db.execute(
        select(Contact.category, Contact.outcome, func.count())
        .where(*scope.where)
        .group_by(Contact.category, Contact.outcome)
    )
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for category, outcome, count in rows:
        found[category][outcome] = count
    known = [category.value for category in Category]
    order = known + sorted(set(found) - set(known))
    return tuple(CategoryContacts(category, OutcomeCounts.of(found.get(category, {}))) for category in order)


async def visits_from_contacts(db: AsyncSession, q: StatsQuery) -> tuple[ContactVisits, ...]:
    """Per office in the query (zeros included): the visits the contact center booked in calls logged in
    the range, and how many of them took place."""
    scope = await _scope(db, q)
    visited = case((Booking.status.in_(_VISITED), Contact.booking_id))
    pending = case((Booking.status == BookingStatus.BOOKED.value, Contact.booking_id))
    rows = await db.execute(
        select(
            Contact.office_id,
            func.count(distinct(Contact.booking_id)),
            func.count(distinct(visited)),
            func.count(distinct(pending)),
        )
        .select_from(Contact)
        .outerjoin(Booking, Booking.id == Contact.booking_id)
        .where(*scope.where, Contact.outcome == Outcome.VISIT_BOOKED.value)
        .group_by(Contact.office_id)
    )
    found = {
        office_id: (booked, took_place, still_to_come)
        for office_id, booked, took_place, still_to_come in rows
    }
    result = []
    for office_id in scope.office_ids:
        booked, took_place, still_to_come = found.get(office_id, (0, 0, 0))
        share = took_place / booked if booked else None
        result.append(ContactVisits(office_id, booked, took_place, still_to_come, share))
    return tuple(result)


async def callbacks_on_time(db: AsyncSession, q: StatsQuery, *, now: datetime) -> tuple[OfficeCallbacks, ...]:
    """Per office in the query (zeros included): the call-backs due in the range and how they went."""
    zones = await office_zones(db, q.office_ids)
    office_ids = sorted(office_id for ids in zones.values() for office_id in ids)
    done = Contact.callback_status == _DONE
    is_open = Contact.callback_status == _OPEN
    on_time = and_(done, Contact.callback_done_at <= Contact.callback_due_at)
    where = [
        in_range(q, zones, Contact.office_id, Contact.callback_due_at),
        Contact.outcome == Outcome.CALLBACK.value,
    ]
    if q.service_ids is not None:
        where.append(Contact.service_id.in_(q.service_ids))
    rows = await db.execute(
        select(
            Contact.office_id,
            func.count(),
            func.count(case((done, 1))),
            func.count(case((on_time, 1))),
            func.count(case((is_open, 1))),
            func.count(case((and_(is_open, Contact.callback_due_at < now), 1))),
        )
        .where(*where)
        .group_by(Contact.office_id)
    )
    found = {office_id: counts for office_id, *counts in rows}
    result = []
    for office_id in office_ids:
        due, done_count, on_time_count, open_count, overdue = found.get(office_id, (0, 0, 0, 0, 0))
        result.append(
            OfficeCallbacks(
                office_id=office_id,
                due=due,
                done=done_count,
                on_time=on_time_count,
                late=done_count - on_time_count,
                open=open_count,
                overdue=overdue,
                on_time_share=on_time_count / due if due else None,
            )
        )
    return tuple(result)
