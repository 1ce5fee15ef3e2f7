"""Calendar feeds over HTTP: the office's opening hours (public), a booking's file and staff feeds
(behind a secret link), each with the iCalendar media type, an ETag and a Last-Modified that change on
any change (deletions included), and 304 for a client whose copy is current.

The clock is Saturday 2026-12-19 10:00 in Stockholm.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from icalendar import Calendar
from sqlalchemy import select
from tests.helpers import logged_in, post_form
from tests.notify.conftest import make_booking

from kontor.booking.models import Booking
from kontor.booking.references import format_reference
from kontor.calendars.models import CalendarFeed

STOCKHOLM = ZoneInfo("Europe/Stockholm")
CLOCK = datetime(2026, 12, 19, 10, 0, tzinfo=STOCKHOLM)
VISIT = datetime(2026, 12, 22, 9, 0, tzinfo=STOCKHOLM)  # Kista's Tuesday appointment hours


@pytest.fixture(autouse=True)
def clock(app) -> None:  # type: ignore[no-untyped-def]
    app.state.clock = lambda: CLOCK


def _calendar(response: Any) -> Calendar:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def _open_by_day(calendar: Calendar, first: date, last: date) -> dict[date, list[tuple[str, str]]]:
    """The feed's timed events, expanded, as local (opens, closes) per date: the office's opening."""
    found: dict[date, list[tuple[str, str]]] = defaultdict(list)
    start = datetime.combine(first, time(), STOCKHOLM)
    end = datetime.combine(last + timedelta(days=1), time(), STOCKHOLM)
    for event in recurring_ical_events.of(calendar).between(start, end):
        begins, ends = event["DTSTART"].dt, event["DTEND"].dt
        if not isinstance(begins, datetime):
            continue  # an all-day note of a closed day
        begins, ends = begins.astimezone(STOCKHOLM), ends.astimezone(STOCKHOLM)
        found[begins.date()].append((begins.strftime("%H:%M"), ends.strftime("%H:%M")))
    return {day: sorted(intervals) for day, intervals in found.items()}


def _api_open_by_day(client: Any, slug: str, first: date, last: date) -> dict[date, list[tuple[str, str]]]:
    """The hours API's answer for the same dates, fetched in its steps of at most 366 days."""
    found: dict[date, list[tuple[str, str]]] = {}
    while first <= last:
        until = min(last, first + timedelta(days=365))
        days = client.get(f"/api/v1/offices/{slug}/hours?from={first}&to={until}").json()
        for day in days:
            intervals = sorted((i["opens"], i["closes"]) for i in day["intervals"])
            if intervals:
                found[date.fromisoformat(day["date"])] = intervals
        first = until + timedelta(days=1)
    return found


def _window(calendar: Calendar) -> tuple[date, date]:
    """The dates the feed covers: from its first event's date to the last UNTIL of its rules."""
    events = calendar.walk("VEVENT")
    first = min(e["DTSTART"].dt for e in events if isinstance(e["DTSTART"].dt, datetime)).date()
    untils = [e["RRULE"]["UNTIL"][0] for e in events if "RRULE" in e]
    return first, max(untils).astimezone(STOCKHOLM).date()


# -- the office's opening hours ---------------------------------------------------------------------


def test_the_hours_feed_opens_the_office_exactly_when_the_hours_api_does(client) -> None:
    """A year and more, day by day: DST change days, midsommarafton and juldagen closed, and a
    manager's closure and special hours, as the hours API answers them."""
    as_manager = logged_in(client, "manager")
    closure = {"first_day": "2027-03-01", "last_day": "2027-03-03", "reason": "Flytt av kontoret"}
    assert post_form(as_manager, "/admin/offices/kista/closures", closure).status_code == 303
    special = {
        "first_day": "2027-06-23",
        "last_day": "2027-06-23",
        "reason": "Kort dag",
        "special_opens_0": "10:00",
        "special_closes_0": "12:00",
        "special_kind_0": "drop_in",
    }
    assert post_form(as_manager, "/admin/offices/kista/closures", special).status_code == 303

    calendar = _calendar(client.get("/offices/kista/hours.ics"))
    first, last = _window(calendar)
    assert first <= date(2026, 12, 1) and last >= date(2027, 12, 19)  # at least a year ahead
    feed, api = _open_by_day(calendar, first, last), _api_open_by_day(client, "kista", first, last)
    assert feed == api
    for closed in (date(2027, 6, 25), date(2026, 12, 25), date(2027, 3, 1), date(2027, 3, 2)):
        assert closed not in feed  # midsommarafton, juldagen, the move
    assert feed[date(2027, 6, 23)] == [("10:00", "12:00")]
    # The Tuesdays after both DST changes of 2027 open at the same wall time as the Tuesdays before.
    for before, after in ((date(2027, 3, 23), date(2027, 3, 30)), (date(2027, 10, 26), date(2027, 11, 2))):
        assert feed[before] == feed[after]


