"""Rows for the retention tests, written straight into the tables: the purge reads nothing but the
columns, and the tests need times to the second either side of the cutoff (which booking and queue
services, rightly, refuse to make in the past). Every row carries a resident's data where its table
has room for it, so a test can tell blanked rows from kept ones."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.security import hash_token
from kontor.booking.models import Booking
from kontor.notify.models import OutboxMessage
from kontor.queue.models import Ticket
from kontor.waitlist.models import WaitlistEntry

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# A Monday in February; the default retention period of 30 days puts the cutoff on 2 January.
NOW = datetime(2027, 2, 1, 12, 0, tzinfo=STOCKHOLM)
CUTOFF = NOW - timedelta(days=30)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
NAME = "Anna Andersson"
EMAIL = "anna@example.se"
PHONE = "070-123 45 67"

_serial = itertools.count(1)


def booking(city: Any, *, ends: datetime, status: str = "served", **values: Any) -> Booking:
    """A 20-minute visit at Kista ending at ``ends``, booked on the web a week before it."""
    n = next(_serial)
    starts = values.pop("starts", ends - timedelta(minutes=20))
    row: dict[str, Any] = {
        "reference": f"RT{n:06d}",
        "token_hash": hash_token(f"booking-{n}"),
        "office_id": city.kista.id,
        "service_id": city.services["eservice"].id,
        "starts_at": starts,
        "ends_at": ends,
        "seat": n,
        "status": status,
        "name": NAME,
        "email": EMAIL,
        "phone": PHONE,
        "contact_key": EMAIL,
        "language": "en",
        "needs": ["interpreter"],
        "channel": "web",
        "created_at": starts - 7 * DAY,
        "updated_at": starts - 7 * DAY,
        "reminded_at": starts - DAY,
        "reminder_token_hash": hash_token(f"reminder-{n}"),
    }
    return Booking(**(row | values))


def ticket(city: Any, *, issued: datetime, status: str = "served", **values: Any) -> Ticket:
    """A walk-in ticket of Kista issued at ``issued``, called 10 minutes later and served for 15."""
    n = next(_serial)
    called = issued + timedelta(minutes=10)
    row: dict[str, Any] = {
        "office_id": city.kista.id,
        "service_id": city.services["eservice"].id,
        "issued_service_id": city.services["eservice"].id,
        "day": issued.astimezone(STOCKHOLM).date(),
        "number": n,
        "code": f"A{n:03d}",
        "token_hash": hash_token(f"ticket-{n}"),
        "status": status,
        "kind": "walk_in",
        "language": "fi",
        "needs_help": True,
        "issued_at": issued,
        "channel": "desk",
        "phone": PHONE,
        "alerted_at": issued + timedelta(minutes=5),
    }
    if status != "waiting":
        row |= {"called_at": called, "served_at": called + timedelta(minutes=15)}
        row |= {"finished_at": called + timedelta(minutes=15)}
    return Ticket(**(row | values))


def entry(city: Any, *, status: str, finished: datetime | None, latest: date, **values: Any) -> WaitlistEntry:
    """A waitlist entry for Kista's e-services, ending ``latest`` (its window two weeks long)."""
    n = next(_serial)
    row: dict[str, Any] = {
        "created_at": datetime.combine(latest - timedelta(days=20), datetime.min.time(), UTC),
        "office_id": city.kista.id,
        "service_id": city.services["eservice"].id,
        "earliest": latest - timedelta(days=14),
        "latest": latest,
        "name": NAME,
        "email": EMAIL,
        "phone": PHONE,
        "contact_key": EMAIL,
        "language": "sv",
        "needs": ["accessibility"],
        "token_hash": hash_token(f"entry-{n}"),
        "offer_token_hash": hash_token(f"offer-{n}"),
        "status": status,
        "finished_at": finished,
        "offers": 1,
    }
    return WaitlistEntry(**(row | values))


def message(*, status: str, created: datetime, booking_id: int | None = None, **values: Any) -> OutboxMessage:
    row: dict[str, Any] = {
        "channel": "email",
        "kind": "booked",
        "booking_id": booking_id,
        "recipient": EMAIL,
        "language": "sv",
        "subject": "Bokning",
        "body": f"Hej {NAME}",
        "status": status,
        "created_at": created,
        "next_attempt_at": created,
    }
    return OutboxMessage(**(row | values))


async def snapshot(db: AsyncSession, model: Any) -> dict[int, dict[str, Any]]:
    """Every row of ``model``'s table as a dict of its columns, by id."""
    rows = (await db.execute(select(model.__table__))).mappings()
    return {row["id"]: dict(row) for row in rows}
