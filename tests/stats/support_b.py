"""Hand-built bookings and contacts for the booking and contact-center figures, and the instants around
a range's edges and daylight-saving days that every figure must date the same way."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor.booking.models import Booking
from kontor.booking.references import new_reference
from kontor.contacts.models import CallbackStatus, Contact
from kontor.offices.models import Office

STOCKHOLM = ZoneInfo("Europe/Stockholm")
HELSINKI = ZoneInfo("Europe/Helsinki")
# A plain working week in winter time (UTC+1 in Stockholm).
FIRST, LAST = date(2026, 3, 2), date(2026, 3, 6)
_SEATS = itertools.count(1)


def at(day: str, clock: str, zone: ZoneInfo = STOCKHOLM, *, fold: int = 0) -> datetime:
    """A local wall-clock time; ``fold=1`` picks the second of an hour that happens twice."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=zone, fold=fold)


def booking(office_id: int, service_id: int, starts_at: datetime, **fields: Any) -> Booking:
    """A booking row as the booking service leaves it; each gets a seat of its own, so any number can
    start at one time without meeting the one-holder-per-seat index."""
    values: dict[str, Any] = {
        "reference": new_reference(),
        "token_hash": "0" * 64,
        "office_id": office_id,
        "service_id": service_id,
        "starts_at": starts_at.astimezone(UTC),
        "ends_at": starts_at.astimezone(UTC) + timedelta(minutes=20),  # in UTC: a fold survives
        "seat": next(_SEATS),
        "status": "booked",
        "name": "Test Person",
        "language": "sv",
        "needs": [],
        "channel": "web",
    } | fields
    return Booking(**values)


def contact(office_id: int | None, created_at: datetime, **fields: Any) -> Contact:
    """A contact row; a call-back (``outcome="callback"``) is open unless ``callback_done_at`` is given."""
    values: dict[str, Any] = {
        "channel": "phone",
        "category": "information",
        "outcome": "solved",
        "summary": "",
        "office_id": office_id,
        "created_at": created_at.astimezone(UTC),
        "updated_at": created_at.astimezone(UTC),
    } | fields
    if values["outcome"] == "callback":
        done = values.get("callback_done_at") is not None
        values["callback_status"] = (CallbackStatus.DONE if done else CallbackStatus.OPEN).value
    return Contact(**values)


async def store(maker: async_sessionmaker[AsyncSession], *rows: object) -> None:
    async with maker() as db, db.begin():
        db.add_all(rows)


async def move_office(maker: async_sessionmaker[AsyncSession], office_id: int, zone: ZoneInfo) -> None:
    async with maker() as db, db.begin():
        await db.execute(update(Office).where(Office.id == office_id).values(timezone=str(zone)))


# (first day, last day, the office's zone, an instant, whether it falls in the range). The range's edges
# are midnight in the office's own zone: the same instant can be in for one office and out for another.
EDGES: list[tuple[date, date, ZoneInfo, datetime, bool]] = [
    (FIRST, LAST, STOCKHOLM, at("2026-03-02", "00:30"), True),
    (FIRST, LAST, STOCKHOLM, at("2026-03-06", "23:30"), True),
    (FIRST, LAST, STOCKHOLM, at("2026-03-02", "00:00"), True),
    (FIRST, LAST, STOCKHOLM, at("2026-03-02", "00:00") - timedelta(microseconds=1), False),
    (FIRST, LAST, STOCKHOLM, at("2026-03-07", "00:00"), False),
    # 00:30 in Helsinki is still the day before in Stockholm, and 23:30 in Stockholm the day after there.
    (FIRST, LAST, HELSINKI, at("2026-03-02", "00:30", HELSINKI), True),
    (FIRST, LAST, HELSINKI, at("2026-03-06", "23:30"), False),
    (FIRST, LAST, HELSINKI, at("2026-03-01", "23:30", HELSINKI), False),
    # 2026-10-25: clocks go back at 03:00, the day has 25 hours; both 02:30s are on it.
    (date(2026, 10, 25), date(2026, 10, 25), STOCKHOLM, at("2026-10-25", "00:00"), True),
    (date(2026, 10, 25), date(2026, 10, 25), STOCKHOLM, at("2026-10-25", "02:30", fold=1), True),
    (date(2026, 10, 25), date(2026, 10, 25), STOCKHOLM, at("2026-10-25", "23:59"), True),
    (date(2026, 10, 25), date(2026, 10, 25), STOCKHOLM, at("2026-10-26", "00:00"), False),
    (date(2026, 10, 25), date(2026, 10, 25), STOCKHOLM, at("2026-10-24", "23:59"), False),
    # 2027-03-28: clocks go forward at 02:00, the day has 23 hours.
    (date(2027, 3, 28), date(2027, 3, 28), STOCKHOLM, at("2027-03-28", "00:00"), True),
    (date(2027, 3, 28), date(2027, 3, 28), STOCKHOLM, at("2027-03-28", "23:30"), True),
    (date(2027, 3, 28), date(2027, 3, 28), STOCKHOLM, at("2027-03-29", "00:00"), False),
    (date(2027, 3, 28), date(2027, 3, 28), STOCKHOLM, at("2027-03-27", "23:30"), False),
    (date(2027, 3, 28), date(2027, 3, 28), HELSINKI, at("2027-03-28", "23:30", HELSINKI), True),
    (date(2027, 3, 28), date(2027, 3, 28), HELSINKI, at("2027-03-28", "23:30"), False),
]
EDGE_IDS = [
    f"{first}..{last}-{zone.key}-{instant.isoformat()}-{'in' if inside else 'out'}"
    for first, last, zone, instant, inside in EDGES
]
