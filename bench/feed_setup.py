"""A staff calendar feed of a year of one office's visits: from 90 days back to 275 days ahead, about
40 visits on every weekday the office is open, and the demo admin's feed of the office (kind
"office") under the bench's fixed token.

The office is Östermalm, which no other target reads free slots of except through the contact
center's search for ``consumer``: from today on, that service is left alone here. Its online booking
is kept to an early appointment hour one day a week, so the contact center books few visits there;
the visits here fill its whole opening hours, as at an office that books in them. The contact
center's visits count towards a day's ~40, so the feed holds a busy office's year and no more.

Past visits are served or no-shows, later ones booked; each has the change records a real one has
(booked, sometimes rescheduled, checked in and served), so the feed's SEQUENCE has rows to count.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from contact_setup import SERVICE as SEARCHED_SERVICE
from servers import BOOKING_OFFICE, PREFERRED_OFFICE, _settings

FEED_OFFICE = "ostermalm"
# A bench database only, served on loopback: a fixed token keeps the runs comparable.
FEED_TOKEN = "kontor_bench-feed-token-0123456789abcdef"  # noqa: S105
DAYS_BACK, DAYS_AHEAD = 90, 275
PER_DAY = 40  # visits on a weekday, give or take a few
SEATS = 3  # per slot, as the contact center's setup leaves every bookable offering
FEED_STATUSES = ("booked", "checked_in", "served", "no_show")
FEED_WINDOW = (90, 366)  # days back and ahead the office feed shows
_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY"

FIRST_NAMES = (
    "Åsa", "Björn", "Göran", "Märta", "Örjan", "Sölve", "Ingrid", "Lars", "Karin", "Anders", "Maja",
    "Håkan", "Agnes", "Jöns", "Ebba", "Linnéa", "Måns", "Signe", "Tove", "Pär", "Amina", "Yusuf",
    "Fatima", "Leyla", "Hamid", "Ayan", "Mehmet", "Zeynep", "Aino", "Jussi", "Päivi", "Tuomas",
    "Mirja", "Agnieszka", "Piotr", "Lucía", "José", "Olga", "Dmitrij", "Nguyen",
)  # fmt: skip
LAST_NAMES = (
    "Åberg", "Öberg", "Sjögren", "Lindström", "Ängström", "Jönsson", "Höglund", "Söderberg",
    "Björklund", "Näslund", "Karlsson", "Andersson", "Nilsson", "Ekström", "Wästberg", "Hassan",
    "Ali", "Mohammed", "Yılmaz", "Abdi", "Hämäläinen", "Mäkinen", "Väisänen", "Kärkkäinen",
    "Nowak", "Wiśniewska", "Hernández", "Petrova", "Tran", "Öztürk",
)  # fmt: skip
LANGUAGES = (("sv", 70), ("en", 20), ("fi", 10))
CHANNELS = (("web", 55), ("phone", 30), ("desk", 15))
NEEDS = ("interpreter", "accessibility", "computer_help")


@dataclass(frozen=True)
class FeedSetup:
    token: str
    office: str
    inserted: int  # the visits added here
    events: int  # the visits the feed shows: those and the contact center's at the office

    @property
    def path(self) -> str:
        return f"/feeds/{self.token}.ics"


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([value for value, _weight in choices], [weight for _value, weight in choices])[0]


def _reference(rng: random.Random, used: set[str]) -> str:
    while True:
        found = "".join(rng.choice(_ALPHABET) for _ in range(4)) + f"{rng.randrange(10_000):04d}"
        if found not in used:
            used.add(found)
            return found


def _visitor(rng: random.Random, n: int) -> dict:
    """A resident's details as a booking keeps them: a name, one contact, a language and needs."""
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    channel = _weighted(rng, CHANNELS)
    draw = rng.random()
    needs = rng.sample(NEEDS, 2) if draw < 0.03 else [rng.choice(NEEDS)] if draw < 0.15 else []
    if channel == "web":
        email = f"besok.{n}@example.se"
        contact = {"email": email, "phone": None, "contact_key": email}
    else:
        phone = f"0701{n:06d}"
        contact = {"email": None, "phone": phone, "contact_key": phone}
    language = _weighted(rng, LANGUAGES)
    return {"name": name, "channel": channel, "language": language, "needs": needs, **contact}


