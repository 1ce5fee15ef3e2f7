"""The contact center's search under a full calendar: 50,000 bookings across the demo city's 13
offices over the next 60 days, and an agent with the bench's API token.

Every bookable offering gets three seats per slot. The searched service is booked out for its first
two weeks everywhere, so the search across offices has to look past them, as it does when the city's
calendars are full; the rest of the bookings are spread at random over every other bookable slot.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from servers import _settings

AGENT_TOKEN = "kontor_bench-agent-token-0123456789abcdef"  # noqa: S105
SERVICE = "consumer"  # offered for booking at all 13 offices, and not the booking POST's
BOOKINGS = 50_000
DAYS = 60
SEATS = 3  # per slot of every bookable offering: the demo's single seats hold too few bookings
FULL_DAYS = 14  # the searched service is booked out this long after the first searched day
SKIP_DAYS = 3  # the queue bench keeps some offices open around the clock over the next days
_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY"


@dataclass(frozen=True)
class ContactSetup:
    token: str
    service: str
    first: date  # the first day searched
    bookings: int
    offices: int

    @property
    def path(self) -> str:
        return f"/api/v1/availability?service={self.service}&from={self.first.isoformat()}&limit=10"

    @property
    def console_path(self) -> str:
        return f"/agent?service={self.service}"


def _reference(used: set[str]) -> str:
    while True:
        found = "".join(secrets.choice(_ALPHABET) for _ in range(4)) + f"{secrets.randbelow(10_000):04d}"
        if found not in used:
            used.add(found)
            return found


async def prepare_contact_center(database_url: str, today: date, skip: tuple[str, str]) -> ContactSetup:
    """Book the city full (see the module's docstring), leaving ``skip`` (office, service) alone (the
    booking POST target's offering), and give the demo's agent the bench token."""
    from sqlalchemy import insert, select
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from kontor.accounts.models import ApiToken, User
    from kontor.accounts.security import hash_token
    from kontor.booking.models import Booking
    from kontor.booking.policy import slot_policy
    from kontor.booking.slots import free_slots
    from kontor.db.engine import create_engine, writer
    from kontor.hours.services import office_hours
    from kontor.offices.models import Office, OfficeService

    rng = random.Random(6)
    first = today + timedelta(days=SKIP_DAYS)
    last = today + timedelta(days=DAYS - 1)
    engine = create_engine(_settings(database_url))
    try:
        async with async_sessionmaker(writer(engine), expire_on_commit=False)() as db:
            offices = list(await db.scalars(select(Office).where(Office.active.is_(True))))
            # The demo's own visits keep their seats.
            taken = set(
                await db.execute(
                    select(Booking.office_id, Booking.service_id, Booking.starts_at, Booking.seat).where(
                        Booking.status.not_in(("cancelled", "expired"))
                    )
                )
            )
            must: list[tuple] = []
            may: list[tuple] = []
            for office in offices:
                zone = ZoneInfo(office.timezone)
                now = datetime.combine(today, time(0), zone).astimezone(UTC)
                hours = await office_hours(db, office, today, last + timedelta(days=1))
                query = select(OfficeService).where(OfficeService.office_id == office.id)
                for offering in await db.scalars(query):
                    if not offering.is_bookable or (office.slug, offering.service.code) == skip:
                        continue
                    offering.seats = max(offering.seats, SEATS)
                    for slot in free_slots(hours, slot_policy(offering, hours), first, last, now):
                        full = offering.service.code == SERVICE and (
                            slot.start.astimezone(zone).date() < first + timedelta(days=FULL_DAYS)
                        )
                        for seat in range(1, offering.seats + 1):
                            if (office.id, offering.service_id, slot.start, seat) in taken:
                                continue
                            (must if full else may).append((office.id, offering.service, slot, seat))
            chosen = must + rng.sample(may, max(0, min(len(may), BOOKINGS - len(must))))
            used: set[str] = set()
            stamp = datetime.now(UTC)
            rows = [
                {
                    "reference": _reference(used),
                    "token_hash": hash_token(f"bench-{n}"),
                    "office_id": office_id,
                    "service_id": service.id,
                    "starts_at": slot.start,
                    "ends_at": slot.end,
                    "seat": seat,
                    "status": "booked",
                    "name": f"Bench Resident {n}",
                    "email": None,
                    "phone": f"0700{n:06d}",
                    "contact_key": f"0700{n:06d}",
                    "language": "sv",
                    "needs": [],
                    "channel": "web",
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for n, (office_id, service, slot, seat) in enumerate(chosen)
            ]
            for start in range(0, len(rows), 5000):
                await db.execute(insert(Booking), rows[start : start + 5000])
            agent = await db.scalar(select(User).where(User.username == "agent"))
            if agent is None:
                raise RuntimeError("the demo city has no agent")
            db.add(
                ApiToken(
                    name="bench agent",
                    user_id=agent.id,
                    token_hash=hash_token(AGENT_TOKEN),
                    prefix=AGENT_TOKEN[:12],
                )
            )
            await db.commit()
    finally:
        await engine.dispose()
    return ContactSetup(AGENT_TOKEN, SERVICE, first, len(rows), len(offices))
