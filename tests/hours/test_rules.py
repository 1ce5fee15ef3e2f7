"""Opening-hours rules: weekly hours, closures, holidays and daylight-saving days."""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as pkg_holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kontor.hours.rules import (
    HOLIDAY_NAME_SEPARATOR,
    HOLIDAY_NAMES_SV,
    Closure,
    DayHours,
    DayStatus,
    HoursKind,
    Interval,
    OfficeHours,
    WeeklyInterval,
    current_interval,
    day_hours,
    hours_for_range,
    interval_bounds,
    is_open_at,
    next_opening,
    swedish_holidays,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
APPT = HoursKind.APPOINTMENT
DROP = HoursKind.DROP_IN


# --- helpers ---------------------------------------------------------------------------------------


def d(text: str) -> date:
    return date.fromisoformat(text)


def iv(spec: str) -> Interval:
    """ "08:00-12:00" is a drop-in interval, "16:00-18:00 appointment" an appointment one."""
    span, _, kind = spec.partition(" ")
    opens, closes = span.split("-")
    return Interval(time.fromisoformat(opens), time.fromisoformat(closes), HoursKind(kind or DROP))


def spec(interval: Interval) -> str:
    span = f"{interval.opens:%H:%M}-{interval.closes:%H:%M}"
    return span if interval.kind == DROP else f"{span} {interval.kind}"


def local(text: str, tz: ZoneInfo = STOCKHOLM) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def weekly(weekdays: range | tuple[int, ...], *specs: str, valid_from=None, valid_until=None):
    return tuple(
        WeeklyInterval(
            wd, iv(s), d(valid_from) if valid_from else None, d(valid_until) if valid_until else None
        )
        for wd in weekdays
        for s in specs
    )


def closure(first: str, last: str, reason: str, *specs: str) -> Closure:
    return Closure(d(first), d(last), reason, tuple(iv(s) for s in specs))


LUNCH = ("08:00-12:00", "13:00-16:00")
OVERLAPPING = (
    closure("2026-08-10", "2026-08-21", "Renovering"),
    closure("2026-08-14", "2026-08-14", "Tillfälligt öppet", "10:00-14:00"),
    closure("2026-09-07", "2026-09-11", "Flytt"),
    closure("2026-09-07", "2026-09-07", "Flyttdag, öppet", "10:00-12:00"),
)
OFFICE = OfficeHours(
    weekly=(
        *weekly(range(1, 5), *LUNCH),
        *weekly((3,), "16:00-18:00 appointment"),
        *weekly((0,), *LUNCH, valid_until="2026-06-30"),
        *weekly((0,), "09:00-13:00", valid_from="2026-07-01", valid_until="2026-07-31"),
        *weekly((0,), *LUNCH, valid_from="2026-08-01"),
    ),
    closures=(
        closure("2026-03-10", "2026-03-10", "Personaldag"),
        closure("2026-12-24", "2026-12-24", "Öppet på förmiddagen", "09:00-12:00"),
        closure("2026-12-28", "2027-01-01", "Mellandagar"),
        *OVERLAPPING,
    ),
)
# Open every day, with early-morning hours that straddle the DST changes.
ALL_WEEK = OfficeHours(weekly=weekly(range(7), "01:00-04:00", "08:00-16:00"))


# --- day_hours / hours_for_range -----------------------------------------------------------------

DAY_TABLE = [
    # day, status, intervals, note, holiday
    ("2026-03-03", DayStatus.REGULAR, LUNCH, None, None),  # Tuesday
    ("2026-03-05", DayStatus.REGULAR, (*LUNCH, "16:00-18:00 appointment"), None, None),  # Thursday
    ("2026-03-07", DayStatus.REGULAR, (), None, None),  # Saturday
    ("2026-03-08", DayStatus.REGULAR, (), None, None),  # Sunday
    ("2026-06-29", DayStatus.REGULAR, LUNCH, None, None),  # last Monday before summer hours
    ("2026-07-06", DayStatus.REGULAR, ("09:00-13:00",), None, None),  # summer Monday
    ("2026-07-27", DayStatus.REGULAR, ("09:00-13:00",), None, None),
    ("2026-08-03", DayStatus.REGULAR, LUNCH, None, None),  # first Monday after
    ("2026-06-19", DayStatus.HOLIDAY, (), "Midsommarafton", "Midsommarafton"),
    ("2026-06-20", DayStatus.HOLIDAY, (), "Midsommardagen", "Midsommardagen"),
    ("2026-12-25", DayStatus.HOLIDAY, (), "Juldagen", "Juldagen"),
    ("2025-12-31", DayStatus.HOLIDAY, (), "Nyårsafton", "Nyårsafton"),
    ("2026-04-03", DayStatus.HOLIDAY, (), "Långfredagen", "Långfredagen"),
    ("2026-03-10", DayStatus.CLOSED, (), "Personaldag", None),
    ("2026-12-24", DayStatus.SPECIAL, ("09:00-12:00",), "Öppet på förmiddagen", "Julafton"),
    ("2026-12-29", DayStatus.CLOSED, (), "Mellandagar", None),
    ("2026-12-31", DayStatus.CLOSED, (), "Mellandagar", "Nyårsafton"),
    ("2027-01-01", DayStatus.CLOSED, (), "Mellandagar", "Nyårsdagen"),
    ("2026-08-13", DayStatus.CLOSED, (), "Renovering", None),
    ("2026-08-14", DayStatus.SPECIAL, ("10:00-14:00",), "Tillfälligt öppet", None),  # later first_day
    ("2026-09-07", DayStatus.SPECIAL, ("10:00-12:00",), "Flyttdag, öppet", None),  # same start, shorter
    ("2026-09-08", DayStatus.CLOSED, (), "Flytt", None),
]


@pytest.mark.parametrize(("day", "status", "intervals", "note", "holiday"), DAY_TABLE)
def test_day_hours(day, status, intervals, note, holiday):
    got = day_hours(OFFICE, d(day))
    assert (got.day, got.status, [spec(i) for i in got.intervals], got.note, got.holiday) == (
        d(day),
        status,
        list(intervals),
        note,
        holiday,
    )
    assert got.is_open == bool(intervals)
    assert hours_for_range(OFFICE, d(day), d(day)) == [got]


@pytest.mark.parametrize("order", list(itertools.permutations(OVERLAPPING)))
def test_overlapping_closures_precedence_ignores_order(order):
    office = OfficeHours(weekly=OFFICE.weekly, closures=order)
    got = {dh.day.isoformat(): dh.note for dh in hours_for_range(office, d("2026-08-13"), d("2026-09-08"))}
    assert (got["2026-08-13"], got["2026-08-14"], got["2026-08-17"]) == (
        "Renovering",
        "Tillfälligt öppet",
        "Renovering",
    )
    assert (got["2026-09-07"], got["2026-09-08"]) == ("Flyttdag, öppet", "Flytt")


def test_of_kind_and_sorting():
    office = OfficeHours(weekly=weekly((2,), "13:00-15:00", "09:00-11:00 appointment", "09:00-10:00"))
    got = day_hours(office, d("2026-03-04"))
    assert [spec(i) for i in got.intervals] == ["09:00-11:00 appointment", "09:00-10:00", "13:00-15:00"]
    assert [spec(i) for i in got.of_kind(APPT)] == ["09:00-11:00 appointment"]
    assert [spec(i) for i in got.of_kind(DROP)] == ["09:00-10:00", "13:00-15:00"]


def test_the_same_interval_from_overlapping_seasons_is_listed_once():
    office = OfficeHours(
        weekly=(
            *weekly((2,), "09:00-12:00", valid_until="2026-06-30"),
            *weekly((2,), "09:00-12:00", "13:00-15:00", valid_from="2026-06-01"),
        )
    )
    assert [spec(i) for i in day_hours(office, d("2026-06-10")).intervals] == ["09:00-12:00", "13:00-15:00"]


def test_explicit_holiday_calendar_replaces_swedish_one():
    got = day_hours(OFFICE, d("2026-03-03"), holidays={d("2026-03-03"): "Kontorets dag"})
    assert (got.status, got.note, got.holiday, got.is_open) == (
        DayStatus.HOLIDAY,
        "Kontorets dag",
        "Kontorets dag",
        False,
    )
    assert day_hours(OFFICE, d("2026-12-25"), holidays={}).status is DayStatus.REGULAR


def test_hours_for_range_covers_each_date_once():
    days = hours_for_range(OFFICE, d("2026-12-20"), d("2027-01-10"))
    assert [dh.day for dh in days] == [d("2026-12-20") + timedelta(days=n) for n in range(22)]
    with pytest.raises(ValueError, match="before first"):
        hours_for_range(OFFICE, d("2026-01-02"), d("2026-01-01"))


def test_store_values_are_accepted():
    # What the database layer hands over: kind as a plain string, lists rather than tuples.
    office = OfficeHours(
        weekly=[WeeklyInterval(0, Interval(time(8), time(9), "appointment"))],  # type: ignore[arg-type]
        closures=[Closure(d("2026-03-10"), d("2026-03-10"), "", [iv("10:00-11:00")])],  # type: ignore[arg-type]
    )
    assert office.weekly[0].interval.kind is APPT
    assert day_hours(office, d("2026-03-10")).note is None


# --- validation -------------------------------------------------------------------------------------

INVALID = [
    (lambda: Interval(time(12), time(12)), "must be after"),
    (lambda: Interval(time(16), time(8)), "must be after"),
    (lambda: Interval(time(8), time(9), "walk_in"), "walk_in"),
    (lambda: Interval(time(8, tzinfo=UTC), time(9)), "wall-clock"),
    (lambda: WeeklyInterval(7, iv("08:00-09:00")), "weekday"),
    (lambda: WeeklyInterval(-1, iv("08:00-09:00")), "weekday"),
    (lambda: WeeklyInterval(0, iv("08:00-09:00"), d("2026-02-01"), d("2026-01-31")), "valid_until"),
    (lambda: Closure(d("2026-02-01"), d("2026-01-31"), "x"), "last_day"),
    (lambda: OfficeHours(timezone="Europe/Atlantis"), "time zone"),
    (lambda: swedish_holidays(d("2026-02-01"), d("2026-01-31")), "before first"),
    (lambda: is_open_at(OFFICE, datetime(2026, 3, 3, 10)), "timezone-aware"),
    (lambda: current_interval(OFFICE, datetime(2026, 3, 3, 10)), "timezone-aware"),
    (lambda: next_opening(OFFICE, datetime(2026, 3, 3, 10)), "timezone-aware"),
    (lambda: next_opening(OFFICE, local("2026-03-03 10:00"), horizon_days=-1), "horizon_days"),
]


@pytest.mark.parametrize(("make", "message"), INVALID)
def test_invalid_input_is_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_valid_boundaries_are_accepted():
    WeeklyInterval(6, iv("08:00-09:00"), d("2026-01-01"), d("2026-01-01"))
    Closure(d("2026-01-01"), d("2026-01-01"), "x")
    Interval(time(0), time.max)


# --- holidays -----------------------------------------------------------------------------------------


def test_swedish_holidays_2026():
    got = swedish_holidays(d("2026-01-01"), d("2026-12-31"))
    assert got[d("2026-06-19")] == "Midsommarafton"
    assert got[d("2026-12-24")] == "Julafton"
    assert got[d("2026-12-25")] == "Juldagen"
    assert got[d("2026-12-31")] == "Nyårsafton"
    assert got[d("2026-04-03")] == "Långfredagen"
    assert len(got) == 16
    # Sundays appear only as holidays in their own right, never as ordinary Sundays.
    assert {day: name for day, name in got.items() if day.weekday() == 6} == {
        d("2026-04-05"): "Påskdagen",
        d("2026-05-24"): "Pingstdagen",
    }


def test_swedish_holidays_range_is_inclusive_across_years():
    got = swedish_holidays(d("2026-12-31"), d("2027-01-06"))
    assert got == {
        d("2026-12-31"): "Nyårsafton",
        d("2027-01-01"): "Nyårsdagen",
        d("2027-01-06"): "Trettondedag jul",
    }
    got[d("2027-01-02")] = "mutating the result must not leak into the cache"
    assert len(swedish_holidays(d("2026-12-31"), d("2027-01-06"))) == 3


def test_holiday_names_are_every_name_the_package_gives():
    calendar = pkg_holidays.Sweden(
        years=range(1953, 2101), categories=("public", "de_facto"), language="sv", include_sundays=False
    )
    given_names = {part for name in calendar.values() for part in name.split(HOLIDAY_NAME_SEPARATOR)}
    assert given_names == HOLIDAY_NAMES_SV
    assert isinstance(HOLIDAY_NAMES_SV, frozenset)
    assert {"Midsommarafton", "Julafton", "Nyårsafton", "Juldagen", "Långfredagen"} <= HOLIDAY_NAMES_SV


def test_two_holidays_on_one_date_report_both_names():
    got = day_hours(OFFICE, d("2049-06-06"))
    assert got.status is DayStatus.HOLIDAY
    assert set(got.holiday.split(HOLIDAY_NAME_SEPARATOR)) == {"Nationaldagen", "Pingstdagen"}


# --- interval_bounds across DST ------------------------------------------------------------------

BOUNDS_TABLE = [
    # zone, day, interval, start (UTC), end (UTC), real length
    ("Europe/Stockholm", "2026-03-28", "08:00-16:00", "2026-03-28 07:00", "2026-03-28 15:00", 8),
    ("Europe/Stockholm", "2026-03-29", "08:00-16:00", "2026-03-29 06:00", "2026-03-29 14:00", 8),
    ("Europe/Stockholm", "2026-10-24", "08:00-16:00", "2026-10-24 06:00", "2026-10-24 14:00", 8),
    ("Europe/Stockholm", "2026-10-25", "08:00-16:00", "2026-10-25 07:00", "2026-10-25 15:00", 8),
    ("Europe/Stockholm", "2026-03-29", "01:30-03:30", "2026-03-29 00:30", "2026-03-29 01:30", 1),
    ("Europe/Stockholm", "2026-10-25", "01:30-03:30", "2026-10-24 23:30", "2026-10-25 02:30", 3),
    # in the gap: 02:30 does not exist and becomes 03:00 CEST
    ("Europe/Stockholm", "2026-03-29", "02:30-04:00", "2026-03-29 01:00", "2026-03-29 02:00", 1),
    ("Europe/Stockholm", "2026-03-29", "01:00-02:30", "2026-03-29 00:00", "2026-03-29 01:00", 1),
    ("Europe/Stockholm", "2026-03-29", "02:10-02:50", "2026-03-29 01:00", "2026-03-29 01:00", 0),
    # wholly inside the repeated hour: first 02:15 to second 02:45
    ("Europe/Stockholm", "2026-10-25", "02:15-02:45", "2026-10-25 00:15", "2026-10-25 01:45", 1.5),
    ("America/New_York", "2026-03-08", "02:30-04:00", "2026-03-08 07:00", "2026-03-08 08:00", 1),
    ("America/New_York", "2026-11-01", "00:30-01:30", "2026-11-01 04:30", "2026-11-01 06:30", 2),
    # Lord Howe moves its clocks by half an hour
    ("Australia/Lord_Howe", "2026-10-04", "02:10-03:00", "2026-10-03 15:30", "2026-10-03 16:00", 0.5),
]


@pytest.mark.parametrize(("zone", "day", "interval", "start", "end", "hours"), BOUNDS_TABLE)
def test_interval_bounds(zone, day, interval, start, end, hours):
    for tz in (zone, ZoneInfo(zone)):
        got = interval_bounds(d(day), iv(interval), tz)
        assert got == (utc(start), utc(end))
        assert all(b.utcoffset() == timedelta(0) for b in got)
        assert got[1] - got[0] == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("day", "offset"),
    [("2026-03-28", 1), ("2026-03-29", 2), ("2026-10-24", 2), ("2026-10-25", 1)],
)
def test_interval_bounds_show_the_right_offset(day, offset):
    start, end = interval_bounds(d(day), iv("08:00-16:00"), "Europe/Stockholm")
    for instant, wall in ((start, time(8)), (end, time(16))):
        shown = instant.astimezone(STOCKHOLM)
        assert (shown.time(), shown.utcoffset()) == (wall, timedelta(hours=offset))


