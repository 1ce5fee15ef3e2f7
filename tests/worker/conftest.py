"""Fixtures for the worker: a second app instance's sessions, bookings at Kista, a recording transport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor.accounts.security import hash_token, new_token
from kontor.audit.models import Channel
from kontor.booking.models import Booking
from kontor.booking.references import new_reference
from kontor.booking.services import book
from kontor.db.engine import create_engine, writer
from kontor.notify.models import OutboxMessage

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Booked on a Thursday for Kista's Tuesday appointment hours (09:00–12:00, 20-minute visits).
BOOKED_AT = datetime(2026, 12, 10, 12, 0, tzinfo=STOCKHOLM)
NINE = datetime(2026, 12, 15, 9, 0, tzinfo=STOCKHOLM)
# The day before, an hour after the 24-hour reminder of the nine o'clock visit became due.
MONDAY = datetime(2026, 12, 14, 10, 0, tzinfo=STOCKHOLM)
# A minute before the first visit of Tuesday morning: the reminders of them all are due.
EARLY = NINE - timedelta(minutes=1)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


async def book_visit(
    write_session: async_sessionmaker[AsyncSession], *, at: datetime = BOOKED_AT, **overrides: Any
) -> tuple[Booking, str]:
    """A booking made through the booking service at ``at`` (Tuesday 09:00 unless ``start`` says)."""
    request: dict[str, Any] = {
        "office_slug": "kista",
        "service_code": "eservice",
        "start": NINE,
        "name": "Anna Andersson",
        "email": "anna@example.se",
        "channel": Channel.WEB,
        "actor": "resident",
        "now": at,
    } | overrides
    async with write_session() as db, db.begin():
        return await book(db, **request)


async def add_bookings(
    write_session: async_sessionmaker[AsyncSession], city: Any, count: int, *, phones: bool = False
) -> list[int]:
    """``count`` booked visits on Tuesday morning, inserted directly (a slot's seats are not the point
    here), made on BOOKED_AT, in turn in Swedish, English and Finnish; ids."""
    service = city.services["eservice"]
    rows = []
    for n in range(count):
        start = NINE + minutes(20 * (n % 9))
        rows.append(
            Booking(
                reference=new_reference(),
                token_hash=hash_token(new_token()),
                office_id=city.kista.id,
                service_id=service.id,
                starts_at=start,
                ends_at=start + minutes(20),
                seat=n // 9 + 1,
                status="booked",
                name=f"Besökare {n}",
                email=f"besokare{n}@example.se",
                phone=f"070-000 00 {n:02d}" if phones and n % 2 else None,
                language=("sv", "en", "fi")[n % 3],
                needs=[],
                channel="web",
                created_at=BOOKED_AT,
                updated_at=BOOKED_AT,
            )
        )
    async with write_session() as db, db.begin():
        db.add_all(rows)
        await db.flush()
        return [row.id for row in rows]


async def messages(
    session_maker: async_sessionmaker[AsyncSession], kind: str | None = None
) -> list[OutboxMessage]:
    async with session_maker() as db:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return list(await db.scalars(query))


class Recorder:
    """A transport that takes a moment per message and remembers what it sent."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    async def send(self, message: OutboxMessage) -> None:
        await asyncio.sleep(0.002)
        self.sent.append(message.id)

    def transports(self) -> dict[str, Any]:
        return {"email": self, "sms": self, "webhook": self}


@pytest.fixture
async def other_session(settings: Any) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Write sessions on an engine of their own, as a second app instance or worker process has."""
    engine = create_engine(settings)
    try:
        yield async_sessionmaker(writer(engine), expire_on_commit=False)
    finally:
        await engine.dispose()
