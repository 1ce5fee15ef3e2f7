"""The staff feed's calendar file: valid iCalendar (icalendar parses it back), wall times across DST,
escaping and folding, what is shown of a resident, labels in each language, the same bytes for the
same visits, and a busy office's year built fast."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from kontor.booking.references import ALPHABET
from kontor.calendars.bookings_feed import REFRESH, FeedContent, FeedVisit, bookings_calendar
from kontor.i18n import current_locale

STOCKHOLM = ZoneInfo("Europe/Stockholm")
STAMP = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _visit(start: datetime = datetime(2026, 12, 15, 8, 0, tzinfo=UTC), **overrides: object) -> FeedVisit:
    values: dict[str, object] = {
        "reference": "ACDE4779",
        "sequence": 0,
        "start": start,
        "end": start + timedelta(minutes=20),
        "timezone": "Europe/Stockholm",
        "service": "Hjälp med e-tjänster",
        "office": "Medborgarkontor Kista",
        "location": "Medborgarkontor Kista, Kistagången 1, 164 40 Kista",
        "needs": (),
        "language": "sv",
        "name": "Anna Andersson",
        "channel": "web",
        "status": "booked",
        "stamp": STAMP,
    }
    return FeedVisit(**(values | overrides))  # type: ignore[arg-type]


def _content(*visits: FeedVisit, **overrides: object) -> FeedContent:
    values: dict[str, object] = {
        "title": "Medborgarkontor Kista",
        "timezone": "Europe/Stockholm",
        "visits": list(visits),
        "desk_url": "https://kontor.example/desk/kista",
    }
    return FeedContent(**(values | overrides))  # type: ignore[arg-type]


def _events(data: bytes) -> list:  # type: ignore[type-arg]
    return Calendar.from_ical(data).walk("VEVENT")


def _only(data: bytes):  # type: ignore[no-untyped-def]
    (event,) = _events(data)
    return event


def _reference(n: int) -> str:
    """The n-th of distinct, well-formed references."""
    digits = []
    for _ in range(8):
        n, digit = divmod(n, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(digits)


# -- the calendar ---------------------------------------------------------------------------------


def test_the_calendar_says_how_to_subscribe_to_it() -> None:
    data = bookings_calendar(_content(_visit()), locale="en")
    calendar = Calendar.from_ical(data)
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["VERSION"] == "2.0"
    assert calendar["X-WR-CALNAME"] == "Medborgarkontor Kista"
    assert calendar["NAME"] == "Medborgarkontor Kista"
    assert calendar["X-WR-TIMEZONE"] == "Europe/Stockholm"
    assert timedelta(minutes=15) == REFRESH
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT15M\r\n" in data
    assert b"\r\nX-PUBLISHED-TTL:PT15M\r\n" in data
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    # Every line ends in CRLF: no bare line feed anywhere.
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_a_visit_as_an_event() -> None:
    visit = _visit(sequence=3, needs=("interpreter", "accessibility"), channel="phone", status="checked_in")
    event = _only(bookings_calendar(_content(visit), locale="en"))
    assert event["UID"] == "ACDE4779@kontor"  # the UID of the resident's own .ics
    assert event["SEQUENCE"] == 3
    assert event["STATUS"] == "CONFIRMED"
    assert event["SUMMARY"] == "ACDE-4779 · Hjälp med e-tjänster · Anna Andersson"
    assert event["LOCATION"] == "Medborgarkontor Kista, Kistagången 1, 164 40 Kista"
    assert event["URL"] == "https://kontor.example/desk/kista"
    assert event.decoded("DTSTAMP") == STAMP
    assert event.decoded("LAST-MODIFIED") == STAMP
    assert event.decoded("DTSTART") == visit.start
    assert event.decoded("DTEND") == visit.end
    assert event["DESCRIPTION"].splitlines() == [
        "Booking reference: ACDE-4779",
        "Service: Hjälp med e-tjänster",
        "Needs: Interpreter, Accessibility",
        "Language: Svenska",
        "Booked by: Phone",
        "Status: Checked in",
    ]
    assert [str(c) for c in event["CATEGORIES"].cats] == ["Interpreter", "Accessibility"]


def test_without_a_desk_address_or_needs_those_lines_are_left_out() -> None:
    event = _only(bookings_calendar(_content(_visit(), desk_url=None), locale="en"))
    assert "URL" not in event
    assert "CATEGORIES" not in event
    assert not any(line.startswith("Needs") for line in event["DESCRIPTION"].splitlines())


def test_an_empty_feed_is_a_valid_calendar() -> None:
    data = bookings_calendar(_content(), locale="sv")
    calendar = Calendar.from_ical(data)
    assert calendar.walk("VEVENT") == [] and calendar.walk("VTIMEZONE") == []


# -- times -----------------------------------------------------------------------------------------

# Visits given in UTC, as stored, each with its wall time in Stockholm, across both changes of 2026.
DST_CASES = [
    # 2026-03-29: clocks go forward at 02:00 (CET → CEST).
    (datetime(2026, 3, 28, 9, 0, tzinfo=UTC), "20260328T100000"),
    (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "20260329T013000"),  # before the change
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "20260329T033000"),  # after it: 02:30 never was
    (datetime(2026, 3, 29, 8, 0, tzinfo=UTC), "20260329T100000"),
    (datetime(2026, 3, 30, 7, 0, tzinfo=UTC), "20260330T090000"),
    # 2026-10-25: clocks go back at 03:00 (CEST → CET).
    (datetime(2026, 10, 24, 8, 0, tzinfo=UTC), "20261024T100000"),
    (datetime(2026, 10, 25, 9, 0, tzinfo=UTC), "20261025T100000"),
    (datetime(2026, 10, 26, 12, 40, tzinfo=UTC), "20261026T134000"),
]


def test_visits_keep_their_wall_time_across_both_dst_changes() -> None:
    visits = [
        _visit(start, reference=_reference(n), end=start + timedelta(minutes=45))
        for n, (start, _wall) in enumerate(DST_CASES)
    ]
    data = bookings_calendar(_content(*visits), locale="sv")
    calendar = Calendar.from_ical(data)
    (zone,) = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "Europe/Stockholm"
    events = calendar.walk("VEVENT")
    assert len(events) == len(DST_CASES)
    for event, (start, wall) in zip(events, DST_CASES, strict=True):
        assert f"DTSTART;TZID=Europe/Stockholm:{wall}".encode() in data
        assert event.decoded("DTSTART") == start  # the same instant
        assert event.decoded("DTEND").astimezone(UTC) - start == timedelta(minutes=45)
        # The VTIMEZONE's own rules, for clients that do not know the zone's name, agree.
        local = start.astimezone(STOCKHOLM)
        assert local.replace(tzinfo=None).replace(tzinfo=zone.to_tz()).utcoffset() == local.utcoffset()


def test_each_zone_used_has_its_vtimezone_before_the_first_event() -> None:
    helsinki = _visit(
        reference="CDEF7779", timezone="Europe/Helsinki", start=datetime(2026, 6, 1, 7, tzinfo=UTC)
    )
    data = bookings_calendar(_content(_visit(), helsinki), locale="en")
    calendar = Calendar.from_ical(data)
    assert sorted(str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")) == [
        "Europe/Helsinki",
        "Europe/Stockholm",
    ]
    assert data.rindex(b"END:VTIMEZONE") < data.index(b"BEGIN:VEVENT")
    assert b"DTSTART;TZID=Europe/Helsinki:20260601T100000" in data


# -- text ------------------------------------------------------------------------------------------


def test_names_are_escaped_and_kept_on_one_line() -> None:
    event_data = bookings_calendar(_content(_visit(name="Åsa Öberg, Jr; \n")), locale="en")
    assert "SUMMARY:ACDE-4779 · Hjälp med e-tjänster · Åsa Öberg\\, Jr\\;\r\n".encode() in event_data
    assert _only(event_data)["SUMMARY"] == "ACDE-4779 · Hjälp med e-tjänster · Åsa Öberg, Jr;"


def test_a_name_cannot_add_properties_or_events() -> None:
    name = "Eve\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nATTENDEE:mailto:eve@example.org\x00\x1b"
    data = bookings_calendar(_content(_visit(name=name)), locale="en")
    event = _only(data)
    assert "ATTENDEE" not in event
    assert event["SUMMARY"].endswith("· Eve END:VEVENT BEGIN:VEVENT ATTENDEE:mailto:eve@example.org")
    assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", data)


def test_line_breaks_commas_and_semicolons_in_other_text_are_escaped() -> None:
    visit = _visit(location="Kista; plan 2,\ningång B", service="Råd, stöd; hjälp")
    data = bookings_calendar(_content(visit, title="Kista, desk; A\nB"), locale="en")
    assert b"LOCATION:Kista\\; plan 2\\,\\ning\xc3\xa5ng B\r\n" in data
    calendar = Calendar.from_ical(data)
    # Both are TEXT to calendar clients; icalendar reads them back as they stand.
    assert b"\r\nNAME:Kista\\, desk\\; A\\nB\r\n" in data
    assert b"\r\nX-WR-CALNAME:Kista\\, desk\\; A\\nB\r\n" in data
    event = calendar.walk("VEVENT")[0]
    assert event["LOCATION"] == "Kista; plan 2,\ningång B"
    assert event["SUMMARY"].startswith("ACDE-4779 · Råd, stöd; hjälp")
    assert "Service: Råd, stöd; hjälp" in event["DESCRIPTION"].splitlines()


def _physical_lines(data: bytes) -> list[bytes]:
    return data.split(b"\r\n")[:-1]


def test_long_lines_are_folded_at_75_octets() -> None:
    name = "Östen " * 40  # two octets for Ö: a fold must not cut it in half
    location = "Medborgarkontor Kista, " + ",;" * 60  # escapes: a fold must not part \ from what it escapes
    data = bookings_calendar(_content(_visit(name=name.strip(), location=location)), locale="sv")
    lines = _physical_lines(data)
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)
    for line in lines:
        line.decode()  # each line is whole UTF-8 by itself
    event = _only(data)
    assert event["SUMMARY"].endswith(name.strip())
    assert event["LOCATION"] == location


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _read_back(text: str) -> str:
    """Text as a calendar client reads it back: control characters (CR too) dropped. icalendar's
    escaping reads a backslash and an N as a line break."""
    return _CONTROL.sub("", text).replace("\\N", "\n")


@settings(max_examples=150, deadline=None)
@given(name=st.text(max_size=200), service=st.text(min_size=1, max_size=120))
def test_any_text_comes_back_as_it_was_within_75_octets(name: str, service: str) -> None:
    data = bookings_calendar(_content(_visit(name=name, service=service)), locale="en")
    assert max(len(line) for line in _physical_lines(data)) <= 75
    event = _only(data)
    assert f"\nService: {_read_back(service)}\n" in str(event["DESCRIPTION"])
    one_line = " ".join(_CONTROL.sub("", name).split())
    shown = f"ACDE-4779 · {_read_back(service)}" + (f" · {_read_back(one_line)}" if one_line else "")
    assert str(event["SUMMARY"]) == shown


def test_no_name_when_the_feed_may_not_show_it() -> None:
    data = bookings_calendar(_content(_visit(name=None)), locale="en")
    assert _only(data)["SUMMARY"] == "ACDE-4779 · Hjälp med e-tjänster"
    assert b"Anna" not in data


@pytest.mark.parametrize(
    ("locale", "reference", "need", "channel"),
    [
        ("sv", "Bokningsnummer: ACDE-4779", "Tolk", "Telefon"),
        ("en", "Booking reference: ACDE-4779", "Interpreter", "Phone"),
        ("fi", "Varaustunnus: ACDE-4779", "Tulkki", "Puhelin"),
    ],
)
def test_labels_in_the_feeds_language(locale: str, reference: str, need: str, channel: str) -> None:
    before = current_locale.get()
    data = bookings_calendar(_content(_visit(needs=("interpreter",), channel="phone")), locale=locale)
    assert current_locale.get() == before  # the feed's language does not leak into the request
    event = _only(data)
    lines = event["DESCRIPTION"].splitlines()
    assert lines[0] == reference
    assert any(line.endswith(f": {need}") for line in lines)
    assert any(line.endswith(f": {channel}") for line in lines)
    assert [str(c) for c in event["CATEGORIES"].cats] == [need]


def test_the_same_visits_give_the_same_bytes() -> None:
    visits = [
        _visit(reference=_reference(n), start=datetime(2026, 5, 4, 7, tzinfo=UTC) + timedelta(hours=n))
        for n in range(5)
    ]
    first = bookings_calendar(_content(*visits), locale="fi")
    again = bookings_calendar(_content(*[dataclasses.replace(v) for v in visits]), locale="fi")
    assert first == again
    moved = bookings_calendar(_content(*visits[:4], dataclasses.replace(visits[4], sequence=1)), locale="fi")
    assert moved != first


# -- a busy office's year --------------------------------------------------------------------------


def _year(count: int) -> list[FeedVisit]:
    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    services = ("Hjälp med e-tjänster", "Budget- och skuldrådgivning", "Konsumentvägledning")
    return [
        _visit(
            start + timedelta(days=n // 48, minutes=20 * (n % 24)),
            reference=_reference(n),
            sequence=n % 3,
            service=services[n % 3],
            needs=(("interpreter",), (), ("accessibility", "computer_help"))[n % 3],
            name=f"Besökare {n}, Öberg",
            channel=("web", "phone", "desk")[n % 3],
            status=("booked", "checked_in", "served", "no_show")[n % 4],
            stamp=STAMP + timedelta(minutes=n),
        )
        for n in range(count)
    ]


def test_a_busy_offices_year_is_one_event_per_visit() -> None:
    """12,000 visits (its speed is measured by ``nox -s bench``): one VEVENT each, unique UIDs, every
    line folded; a slice of it parses back whole with icalendar."""
    visits = _year(12_000)
    data = bookings_calendar(_content(*visits), locale="sv")
    assert data.count(b"\r\nBEGIN:VEVENT\r\n") == 12_000
    uids = re.findall(rb"\r\nUID:([^\r]*)\r\n", data)
    assert len(uids) == len(set(uids)) == 12_000
    assert max(len(line) for line in _physical_lines(data)) <= 75
    events = _events(bookings_calendar(_content(*visits[:600]), locale="sv"))
    assert [str(event["UID"]) for event in events] == [uid.decode() for uid in uids[:600]]
