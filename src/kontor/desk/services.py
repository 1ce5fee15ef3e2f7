"""The front desk's view of an office's booked visits (today's, then the coming days', searchable, each
with the contact center's hand-off when an agent booked it) and of its call-backs.

Personal data (names, the hand-off's summary, callers' numbers) appears here because the front desk
needs it to welcome people and call them back; this module reads it for that page only and never logs it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import User
from kontor.booking.models import Booking, BookingStatus, Need
from kontor.booking.references import format_reference, normalize_reference
from kontor.contacts.models import CallbackStatus, Contact
from kontor.contacts.services import CATEGORY_LABELS, handoffs, office_callbacks
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
# What the desk says after "Mark as done"; the redirect carries the key, never free text.
CALLBACK_NOTICES = {
    "done": N_("The call-back was marked as done."),
    "already-done": N_("This call-back had already been marked as done; nothing was changed."),
}
STATUS_LABELS = {
    BookingStatus.BOOKED.value: N_("Booked"),
    BookingStatus.CHECKED_IN.value: N_("Checked in"),
    BookingStatus.SERVED.value: N_("Served"),
    BookingStatus.NO_SHOW.value: N_("No-show"),
}


@dataclass(frozen=True, slots=True)
class Handoff:
    """The contact center's hand-off of a visit: what the call was about, in the agent's words, and
    what the visit needs, so the resident need not tell it all again."""

    category: str
    summary: str
    needs: tuple[str, ...] = ()

    @classmethod
    def of(cls, contact: Contact) -> Handoff:
        return cls(category=contact.category, summary=contact.summary, needs=tuple(contact.needs or ()))

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)

    @property
    def need_labels(self) -> list[str]:
        return [NEED_LABELS.get(need, need) for need in self.needs]


async def visit_handoffs(db: AsyncSession, booking_ids: Collection[int]) -> dict[int, Handoff]:
    """The hand-offs of these visits, by booking id, in one query (none for an empty list)."""
    if not booking_ids:
        return {}
    found = await handoffs(db, booking_ids)
    return {booking_id: Handoff.of(contact) for booking_id, contact in found.items()}


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
    # The contact center's hand-off (what the call was about, in the agent's words), or empty.
    handoff_summary: str = ""
    handoff_category: str = ""

    @property
    def need_labels(self) -> list[str]:
        return [NEED_LABELS.get(need, need) for need in self.needs]

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS.get(self.channel, self.channel)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def handoff_category_label(self) -> str:
        return CATEGORY_LABELS.get(self.handoff_category, self.handoff_category)


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


def _shown(booking: Booking, zone: ZoneInfo, handoff: Handoff | None) -> DeskBooking:
    return DeskBooking(
        reference=format_reference(booking.reference),
        starts_at=booking.starts_at.astimezone(zone),
        name=booking.name,
        service=booking.service,
        needs=tuple(booking.needs or ()),
        language=booking.language,
        channel=booking.channel,
        status=booking.status,
        handoff_summary=handoff.summary if handoff is not None else "",
        handoff_category=handoff.category if handoff is not None else "",
    )


async def bookings_for_desk(
    db: AsyncSession, office: Office, first_day: date, last_day: date, query: str, now: datetime
) -> DeskBookings:
    """The office's visits from ``first_day`` to ``last_day`` (local dates, inclusive) that ``query``
    finds, in time order: those of today (by ``now``, in the office's zone) apart from the later days'.
    Held and cancelled bookings are left out. The contact center's hand-offs come in one query for all."""
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
    cases = await visit_handoffs(db, [booking.id for booking in found])
    shown = [_shown(booking, zone, cases.get(booking.id)) for booking in found]
    todays = [b for b in shown if b.starts_at.date() == today]
    later = [b for b in shown if b.starts_at.date() > today]
    upcoming = [DeskDay(day, list(group)) for day, group in groupby(later, key=lambda b: b.starts_at.date())]
    return DeskBookings(today=today, last_day=last_day, query=query.strip(), todays=todays, upcoming=upcoming)


async def desk_bookings(db: AsyncSession, office: Office, query: str, now: datetime) -> DeskBookings:
    """What the desk page shows: today and the next :data:`UPCOMING_DAYS` days."""
    first_day, last_day = desk_window(office, now)
    return await bookings_for_desk(db, office, first_day, last_day, query, now)


@dataclass(frozen=True, slots=True)
class DeskCallback:
    """A call-back the contact center asked the office for: whom to call, about what, by when.
    Times are in the office's zone; the summary and number are empty once the contact was purged."""

    id: int
    phone: str
    category: str
    summary: str
    asked_by: str  # the agent's name; empty when unknown (an integration, a removed account)
    asked_at: datetime
    due_at: datetime | None
    overdue: bool
    done_at: datetime | None = None
    done_by: str = ""
    note: str = ""

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)

    @property
    def tel(self) -> str:
        """The number as a link's target ("tel:+46701234567"), or empty when there is none."""
        digits = re.sub(r"\D", "", self.phone)
        if not digits:
            return ""
        return "tel:" + ("+" if self.phone.lstrip().startswith("+") else "") + digits


@dataclass(frozen=True, slots=True)
class DeskCallbacks:
    """The office's open call-backs, the oldest due first, and those done today."""

    today: date
    open: list[DeskCallback]
    done: list[DeskCallback]

    @property
    def overdue_count(self) -> int:
        return sum(callback.overdue for callback in self.open)


async def desk_callbacks(db: AsyncSession, office: Office, now: datetime) -> DeskCallbacks:
    """What the desk's "Call-backs" section lists for ``office`` at ``now``."""
    zone = ZoneInfo(office.timezone)
    waiting, done = await office_callbacks(db, office, now)
    people = [contact.agent_id for contact in [*waiting, *done]] + [c.callback_done_by_id for c in done]
    names = await _names(db, {user_id for user_id in people if user_id is not None})
    return DeskCallbacks(
        today=now.astimezone(zone).date(),
        open=[_callback(contact, zone, now, names) for contact in waiting],
        done=[_callback(contact, zone, now, names) for contact in done],
    )


async def callback_state(db: AsyncSession, office: Office, contact_id: int) -> str | None:
    """The status ("open", "done") of the call-back ``contact_id`` if it is one of ``office``'s; else None."""
    return await db.scalar(
        select(Contact.callback_status).where(
            Contact.id == contact_id, Contact.office_id == office.id, Contact.callback_status.is_not(None)
        )
    )


async def _names(db: AsyncSession, user_ids: Collection[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = await db.execute(select(User.id, User.display_name, User.username).where(User.id.in_(user_ids)))
    return {user_id: display_name or username for user_id, display_name, username in rows}


def _callback(contact: Contact, zone: ZoneInfo, now: datetime, names: dict[int, str]) -> DeskCallback:
    due_at = contact.callback_due_at
    done_at = contact.callback_done_at
    return DeskCallback(
        id=contact.id,
        phone=contact.phone or "",
        category=contact.category,
        summary=contact.summary,
        asked_by=names.get(contact.agent_id, "") if contact.agent_id is not None else "",
        asked_at=contact.created_at.astimezone(zone),
        due_at=due_at.astimezone(zone) if due_at is not None else None,
        overdue=contact.callback_status == CallbackStatus.OPEN.value and due_at is not None and due_at < now,
        done_at=done_at.astimezone(zone) if done_at is not None else None,
        done_by=names.get(contact.callback_done_by_id, "") if contact.callback_done_by_id is not None else "",
        note=contact.callback_note,
    )
