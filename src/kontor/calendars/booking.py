"""One booked visit as an iCalendar file: attached to confirmations and served at
``/bookings/{reference}.ics``. The builder is pure; ``visit_event`` maps a booking onto it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from kontor.booking.models import Booking, BookingStatus
from kontor.booking.references import format_reference
from kontor.i18n import _, current_locale

PRODID = "-//kontor//kontor//EN"


@dataclass(frozen=True, slots=True)
class VisitEvent:
    """What a calendar needs to know of a visit; times are aware, ``timezone`` is the office's zone."""

    uid: str
    sequence: int
    cancelled: bool
    start: datetime
    end: datetime
    timezone: str
    summary: str
    location: str
    description: str
    url: str
    stamp: datetime


def visit_calendar(event: VisitEvent) -> bytes:
    """A VCALENDAR with the visit as its one VEVENT, in the office's zone with that zone's VTIMEZONE,
    so calendar clients that do not know the zone's name still show the right wall time.

    A cancelled visit is published with METHOD:CANCEL and STATUS:CANCELLED under the same UID (and a
    higher SEQUENCE), which makes clients remove or strike through the copy they imported."""
    zone = ZoneInfo(event.timezone)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if event.cancelled else "PUBLISH")
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", event.stamp.astimezone(ZoneInfo("UTC")))
    vevent.add("dtstart", event.start.astimezone(zone))
    vevent.add("dtend", event.end.astimezone(zone))
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    vevent.add("summary", event.summary)
    vevent.add("location", event.location)
    vevent.add("description", event.description)
    vevent.add("url", event.url)
    calendar.add_component(vevent)
    # The VTIMEZONE is the same for every visit of a year.
    timezone = vtimezone(event.timezone, event.start.year - 1, event.end.year + 2)
    return with_timezone(calendar.to_ical(), timezone)


def with_timezone(body: bytes, timezone: bytes) -> bytes:
    """A serialised VCALENDAR with ``timezone`` (a VTIMEZONE) before its first VEVENT, where clients
    that read top to bottom need it, or at its end when it has no events."""
    if b"BEGIN:VEVENT" in body:
        return body.replace(b"BEGIN:VEVENT", timezone + b"BEGIN:VEVENT", 1)
    return body.replace(b"END:VCALENDAR", timezone + b"END:VCALENDAR", 1)


@functools.lru_cache(maxsize=32)
def vtimezone(zone: str, first_year: int, last_year: int) -> bytes:
    """The zone's VTIMEZONE with its rules for first_year..last_year only: the default (1970-2038)
    lists every change and makes the attachment ten times longer. Building it is most of the cost
    of a calendar file, and a booking's confirmation needs one, so it is made once per zone."""
    calendar = Calendar()
    probe = Event()
    probe.add("dtstart", datetime(first_year + 1, 1, 1, tzinfo=ZoneInfo(zone)))
    calendar.add_component(probe)
    calendar.add_missing_timezones(first_date=date(first_year, 1, 1), last_date=date(last_year, 1, 1))
    return b"".join(component.to_ical() for component in calendar.walk("VTIMEZONE"))


def manage_url(public_url: str, reference: str, token: str) -> str:
    """The private link to a booking: see it, move it or cancel it."""
    return f"{_booking_path(public_url, reference)}?token={quote(token, safe='')}"


def calendar_url(public_url: str, reference: str, token: str) -> str:
    """The booking as an .ics file, to add (or update) it in a calendar from a link."""
    return f"{_booking_path(public_url, reference)}.ics?token={quote(token, safe='')}"


def _booking_path(public_url: str, reference: str) -> str:
    return f"{public_url.rstrip('/')}/bookings/{format_reference(reference)}"


def visit_event(
    booking: Booking,
    *,
    locale: str,
    public_url: str,
    token: str | None,
    sequence: int,
    stamp: datetime,
) -> VisitEvent:
    """The calendar event of ``booking``, its text in ``locale``. The manage link is only known to
    whoever holds the booking's token, so it is left out without one."""
    office, service = booking.office, booking.service
    reset = current_locale.set(locale)
    try:
        service_name = service.name(locale)
        summary = _("Visit: %(service)s – %(office)s", service=service_name, office=office.name)
        lines = [_("Booking reference: %(reference)s", reference=format_reference(booking.reference))]
        if token:
            url = manage_url(public_url, booking.reference, token)
            lines.append(_("See, change or cancel your visit: %(url)s", url=url))
        else:
            url = f"{public_url.rstrip('/')}/offices/{office.slug}"
        if office.phone:
            lines.append(_("Office phone: %(phone)s", phone=office.phone))
    finally:
        current_locale.reset(reset)
    location = ", ".join(part for part in (office.name, office.address) if part)
    return VisitEvent(
        uid=f"{booking.reference}@kontor",
        sequence=sequence,
        cancelled=booking.status == BookingStatus.CANCELLED,
        start=booking.starts_at,
        end=booking.ends_at,
        timezone=office.timezone,
        summary=summary,
        location=location,
        description="\n".join(lines),
        url=url,
        stamp=stamp,
    )