def test_the_hours_feed_speaks_the_language_asked_for(client) -> None:
    names = {}
    for lang in ("sv", "en", "fi"):
        calendar = _calendar(client.get(f"/offices/kista/hours.ics?lang={lang}"))
        names[lang] = str(calendar["X-WR-CALNAME"])
        christmas = [
            str(e["SUMMARY"]) for e in calendar.walk("VEVENT") if e["DTSTART"].dt == date(2026, 12, 25)
        ]
        assert christmas, f"{lang}: juldagen has no closed-day note"
        names[f"{lang} christmas"] = christmas[0]
    assert len({names["sv"], names["en"], names["fi"]}) == 3
    assert "Juldagen" in names["sv christmas"] and "Christmas Day" in names["en christmas"]


def test_the_hours_feed_is_served_for_calendar_clients(client) -> None:
    """No Accept header needed; ETag, Last-Modified, caching and refresh hints; 304 when current."""
    response = client.get("/offices/kista/hours.ics", headers={"Accept": ""})
    calendar = _calendar(response)
    assert str(calendar["REFRESH-INTERVAL"].to_ical().decode()).startswith("PT")
    assert "X-PUBLISHED-TTL" in calendar
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Stockholm"
    etag, modified = response.headers["etag"], response.headers["last-modified"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert "public" in response.headers["cache-control"]

    again = client.get("/offices/kista/hours.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["last-modified"] == modified
    weak = client.get("/offices/kista/hours.ics", headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    since = client.get("/offices/kista/hours.ics", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    stale = client.get("/offices/kista/hours.ics", headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200 and stale.content == response.content
    assert client.get("/offices/no-such-office/hours.ics").status_code == 404


def test_the_hours_feed_changes_its_etag_when_a_closure_comes_and_goes(client, app) -> None:
    as_manager = logged_in(client, "manager")
    first = client.get("/offices/kista/hours.ics")
    closure = {"first_day": "2027-02-01", "last_day": "2027-02-02", "reason": "Inventering"}
    assert post_form(as_manager, "/admin/offices/kista/closures", closure).status_code == 303
    app.state.clock = lambda: CLOCK + timedelta(minutes=5)
    closed = client.get("/offices/kista/hours.ics", headers={"If-None-Match": first.headers["etag"]})
    assert closed.status_code == 200
    assert closed.headers["etag"] != first.headers["etag"]
    assert closed.headers["last-modified"] != first.headers["last-modified"]
    assert date(2027, 2, 1) not in _open_by_day(
        Calendar.from_ical(closed.content), date(2027, 2, 1), date(2027, 2, 2)
    )

    closure_id = re.search(r"/closures/(\d+)/delete", as_manager.get("/admin/offices/kista").text)
    assert closure_id is not None
    assert post_form(as_manager, f"/admin/offices/kista/closures/{closure_id[1]}/delete").status_code == 303
    app.state.clock = lambda: CLOCK + timedelta(minutes=10)
    reopened = client.get("/offices/kista/hours.ics", headers={"If-None-Match": closed.headers["etag"]})
    assert reopened.status_code == 200, "a deleted closure must change the feed"
    assert reopened.headers["etag"] != closed.headers["etag"]
    assert reopened.headers["last-modified"] != closed.headers["last-modified"]
    assert reopened.content == first.content


def test_the_office_page_links_its_hours_feed(client) -> None:
    page = client.get("/offices/kista?lang=en").text
    assert 'href="webcal://' in page and "/offices/kista/hours.ics?lang=en" in page
    assert "Google Calendar" in page


# -- a booking's own file ---------------------------------------------------------------------------


async def test_a_booking_file_has_an_etag_and_answers_304(client, write_session, settings) -> None:
    booking, token = await make_booking(write_session, settings, start=VISIT, now=CLOCK, queue=False)
    path = f"/bookings/{format_reference(booking.reference)}.ics?token={token}"
    response = client.get(path)
    (event,) = _calendar(response).walk("VEVENT")
    assert event["SEQUENCE"] == 0 and str(event["STATUS"]) == "CONFIRMED"
    assert response.headers["cache-control"] == "no-store"
    assert client.get(path, headers={"If-None-Match": response.headers["etag"]}).status_code == 304
    assert client.get(path.replace(token, "wrong")).status_code == 404

    # Cancelled: the same UID, a higher SEQUENCE and a cancelled event, under a new ETag.
    reference = format_reference(booking.reference)
    cancel = client.post(f"/api/v1/bookings/{reference}/cancel", headers={"X-Booking-Token": token})
    assert cancel.status_code == 200
    cancelled = client.get(path, headers={"If-None-Match": response.headers["etag"]})
    calendar = _calendar(cancelled)
    (gone,) = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "CANCEL" and str(gone["STATUS"]) == "CANCELLED"
    assert gone["UID"] == event["UID"] and gone["SEQUENCE"] == 1
    assert cancelled.headers["etag"] != response.headers["etag"]


# -- staff feeds ------------------------------------------------------------------------------------


def _create(client: Any, **form: Any) -> tuple[Any, str | None]:
    """Create a feed through the page; the response and the feed's path (None when refused)."""
    response = post_form(client, "/staff/calendars", form)
    found = re.search(r'value="https?://[^/"]+(/feeds/[^"]+\.ics)"', response.text)
    return response, found[1] if found else None


async def _bookings(write_session, settings) -> dict[str, tuple[Booking, str]]:  # type: ignore[no-untyped-def]
    made = {}
    made["kista"] = await make_booking(
        write_session, settings, start=VISIT, now=CLOCK, name="Åsa Öberg", queue=False
    )
    made["later"] = await make_booking(
        write_session, settings, start=VISIT + timedelta(days=7), now=CLOCK, name="Bo Ek", queue=False
    )
    return made


async def test_staff_subscribe_to_their_office_and_see_its_visits(
    client, city, write_session, settings
) -> None:  # type: ignore[no-untyped-def]
    made = await _bookings(write_session, settings)
    staff = logged_in(client, "staff")
    page = staff.get("/staff/calendars")
    assert page.status_code == 200 and "All visits at" in page.text
    response, path = _create(staff, target=f"office:{city.kista.id}", label="Kista desk")
    assert response.status_code == 201 and path is not None
    assert "webcal://" in response.text
    assert response.headers["cache-control"] == "no-store"

    feed = client.get(path, headers={"Accept": ""})
    calendar = _calendar(feed)
    assert feed.headers["referrer-policy"] == "no-referrer"
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    booking = made["kista"][0]
    event = events[f"{booking.reference}@kontor"]
    assert event["DTSTART"].dt.astimezone(STOCKHOLM) == VISIT
    assert "Åsa Öberg" in str(event["SUMMARY"])  # the office's own staff see whom they expect
    assert "anna@example.se" not in feed.text  # never an e-mail address
    # The token is stored only as a fingerprint.
    token = path.removeprefix("/feeds/").removesuffix(".ics")
    async with write_session() as db:
        stored = list(await db.scalars(select(CalendarFeed.token_hash)))
    assert token not in stored and len(stored) == 1


async def test_a_cancelled_visit_leaves_the_feed_and_changes_its_etag(
    client, city, write_session, settings
) -> None:  # type: ignore[no-untyped-def]
    made = await _bookings(write_session, settings)
    staff = logged_in(client, "staff")
    _response, path = _create(staff, target=f"office:{city.kista.id}")
    assert path is not None
    first = client.get(path)
    assert client.get(path, headers={"If-None-Match": first.headers["etag"]}).status_code == 304

    booking, token = made["later"]
    reference = format_reference(booking.reference)
    cancelled = client.post(f"/api/v1/bookings/{reference}/cancel", headers={"X-Booking-Token": token})
    assert cancelled.status_code == 200
    changed = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200
    assert changed.headers["etag"] != first.headers["etag"]
    uids = {str(e["UID"]) for e in Calendar.from_ical(changed.content).walk("VEVENT")}
    assert f"{booking.reference}@kontor" not in uids
    assert f"{made['kista'][0].reference}@kontor" in uids


async def test_a_revoked_feed_is_gone_at_once(client, city, write_session, settings) -> None:  # type: ignore[no-untyped-def]
    await _bookings(write_session, settings)
    staff = logged_in(client, "staff")
    _response, path = _create(staff, target=f"office:{city.kista.id}")
    assert path is not None and client.get(path).status_code == 200
    async with write_session() as db:
        feed_id = await db.scalar(select(CalendarFeed.id))

    # Another user cannot revoke it; the owner can, once.
    logged_in(client, "manager")
    assert post_form(client, f"/staff/calendars/{feed_id}/revoke").status_code == 404
    assert client.get(path).status_code == 200
    staff = logged_in(client, "staff")
    revoked = post_form(staff, f"/staff/calendars/{feed_id}/revoke")
    assert revoked.status_code == 303 and revoked.headers["location"] == "/staff/calendars?notice=revoked"
    assert client.get(path).status_code == 404
    assert post_form(staff, f"/staff/calendars/{feed_id}/revoke").status_code == 404
    assert "no longer works" in staff.get("/staff/calendars?notice=revoked&lang=en").text


async def test_an_agents_feed_shows_the_visits_they_booked_without_names(
    client, city, write_session, settings
) -> None:  # type: ignore[no-untyped-def]
    from kontor.audit.models import Channel

    agent_id = city.users["agent"].id
    booked, _token = await make_booking(
        write_session,
        settings,
        start=VISIT,
        now=CLOCK,
        name="Cecilia Caller",
        channel=Channel.PHONE,
        actor=city.users["agent"],
        queue=False,
    )
    await make_booking(
        write_session,
        settings,
        start=VISIT + timedelta(minutes=20),
        now=CLOCK,
        name="Someone Else",
        queue=False,
    )
    agent = logged_in(client, "agent")
    page = agent.get("/staff/calendars?lang=en").text
    assert "The visits I booked" in page and "All visits at" not in page
    _response, path = _create(agent, target="agent")
    assert path is not None
    calendar = _calendar(client.get(path))
    uids = [str(e["UID"]) for e in calendar.walk("VEVENT")]
    async with write_session() as db:
        mine = await db.scalar(select(Booking.created_by_id).where(Booking.id == booked.id))
    assert mine == agent_id
    assert uids == [f"{booked.reference}@kontor"]
    assert "Cecilia" not in client.get(path).text


def test_a_feed_of_another_office_or_of_nothing_is_refused(client, city) -> None:
    staff = logged_in(client, "staff")
    for target in (f"office:{city.bromma.id}", "agent", "nonsense", ""):
        response, path = _create(staff, target=target)
        assert response.status_code == 422, target
        assert path is None
        assert 'aria-invalid="true"' in response.text
    assert client.get("/feeds/not-a-token.ics").status_code == 404
    assert client.get("/feeds/not-a-token").status_code == 404


async def test_a_staff_feeds_etag_follows_renames_and_deleted_rows(
    client, city, write_session, settings
) -> None:  # type: ignore[no-untyped-def]
    """The ETag is read from a version of the feed (not from its year of visits): it must still
    change when a service is renamed or a booking row is deleted outright."""
    from sqlalchemy import delete, update

    from kontor.offices.models import Service

    made = await _bookings(write_session, settings)
    staff = logged_in(client, "staff")
    _response, path = _create(staff, target=f"office:{city.kista.id}")
    assert path is not None
    etags = [client.get(path).headers["etag"]]
    async with write_session() as db, db.begin():
        await db.execute(update(Service).where(Service.code == "eservice").values(name_sv="E-tjänster nu"))
    renamed = client.get(path + "?lang=sv", headers={"If-None-Match": etags[0]})
    assert renamed.status_code == 200 and "E-tjänster nu" in renamed.text
    etags.append(client.get(path).headers["etag"])
    async with write_session() as db, db.begin():
        await db.execute(delete(Booking).where(Booking.id == made["later"][0].id))
    gone = client.get(path, headers={"If-None-Match": etags[-1]})
    assert gone.status_code == 200 and made["later"][0].reference not in gone.text
    etags.append(gone.headers["etag"])
    assert len(set(etags)) == 3