# --- instants: is_open_at / current_interval / next_opening ------------------------------------------

OPEN_TABLE = [
    # office, at, kind, open
    (OFFICE, local("2026-03-03 07:59:59.999999"), None, False),
    (OFFICE, local("2026-03-03 08:00"), None, True),  # exactly opening
    (OFFICE, local("2026-03-03 11:59:59"), None, True),
    (OFFICE, local("2026-03-03 12:00"), None, False),  # exactly closing
    (OFFICE, local("2026-03-03 12:30"), None, False),  # lunch
    (OFFICE, local("2026-03-03 13:00"), None, True),
    (OFFICE, local("2026-03-03 16:00"), None, False),
    (OFFICE, local("2026-03-03 10:00"), APPT, False),
    (OFFICE, local("2026-03-05 17:00"), None, True),
    (OFFICE, local("2026-03-05 17:00"), APPT, True),
    (OFFICE, local("2026-03-05 17:00"), DROP, False),
    (OFFICE, local("2026-03-07 10:00"), None, False),  # Saturday
    (OFFICE, local("2026-06-19 10:00"), None, False),  # midsommarafton
    (OFFICE, local("2026-12-24 10:00"), None, True),  # julafton with special hours
    (OFFICE, local("2026-12-24 13:00"), None, False),
    (OFFICE, local("2026-03-03 09:00").astimezone(UTC), None, True),  # any zone for `at`
    (OFFICE, utc("2026-03-03 07:00"), None, True),  # 08:00 CET
    (OFFICE, utc("2026-07-06 07:00"), None, True),  # 09:00 CEST, summer Monday
    (ALL_WEEK, utc("2026-03-28 23:59:59"), None, False),  # 00:59:59 CET
    (ALL_WEEK, utc("2026-03-29 00:00"), None, True),  # 01:00 CET
    (ALL_WEEK, utc("2026-03-29 01:00"), None, True),  # 03:00 CEST, right after the gap
    (ALL_WEEK, utc("2026-03-29 01:59:59"), None, True),
    (ALL_WEEK, utc("2026-03-29 02:00"), None, False),  # 04:00 CEST
    (ALL_WEEK, utc("2026-03-29 06:00"), None, True),  # 08:00 CEST
    (ALL_WEEK, utc("2026-10-24 22:59:59"), None, False),  # 00:59:59 CEST
    (ALL_WEEK, utc("2026-10-24 23:00"), None, True),  # 01:00 CEST
    (ALL_WEEK, utc("2026-10-25 01:30"), None, True),  # second 02:30
    (ALL_WEEK, utc("2026-10-25 02:59:59"), None, True),  # 03:59:59 CET
    (ALL_WEEK, utc("2026-10-25 03:00"), None, False),  # 04:00 CET
]