async def prepare_feed(database_url: str, today: date) -> FeedSetup:
    """Fill a year of the feed office's calendar (see the module's docstring) and give the demo admin
    an office feed of it with the bench token."""
    from sqlalchemy import func, insert, select
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from kontor.accounts.models import User
    from kontor.accounts.security import hash_token
    from kontor.booking.models import SEATLESS, Booking, BookingEvent
    from kontor.booking.policy import slot_policy
    from kontor.booking.slots import free_slots
    from kontor.calendars.models import CalendarFeed
    from kontor.db.engine import create_engine, writer
    from kontor.hours.rules import HoursKind
    from kontor.hours.services import office_hours
    from kontor.offices.models import Office, OfficeService

    if FEED_OFFICE in (BOOKING_OFFICE, PREFERRED_OFFICE):
        raise RuntimeError("the feed's office must be one no other target books or shows")
    rng = random.Random(9)
    first, last = today - timedelta(days=DAYS_BACK), today + timedelta(days=DAYS_AHEAD)
    now = datetime.now(UTC)
    engine = create_engine(_settings(database_url))
    try:
        async with async_sessionmaker(writer(engine), expire_on_commit=False)() as db:
            office = await db.scalar(select(Office).where(Office.slug == FEED_OFFICE))
            if office is None:
                raise RuntimeError(f"the demo city has no office {FEED_OFFICE!r}")
            zone = ZoneInfo(office.timezone)
            seated = select(Booking).where(Booking.office_id == office.id, Booking.status.not_in(SEATLESS))
            existing = list(await db.scalars(seated))
            taken = {(b.service_id, b.starts_at, b.seat) for b in existing}
            per_day = Counter(
                b.starts_at.astimezone(zone).date() for b in existing if b.status in FEED_STATUSES
            )
            used = set(await db.scalars(select(Booking.reference)))
            # Every seat of every slot the office offers on the year's weekdays, whatever the notice
            # and horizon: past days are filled as well as coming ones.
            hours = await office_hours(db, office, first, last + timedelta(days=1))
            start_of_first = datetime.combine(first, time(0), zone)
            seats_by_day: dict[date, list[tuple]] = defaultdict(list)
            offerings = await db.scalars(select(OfficeService).where(OfficeService.office_id == office.id))
            for offering in offerings:
                if not offering.is_bookable:
                    continue
                policy = dataclasses.replace(
                    slot_policy(offering, hours, staff=True),
                    seats=max(offering.seats, SEATS),
                    min_notice=timedelta(0),
                    horizon_days=(last - first).days + 1,
                    phone_seats=0,
                    kinds=frozenset(HoursKind),
                )
                for slot in free_slots(hours, policy, first, last, start_of_first, include_full=True):
                    day = slot.start.astimezone(zone).date()
                    if day.weekday() >= 5 or (offering.service.code == SEARCHED_SERVICE and day >= today):
                        continue
                    for seat in range(1, policy.seats + 1):
                        if (offering.service_id, slot.start, seat) not in taken:
                            seats_by_day[day].append((offering.service_id, slot, seat))
            chosen = []
            for day, seats in sorted(seats_by_day.items()):
                wanted = PER_DAY + rng.randint(-6, 6) - per_day[day]
                chosen += sorted(rng.sample(seats, max(0, min(wanted, len(seats)))), key=lambda s: s[1].start)
            rows, events = _visits(rng, chosen, office.id, used, now)
            for start in range(0, len(rows), 2000):
                await db.execute(insert(Booking), rows[start : start + 2000])
            query = select(Booking.reference, Booking.id).where(Booking.office_id == office.id)
            ids = dict((await db.execute(query)).tuples().all())
            changes = [
                {key: value for key, value in event.items() if key != "reference"}
                | {"booking_id": ids[event["reference"]]}
                for event in events
            ]
            for start in range(0, len(changes), 2000):
                await db.execute(insert(BookingEvent), changes[start : start + 2000])
            admin = await db.scalar(select(User).where(User.username == "admin"))
            if admin is None:
                raise RuntimeError("the demo city has no admin")
            db.add(
                CalendarFeed(
                    user_id=admin.id,
                    kind="office",
                    office_id=office.id,
                    service_ids=[],
                    label=f"Bench: {office.name}, a year",
                    token_hash=hash_token(FEED_TOKEN),
                )
            )
            # The feed's window runs from midnight in the office's zone, whose date may not be ``today``.
            back, ahead = FEED_WINDOW
            local_today = now.astimezone(zone).date()
            shown = await db.scalar(
                select(func.count()).where(
                    Booking.office_id == office.id,
                    Booking.status.in_(FEED_STATUSES),
                    Booking.starts_at >= datetime.combine(local_today - timedelta(days=back), time(0), zone),
                    Booking.starts_at < datetime.combine(local_today + timedelta(days=ahead), time(0), zone),
                )
            )
            await db.commit()
    finally:
        await engine.dispose()
    return FeedSetup(FEED_TOKEN, FEED_OFFICE, len(rows), int(shown or 0))


