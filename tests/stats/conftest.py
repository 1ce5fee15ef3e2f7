"""Hand-made rows for the statistics tests: tickets and bookings with exactly the timestamps a test
needs, written straight to the database (the services would stamp them with their own clock).

Times are given office-local (``local(...)``) and stored in UTC, as the app stores them.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor.booking.models import Booking
from kontor.offices.models import Office, Service
from kontor.queue.models import Ticket

STOCKHOLM = ZoneInfo("Europe/Stockholm")
HELSINKI = ZoneInfo("Europe/Helsinki")


def local(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    *,
    zone: ZoneInfo = STOCKHOLM,
    fold: int = 0,
) -> datetime:
    """An office-local instant; in the hour a DST night repeats, ``fold=1`` is its second time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=zone, fold=fold)


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


class Rows:
    """Writes tickets and bookings, each call in a transaction of its own."""

    def __init__(self, write_session: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = write_session
        self._numbers = itertools.count(1)
        self._seats = itertools.count(1)

    async def add(self, *rows: object) -> None:
        async with self._sessions() as db, db.begin():
            db.add_all(rows)

    async def booking(
        self,
        office: Office,
        service: Service,
        *,
        starts: datetime,
        status: str = "served",
        channel: str = "web",
        needs: Sequence[str] = (),
        created: datetime | None = None,
        cancelled: datetime | None = None,
    ) -> Booking:
        starts = starts.astimezone(UTC)
        booking = Booking(
            reference=uuid.uuid4().hex[:8].upper(),
            token_hash=uuid.uuid4().hex,
            office_id=office.id,
            service_id=service.id,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=service.duration_minutes),
            # A seat of its own, so bookings at one time never meet the capacity index.
            seat=next(self._seats),
            status=status,
            name="Test Person",
            language="sv",
            needs=list(needs),
            channel=channel,
            cancelled_at=cancelled,
        )
        if created is not None:
            booking.created_at = created
        await self.add(booking)
        return booking

    async def ticket(self, office: Office, service: Service, **fields: object) -> Ticket:
        ticket = self.make_ticket(office, service, **fields)  # type: ignore[arg-type]
        await self.add(ticket)
        return ticket

    def make_ticket(
        self,
        office: Office,
        service: Service,
        *,
        issued: datetime,
        called: datetime | None = None,
        served: datetime | None = None,
        status: str | None = None,
        booking: Booking | None = None,
        needs_help: bool = False,
        day: date | None = None,
    ) -> Ticket:
        """A ticket issued at ``issued``; served when ``served`` is given, else closed unless ``status``
        says otherwise. ``booking`` makes it that booking's ticket, queued for its start."""
        number = next(self._numbers)
        if status is None:
            status = "served" if served is not None else "closed"
        return Ticket(
            office_id=office.id,
            service_id=service.id,
            issued_service_id=service.id,
            day=day or issued.astimezone(ZoneInfo(office.timezone)).date(),
            number=number,
            code=f"{service.letter}{number:03d}",
            token_hash=uuid.uuid4().hex,
            status=status,
            kind="booking" if booking else "walk_in",
            booking_id=booking.id if booking else None,
            booked_start=booking.starts_at if booking else None,
            needs_help=needs_help,
            issued_at=issued,
            called_at=called,
            served_at=served,
            finished_at=served,
            channel="desk",
        )

    async def visit(
        self,
        office: Office,
        service: Service,
        *,
        called: datetime,
        waited: float = 0,
        took: float = 10,
        booking: Booking | None = None,
        needs_help: bool = False,
    ) -> Ticket:
        """A served ticket called at ``called`` after ``waited`` minutes in the queue, served in
        ``took`` minutes (of real time: reckoned in UTC, so a DST night does not stretch them)."""
        called = called.astimezone(UTC)
        return await self.ticket(
            office,
            service,
            issued=called - minutes(waited),
            called=called,
            served=called + minutes(took),
            booking=booking,
            needs_help=needs_help,
        )


@pytest.fixture
def rows(write_session: async_sessionmaker[AsyncSession]) -> Rows:
    return Rows(write_session)


@pytest.fixture
async def helsinki(city, write_session: async_sessionmaker[AsyncSession]) -> Office:  # type: ignore[no-untyped-def]
    """Bromma moved to Helsinki's zone (an hour ahead of Stockholm), to tell offices' local days apart."""
    async with write_session() as db, db.begin():
        await db.execute(update(Office).where(Office.id == city.bromma.id).values(timezone=HELSINKI.key))
    city.bromma.timezone = HELSINKI.key
    return city.bromma
