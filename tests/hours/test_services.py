"""Opening hours loaded from the database, open/closed status, deviations and holiday names."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from litestar.datastructures import State
from sqlalchemy import event, select

from kontor import i18n
from kontor.hours.holidays import HOLIDAY_NAMES_SV
from kontor.hours.models import Closure as ClosureRow
from kontor.hours.models import ClosureInterval
from kontor.hours.names import HOLIDAY_MSGIDS, day_note, holiday_label
from kontor.hours.rules import DayStatus, HoursKind, Interval, OfficeHours, WeeklyInterval
from kontor.hours.services import current_time, deviations, load_hours, office_hours, open_status
from kontor.offices.models import Office

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


@contextmanager
def count_queries(engine) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


@contextmanager
def locale(code: str) -> Iterator[None]:
    token = i18n.current_locale.set(code)
    try:
        yield
    finally:
        i18n.current_locale.reset(token)


async def _offices(read_session) -> dict[str, Office]:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        return {o.slug: o for o in await db.scalars(select(Office))}


# --- loading from the database ---------------------------------------------------------------------


async def test_hours_of_many_offices_load_in_two_queries(city, engine, read_session):
    offices = await _offices(read_session)
    async with read_session() as db:
        with count_queries(engine) as statements:
            hours = await load_hours(db, offices.values(), date(2026, 12, 1), date(2026, 12, 31))
    assert len(statements) == 2
    assert set(hours) == {o.id for o in offices.values()}
    bromma = hours[offices["bromma"].id]
    assert [(c.first_day, c.last_day, c.reason, c.intervals) for c in bromma.closures] == [
        (date(2026, 12, 28), date(2026, 12, 30), "Inventering", ())
    ]
    assert {w.interval for w in bromma.weekly} == {Interval(time(8), time(16))}
    assert hours[offices["kista"].id].timezone == "Europe/Stockholm"


async def test_only_closures_and_seasons_of_the_window_are_loaded(city, read_session):
    offices = await _offices(read_session)
    async with read_session() as db:
        june = await office_hours(db, offices["bromma"], date(2026, 6, 1), date(2026, 6, 30))
        kista_july = await office_hours(db, offices["kista"], date(2026, 7, 6), date(2026, 7, 10))
    assert june.closures == ()
    # Only the summer season and the year-round appointment hours touch July.
    assert {(w.interval.opens, w.interval.closes, w.interval.kind) for w in kista_july.weekly} == {
        (time(10), time(15), HoursKind.DROP_IN),
        (time(9), time(12), HoursKind.APPOINTMENT),
    }


async def test_special_hours_come_with_their_intervals(city, read_session, write_session):
    offices = await _offices(read_session)
    async with write_session() as db, db.begin():
        closure = ClosureRow(
            office_id=offices["tensta"].id,
            first_day=date(2026, 12, 23),
            last_day=date(2026, 12, 23),
            reason="Kortare dag",
        )
        closure.intervals = [
            ClosureInterval(opens=time(13), closes=time(15)),
            ClosureInterval(opens=time(10), closes=time(12), kind="appointment"),
        ]
        db.add(closure)
    async with read_session() as db:
        hours = await office_hours(db, offices["tensta"], date(2026, 12, 21), date(2026, 12, 27))
    (special,) = hours.closures
    assert special.intervals == (
        Interval(time(10), time(12), HoursKind.APPOINTMENT),
        Interval(time(13), time(15), HoursKind.DROP_IN),
    )
    status = open_status(hours, at("2026-12-23T12:30"))
    assert not status.is_open and status.today.status == DayStatus.SPECIAL
    assert status.opens_at == at("2026-12-23T13:00") and status.opens_in_days == 0


async def test_no_offices_no_queries(engine, read_session):
    async with read_session() as db:
        with count_queries(engine) as statements:
            assert await load_hours(db, [], date(2026, 1, 1), date(2026, 1, 2)) == {}
    assert statements == []


# --- open or closed --------------------------------------------------------------------------------

KISTA_LIKE = OfficeHours(
    "Europe/Stockholm",
    (
        *(WeeklyInterval(day, Interval(time(9), time(12))) for day in range(5)),
        *(WeeklyInterval(day, Interval(time(13), time(17))) for day in range(5)),
        WeeklyInterval(1, Interval(time(12), time(13), HoursKind.APPOINTMENT)),
    ),
)


@pytest.mark.parametrize(
    ("moment", "is_open", "until", "opens_at", "opens_in_days"),
    [
        ("2026-12-01T10:00", True, "2026-12-01T17:00", None, None),  # Tuesday: no gap at noon
        ("2026-12-02T10:00", True, "2026-12-02T12:00", None, None),  # Wednesday: lunch break
        ("2026-12-02T12:30", False, None, "2026-12-02T13:00", 0),
        ("2026-12-02T17:00", False, None, "2026-12-03T09:00", 1),  # closing time is closed
        ("2026-12-04T18:00", False, None, "2026-12-07T09:00", 3),  # Friday evening → Monday
        ("2026-06-19T10:00", False, None, "2026-06-22T09:00", 3),  # Midsommarafton
    ],
)
def test_open_status(moment, is_open, until, opens_at, opens_in_days):
    status = open_status(KISTA_LIKE, at(moment).astimezone(UTC))
    assert status.is_open is is_open
    assert status.until == (at(until) if until else None)
    assert status.opens_at == (at(opens_at) if opens_at else None)
    assert status.opens_in_days == opens_in_days
    if status.until:
        assert status.until.utcoffset() == at(until).utcoffset()  # local, for display


def test_closed_all_day_only_for_holidays_and_closures():
    assert open_status(KISTA_LIKE, at("2026-06-19T10:00")).closed_all_day  # Midsommarafton
    assert open_status(KISTA_LIKE, at("2026-06-19T10:00")).today.holiday == "Midsommarafton"
    assert open_status(KISTA_LIKE, at("2026-06-20T10:00")).closed_all_day  # Midsommardagen, a Saturday
    assert not open_status(KISTA_LIKE, at("2026-06-21T10:00")).closed_all_day  # an ordinary Sunday
    assert not open_status(KISTA_LIKE, at("2026-06-22T20:00")).closed_all_day  # after hours


def test_never_opening_again_says_so():
    status = open_status(OfficeHours("Europe/Stockholm"), at("2026-12-01T10:00"))
    assert (status.is_open, status.opens_at, status.opens_in_days) == (False, None, None)


def test_current_time_uses_the_clock_in_app_state():
    fixed = at("2026-12-01T10:00")
    now = current_time(State({"clock": lambda: fixed}))
    assert now == fixed and now.tzinfo == UTC
    real = current_time(State({}))
    assert abs((real - datetime.now(UTC)).total_seconds()) < 5


# --- deviations ------------------------------------------------------------------------------------


def test_deviations_merge_closures_and_skip_holidays_on_closed_days():
    from kontor.hours.rules import Closure

    hours = OfficeHours(
        "Europe/Stockholm",
        tuple(WeeklyInterval(day, Interval(time(8), time(16))) for day in range(5)),
        (Closure(date(2026, 12, 28), date(2026, 12, 30), "Inventering"),),
    )
    found = deviations(hours, date(2026, 12, 20), date(2027, 1, 10))
    assert [(d.first, d.last, d.status, d.note) for d in found] == [
        (date(2026, 12, 24), date(2026, 12, 24), DayStatus.HOLIDAY, "Julafton"),
        (date(2026, 12, 25), date(2026, 12, 25), DayStatus.HOLIDAY, "Juldagen"),
        # Annandag jul falls on a Saturday: closed anyway, no news.
        (date(2026, 12, 28), date(2026, 12, 30), DayStatus.CLOSED, "Inventering"),
        (date(2026, 12, 31), date(2026, 12, 31), DayStatus.HOLIDAY, "Nyårsafton"),
        (date(2027, 1, 1), date(2027, 1, 1), DayStatus.HOLIDAY, "Nyårsdagen"),
        (date(2027, 1, 6), date(2027, 1, 6), DayStatus.HOLIDAY, "Trettondedag jul"),
    ]


# --- holiday names ---------------------------------------------------------------------------------


def test_every_holiday_name_has_a_msgid():
    assert set(HOLIDAY_MSGIDS) == set(HOLIDAY_NAMES_SV)
    assert len(set(HOLIDAY_MSGIDS.values())) == len(HOLIDAY_MSGIDS)


@pytest.mark.parametrize(
    ("code", "name", "label"),
    [
        ("sv", "Midsommarafton", "Midsommarafton"),
        ("en", "Midsommarafton", "Midsummer Eve"),
        ("en", "Nationaldagen; Pingstdagen", "National Day of Sweden; Whit Sunday"),
        ("en", "Okänd helg", "Okänd helg"),
    ],
)
def test_holiday_label(code, name, label):
    with locale(code):
        assert holiday_label(name) == label


def test_day_note_prefers_the_closure_reason():
    with locale("en"):
        assert day_note("Inventering", "Juldagen") == "Inventering"
        assert day_note("Juldagen", "Juldagen") == "Christmas Day"
        assert day_note(None, "Juldagen") == "Christmas Day"
        assert day_note(None, None) is None