@pytest.mark.parametrize(("office", "at", "kind", "expected"), OPEN_TABLE)
def test_is_open_at(office, at, kind, expected):
    assert is_open_at(office, at, kind) is expected
    assert (current_interval(office, at, kind) is not None) is expected


CURRENT_TABLE = [
    # office, at, kind, expected bounds
    (OFFICE, local("2026-03-03 08:00"), None, (local("2026-03-03 08:00"), local("2026-03-03 12:00"))),
    (OFFICE, local("2026-03-03 15:00"), None, (local("2026-03-03 13:00"), local("2026-03-03 16:00"))),
    (OFFICE, local("2026-03-05 16:30"), None, (local("2026-03-05 16:00"), local("2026-03-05 18:00"))),
    (OFFICE, local("2026-03-03 12:00"), None, None),
    (ALL_WEEK, utc("2026-03-29 01:30"), None, (utc("2026-03-29 00:00"), utc("2026-03-29 02:00"))),
    (ALL_WEEK, utc("2026-10-25 00:30"), None, (utc("2026-10-24 23:00"), utc("2026-10-25 03:00"))),
]


@pytest.mark.parametrize(("office", "at", "kind", "expected"), CURRENT_TABLE)
def test_current_interval(office, at, kind, expected):
    got = current_interval(office, at, kind)
    assert got == expected
    if got is not None:
        assert all(b.tzinfo is UTC for b in got)


