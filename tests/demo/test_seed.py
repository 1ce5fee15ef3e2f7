"""The demo city: thirteen offices with hours, services and staff, seeded once however often it runs."""

from datetime import date, time, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from kontor.accounts.models import User
from kontor.accounts.security import verify_password
from kontor.audit.models import AuditEntry
from kontor.demo import data
from kontor.demo.seed import normal_week, seasons, seed_demo, training_day
from kontor.hours.holidays import swedish_holidays
from kontor.hours.models import Closure, ClosureInterval, WeeklyHours
from kontor.hours.rules import DayStatus, HoursKind, day_hours
from kontor.hours.services import load_hours
from kontor.offices.models import Counter, District, Office, OfficeService, Service

TODAY = date(2026, 11, 28)
DISTRICTS = {
    "Rinkeby-Kista", "Spånga-Tensta", "Hässelby-Vällingby", "Bromma", "Kungsholmen", "Norrmalm",
    "Östermalm", "Södermalm", "Enskede-Årsta-Vantör", "Skarpnäck", "Farsta", "Hägersten-Älvsjö",
    "Skärholmen",
}  # fmt: skip
TABLES = (District, Office, Service, OfficeService, Counter, WeeklyHours, Closure, ClosureInterval, User)


async def seed(write_session, today: date = TODAY):
    async with write_session() as db, db.begin():
        return await seed_demo(db, today)


async def row_counts(read_session) -> dict[str, int]:
    async with read_session() as db:
        return {m.__tablename__: await db.scalar(select(func.count()).select_from(m)) for m in TABLES}


async def per_office(db, model) -> dict[int, int]:
    rows = await db.execute(select(model.office_id, func.count()).group_by(model.office_id))
    return {office_id: count for office_id, count in rows}


async def test_thirteen_districts_each_with_an_office(write_session, read_session):
    await seed(write_session)
    async with read_session() as db:
        assert set(await db.scalars(select(District.name))) == DISTRICTS
        offices = list(await db.scalars(select(Office)))
    assert len(offices) == 13
    assert {office.district.name for office in offices} == DISTRICTS
    assert all(office.name.startswith("Medborgarkontor ") for office in offices)
    assert all(office.email == f"{office.slug}@medborgarkontor.example" for office in offices)
    assert all(office.phone.startswith("08-000 00 ") for office in offices)
    assert all(office.accessibility and office.directions and office.street for office in offices)
    assert len({tuple(office.languages) for office in offices}) > 5, "offices speak different languages"


async def test_every_office_has_hours_services_and_counters(write_session, read_session):
    await seed(write_session)
    async with read_session() as db:
        offices = {o.id: o.slug for o in await db.scalars(select(Office))}
        hours = await per_office(db, WeeklyHours)
        offered = await per_office(db, OfficeService)
        counters = await per_office(db, Counter)
        services = list(await db.scalars(select(Service)))
        finnish = await db.scalar(
            select(func.count()).select_from(OfficeService).join(Service).where(Service.code == "finnish")
        )
        permits = await db.scalar(
            select(func.count())
            .select_from(OfficeService)
            .join(Service)
            .where(Service.code == "building-permits")
        )
    for office_id, slug in offices.items():
        assert hours.get(office_id, 0) > 0, slug
        assert offered.get(office_id, 0) >= 3, slug
        assert counters.get(office_id) in {2, 3}, slug
    assert len(services) == 10
    letters = [service.letter for service in services]
    assert len(set(letters)) == len(letters)
    assert all(s.name_sv and s.name_en and s.name_fi and s.description_fi for s in services)
    assert all(s.bookable or s.walk_in for s in services)
    assert 3 <= finnish <= 4
    assert permits == 2


async def test_demo_logins(write_session, read_session):
    await seed(write_session)
    async with read_session() as db:
        users = {u.username: u for u in await db.scalars(select(User))}
        audit = list(await db.scalars(select(AuditEntry).where(AuditEntry.action == "user.create")))
    expected = {
        "admin": ("admin", []),
        "chef.kista": ("manager", ["rinkeby-kista"]),
        "chef.sodermalm": ("manager", ["sodermalm"]),
        "disk.kista": ("staff", ["rinkeby-kista"]),
        "agent": ("agent", []),
    }
    assert {name: (u.role, [o.slug for o in u.offices]) for name, u in users.items()} == expected
    assert all(verify_password(u.password_hash, data.DEMO_PASSWORD) for u in users.values())
    assert {(entry.actor, entry.channel) for entry in audit} == {("demo", "system")}
    assert len(audit) == 5


async def test_seeding_twice_creates_nothing_new(write_session, read_session):
    first = await seed(write_session)
    before = await row_counts(read_session)
    second = await seed(write_session, TODAY + timedelta(days=40))
    assert await row_counts(read_session) == before
    assert second.total_created == 0
    assert second.existing["offices"] == 13
    assert second.existing["users"] == 5
    assert second.existing["weekly_hours"] == first.created["weekly_hours"]
    assert second.existing["closures"] == first.created["closures"]


async def test_a_second_seed_keeps_what_was_edited(write_session, read_session):
    await seed(write_session)
    async with write_session() as db, db.begin():
        office = await db.scalar(select(Office).where(Office.slug == "bromma"))
        office.directions = "Ny väg"
        await db.execute(WeeklyHours.__table__.delete().where(WeeklyHours.office_id == office.id))
        db.add(WeeklyHours(office_id=office.id, weekday=0, opens=time(8), closes=time(9)))
    await seed(write_session)
    async with read_session() as db:
        office = await db.scalar(select(Office).where(Office.slug == "bromma"))
        kept = list(await db.scalars(select(WeeklyHours).where(WeeklyHours.office_id == office.id)))
    assert office.directions == "Ny väg"
    assert [(row.weekday, row.opens, row.closes) for row in kept] == [(0, time(8), time(9))]


