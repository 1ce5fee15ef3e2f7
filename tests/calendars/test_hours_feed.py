"""The opening-hours feed: expanded the way a calendar client expands it, it must give exactly the
hours the office page and the API give (``hours_for_range``), date by date, across DST, holidays,
closures and special hours; and it must be stable enough for clients to update rather than duplicate."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event

from kontor.calendars.booking import PRODID
from kontor.calendars.hours_feed import REFRESH, HoursFeedOffice, feed_window, hours_calendar
from kontor.hours.names import day_note
from kontor.hours.rules import (
    Closure,
    DayStatus,
    HoursKind,
    Interval,
    OfficeHours,
    WeeklyInterval,
    hours_for_range,
    interval_bounds,
)
from kontor.i18n import current_locale

ZONE = "Europe/Stockholm"
STOCKHOLM = ZoneInfo(ZONE)
OFFICE = HoursFeedOffice(
    slug="kista",
    name="Medborgarkontor Kista",
    timezone=ZONE,
    address="Kistagången 1, 164 40 Kista",
    url="https://kontor.example/offices/kista",
)
DROP_IN, APPOINTMENT = HoursKind.DROP_IN, HoursKind.APPOINTMENT
# The English wording is what the tests read the kind back from.
KIND_OF_SUMMARY = {"Open – drop-in": DROP_IN, "Open – by appointment only": APPOINTMENT}
WINDOW_2026 = feed_window(date(2026, 3, 10))  # 2026-02-01 .. 2027-04-30
WINDOW_2027 = feed_window(date(2027, 9, 20))  # 2027-08-01 .. 2028-10-31
DAY = timedelta(days=1)


def _t(text: str) -> time:
    return time.fromisoformat(text)


def _weekly(
    weekdays: range | tuple[int, ...],
    opens: str,
    closes: str,
    kind: HoursKind = DROP_IN,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> tuple[WeeklyInterval, ...]:
    interval = Interval(_t(opens), _t(closes), kind)
    return tuple(WeeklyInterval(day, interval, valid_from, valid_until) for day in weekdays)


def _special(first: date, last: date, reason: str, *intervals: tuple[str, str, HoursKind]) -> Closure:
    return Closure(first, last, reason, tuple(Interval(_t(o), _t(c), k) for o, c, k in intervals))


MON_FRI = range(5)
OFFICES: dict[str, OfficeHours] = {
    "plain weekdays": OfficeHours(ZONE, _weekly(MON_FRI, "09:00", "16:00")),
    "split days, both kinds": OfficeHours(
        ZONE,
        _weekly(range(4), "09:00", "12:00")
        + _weekly(range(4), "13:00", "16:00", APPOINTMENT)
        # Friday: drop-in and appointments at the same time.
        + _weekly((4,), "09:00", "12:00")
        + _weekly((4,), "09:00", "12:00", APPOINTMENT),
    ),
    "summer hours": OfficeHours(
        ZONE,
        _weekly(MON_FRI, "08:00", "17:00", valid_until=date(2026, 6, 14))
        + _weekly(MON_FRI, "09:00", "15:00", valid_from=date(2026, 6, 15), valid_until=date(2026, 8, 16))
        + _weekly(MON_FRI, "08:00", "17:00", valid_from=date(2026, 8, 17), valid_until=date(2027, 6, 13))
        + _weekly(MON_FRI, "09:00", "15:00", valid_from=date(2027, 6, 14), valid_until=date(2027, 8, 15))
        + _weekly(MON_FRI, "08:00", "17:00", valid_from=date(2027, 8, 16)),
    ),
    # The same hours entered twice, the second time from September: each day shows them once.
    "entered twice": OfficeHours(
        ZONE,
        _weekly(MON_FRI, "09:00", "16:00")
        + _weekly(MON_FRI, "09:00", "16:00", valid_from=date(2026, 9, 1))
        + _weekly((2,), "09:00", "16:00", valid_until=date(2026, 9, 30)),
    ),
    "manager's closure": OfficeHours(
        ZONE,
        _weekly(MON_FRI, "09:00", "16:00"),
        (
            Closure(date(2026, 5, 4), date(2026, 5, 15), "Renovering"),
            Closure(date(2026, 9, 10), date(2026, 9, 10), ""),  # no reason given
            Closure(date(2027, 11, 29), date(2027, 12, 3), "Flytt till nya lokaler"),
        ),
    ),
    "special hours": OfficeHours(
        ZONE,
        _weekly(MON_FRI, "10:00", "15:00"),
        (
            _special(date(2026, 12, 24), date(2026, 12, 24), "", ("10:00", "12:00", DROP_IN)),
            _special(date(2026, 6, 6), date(2026, 6, 6), "Nationaldagsfirande", ("11:00", "14:00", DROP_IN)),
            _special(
                date(2026, 9, 13),
                date(2026, 9, 14),
                "Valdagen",
                ("08:00", "12:00", DROP_IN),
                ("08:00", "20:00", DROP_IN),  # opens at the same time as the other one
                ("12:00", "20:00", APPOINTMENT),
            ),
            _special(date(2027, 12, 24), date(2027, 12, 24), "Julafton", ("09:00", "11:00", APPOINTMENT)),
        ),
    ),
    "late evening and weekend": OfficeHours(
        ZONE,
        _weekly((0,), "09:00", "16:00")
        + _weekly((3,), "12:00", "20:30")
        + _weekly((5,), "10:00", "14:00", APPOINTMENT)
        + _weekly((6,), "11:00", "15:00"),
        # Easter Sunday 2027 is also the day the clocks go forward.
        (_special(date(2027, 3, 28), date(2027, 3, 28), "Påsköppet", ("11:00", "15:00", DROP_IN)),),
    ),
}


def _expand(body: bytes, first: date, last: date) -> list[Event]:
    calendar = Calendar.from_ical(body)
    return list(recurring_ical_events.of(calendar).between(first - DAY, last + 2 * DAY))


def _timed(events: list[Event]) -> list[tuple[datetime, datetime, HoursKind]]:
    return [
        (e.decoded("DTSTART"), e.decoded("DTEND"), KIND_OF_SUMMARY[str(e["SUMMARY"])])
        for e in events
        if isinstance(e.decoded("DTSTART"), datetime)
    ]


def _closed_notes(events: list[Event]) -> dict[date, list[str]]:
    notes: dict[date, list[str]] = {}
    for e in events:
        start = e.decoded("DTSTART")
        if not isinstance(start, datetime):
            assert e.decoded("DTEND") == start + DAY
            assert e["TRANSP"] == "TRANSPARENT"
            notes.setdefault(start, []).append(str(e["SUMMARY"]))
    return notes


def _assert_expansion_is_the_hours(hours: OfficeHours, first: date, last: date) -> list[Event]:
    """The client's view of the feed, date by date, is hours_for_range: wall times and instants,
    each interval once; a "Closed" note exactly on the closed days that have weekly hours."""
    days = hours_for_range(hours, first, last)
    events = _expand(hours_calendar(OFFICE, hours, first, last, locale="en"), first, last)
    timed = _timed(events)
    expected_wall = Counter((d.day, i.opens, i.closes, i.kind) for d in days for i in d.intervals)
    wall = Counter(
        (s.astimezone(STOCKHOLM).date(), s.astimezone(STOCKHOLM).time(), e.astimezone(STOCKHOLM).time(), k)
        for s, e, k in timed
    )
    assert wall == expected_wall
    expected_instants = Counter(interval_bounds(d.day, i, ZONE) for d in days for i in d.intervals)
    assert Counter((s.astimezone(UTC), e.astimezone(UTC)) for s, e, _k in timed) == expected_instants

    reset = current_locale.set("en")
    try:
        expected_notes = {
            d.day: ["Closed: " + note if (note := day_note(d.note, d.holiday)) else "Closed"]
            for d in days
            if d.status in (DayStatus.HOLIDAY, DayStatus.CLOSED)
            and any(w.applies_to(d.day) for w in hours.weekly)
        }
    finally:
        current_locale.reset(reset)
    assert _closed_notes(events) == expected_notes
    return events


@pytest.mark.parametrize("window", [WINDOW_2026, WINDOW_2027], ids=["2026", "2027"])
@pytest.mark.parametrize("name", OFFICES)
def test_the_expanded_feed_is_the_office_hours(name: str, window: tuple[date, date]) -> None:
    _assert_expansion_is_the_hours(OFFICES[name], *window)


def _on(events: list[Event], day: date) -> tuple[list[tuple[time, time, HoursKind, timedelta]], list[str]]:
    timed = sorted(
        (
            s.astimezone(STOCKHOLM).time(),
            e.astimezone(STOCKHOLM).time(),
            k,
            s.astimezone(STOCKHOLM).utcoffset(),
        )
        for s, e, k in _timed(events)
        if s.astimezone(STOCKHOLM).date() == day
    )
    return timed, _closed_notes(events).get(day, [])


WINTER, SUMMER = timedelta(hours=1), timedelta(hours=2)
LATE = "late evening and weekend"


@pytest.mark.parametrize(
    ("office", "window", "day", "timed", "notes"),
    [
        # DST: the Sunday hours keep their wall time on both change days of 2026 and 2027.
        (LATE, WINDOW_2026, date(2026, 3, 28), [("10:00", "14:00", APPOINTMENT, WINTER)], []),
        (LATE, WINDOW_2026, date(2026, 3, 29), [("11:00", "15:00", DROP_IN, SUMMER)], []),
        (LATE, WINDOW_2026, date(2026, 3, 30), [("09:00", "16:00", DROP_IN, SUMMER)], []),
        (LATE, WINDOW_2026, date(2026, 10, 25), [("11:00", "15:00", DROP_IN, WINTER)], []),
        (LATE, WINDOW_2026, date(2026, 10, 26), [("09:00", "16:00", DROP_IN, WINTER)], []),
        (LATE, WINDOW_2026, date(2027, 3, 27), [("10:00", "14:00", APPOINTMENT, WINTER)], []),
        (LATE, WINDOW_2026, date(2027, 3, 28), [("11:00", "15:00", DROP_IN, SUMMER)], []),  # special
        (LATE, WINDOW_2026, date(2027, 3, 29), [], ["Closed: Easter Monday"]),
        (LATE, WINDOW_2026, date(2027, 4, 1), [("12:00", "20:30", DROP_IN, SUMMER)], []),
        (LATE, WINDOW_2027, date(2027, 10, 31), [("11:00", "15:00", DROP_IN, WINTER)], []),
        (LATE, WINDOW_2027, date(2028, 3, 26), [("11:00", "15:00", DROP_IN, SUMMER)], []),
        (LATE, WINDOW_2026, date(2026, 10, 29), [("12:00", "20:30", DROP_IN, WINTER)], []),
        # Holidays close the office; a note says why, where the office would have been open.
        ("plain weekdays", WINDOW_2026, date(2026, 6, 19), [], ["Closed: Midsummer Eve"]),
        ("plain weekdays", WINDOW_2026, date(2026, 6, 20), [], []),  # Midsummer Day, a Saturday
        ("plain weekdays", WINDOW_2026, date(2026, 12, 24), [], ["Closed: Christmas Eve"]),
        ("plain weekdays", WINDOW_2026, date(2026, 12, 25), [], ["Closed: Christmas Day"]),
        ("plain weekdays", WINDOW_2026, date(2026, 12, 23), [("09:00", "16:00", DROP_IN, WINTER)], []),
        (LATE, WINDOW_2026, date(2026, 12, 24), [], ["Closed: Christmas Eve"]),  # a Thursday
        (LATE, WINDOW_2026, date(2026, 12, 25), [], []),  # a Friday: no hours anyway
        # Special hours: on a holiday (Christmas Eve, National Day) and on normal days.
        ("special hours", WINDOW_2026, date(2026, 12, 24), [("10:00", "12:00", DROP_IN, WINTER)], []),
        ("special hours", WINDOW_2026, date(2026, 12, 25), [], ["Closed: Christmas Day"]),
        ("special hours", WINDOW_2026, date(2026, 6, 6), [("11:00", "14:00", DROP_IN, SUMMER)], []),
        (
            "special hours",
            WINDOW_2026,
            date(2026, 9, 14),
            [
                ("08:00", "12:00", DROP_IN, SUMMER),
                ("08:00", "20:00", DROP_IN, SUMMER),
                ("12:00", "20:00", APPOINTMENT, SUMMER),
            ],
            [],
        ),
        ("special hours", WINDOW_2027, date(2027, 12, 24), [("09:00", "11:00", APPOINTMENT, WINTER)], []),
        # A manager's closure: the weekdays say why, the weekend in between says nothing.
        ("manager's closure", WINDOW_2026, date(2026, 5, 4), [], ["Closed: Renovering"]),
        ("manager's closure", WINDOW_2026, date(2026, 5, 9), [], []),
        ("manager's closure", WINDOW_2026, date(2026, 5, 14), [], ["Closed: Renovering"]),
        ("manager's closure", WINDOW_2026, date(2026, 5, 18), [("09:00", "16:00", DROP_IN, SUMMER)], []),
        ("manager's closure", WINDOW_2026, date(2026, 9, 10), [], ["Closed"]),
        # Summer hours take over mid-year and hand back.
        ("summer hours", WINDOW_2026, date(2026, 6, 12), [("08:00", "17:00", DROP_IN, SUMMER)], []),
        ("summer hours", WINDOW_2026, date(2026, 6, 15), [("09:00", "15:00", DROP_IN, SUMMER)], []),
        ("summer hours", WINDOW_2026, date(2026, 8, 17), [("08:00", "17:00", DROP_IN, SUMMER)], []),
        (
            "split days, both kinds",
            WINDOW_2026,
            date(2026, 3, 13),
            [("09:00", "12:00", DROP_IN, WINTER), ("09:00", "12:00", APPOINTMENT, WINTER)],
            [],
        ),
    ],
)
def test_days_that_matter(
    office: str,
    window: tuple[date, date],
    day: date,
    timed: list[tuple[str, str, HoursKind, timedelta]],
    notes: list[str],
) -> None:
    events = _expand(hours_calendar(OFFICE, OFFICES[office], *window, locale="en"), *window)
    expected = sorted((_t(o), _t(c), k, offset) for o, c, k, offset in timed)
    assert _on(events, day) == (expected, notes)


# --- random offices ----------------------------------------------------------------------------------

# A few times only, so that equal intervals on one weekday (and clashing UIDs) come up often.
TIMES = st.sampled_from([_t("08:00"), _t("09:00"), _t("09:30"), _t("12:00"), _t("13:00"), _t("18:15")])
LENGTHS = st.sampled_from([timedelta(minutes=30), timedelta(hours=3), timedelta(hours=4)])
INTERVALS = st.builds(
    lambda opens, length, kind: Interval(opens, (datetime.combine(date.min, opens) + length).time(), kind),
    TIMES,
    LENGTHS,
    st.sampled_from(HoursKind),
)
TODAYS = st.dates(date(2025, 1, 1), date(2028, 12, 31))
# weekday, interval, valid_from and valid_until as day offsets from the window's first day
WEEKLY = st.lists(
    st.tuples(
        st.integers(0, 6), INTERVALS, st.none() | st.integers(-40, 300), st.none() | st.integers(0, 200)
    ),
    min_size=1,
    max_size=10,
)
# first day (offset from the window's first day), length in days, reason, special hours
CLOSURES = st.lists(
    st.tuples(
        st.integers(-5, 460),
        st.integers(0, 10),
        st.sampled_from(["", "Utbildningsdag", "Midsommarafton"]),
        st.just([]) | st.lists(INTERVALS, min_size=1, max_size=3),
    ),
    min_size=1,
    max_size=6,
)


@st.composite
def offices(draw: st.DrawFn) -> tuple[OfficeHours, date]:
    today = draw(TODAYS)
    first, _last = feed_window(today)
    weekly = []
    for weekday, interval, start, length in draw(WEEKLY):
        valid_from = None if start is None else first + start * DAY
        valid_until = None if length is None else (valid_from or first) + length * DAY
        weekly.append(WeeklyInterval(weekday, interval, valid_from, valid_until))
    closures = tuple(
        Closure(first + start * DAY, first + (start + length) * DAY, reason, tuple(special))
        for start, length, reason, special in draw(CLOSURES)
    )
    return OfficeHours(ZONE, tuple(weekly), closures), today


@settings(max_examples=40, deadline=None, database=None)
@given(offices())
def test_random_offices_expand_to_their_hours(office: tuple[OfficeHours, date]) -> None:
    hours, today = office
    first, last = feed_window(today)
    _assert_expansion_is_the_hours(hours, first, last)
    vevents = Calendar.from_ical(hours_calendar(OFFICE, hours, first, last, locale="sv")).walk("VEVENT")
    uids = [str(e["UID"]) for e in vevents]
    assert len(set(uids)) == len(uids)


# --- the file itself ---------------------------------------------------------------------------------


def _vevents(body: bytes) -> list[Event]:
    return Calendar.from_ical(body).walk("VEVENT")


def test_exdates_and_until_are_what_clients_expect() -> None:
    body = hours_calendar(OFFICE, OFFICES["special hours"], *WINDOW_2026, locale="en")
    recurring = [e for e in _vevents(body) if "RRULE" in e]
    assert len(recurring) == 5
    excluded = 0
    for vevent in recurring:
        start = vevent["DTSTART"]
        assert start.params["TZID"] == ZONE
        assert isinstance(start.dt, datetime)
        (until,) = vevent["RRULE"]["UNTIL"]
        assert until.utcoffset() == timedelta(0)
        exdates = vevent.get("EXDATE")
        for exdate in exdates if isinstance(exdates, list) else [exdates] if exdates else []:
            assert exdate.params["TZID"] == ZONE
            assert "VALUE" not in exdate.params or exdate.params["VALUE"] == "DATE-TIME"
            for excluded_day in exdate.dts:
                assert isinstance(excluded_day.dt, datetime)
                assert excluded_day.dt.time() == start.dt.time()  # the occurrence's own start
                excluded += 1
    assert excluded > 10  # holidays, Christmas Eve and election day
    text = body.decode().replace("\r\n ", "")
    rrules = [line for line in text.splitlines() if line.startswith("RRULE:")]
    assert rrules and all(line.startswith("RRULE:FREQ=WEEKLY;") for line in rrules)
    assert all(part.endswith("Z") for line in rrules for part in line.split(";") if part.startswith("UNTIL="))
    assert all(
        line.startswith(f"EXDATE;TZID={ZONE}:") for line in text.splitlines() if line.startswith("EXDATE")
    )


def test_the_calendar_properties_and_its_timezone() -> None:
    first, last = WINDOW_2026
    body = hours_calendar(OFFICE, OFFICES["split days, both kinds"], first, last, locale="en")
    text = body.decode()
    for line in (
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Medborgarkontor Kista – opening hours",
        "NAME:Medborgarkontor Kista – opening hours",
        f"X-WR-TIMEZONE:{ZONE}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT6H",
        "X-PUBLISHED-TTL:PT6H",
    ):
        assert f"\r\n{line}\r\n" in text
    assert timedelta(hours=6) == REFRESH
    assert text.count("BEGIN:VTIMEZONE") == 1
    assert text.index("END:VTIMEZONE") < text.index("BEGIN:VEVENT")
    calendar = Calendar.from_ical(body)
    (vtimezone,) = calendar.walk("VTIMEZONE")
    zone = vtimezone.to_tz()
    for day in (first, date(2026, 3, 29), date(2026, 3, 30), date(2026, 10, 26), date(2027, 3, 29), last):
        noon = datetime.combine(day, time(12))
        assert noon.replace(tzinfo=zone).utcoffset() == noon.replace(tzinfo=STOCKHOLM).utcoffset()
    for vevent in calendar.walk("VEVENT"):
        assert vevent.decoded("DTSTAMP") == datetime(2026, 2, 1, tzinfo=UTC)
        assert str(vevent["LOCATION"]) == "Medborgarkontor Kista, Kistagången 1, 164 40 Kista"
        assert str(vevent["URL"]) == OFFICE.url
        assert OFFICE.url in str(vevent["DESCRIPTION"])
        assert str(vevent["UID"]).startswith("hours-kista-") and str(vevent["UID"]).endswith("@kontor")


def test_the_same_hours_give_the_same_bytes() -> None:
    hours = OFFICES["special hours"]
    body = hours_calendar(OFFICE, hours, *WINDOW_2026, locale="sv")
    shuffled = OfficeHours(ZONE, tuple(reversed(hours.weekly)), hours.closures)
    assert hours_calendar(OFFICE, shuffled, *WINDOW_2026, locale="sv") == body
    moved = hours_calendar(OFFICE, hours, *feed_window(date(2026, 4, 2)), locale="sv")
    assert moved != body  # the window moved on


def test_uids_do_not_depend_on_the_window() -> None:
    hours = OFFICES["summer hours"]

    def events(today: date) -> dict[str, date]:
        body = hours_calendar(OFFICE, hours, *feed_window(today), locale="en")
        return {str(e["UID"]): e.decoded("DTSTART") for e in _vevents(body)}

    march, july = events(date(2026, 3, 10)), events(date(2026, 7, 20))
    # The weekly hours until mid-June start in February in one feed and in June in the other,
    # under the same UID; every event of March's feed that July's still covers keeps its UID.
    until_june = "hours-kista-MO-0800-1700-drop-in@kontor"
    assert march[until_june] == datetime(2026, 2, 2, 8, tzinfo=STOCKHOLM)
    assert july[until_june] == datetime(2026, 6, 1, 8, tzinfo=STOCKHOLM)
    summer = "hours-kista-MO-0900-1500-drop-in-from-20260615@kontor"
    assert march[summer] == july[summer] == datetime(2026, 6, 15, 9, tzinfo=STOCKHOLM)
    weekly_in_march = [uid for uid in march if not uid.endswith("-closed@kontor")]
    assert len(weekly_in_march) == 15
    assert set(weekly_in_march) <= july.keys()
    closed_since_june = [
        uid for uid, start in march.items() if uid.endswith("-closed@kontor") and start >= date(2026, 6, 1)
    ]
    assert "hours-kista-20261225-closed@kontor" in closed_since_june
    assert set(closed_since_june) <= july.keys()


def test_weekly_hours_without_a_date_in_the_window_are_left_out() -> None:
    first, last = WINDOW_2026
    hours = OfficeHours(
        ZONE,
        _weekly((0,), "09:00", "12:00", valid_until=first - DAY)  # over before the window
        + _weekly((1,), "09:00", "12:00", valid_from=last + DAY)  # starts after it
        + _weekly((4,), "09:00", "12:00", valid_from=date(2026, 12, 25), valid_until=date(2026, 12, 25))
        + _weekly((2,), "09:00", "12:00", valid_from=date(2026, 3, 1), valid_until=date(2026, 3, 31)),
    )
    vevents = _vevents(hours_calendar(OFFICE, hours, first, last, locale="en"))
    recurring = [e for e in vevents if "RRULE" in e]
    assert [e.decoded("DTSTART") for e in recurring] == [datetime(2026, 3, 4, 9, tzinfo=STOCKHOLM)]
    assert recurring[0]["RRULE"]["UNTIL"] == [datetime(2026, 3, 25, 8, tzinfo=UTC)]
    # Christmas Day had weekly hours (only by that entry): the note says why it is closed.
    assert [str(e["SUMMARY"]) for e in vevents if "RRULE" not in e] == ["Closed: Christmas Day"]


def test_an_office_without_hours_is_an_empty_calendar() -> None:
    body = hours_calendar(OFFICE, OfficeHours(ZONE), *WINDOW_2026, locale="en")
    calendar = Calendar.from_ical(body)
    assert calendar.walk("VEVENT") == []
    assert len(calendar.walk("VTIMEZONE")) == 1


@pytest.mark.parametrize(
    ("locale", "christmas", "also"),
    [
        ("sv", "Juldagen", "Renovering"),
        ("en", "Christmas Day", "Renovering"),
        ("fi", "Joulupäivä", "Renovering"),
    ],
)
def test_the_text_is_in_the_locale(locale: str, christmas: str, also: str) -> None:
    hours = OfficeHours(ZONE, OFFICES["plain weekdays"].weekly, OFFICES["manager's closure"].closures)
    before = current_locale.get()
    body = hours_calendar(OFFICE, hours, *WINDOW_2026, locale=locale)
    assert current_locale.get() == before
    summaries = {e.decoded("DTSTART"): str(e["SUMMARY"]) for e in _vevents(body)}
    assert christmas in summaries[date(2026, 12, 25)]
    assert also in summaries[date(2026, 5, 4)]  # a closure's reason is shown as the office wrote it


def test_the_languages_differ() -> None:
    summaries = {
        locale: sorted(
            str(e["SUMMARY"])
            for e in _vevents(hours_calendar(OFFICE, OFFICES["plain weekdays"], *WINDOW_2026, locale=locale))
        )
        for locale in ("sv", "en", "fi")
    }
    assert summaries["sv"] != summaries["en"] != summaries["fi"] != summaries["sv"]
    assert "Open – drop-in" in summaries["en"]


# --- the window --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "first", "last"),
    [
        (date(2026, 3, 10), date(2026, 2, 1), date(2027, 4, 30)),
        (date(2026, 3, 1), date(2026, 2, 1), date(2027, 4, 30)),
        (date(2026, 3, 31), date(2026, 2, 1), date(2027, 4, 30)),
        (date(2026, 1, 15), date(2025, 12, 1), date(2027, 2, 28)),
        (date(2027, 1, 15), date(2026, 12, 1), date(2028, 2, 29)),  # leap year
        (date(2028, 2, 29), date(2028, 1, 1), date(2029, 3, 31)),
        (date(2026, 11, 30), date(2026, 10, 1), date(2027, 12, 31)),
        (date(2026, 12, 1), date(2026, 11, 1), date(2028, 1, 31)),
        (date(2026, 12, 31), date(2026, 11, 1), date(2028, 1, 31)),
    ],
)
def test_feed_window(today: date, first: date, last: date) -> None:
    assert feed_window(today) == (first, last)
    assert last - today >= timedelta(days=365)