def test_current_interval_with_overlaps_closes_last():
    office = OfficeHours(weekly=weekly((1,), "08:00-12:00", "10:00-14:00 appointment", "09:00-14:00"))
    at = local("2026-03-03 11:00")
    assert current_interval(office, at) == (local("2026-03-03 09:00"), local("2026-03-03 14:00"))
    assert current_interval(office, at, DROP) == (local("2026-03-03 09:00"), local("2026-03-03 14:00"))
    assert current_interval(office, at, APPT) == (local("2026-03-03 10:00"), local("2026-03-03 14:00"))
    assert is_open_at(office, local("2026-03-03 13:59"), DROP)


NEXT_TABLE = [
    # office, at, kind, horizon_days, expected
    (OFFICE, local("2026-03-03 07:00"), None, 60, local("2026-03-03 08:00")),
    (OFFICE, local("2026-03-03 08:00"), None, 60, local("2026-03-03 13:00")),  # open: the next one
    (OFFICE, local("2026-03-03 10:00"), None, 60, local("2026-03-03 13:00")),
    (OFFICE, local("2026-03-03 12:30"), None, 60, local("2026-03-03 13:00")),
    (OFFICE, local("2026-03-03 13:00"), None, 60, local("2026-03-04 08:00")),
    (OFFICE, local("2026-03-03 10:00"), APPT, 60, local("2026-03-05 16:00")),
    (OFFICE, local("2026-03-06 15:00"), None, 60, local("2026-03-09 08:00")),  # over the weekend
    (OFFICE, local("2026-03-09 17:00"), None, 60, local("2026-03-11 08:00")),  # over a closure
    (OFFICE, local("2026-06-18 17:00"), None, 60, local("2026-06-22 08:00")),  # over midsommar
    (OFFICE, local("2026-12-23 17:00"), None, 60, local("2026-12-24 09:00")),  # special hours
    (OFFICE, local("2026-12-24 10:00"), None, 60, local("2027-01-04 08:00")),  # jul to mellandagar
    (OFFICE, local("2026-03-06 17:00"), None, 3, local("2026-03-09 08:00")),
    (OFFICE, local("2026-03-06 17:00"), None, 2, None),  # beyond the horizon
    (OFFICE, local("2026-03-05 18:00"), APPT, 6, None),
    (OfficeHours(), local("2026-03-03 10:00"), None, 60, None),
    (ALL_WEEK, utc("2026-03-28 23:30"), None, 60, utc("2026-03-29 00:00")),  # 01:00 CET
    (ALL_WEEK, utc("2026-03-29 00:30"), None, 60, utc("2026-03-29 06:00")),  # 08:00 CEST
    (ALL_WEEK, utc("2026-10-24 22:00"), None, 60, utc("2026-10-24 23:00")),  # 01:00 CEST
    (ALL_WEEK, utc("2026-10-25 01:00"), None, 60, utc("2026-10-25 07:00")),  # 08:00 CET
]


