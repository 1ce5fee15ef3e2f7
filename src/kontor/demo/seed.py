"""Seeding the demo city (see ``data.py``) through the models and the account services.

Seeding is idempotent: districts, offices, services and users are found by slug, code or username
and left as they are when they exist (so edits made in the demo survive a restart); an office's
offerings, counters, weekly hours and closures are only added when it has none of that kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import User
from kontor.accounts.services import create_user
from kontor.audit import services as audit
from kontor.audit.models import Channel
from kontor.demo import data
from kontor.demo.bookings import seed_bookings
from kontor.demo.contacts import seed_contact_center
from kontor.demo.queue import seed_queue
from kontor.demo.waitlist import seed_waitlist
from kontor.hours.holidays import swedish_holidays
from kontor.hours.models import Closure, ClosureInterval, WeeklyHours
from kontor.offices.models import Counter, District, Office, OfficeService, Service
from kontor.settings import Settings

# One weekly interval: weekday, opens, closes, kind.
Slot = tuple[int, str, str, str]

SUMMER_WEEK: tuple[Slot, ...] = tuple((day, "10:00", "15:00", "drop_in") for day in range(4))
SUMMER_MONTH = 7


@dataclass
class SeedReport:
    """Rows the seed created, and rows it found already there, per kind."""

    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, *, created: int = 0, existing: int = 0) -> None:
        self.created[kind] = self.created.get(kind, 0) + created
        self.existing[kind] = self.existing.get(kind, 0) + existing

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    def total(self, kind: str) -> int:
        return self.created.get(kind, 0) + self.existing.get(kind, 0)


async def seed_demo(
    db: AsyncSession, today: date, now: datetime | None = None, settings: Settings | None = None
) -> SeedReport:
    """Create the demo city, its calendar relative to ``today``, and the demo logins; with ``now``
    (the real clock, when the demo serves) also people waiting in Kista's queue if it is open.
    ``settings`` give the waitlist's messages their links (the demo's own address)."""
    report = SeedReport()
    districts = await _districts(db, report)
    services = await _services(db, report)
    offices = await _offices(db, districts, report)
    await _offerings(db, offices, services, report)
    await _counters(db, offices, report)
    await _weekly_hours(db, offices, today, report)
    await _closures(db, offices, today, report)
    await _users(db, report)
    created, existing = await seed_bookings(db, today)
    report.add("bookings", created=created, existing=existing)
    created, existing = await seed_queue(db, today, now)
    report.add("tickets", created=created, existing=existing)
    created, existing = await seed_contact_center(db, today)
    report.add("contacts", created=created, existing=existing)
    created, existing = await seed_waitlist(db, today, settings or Settings())
    report.add("waitlist", created=created, existing=existing)
    if report.total_created:
        audit.record(
            db,
            actor=data.DEMO_ACTOR,
            channel=Channel.SYSTEM,
            action="demo.seed",
            entity="demo",
            changes={kind: n for kind, n in report.created.items() if n},
        )
    await db.flush()
    return report


def normal_week(plan: data.WeekPlan) -> list[Slot]:
    """The weekly intervals of an office outside the summer."""
    slots: list[Slot] = []
    for day in range(4):
        opens = "10:00" if day == plan.appointment_day else "09:00"
        closes = "19:00" if day == plan.late_day else "16:00"
        if day == plan.appointment_day:
            slots.append((day, "08:00", "10:00", "appointment"))
        if plan.lunch_break:
            slots += [(day, opens, "12:00", "drop_in"), (day, "13:00", closes, "drop_in")]
        else:
            slots.append((day, opens, closes, "drop_in"))
    slots.append((4, "09:00", plan.friday_closes, "drop_in"))
    if plan.saturday:
        slots.append((5, *plan.saturday, "drop_in"))
    return slots


def seasons(today: date) -> list[tuple[date | None, date | None, bool]]:
    """(valid_from, valid_until, is_summer) covering every date: summer hours in July of this year
    and the next (and of 2026, the year the demo was written for), normal hours around them."""
    years = sorted({2026, today.year, today.year + 1})
    periods: list[tuple[date | None, date | None, bool]] = []
    start: date | None = None
    for year in years:
        july = date(year, SUMMER_MONTH, 1)
        periods.append((start, july - timedelta(days=1), False))
        periods.append((july, date(year, SUMMER_MONTH, 31), True))
        start = date(year, SUMMER_MONTH + 1, 1)
    periods.append((start, None, False))
    return periods


def training_day(today: date, weekday: int, days_ahead: int) -> date:
    """The first ``weekday`` at least ``days_ahead`` days after today that is not a holiday."""
    day = today + timedelta(days=days_ahead)
    holidays = swedish_holidays(day, day + timedelta(days=120))
    while day.weekday() != weekday or day in holidays:
        day += timedelta(days=1)
    return day


def _next_date(today: date, month: int, day: int) -> date:
    this_year = date(today.year, month, day)
    return this_year if this_year >= today else date(today.year + 1, month, day)


async def _districts(db: AsyncSession, report: SeedReport) -> dict[str, District]:
    wanted = {plan.slug: plan.district for plan in data.OFFICES}
    found = {d.slug: d for d in await db.scalars(select(District).where(District.slug.in_(wanted)))}
    report.add("districts", existing=len(found), created=len(wanted) - len(found))
    for slug, name in wanted.items():
        if slug not in found:
            found[slug] = District(slug=slug, name=name)
            db.add(found[slug])
    await db.flush()
    return found


async def _services(db: AsyncSession, report: SeedReport) -> dict[str, Service]:
    codes = [plan.code for plan in data.SERVICES]
    found = {s.code: s for s in await db.scalars(select(Service).where(Service.code.in_(codes)))}
    report.add("services", existing=len(found), created=len(codes) - len(found))
    for order, plan in enumerate(data.SERVICES, start=1):
        if plan.code in found:
            continue
        found[plan.code] = service = Service(
            code=plan.code,
            letter=plan.letter,
            duration_minutes=plan.duration_minutes,
            bookable=plan.bookable,
            walk_in=plan.walk_in,
            sort_order=order,
            name_sv=plan.name[0],
            name_en=plan.name[1],
            name_fi=plan.name[2],
            description_sv=plan.description[0],
            description_en=plan.description[1],
            description_fi=plan.description[2],
        )
        db.add(service)
    await db.flush()
    return found


async def _offices(db: AsyncSession, districts: dict[str, District], report: SeedReport) -> dict[str, Office]:
    slugs = [plan.slug for plan in data.OFFICES]
    found = {o.slug: o for o in await db.scalars(select(Office).where(Office.slug.in_(slugs)))}
    report.add("offices", existing=len(found), created=len(slugs) - len(found))
    for plan in data.OFFICES:
        if plan.slug in found:
            continue
        found[plan.slug] = office = Office(
            slug=plan.slug,
            name=plan.name,
            district_id=districts[plan.slug].id,
            street=plan.street,
            postal_code=plan.postal_code,
            city=plan.city,
            email=plan.email,
            phone=f"08-000 00 {slugs.index(plan.slug) + 1:02d}",
            languages=list(plan.languages),
            accessibility=plan.accessibility,
            directions=plan.directions,
        )
        db.add(office)
    await db.flush()
    return found


async def _rows_per_office(db: AsyncSession, model: type, offices: dict[str, Office]) -> dict[int, int]:
    ids = [office.id for office in offices.values()]
    rows = await db.execute(
        select(model.office_id, func.count()).where(model.office_id.in_(ids)).group_by(model.office_id)
    )
    return {office_id: count for office_id, count in rows}


async def _offerings(
    db: AsyncSession, offices: dict[str, Office], services: dict[str, Service], report: SeedReport
) -> None:
    present = await _rows_per_office(db, OfficeService, offices)
    for plan in data.OFFICES:
        office = offices[plan.slug]
        if office.id in present:
            report.add("offerings", existing=present[office.id])
            continue
        db.add_all(OfficeService(office_id=office.id, service_id=services[code].id) for code in plan.services)
        report.add("offerings", created=len(plan.services))


async def _counters(db: AsyncSession, offices: dict[str, Office], report: SeedReport) -> None:
    present = await _rows_per_office(db, Counter, offices)
    for plan in data.OFFICES:
        office = offices[plan.slug]
        if office.id in present:
            report.add("counters", existing=present[office.id])
            continue
        numbers = range(1, plan.counters + 1)
        db.add_all(Counter(office_id=office.id, number=n, name=f"Disk {n}") for n in numbers)
        report.add("counters", created=plan.counters)


async def _weekly_hours(
    db: AsyncSession, offices: dict[str, Office], today: date, report: SeedReport
) -> None:
    present = await _rows_per_office(db, WeeklyHours, offices)
    for plan in data.OFFICES:
        office = offices[plan.slug]
        if office.id in present:
            report.add("weekly_hours", existing=present[office.id])
            continue
        rows = [
            WeeklyHours(
                office_id=office.id,
                weekday=weekday,
                opens=time.fromisoformat(opens),
                closes=time.fromisoformat(closes),
                kind=kind,
                valid_from=valid_from,
                valid_until=valid_until,
            )
            for valid_from, valid_until, summer in seasons(today)
            for weekday, opens, closes, kind in (SUMMER_WEEK if summer else normal_week(plan.week))
        ]
        db.add_all(rows)
        report.add("weekly_hours", created=len(rows))


async def _closures(db: AsyncSession, offices: dict[str, Office], today: date, report: SeedReport) -> None:
    present = await _rows_per_office(db, Closure, offices)
    planned: dict[str, list[Closure]] = {}
    for slug, weekday, days_ahead in data.TRAINING_DAYS:
        day = training_day(today, weekday, days_ahead)
        planned.setdefault(slug, []).append(Closure(first_day=day, last_day=day, reason=data.TRAINING_REASON))
    inventory_end = _next_date(today, 12, 30)
    planned.setdefault(data.INVENTORY_OFFICE, []).append(
        Closure(
            first_day=inventory_end - timedelta(days=2), last_day=inventory_end, reason=data.INVENTORY_REASON
        )
    )
    eve = _next_date(today, 12, 23)
    planned.setdefault(data.HOLIDAY_EVE_OFFICE, []).append(
        Closure(
            first_day=eve,
            last_day=eve,
            reason=data.HOLIDAY_EVE_REASON,
            intervals=[ClosureInterval(opens=time(10), closes=time(13))],
        )
    )
    for slug, closures in planned.items():
        office = offices[slug]
        if office.id in present:
            continue
        for closure in closures:
            closure.office_id = office.id
        db.add_all(closures)
        report.add("closures", created=len(closures))
    report.add("closures", existing=sum(present.values()))


async def _users(db: AsyncSession, report: SeedReport) -> None:
    usernames = [login.username for login in data.LOGINS]
    existing = set(await db.scalars(select(User.username).where(User.username.in_(usernames))))
    report.add("users", existing=len(existing), created=len(usernames) - len(existing))
    for login in data.LOGINS:
        if login.username in existing:
            continue
        await create_user(
            db,
            username=login.username,
            role=login.role,
            password=data.DEMO_PASSWORD,
            office_slugs=login.offices,
            display_name=login.display_name,
            actor=data.DEMO_ACTOR,
            channel=Channel.SYSTEM,
        )