def _visits(
    rng: random.Random, chosen: list[tuple], office_id: int, used: set[str], now: datetime
) -> tuple[list[dict], list[dict]]:
    """The bookings of the chosen seats and their change records (keyed by reference until the
    bookings have ids): booked a few days to weeks ahead, now and then moved, and once over, served
    or not come."""
    rows: list[dict] = []
    events: list[dict] = []
    for n, (service_id, slot, seat) in enumerate(chosen):
        visitor = _visitor(rng, n)
        reference = _reference(rng, used)
        booked_at = min(slot.start - timedelta(days=rng.randint(1, 30)), now - timedelta(hours=1))
        booked_at -= timedelta(minutes=rng.randint(0, 600))
        past = slot.end <= now
        status = ("no_show" if rng.random() < 0.1 else "served") if past else "booked"
        channel = visitor["channel"]
        actor = "resident" if channel == "web" else "bench"
        record = {"reference": reference, "channel": channel, "actor": actor}
        booked = {"office": FEED_OFFICE, "starts_at": slot.start.isoformat(), "seat": seat}
        events.append(record | {"at": booked_at, "action": "booked", "changes": booked})
        changed = booked_at
        if rng.random() < 0.05:
            changed = booked_at + (min(slot.start, now) - booked_at) / 2
            moved = {"starts_at": ["", slot.start.isoformat()], "seat": [seat, seat]}
            events.append(record | {"at": changed, "action": "rescheduled", "changes": moved})
        if past:
            desk = {"reference": reference, "channel": "desk", "actor": "bench"}
            if status == "served":
                checked = {"status": ["booked", "checked_in"]}
                events.append(desk | {"at": slot.start, "action": "checked_in", "changes": checked})
                changed = slot.end
            else:
                changed = slot.start + timedelta(minutes=15)
            ended = {"status": ["checked_in" if status == "served" else "booked", status]}
            events.append(desk | {"at": changed, "action": status, "changes": ended})
        rows.append(
            {
                "reference": reference,
                "token_hash": f"{rng.getrandbits(256):064x}",
                "office_id": office_id,
                "service_id": service_id,
                "starts_at": slot.start,
                "ends_at": slot.end,
                "seat": seat,
                "status": status,
                **visitor,
                "created_at": booked_at,
                "updated_at": changed,
            }
        )
    return rows, events