@pytest.mark.parametrize(("office", "at", "kind", "horizon", "expected"), NEXT_TABLE)
def test_next_opening(office, at, kind, horizon, expected):
    got = next_opening(office, at, kind, horizon_days=horizon)
    assert got == expected
    if got is not None:
        assert got.tzinfo is UTC
        assert is_open_at(office, got, kind)


def test_opening_inside_the_gap_starts_right_after_it():
    office = OfficeHours(weekly=weekly((6,), "02:30-05:00"))
    opening = next_opening(office, local("2026-03-28 12:00"))
    assert opening == utc("2026-03-29 01:00")
    assert opening.astimezone(STOCKHOLM).time() == time(3)
    assert is_open_at(office, opening)
    assert not is_open_at(office, opening - timedelta(microseconds=1))
    # An interval wholly inside the gap does not happen at all that day.
    office = OfficeHours(weekly=weekly((6,), "02:10-02:50"))
    # (The next Sunday is Påskdagen.)
    assert next_opening(office, local("2026-03-28 12:00")) == local("2026-04-12 02:10")


# --- properties -------------------------------------------------------------------------------------

ZONES = ("Europe/Stockholm", "Europe/Stockholm", "America/New_York", "Australia/Lord_Howe")
FIRST, LAST = date(2020, 1, 1), date(2035, 10, 31)


