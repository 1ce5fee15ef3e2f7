"""One booking as the agent sees it: the visit, the office's hand-off summary, the free times it could
move to, and the read-back script in the caller's language with the reference spelled out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.booking.listing import office_free_slots
from kontor.booking.models import Booking, BookingStatus
from kontor.booking.references import format_reference, normalize_reference
from kontor.booking.slots import Slot
from kontor.contacts.models import Contact
from kontor.contacts.services import contact_for_booking
from kontor.contacts.spelling import spell_reference
from kontor.i18n import _, current_locale, format_date, format_time
from kontor.notify.messages import NEED_LABELS as SPOKEN_NEEDS
from kontor.offices.directory import OfficeDirectory
from kontor.offices.services import bookable_offering

RESCHEDULE_DAYS = 14


@dataclass(frozen=True, slots=True)
class ReadBack:
    """What the agent reads to the caller after booking, in the caller's language."""

    language: str
    lines: list[str]
    spelled: list[tuple[str, str]]
    closing: list[str]


@dataclass(frozen=True, slots=True)
class AgentBooking:
    """A booking with what the agent's page shows besides it."""

    booking: Booking
    reference: str
    zone: ZoneInfo
    handoff: Contact | None
    changeable: bool
    free_slots: list[Slot]


async def find_booking(db: AsyncSession, reference: str) -> Booking | None:
    """The booking with this reference (as typed), held times and lapsed holds left out."""
    stored = normalize_reference(reference)
    if stored is None:
        return None
    return await db.scalar(
        select(Booking).where(
            Booking.reference == stored,
            Booking.status.not_in((BookingStatus.HELD.value, BookingStatus.EXPIRED.value)),
        )
    )


def reference_matches(booking: Booking, typed: str) -> bool:
    """Whether the reference the caller read out (as the agent typed it) is the booking's."""
    return normalize_reference(typed or "") == booking.reference


async def agent_booking(
    db: AsyncSession,
    directory: OfficeDirectory,
    reference: str,
    now: datetime,
    *,
    release_delay: timedelta,
) -> AgentBooking | None:
    """The booking, its latest hand-off summary, and the free times of the next two weeks it could
    move to (kept phone seats included)."""
    offices = await directory.offices(db)  # first: loading the directory detaches what the session holds
    booking = await find_booking(db, reference)
    if booking is None:
        return None
    zone = ZoneInfo(booking.office.timezone)
    changeable = booking.status == BookingStatus.BOOKED and booking.starts_at > now
    office = next((office for office in offices if office.id == booking.office_id), None)
    offering = bookable_offering(office, booking.service.code) if office is not None else None
    free: list[Slot] = []
    if changeable and office is not None and offering is not None:
        today = now.astimezone(zone).date()
        last = today + timedelta(days=RESCHEDULE_DAYS - 1)
        slots = await office_free_slots(
            db, directory, office, offering, today, last, now, release_delay=release_delay, staff=True
        )
        free = [slot for slot in slots if slot.start != booking.starts_at]
    return AgentBooking(
        booking=booking,
        reference=format_reference(booking.reference),
        zone=zone,
        handoff=await contact_for_booking(db, booking.id),
        changeable=changeable,
        free_slots=free,
    )


def read_back(booking: Booking) -> ReadBack:
    """The read-back script: what, where, when, the needs, the reference spelled out in the caller's
    telephone alphabet, and how the confirmation travels; in the booking's language."""
    language = booking.language
    reset = current_locale.set(language)
    try:
        office = booking.office
        zone = ZoneInfo(office.timezone)
        start = booking.starts_at.astimezone(zone)
        place = ", ".join(part for part in (office.name, office.address) if part)
        lines = [
            _(
                "You have a visit booked for %(service)s at %(place)s.",
                service=booking.service.name(language),
                place=place,
            ),
            _(
                "It is on %(date)s at %(time)s.",
                date=format_date(start.date(), "full"),
                time=format_time(start),
            ),
        ]
        needs = ", ".join(_(SPOKEN_NEEDS[need]) for need in booking.needs if need in SPOKEN_NEEDS)
        if needs:
            lines.append(_("You told us you need %(needs)s.", needs=needs))
        reference = format_reference(booking.reference)
        lines.append(_("Your booking reference is %(reference)s. I will spell it:", reference=reference))
        closing = []
        if booking.phone:
            closing.append(_("A text message with these details is on its way."))
        elif booking.email:
            closing.append(_("An e-mail with these details is on its way."))
        return ReadBack(language, lines, spell_reference(reference, language), closing)
    finally:
        current_locale.reset(reset)