async def test_july_has_summer_hours(write_session, read_session):
    await seed(write_session)
    async with read_session() as db:
        kista = await db.scalar(select(Office).where(Office.slug == "rinkeby-kista"))
        hours = (await load_hours(db, [kista], date(2026, 6, 1), date(2027, 7, 31)))[kista.id]
    for year in (2026, 2027):
        june_monday = next(date(year, 6, d) for d in range(8, 15) if date(year, 6, d).weekday() == 0)
        july_monday, july_friday = june_monday + timedelta(weeks=5), june_monday + timedelta(weeks=5, days=4)
        june, july = day_hours(hours, june_monday), day_hours(hours, july_monday)
        assert june.intervals != july.intervals
        assert [(i.opens, i.closes) for i in july.intervals] == [(time(10), time(15))]
        assert day_hours(hours, june_monday + timedelta(days=4)).is_open
        assert not day_hours(hours, july_friday).is_open, "closed on Fridays in July"


async def test_hours_look_like_a_real_week(write_session, read_session):
    await seed(write_session)
    async with read_session() as db:
        offices = list(await db.scalars(select(Office)))
        hours = await load_hours(db, offices, TODAY, TODAY + timedelta(days=400))
    kista = next(o for o in offices if o.slug == "rinkeby-kista")
    tuesday = date(2026, 12, 1)
    kinds = {(i.kind, i.opens, i.closes) for i in day_hours(hours[kista.id], tuesday).intervals}
    assert (HoursKind.APPOINTMENT, time(8), time(10)) in kinds
    assert (HoursKind.DROP_IN, time(10), time(16)) in kinds
    holidays = swedish_holidays(TODAY, TODAY + timedelta(days=400))
    for office in offices:
        # No gap between the seasons: every ordinary Monday to Thursday of the coming year is open.
        for n in range(400):
            day = TODAY + timedelta(days=n)
            shown = day_hours(hours[office.id], day, holidays)
            if day.weekday() < 4 and shown.status == DayStatus.REGULAR:
                assert shown.is_open, (office.slug, day)


async def test_closures_relative_to_the_seed_date(write_session, read_session):
    await seed(write_session)
    async with read_session() as db:
        offices = list(await db.scalars(select(Office)))
        hours = await load_hours(db, offices, TODAY, date(2027, 3, 1))
    by_slug = {office.slug: hours[office.id] for office in offices}
    training = [c for h in hours.values() for c in h.closures if c.reason == data.TRAINING_REASON]
    assert len(training) == 2
    assert all(c.first_day > TODAY and c.first_day.weekday() < 5 for c in training)
    inventory = day_hours(by_slug[data.INVENTORY_OFFICE], date(2026, 12, 29))
    assert inventory.status == DayStatus.CLOSED and inventory.note == data.INVENTORY_REASON
    eve = day_hours(by_slug[data.HOLIDAY_EVE_OFFICE], date(2026, 12, 23))
    assert eve.status == DayStatus.SPECIAL
    assert [(i.opens, i.closes) for i in eve.intervals] == [(time(10), time(13))]


@pytest.mark.parametrize(
    ("today", "weekday", "days_ahead", "expected"),
    [
        (date(2026, 11, 28), 2, 14, date(2026, 12, 16)),
        (date(2026, 11, 28), 3, 21, date(2027, 1, 7)),  # skips julafton and nyårsafton
    ],
)
def test_training_day_is_a_working_day(today, weekday, days_ahead, expected):
    assert training_day(today, weekday, days_ahead) == expected


@pytest.mark.parametrize("today", [date(2026, 1, 1), date(2026, 11, 28), date(2031, 7, 15)])
def test_seasons_cover_every_date_once(today):
    periods = seasons(today)
    assert periods[0][0] is None and periods[-1][1] is None
    for (_, until, _), (start, _, _) in pairwise(periods):
        assert start == until + timedelta(days=1)
    summers = {start.year for start, _, summer in periods if summer}
    assert {today.year, today.year + 1} <= summers


def test_every_normal_week_has_one_late_evening_and_a_short_friday():
    late_days = set()
    for plan in data.OFFICES:
        week = normal_week(plan.week)
        late = [day for day, _opens, closes, _kind in week if closes == "19:00"]
        assert len(late) == 1, plan.slug
        late_days.add(late[0])
        assert [closes for day, _o, closes, _k in week if day == 4] in (["14:00"], ["15:00"])
    assert late_days == {0, 1, 2, 3}


async def test_the_front_desk_has_visits_to_expect(write_session, read_session):
    from kontor.booking.models import Booking

    first = await seed(write_session)
    assert first.created["bookings"] == 6
    async with read_session() as db:
        bookings = list(await db.scalars(select(Booking).order_by(Booking.starts_at)))
    assert {b.office.slug for b in bookings} == {"rinkeby-kista"}
    assert all(b.status == "booked" and b.starts_at.date() >= TODAY for b in bookings)
    assert any(b.needs for b in bookings) and {b.channel for b in bookings} == {"web", "phone"}
    again = await seed(write_session)
    assert (again.created["bookings"], again.existing["bookings"]) == (0, 6)
