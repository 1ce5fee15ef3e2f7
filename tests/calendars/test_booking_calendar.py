"""The calendar file of one visit: wall times in the office's zone across DST, its VTIMEZONE, and
what a cancellation looks like to a calendar client."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from kontor.booking.models import Booking
from kontor.calendars.booking import VisitEvent, visit_calendar, visit_event
from kontor.offices.models import Office, Service

STOCKHOLM = ZoneInfo("Europe/Stockholm")
STAMP = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _event(start: datetime, minutes: int = 20, **overrides: object) -> VisitEvent:
    values: dict[str, object] = {
        "uid": "ACDE4779@kontor",
        "sequence": 0,
        "cancelled": False,
        "start": start,
        "end": start + timedelta(minutes=minutes),
        "timezone": "Europe/Stockholm",
        "summary": "Visit: Help with e-services – Medborgarkontor Kista",
        "location": "Medborgarkontor Kista, Kistagången 1, 164 40 Kista",
        "description": "Booking reference: ACDE-4779",
        "url": "https://kontor.example/bookings/ACDE-4779?token=abc",
        "stamp": STAMP,
    }
    return VisitEvent(**(values | overrides))  # type: ignore[arg-type]


def _parse(data: bytes) -> tuple[Calendar, object]:
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


# Visits given in UTC, as stored; each must show its local wall time in Stockholm.
DST_CASES = [
    # 2026-03-29: clocks go forward at 02:00 (CET → CEST).
    (datetime(2026, 3, 28, 9, 0, tzinfo=UTC), time(10, 0)),  # the day before: UTC+1
    (datetime(2026, 3, 29, 8, 0, tzinfo=UTC), time(10, 0)),  # the day itself: UTC+2
    (datetime(2026, 3, 30, 7, 0, tzinfo=UTC), time(9, 0)),
    # 2026-10-25: clocks go back at 03:00 (CEST → CET).
    (datetime(2026, 10, 24, 8, 0, tzinfo=UTC), time(10, 0)),  # the day before: UTC+2
    (datetime(2026, 10, 25, 9, 0, tzinfo=UTC), time(10, 0)),  # the day itself: UTC+1
    (datetime(2026, 10, 26, 12, 40, tzinfo=UTC), time(13, 40)),
]


@pytest.mark.parametrize(("start", "wall_time"), DST_CASES)
def test_visits_keep_their_local_wall_time_across_dst(start: datetime, wall_time: time) -> None:
    data = visit_calendar(_event(start))
    assert f"DTSTART;TZID=Europe/Stockholm:{start.astimezone(STOCKHOLM):%Y%m%dT%H%M%S}".encode() in data
    calendar, vevent = _parse(data)
    parsed_start = vevent.decoded("DTSTART")
    assert parsed_start.time() == wall_time
    assert parsed_start == start  # the same instant
    assert vevent.decoded("DTEND") - parsed_start == timedelta(minutes=20)
    # The VTIMEZONE block, not only the zone's name, gives the right offset: clients that do not
    # know "Europe/Stockholm" use it.
    (zone,) = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "Europe/Stockholm"
    local = start.astimezone(STOCKHOLM).replace(tzinfo=None)
    assert local.replace(tzinfo=zone.to_tz()).utcoffset() == start.astimezone(STOCKHOLM).utcoffset()


@pytest.mark.parametrize(
    ("cancelled", "method", "status"), [(False, "PUBLISH", "CONFIRMED"), (True, "CANCEL", "CANCELLED")]
)
def test_the_calendar_and_its_event(cancelled: bool, method: str, status: str) -> None:
    start = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)
    data = visit_calendar(_event(start, cancelled=cancelled, sequence=2))
    calendar, vevent = _parse(data)
    assert calendar["PRODID"] == "-//kontor//kontor//EN"
    assert calendar["VERSION"] == "2.0"
    assert calendar["METHOD"] == method
    assert vevent["STATUS"] == status
    assert vevent["UID"] == "ACDE4779@kontor"
    assert vevent["SEQUENCE"] == 2
    assert vevent.decoded("DTSTAMP") == STAMP
    assert vevent["SUMMARY"] == "Visit: Help with e-services – Medborgarkontor Kista"
    assert vevent["LOCATION"] == "Medborgarkontor Kista, Kistagången 1, 164 40 Kista"
    assert vevent["DESCRIPTION"] == "Booking reference: ACDE-4779"
    assert vevent["URL"] == "https://kontor.example/bookings/ACDE-4779?token=abc"
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")


def test_another_zone_gets_its_own_vtimezone() -> None:
    start = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
    calendar, vevent = _parse(visit_calendar(_event(start, timezone="Europe/Helsinki")))
    assert [zone["TZID"] for zone in calendar.walk("VTIMEZONE")] == ["Europe/Helsinki"]
    assert vevent.decoded("DTSTART").time() == time(9, 0)


def _booking(status: str = "booked") -> Booking:
    office = Office(
        slug="kista",
        name="Medborgarkontor Kista",
        street="Kistagången 1",
        postal_code="164 40",
        city="Kista",
        phone="08-000 00 01",
        timezone="Europe/Stockholm",
    )
    service = Service(
        code="eservice",
        letter="A",
        name_sv="Hjälp med e-tjänster",
        name_en="Help with e-services",
        name_fi="Apua sähköisissä palveluissa",
    )
    booking = Booking(
        reference="ACDE4779",
        starts_at=datetime(2026, 10, 25, 9, 0, tzinfo=UTC),
        ends_at=datetime(2026, 10, 25, 9, 20, tzinfo=UTC),
        status=status,
        language="sv",
    )
    booking.office, booking.service = office, service
    return booking


@pytest.mark.parametrize(
    ("locale", "service"),
    [("sv", "Hjälp med e-tjänster"), ("en", "Help with e-services"), ("fi", "Apua sähköisissä palveluissa")],
)
def test_a_booking_becomes_an_event_in_its_language(locale: str, service: str) -> None:
    event = visit_event(
        _booking(),
        locale=locale,
        public_url="https://kontor.example/",
        token="s3cret",
        sequence=1,
        stamp=STAMP,
    )
    assert event.uid == "ACDE4779@kontor"
    assert event.sequence == 1
    assert event.stamp == STAMP
    assert not event.cancelled
    assert service in event.summary
    assert "Medborgarkontor Kista" in event.summary
    assert event.location == "Medborgarkontor Kista, Kistagången 1, 164 40 Kista"
    assert "ACDE-4779" in event.description
    assert "https://kontor.example/bookings/ACDE-4779?token=s3cret" in event.description
    assert event.url == "https://kontor.example/bookings/ACDE-4779?token=s3cret"
    assert event.timezone == "Europe/Stockholm"
    assert event.start.astimezone(STOCKHOLM).time() == time(10, 0)


def test_without_the_token_there_is_no_private_link() -> None:
    event = visit_event(
        _booking("cancelled"),
        locale="en",
        public_url="https://kontor.example",
        token=None,
        sequence=3,
        stamp=STAMP,
    )
    assert event.cancelled
    assert "token" not in event.description
    assert "token" not in event.url
    assert event.url == "https://kontor.example/offices/kista"
    assert "ACDE-4779" in event.description
    _calendar, vevent = _parse(visit_calendar(dataclasses.replace(event)))
    assert vevent["STATUS"] == "CANCELLED"
