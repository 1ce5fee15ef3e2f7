"""An office's opening hours as a subscribable iCalendar feed (``/offices/{slug}/hours.ics``).

Pure: the caller loads the hours and picks the window (:func:`feed_window`); the same data gives
the same bytes, so the body's hash can serve as its ETag. The weekly hours become one recurring
event per weekly interval, with the days the hours do not apply (holidays, closures, special hours)
excluded; special hours and the closed days that residents would otherwise expect open are single
events of their own.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from icalendar.prop import vDuration

from kontor.calendars.booking import PRODID, vtimezone, with_timezone
from kontor.hours.names import day_note
from kontor.hours.rules import (
    DayHours,
    DayStatus,
    HoursKind,
    Interval,
    OfficeHours,
    WeeklyInterval,
    hours_for_range,
)
from kontor.i18n import N_, _, current_locale

__all__ = ["REFRESH", "HoursFeedOffice", "feed_window", "hours_calendar"]

# How often subscribed clients should fetch the feed again (Outlook, Apple and Google read one of
# REFRESH-INTERVAL or X-PUBLISHED-TTL; Google mostly decides for itself).
REFRESH = timedelta(hours=6)

_Key = TypeVar("_Key")

_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_KIND_SUMMARY = {
    HoursKind.DROP_IN: N_("Open – drop-in"),
    HoursKind.APPOINTMENT: N_("Open – by appointment only"),
}
_KIND_DESCRIPTION = {
    HoursKind.DROP_IN: N_("Walk in without booking and take a queue ticket."),
    HoursKind.APPOINTMENT: N_("Only for visits booked in advance."),
}
_KIND_TAG = {HoursKind.DROP_IN: "drop-in", HoursKind.APPOINTMENT: "appointment"}


@dataclass(frozen=True, slots=True)
class HoursFeedOffice:
    """What the feed says about the office itself."""

    slug: str
    name: str
    timezone: str  # IANA zone, e.g. "Europe/Stockholm"
    address: str  # one line, may be ""
    url: str  # absolute URL of the office's public page


def feed_window(today: date) -> tuple[date, date]:
    """The dates a feed covers: from the first day of the previous month to the last day of the
    13th month after the current one (so always at least a year ahead, and the body changes at most
    once a month when nothing else changes)."""
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    years, month = divmod(today.month - 1 + 14, 12)  # the first day of the 14th month after
    return first, date(today.year + years, month + 1, 1) - timedelta(days=1)


def hours_calendar(
    office: HoursFeedOffice, hours: OfficeHours, first: date, last: date, *, locale: str
) -> bytes:
    """The office's hours from first to last (inclusive) as a VCALENDAR, its text in ``locale``.

    Expanded, the timed events give exactly :func:`~kontor.hours.rules.hours_for_range` date by
    date. Wall times are in ``office.timezone`` (with its VTIMEZONE), so they stay put across DST.
    UIDs depend on the office and the event's identity only, never on the window, so a client
    updates its copy when the feed moves on."""
    days = hours_for_range(hours, first, last)
    zone = ZoneInfo(office.timezone)
    weekly = sorted(dict.fromkeys(hours.weekly), key=_weekly_order)
    of_weekday: list[list[WeeklyInterval]] = [[] for _weekday in _BYDAY]
    for entry in weekly:
        of_weekday[entry.weekday].append(entry)
    applying = {dh.day: [w for w in of_weekday[dh.day.weekday()] if w.applies_to(dh.day)] for dh in days}
    stamp = datetime.combine(first, time(0), tzinfo=UTC)
    reset = current_locale.set(locale)
    try:
        calendar = _calendar(office)
        shared = _shared(office, stamp)
        for vevent in (
            *_weekly_events(office, weekly, days, applying, zone),
            *_day_events(office, days, applying, zone),
        ):
            vevent.update(shared)
            calendar.add_component(vevent)
    finally:
        current_locale.reset(reset)
    return with_timezone(calendar.to_ical(), vtimezone(office.timezone, first.year, last.year + 1))


def _calendar(office: HoursFeedOffice) -> Calendar:
    name = _("%(office)s – opening hours", office=office.name)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-caldesc", _more(office))
    calendar.add("x-wr-timezone", office.timezone)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    return calendar


def _more(office: HoursFeedOffice) -> str:
    return _("Opening hours, changes and booking: %(url)s", url=office.url)


def _weekly_order(weekly: WeeklyInterval) -> tuple[object, ...]:
    interval = weekly.interval
    return (
        weekly.weekday,
        interval.opens,
        interval.closes,
        interval.kind,
        weekly.valid_from or date.min,
        weekly.valid_until or date.max,
    )


def _weekly_events(
    office: HoursFeedOffice,
    weekly: list[WeeklyInterval],
    days: list[DayHours],
    applying: Mapping[date, list[WeeklyInterval]],
    zone: ZoneInfo,
) -> list[Event]:
    """One recurring event per distinct weekly interval, from its first to its last date shown."""
    occurs: dict[WeeklyInterval, list[date]] = defaultdict(list)
    shown: dict[WeeklyInterval, list[date]] = defaultdict(list)
    for dh in days:
        claimed: set[Interval] = set()
        for entry in applying[dh.day]:
            occurs[entry].append(dh.day)
            # Entries with the same interval and overlapping validity show it once, as the day does.
            if dh.status is DayStatus.REGULAR and entry.interval not in claimed:
                claimed.add(entry.interval)
                shown[entry].append(dh.day)
    showing = [entry for entry in weekly if shown[entry]]
    uids = _unique_uids(showing, _weekly_uid)
    events = []
    for entry in showing:
        # DTSTART and UNTIL are the first and last dates shown, so no client has to drop DTSTART.
        start, end = shown[entry][0], shown[entry][-1]
        skipped = sorted({day for day in occurs[entry] if start < day < end} - set(shown[entry]))
        vevent = _timed(office, entry.interval, start, zone)
        vevent.add("uid", f"hours-{office.slug}-{uids[entry]}@kontor")
        rule = {"freq": "weekly", "byday": _BYDAY[entry.weekday], "until": _until(end, entry.interval, zone)}
        vevent.add("rrule", rule)
        if skipped:
            vevent.add(
                "exdate", [datetime.combine(day, entry.interval.opens, tzinfo=zone) for day in skipped]
            )
        events.append(vevent)
    return events


def _until(day: date, interval: Interval, zone: ZoneInfo) -> datetime:
    # The later reading of an ambiguous or skipped wall time, so that no client drops the last date.
    wall = datetime.combine(day, interval.opens, tzinfo=zone)
    return max(wall.replace(fold=0).astimezone(UTC), wall.replace(fold=1).astimezone(UTC))


def _day_events(
    office: HoursFeedOffice,
    days: list[DayHours],
    applying: Mapping[date, list[WeeklyInterval]],
    zone: ZoneInfo,
) -> list[Event]:
    """Special hours, one event per interval, and a note on each closed day that had weekly hours."""
    events = []
    for dh in days:
        reason = day_note(dh.note, dh.holiday)
        if dh.status is DayStatus.SPECIAL:
            changed = _("Changed opening hours: %(reason)s", reason=reason) if reason else None
            uids = _unique_uids(
                dh.intervals, lambda interval, full, day=dh.day: _special_uid(day, interval, full)
            )
            for interval in dh.intervals:
                vevent = _timed(office, interval, dh.day, zone, changed)
                vevent.add("uid", f"hours-{office.slug}-{uids[interval]}@kontor")
                events.append(vevent)
        elif dh.status is not DayStatus.REGULAR and applying[dh.day]:
            vevent = Event()
            vevent.add("uid", f"hours-{office.slug}-{dh.day:%Y%m%d}-closed@kontor")
            vevent.add("summary", _("Closed: %(reason)s", reason=reason) if reason else _("Closed"))
            vevent.add("dtstart", dh.day)
            vevent.add("dtend", dh.day + timedelta(days=1))
            vevent.add("description", _more(office))
            events.append(vevent)
    return events


def _timed(
    office: HoursFeedOffice, interval: Interval, day: date, zone: ZoneInfo, changed: str | None = None
) -> Event:
    vevent = Event()
    vevent.add("summary", _(_KIND_SUMMARY[interval.kind]))
    vevent.add("dtstart", datetime.combine(day, interval.opens, tzinfo=zone))
    vevent.add("dtend", datetime.combine(day, interval.closes, tzinfo=zone))
    lines = (changed, _(_KIND_DESCRIPTION[interval.kind]), _more(office))
    vevent.add("description", "\n".join(line for line in lines if line))
    return vevent


def _weekly_uid(entry: WeeklyInterval, full: bool) -> str:
    interval = entry.interval
    uid = f"{_BYDAY[entry.weekday]}-{interval.opens:%H%M}-{interval.closes:%H%M}-{_KIND_TAG[interval.kind]}"
    if entry.valid_from is not None:
        uid += f"-from-{entry.valid_from:%Y%m%d}"
    if full and entry.valid_until is not None:
        uid += f"-until-{entry.valid_until:%Y%m%d}"
    return uid


def _special_uid(day: date, interval: Interval, full: bool) -> str:
    uid = f"{day:%Y%m%d}-{interval.opens:%H%M}-{_KIND_TAG[interval.kind]}"
    return f"{uid}-{interval.closes:%H%M}" if full else uid


def _unique_uids(keys: Iterable[_Key], uid: Callable[[_Key, bool], str]) -> dict[_Key, str]:
    """Each key's short UID, or its full one where short ones clash (entries differing only in
    what the short UID leaves out, e.g. two special intervals opening at the same time)."""
    short = {key: uid(key, False) for key in keys}
    clashes = Counter(short.values())
    return {key: uid(key, True) if clashes[value] > 1 else value for key, value in short.items()}


def _shared(office: HoursFeedOffice, stamp: datetime) -> Event:
    """The properties every event carries, encoded once (encoding is much of the feed's cost)."""
    shared = Event()
    shared.add("dtstamp", stamp)
    shared.add("location", ", ".join(part for part in (office.name, office.address) if part))
    shared.add("url", office.url)
    # Opening hours are information, not the subscriber's own time: never shown as busy.
    shared.add("transp", "TRANSPARENT")
    return shared
