"""Visits booked at Kista (and one at Bromma) for the front desk's tests, made through the booking service.

The desk's clock is Tuesday 2026-12-15 08:00 in Stockholm; the visits were booked the day before.
Kista takes bookings on Tuesdays 09:00–12:00 only (see tests/factories.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from tests.conftest import run_with_engine

from kontor.audit.models import Channel
from kontor.booking.models import Booking, BookingStatus
from kontor.booking.references import new_reference
from kontor.booking.services import book, cancel
from kontor.offices.models import Office, Service

STOCKHOLM = ZoneInfo("Europe/Stockholm")
BOOKED_AT = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
DESK_NOW = datetime(2026, 12, 15, 8, 0, tzinfo=STOCKHOLM)
SCRIPT_NAME = "<script>alert(1)</script>"


def at(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


# name → (office, service, start, extra arguments of book()); in the order the desk lists them.
VISITS: dict[str, tuple[str, str, datetime, dict[str, Any]]] = {
    "Anna Andersson": ("kista", "eservice", at(15, 9), {"needs": ["interpreter"], "language": "en"}),
    "Cecilia Berg": ("kista", "budget", at(15, 9), {"needs": ["accessibility", "computer_help"]}),
    SCRIPT_NAME: ("kista", "eservice", at(15, 9, 20), {}),
    "Åsa Öberg": ("kista", "eservice", at(15, 10), {"language": "fi", "channel": Channel.PHONE}),
    "Gustav Avbokad": ("kista", "eservice", at(15, 9, 40), {}),  # cancelled below
    "David Dahl": ("kista", "eservice", at(22, 9), {}),
    "Erik Ek": ("kista", "eservice", at(29, 11, 40), {}),  # the last day the desk looks ahead to
    "Fredrik Fors": ("kista", "eservice", at(5, 9, month=1, year=2027), {}),  # three weeks ahead
    "Ingrid Bromma": ("bromma", "eservice", at(15, 10), {}),
}
CANCELLED = "Gustav Avbokad"
HELD = "Helga Hållen"


async def seed_visits(db: AsyncSession) -> dict[str, Booking]:
    """Book every visit of VISITS, cancel one, add a hold, and move two along (checked in, no-show)."""
    made: dict[str, Booking] = {}
    for number, (name, (office, service, start, extra)) in enumerate(VISITS.items()):
        # A contact each: one person may hold only a few upcoming visits.
        arguments: dict[str, Any] = {"channel": Channel.WEB, "email": f"visitor{number}@example.se"} | extra
        booking, _token = await book(
            db,
            office_slug=office,
            service_code=service,
            start=start,
            name=name,
            actor="resident",
            now=BOOKED_AT,
            **arguments,
        )
        made[name] = booking
    await cancel(db, made[CANCELLED], channel=Channel.WEB, actor="resident", now=BOOKED_AT)
    made[HELD] = await add_booking(db, "kista", "eservice", at(15, 10, 20), HELD, BookingStatus.HELD)
    for name, status in (
        ("Anna Andersson", BookingStatus.CHECKED_IN),
        ("Cecilia Berg", BookingStatus.NO_SHOW),
    ):
        await db.execute(update(Booking).where(Booking.id == made[name].id).values(status=status.value))
    return made


async def add_booking(
    db: AsyncSession,
    office_slug: str,
    service_code: str,
    start: datetime,
    name: str,
    status: BookingStatus = BookingStatus.BOOKED,
) -> Booking:
    """A booking written directly, for what the booking service does not make (holds, night-time visits)."""
    office = await db.scalar(select(Office).where(Office.slug == office_slug))
    service = await db.scalar(select(Service).where(Service.code == service_code))
    assert office is not None and service is not None
    booking = Booking(
        reference=new_reference(),
        token_hash="0" * 64,
        office_id=office.id,
        service_id=service.id,
        starts_at=start.astimezone(UTC),
        ends_at=(start + timedelta(minutes=service.duration_minutes)).astimezone(UTC),
        seat=1,
        status=status.value,
        hold_expires_at=BOOKED_AT + timedelta(minutes=10) if status == BookingStatus.HELD else None,
        name=name,
        email="visitor@example.se",
        language="sv",
        needs=[],
        channel="web",
    )
    db.add(booking)
    await db.flush()
    return booking


@pytest.fixture
def desk_visits(settings: Any, city: Any) -> dict[str, Booking]:
    """VISITS booked in the test database (for page tests)."""
    return run_with_engine(settings, seed_visits)  # type: ignore[return-value]


@pytest.fixture
def fetch(settings: Any) -> Callable[[Callable[[AsyncSession], Awaitable[Any]]], Any]:
    return lambda work: run_with_engine(settings, work)
