"""Shared pieces of the waitlist's tests: the clock, filling the small city's calendars, and lines.

NOW is Monday 2026-12-14 08:00 in Stockholm. "eservice" is booked at Kista on Tuesdays 09:00–12:00
(nine 20-minute slots), at Tensta on weekdays 10:00–16:00 and at Bromma on weekdays 08:00–16:00.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor.accounts.security import hash_token
from kontor.audit.models import Channel
from kontor.booking import holds
from kontor.booking.models import Booking, BookingStatus
from kontor.booking.policy import hours_window, slot_policy
from kontor.booking.slots import free_slots
from kontor.db.engine import create_engine, writer
from kontor.hours.services import office_hours
from kontor.notify.models import OutboxMessage
from kontor.offices.models import Office, OfficeService, Service
from kontor.settings import Settings
from kontor.waitlist import services
from kontor.waitlist.models import WaitlistEntry, WaitlistStatus

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
TUESDAY = date(2026, 12, 15)
WEDNESDAY = date(2026, 12, 16)
OFFICES = ("kista", "tensta", "bromma")
_REFERENCES = itertools.count(1)


def at(day: int, hhmm: str) -> datetime:
    """A local time of December 2026 in Stockholm."""
    return datetime.combine(date(2026, 12, day), time.fromisoformat(hhmm), STOCKHOLM)


async def office(db: AsyncSession, slug: str) -> Office:
    return (await db.scalars(select(Office).where(Office.slug == slug))).one()


async def set_offering(db: AsyncSession, slug: str, service: str = "eservice", **values: object) -> None:
    office_id = select(Office.id).where(Office.slug == slug).scalar_subquery()
    service_id = select(Service.id).where(Service.code == service).scalar_subquery()
    await db.execute(
        update(OfficeService)
        .where(OfficeService.office_id == office_id, OfficeService.service_id == service_id)
        .values(**values)
    )


async def fill(
    db: AsyncSession,
    days: Iterable[date],
    *,
    free: Iterable[tuple[str, datetime]] = (),
    seats: Iterable[int] = (1,),
    service_code: str = "eservice",
    now: datetime = NOW,
) -> int:
    """Book ``seats`` of every slot of the service on ``days`` at every office, except the slots in
    ``free`` ((office slug, local start)), which are left empty; how many bookings that made."""
    spare = {(slug, start.astimezone(STOCKHOLM)) for slug, start in free}
    service = (await db.scalars(select(Service).where(Service.code == service_code))).one()
    made = 0
    for slug in OFFICES:
        place = await office(db, slug)
        offering = await db.scalar(
            select(OfficeService).where(
                OfficeService.office_id == place.id, OfficeService.service_id == service.id
            )
        )
        if offering is None:
            continue
        hours = await office_hours(db, place, *hours_window(place, service, now))
        policy = slot_policy(offering, hours, staff=True)
        for day in days:
            for slot in free_slots(hours, policy, day, day, now, include_full=True):
                if (slug, slot.start.astimezone(STOCKHOLM)) in spare:
                    continue
                for seat in seats:
                    db.add(_booked(place, service, slot.start, slot.end, seat))
                    made += 1
    await db.flush()
    return made


def _booked(place: Office, service: Service, start: datetime, end: datetime, seat: int) -> Booking:
    number = next(_REFERENCES)
    return Booking(
        reference=f"FL{number:06d}",
        token_hash=hash_token(f"filler-{number}"),
        office_id=place.id,
        service_id=service.id,
        starts_at=start,
        ends_at=end,
        seat=seat,
        status=BookingStatus.BOOKED.value,
        name="Filler",
        email=f"filler{number}@example.se",
        contact_key=f"filler{number}@example.se",
        language="sv",
        needs=[],
        channel="phone",
        created_at=NOW,
        updated_at=NOW,
    )


async def join(
    db: AsyncSession,
    settings: Settings,
    who: str,
    office_slug: str | None,
    earliest: date,
    latest: date,
    *,
    now: datetime = NOW,
    **visitor: Any,
) -> tuple[WaitlistEntry, str]:
    """``who`` joins the eservice line through the service, with the e-mail ``{who}@example.se``."""
    details = {"name": who, "email": f"{who.lower()}@example.se", "language": "en"} | visitor
    return await services.join(
        db,
        service_code="eservice",
        office_slug=office_slug,
        earliest=earliest,
        latest=latest,
        settings=settings,
        now=now,
        **details,
    )


async def give_offer(
    db: AsyncSession, entry: WaitlistEntry, slug: str, start: datetime, now: datetime = NOW
) -> None:
    """Put ``entry`` in the state of holding an offer of the seat at ``start``, as the worker would."""
    booking, _token = await holds.hold(
        db,
        office_slug=slug,
        service_code="eservice",
        start=start,
        channel=Channel.WEB,
        actor="waitlist",
        now=now,
    )
    entry.status = WaitlistStatus.OFFERED.value
    entry.offered_booking_id = booking.id
    entry.offered_at = now
    entry.offer_expires_at = now + timedelta(minutes=60)
    entry.offers = 1
    await db.flush()


def makers(settings: Settings):  # type: ignore[no-untyped-def]
    """A write session maker on an engine of its own, and the engine to dispose of."""
    engine = create_engine(settings)
    return async_sessionmaker(writer(engine), expire_on_commit=False), engine


def run_worker(settings: Settings, now: datetime) -> dict[str, int]:
    """One round of the waitlist on an engine of its own, from synchronous code (page tests)."""

    async def main() -> dict[str, int]:
        maker, engine = makers(settings)
        try:
            return await services.run_waitlist(maker, settings, now)
        finally:
            await engine.dispose()

    return asyncio.run(main())


async def entries(maker: async_sessionmaker[AsyncSession]) -> dict[str, WaitlistEntry]:
    async with maker() as db:
        found = await db.scalars(select(WaitlistEntry).order_by(WaitlistEntry.id))
        return {entry.name: entry for entry in found}


async def offers(maker: async_sessionmaker[AsyncSession]) -> dict[str, tuple[str, datetime] | None]:
    """Who holds which offered seat: the entry's name → (office slug, local start) or None."""
    async with maker() as db:
        rows = await db.execute(
            select(WaitlistEntry.name, WaitlistEntry.status, Office.slug, Booking.starts_at)
            .outerjoin(Booking, Booking.id == WaitlistEntry.offered_booking_id)
            .outerjoin(Office, Office.id == Booking.office_id)
            .order_by(WaitlistEntry.id)
        )
        return {
            name: (slug, start.astimezone(STOCKHOLM)) if status == WaitlistStatus.OFFERED and slug else None
            for name, status, slug, start in rows
        }


async def outbox(maker: async_sessionmaker[AsyncSession], kind: str | None = None) -> list[OutboxMessage]:
    async with maker() as db:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return list(await db.scalars(query))


_LINK = re.compile(r"/waitlist/([A-Za-z0-9_-]{20,})")


def link_token(body: str) -> str:
    """The token of the waitlist link in a message's body."""
    found = _LINK.search(body)
    assert found is not None, body
    return found.group(1)
