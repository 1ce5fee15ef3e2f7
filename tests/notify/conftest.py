"""Fixtures for the outbox: bookings made through the booking service, and reading the outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor.audit.models import Channel
from kontor.booking.models import Booking
from kontor.booking.services import book
from kontor.notify.messages import queue_booking_messages
from kontor.notify.models import OutboxMessage

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
NINE = datetime(2026, 12, 15, 9, 0, tzinfo=STOCKHOLM)  # Kista's Tuesday appointment hours begin


async def make_booking(
    write_session: async_sessionmaker[AsyncSession], settings: Any, *, queue: bool = True, **overrides: Any
) -> tuple[Booking, str]:
    """A booking at Kista on Tuesday 09:00, with its confirmations queued (as the booking code will)."""
    request: dict[str, Any] = {
        "office_slug": "kista",
        "service_code": "eservice",
        "start": NINE,
        "name": "Anna Andersson",
        "email": "anna@example.se",
        "channel": Channel.WEB,
        "actor": "resident",
        "now": NOW,
    } | overrides
    async with write_session() as db, db.begin():
        booking, token = await book(db, **request)
        if queue:
            queue_booking_messages(db, booking, "booked", settings=settings, token=token, now=NOW)
    return booking, token


async def outbox(session_maker: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with session_maker() as db:
        return list(await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
def booking_maker(
    city: Any, write_session: async_sessionmaker[AsyncSession], settings: Any
) -> Callable[..., Awaitable[tuple[Booking, str]]]:
    async def make(**overrides: Any) -> tuple[Booking, str]:
        return await make_booking(write_session, settings, **overrides)

    return make


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