def _offset(day: date, zone: ZoneInfo) -> timedelta:
    return datetime.combine(day, time(0), zone).utcoffset()


def _transition_days(zone: str) -> list[date]:
    tz = ZoneInfo(zone)
    days = (FIRST + timedelta(days=n) for n in range((LAST - FIRST).days))
    return [day for day in days if _offset(day, tz) != _offset(day + timedelta(days=1), tz)]


TRANSITION_DAYS = {zone: _transition_days(zone) for zone in set(ZONES)}
HOLIDAY_DAYS = sorted(swedish_holidays(FIRST, LAST))
SETTINGS = settings(max_examples=200, deadline=None, database=None)


def _slot(n: int) -> time:
    return time.max if n == 96 else time(n // 4, n % 4 * 15)


def _interval(opens: int, length: int, kind: HoursKind) -> Interval:
    return Interval(_slot(opens), _slot(opens + 1 + length % (96 - opens)), kind)


# Strategies are built once: building them inside every draw costs more than the code under test.
INTERVALS = st.builds(_interval, st.integers(0, 95), st.integers(0, 95), st.sampled_from(HoursKind))
ANCHORS = {
    zone: st.one_of(st.dates(FIRST, LAST), st.sampled_from(days), st.sampled_from(HOLIDAY_DAYS))
    for zone, days in TRANSITION_DAYS.items()
}
# weekday, interval, valid_from and valid_until as day offsets (from the anchor, from valid_from)
WEEKLY_RULES = st.lists(
    st.tuples(st.integers(0, 6), INTERVALS, st.none() | st.integers(-20, 20), st.none() | st.integers(0, 20)),
    max_size=8,
)
# first day (offset from the anchor), length in days, special hours
CLOSURES = st.lists(
    st.tuples(st.integers(-10, 20), st.integers(0, 7), st.lists(INTERVALS, max_size=3)), max_size=4
)
DAY = timedelta(days=1)
MICROSECOND = timedelta(microseconds=1)


@st.composite
def scenarios(draw) -> tuple[OfficeHours, date]:
    """An office and an anchor date: its rules, closures and the instants probed all lie near the anchor."""
    zone = draw(st.sampled_from(ZONES))
    anchor = draw(ANCHORS[zone])
    weekly_rules = []
    for weekday, interval, start, until in draw(WEEKLY_RULES):
        valid_from = None if start is None else anchor + start * DAY
        valid_until = None if until is None else (valid_from or anchor) + until * DAY
        weekly_rules.append(WeeklyInterval(weekday, interval, valid_from, valid_until))
    closures = [
        Closure(anchor + start * DAY, anchor + (start + length) * DAY, f"closure {n}", tuple(special))
        for n, (start, length, special) in enumerate(draw(CLOSURES))
    ]
    return OfficeHours(zone, tuple(weekly_rules), tuple(closures)), anchor


INSTANT_CHOICES = st.tuples(
    st.integers(-2 * 86_400_000_000, 10 * 86_400_000_000),
    st.booleans(),
    st.integers(0, 20),
    st.sampled_from([-1, 0, 1]),
    st.booleans(),
)


@st.composite
def instants(draw, office: OfficeHours, anchor: date) -> datetime:
    """Any instant near the anchor, or one on or right next to an interval boundary."""
    zone = ZoneInfo(office.timezone)
    offset, near_boundary, pick, nudge, shown_in_utc = draw(INSTANT_CHOICES)
    at = datetime.combine(anchor, time(0), zone).astimezone(UTC) + offset * MICROSECOND
    if near_boundary:
        day = at.astimezone(zone).date()
        bounds = [b for i in day_hours(office, day).intervals for b in interval_bounds(day, i, zone)]
        if bounds:
            at = bounds[pick % len(bounds)] + nudge * MICROSECOND
    return at.astimezone(UTC if shown_in_utc else zone)


def all_bounds(office: OfficeHours, first: date, last: date, kind: HoursKind | None):
    zone = ZoneInfo(office.timezone)
    return [
        interval_bounds(dh.day, i, zone)
        for dh in hours_for_range(office, first, last)
        for i in dh.intervals
        if kind is None or i.kind == kind
    ]


kinds = st.sampled_from([None, *HoursKind])


@SETTINGS
@given(scenario=scenarios(), start=st.integers(-20, 0), length=st.integers(0, 60))
def test_range_has_one_entry_per_date_and_holidays_close(scenario, start, length):
    office, anchor = scenario
    first = anchor + timedelta(days=start)
    days = hours_for_range(office, first, first + timedelta(days=length))
    assert [dh.day for dh in days] == [first + timedelta(days=n) for n in range(length + 1)]
    holidays = swedish_holidays(first, first + timedelta(days=length))
    for dh in days:
        assert day_hours(office, dh.day) == dh
        assert dh.holiday == holidays.get(dh.day)
        assert [i.opens for i in dh.intervals] == sorted(i.opens for i in dh.intervals)
        covering = [c for c in office.closures if c.first_day <= dh.day <= c.last_day]
        if covering:
            latest = max(c.first_day for c in covering)
            winners = [c for c in covering if c.first_day == latest]
            shortest = min(c.last_day for c in winners)
            assert any(c.last_day == shortest and c.reason == dh.note for c in winners)
            assert dh.status is (DayStatus.SPECIAL if dh.intervals else DayStatus.CLOSED)
        elif dh.day in holidays:
            assert (dh.status, dh.intervals, dh.note) == (DayStatus.HOLIDAY, (), holidays[dh.day])
            assert not dh.is_open
        else:
            assert dh.status is DayStatus.REGULAR and dh.note is None
            expected = {
                w.interval
                for w in office.weekly
                if w.weekday == dh.day.weekday()
                and (w.valid_from is None or w.valid_from <= dh.day)
                and (w.valid_until is None or dh.day <= w.valid_until)
            }
            assert set(dh.intervals) == expected


@SETTINGS
@given(data=st.data(), scenario=scenarios(), kind=kinds)
def test_is_open_at_agrees_with_the_day_intervals(data, scenario, kind):
    office, anchor = scenario
    at = data.draw(instants(office, anchor))
    zone = ZoneInfo(office.timezone)
    today = at.astimezone(zone).date()
    yesterday = today - timedelta(days=1)
    containing = [(s, e) for s, e in all_bounds(office, yesterday, today, kind) if s <= at < e]
    assert is_open_at(office, at, kind) == bool(containing)
    current = current_interval(office, at, kind)
    assert (current is None) == (not containing)
    if current is not None:
        assert current in containing
        assert current[1] == max(e for _, e in containing)
    # Independent of interval_bounds: on dates without a clock change the wall clock decides.
    if _offset(yesterday, zone) == _offset(today, zone) == _offset(today + timedelta(days=1), zone):
        wall = at.astimezone(zone).time()
        intervals = day_hours(office, today).intervals
        wall_open = any(i.opens <= wall < i.closes for i in intervals if kind is None or i.kind == kind)
        assert is_open_at(office, at, kind) == wall_open


@SETTINGS
@given(data=st.data(), scenario=scenarios(), kind=kinds, horizon=st.integers(0, 14))
def test_next_opening_is_the_first_start_after_at(data, scenario, kind, horizon):
    office, anchor = scenario
    at = data.draw(instants(office, anchor))
    today = at.astimezone(ZoneInfo(office.timezone)).date()
    got = next_opening(office, at, kind, horizon_days=horizon)
    starts = sorted(
        s
        for s, e in all_bounds(office, today - timedelta(days=1), today + timedelta(days=horizon), kind)
        if s < e
    )
    later = [s for s in starts if s > at]
    assert got == (later[0] if later else None)
    if got is not None:
        assert got > at and got.tzinfo is UTC
        assert is_open_at(office, got, kind)
        if not is_open_at(office, at, kind):
            assert not is_open_at(office, at + (got - at) / 2, kind)


@SETTINGS
@given(
    zone=st.sampled_from(ZONES).map(ZoneInfo),
    day=st.one_of(
        st.dates(FIRST, LAST), st.sampled_from(sorted({d for ds in TRANSITION_DAYS.values() for d in ds}))
    ),
    interval=INTERVALS,
)
def test_interval_bounds_are_real_instants(zone, day, interval):
    start, end = interval_bounds(day, interval, zone)
    assert start.tzinfo is UTC and end.tzinfo is UTC
    assert start <= end
    for instant, wall, fold in ((start, interval.opens, 0), (end, interval.closes, 1)):
        naive = datetime.combine(day, wall)
        shown = instant.astimezone(zone)
        if shown.replace(tzinfo=None) == naive:
            # An existing wall time: the first occurrence opens, the last one closes.
            candidates = [naive.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1)]
            assert instant == (min(candidates) if fold == 0 else max(candidates))
        else:
            # A skipped wall time: the first instant after the gap.
            assert shown.replace(tzinfo=None) > naive
            assert (instant - timedelta(microseconds=1)).astimezone(zone).utcoffset() != shown.utcoffset()
    if start == end:
        assert datetime.combine(day, interval.opens) != start.astimezone(zone).replace(tzinfo=None)


def test_day_hours_is_a_value():
    # DayHours compares by value, which the properties above rely on.
    assert DayHours(d("2026-03-03"), (), DayStatus.REGULAR) == DayHours(
        d("2026-03-03"), (), DayStatus.REGULAR
    )
