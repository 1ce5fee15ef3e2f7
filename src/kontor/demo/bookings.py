"""A few booked visits at the demo's Kista office, so the front desk has someone to expect. They were
booked last week, so those due within a day get their reminders when the demo's worker starts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.audit.models import Channel
from kontor.booking.models import Booking
from kontor.booking.policy import find_offering, hours_window, slot_policy
from kontor.booking.services import book
from kontor.booking.slots import free_slots
from kontor.hours.services import office_hours
from kontor.offices.models import Office

OFFICE = "rinkeby-kista"
BOOKED_DAYS_AGO = 6
SERVICE = "eservices"
# Fictional residents: name, contact, language, needs.
VISITORS = (
    ("Amina Hassan", "amina.hassan@example.se", "sv", ["interpreter"]),
    ("Erik Lindqvist", "erik.lindqvist@example.se", "sv", ["computer_help"]),
    ("Sanna Virtanen", "sanna.virtanen@example.se", "fi", []),
    ("Yusuf Ali", "yusuf.ali@example.se", "en", ["interpreter", "computer_help"]),
    ("Maria Johansson", "maria.johansson@example.se", "sv", ["accessibility"]),
    ("Olle Berg", "olle.berg@example.se", "sv", []),
)


async def seed_bookings(db: AsyncSession, today: date) -> tuple[int, int]:
    """Book the demo visits in the office's first free slots from today on, unless the office has
    bookings already; (created, existing)."""
    office = await db.scalar(select(Office).where(Office.slug == OFFICE))
    if office is None:
        return 0, 0
    existing = await db.scalar(select(func.count()).where(Booking.office_id == office.id)) or 0
    if existing:
        return 0, existing
    office, offering = await find_offering(db, OFFICE, SERVICE)
    earliest = datetime.combine(today, time(6, 0), ZoneInfo(office.timezone))
    now = earliest - timedelta(days=BOOKED_DAYS_AGO)
    hours = await office_hours(db, office, *hours_window(office, offering.service, now))
    slots = free_slots(hours, slot_policy(offering, hours), today, today + timedelta(days=14), earliest, {})
    created = 0
    for (name, email, language, needs), slot in zip(VISITORS, slots[::2], strict=False):
        await book(
            db, office_slug=OFFICE, service_code=SERVICE, start=slot.start, name=name, email=email,
            language=language, needs=needs, channel=Channel.PHONE if created % 2 else Channel.WEB,
            actor="demo", now=now,
        )  # fmt: skip
        created += 1
    return created, 0
