"""Choosing a time: POST /book/hold holds it and sends the resident on to the booking's page; a full
or unknown time re-renders the day with the reason. Also letting an earlier hold go, and the time
step of moving a booking."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from kontor.booking.models import Booking, BookingEvent
from kontor.booking.references import normalize_reference
from tests.booking_web.flow_support import (
    KISTA,
    NINE,
    NINE_TWENTY,
    book_by_api,
    pin_clock,
    time_buttons,
)
from tests.conftest import run_with_engine
from tests.helpers import post_form

HOLD = {"service": "eservice", "office": "kista"}


def _hold(client, start: str = NINE, **extra: str):  # type: ignore[no-untyped-def]
    return post_form(client, "/book/hold", HOLD | {"start": start} | extra)


def _held(response) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The reference and token of the booking page a successful hold redirects to."""
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    match = re.fullmatch(r"/bookings/([A-Z0-9]{4}-[A-Z0-9]{4})", location.path)
    assert match, location.path
    return match.group(1), parse_qs(location.query)["token"][0]


def _row(settings, reference: str) -> tuple[Booking, list[BookingEvent]]:  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        booking = await db.scalar(select(Booking).where(Booking.reference == normalize_reference(reference)))
        events = list(await db.scalars(select(BookingEvent).where(BookingEvent.booking_id == booking.id)))
        return booking, events

    return run_with_engine(settings, work)


def test_holding_a_time_redirects_to_the_booking_page(client, settings):
    pin_clock(client)
    reference, token = _held(_hold(client))
    booking, events = _row(settings, reference)
    assert booking.status == "held" and booking.channel == "web"
    assert booking.starts_at.isoformat().startswith("2026-12-15T08:00")  # 09:00 in Stockholm, stored UTC
    assert booking.hold_expires_at is not None
    assert [(e.action, e.channel, e.actor) for e in events] == [("held", "web", "resident")]
    assert token and NINE not in time_buttons(client.get(KISTA).text)  # the seat is taken while held


def test_a_full_time_is_refused_with_the_days_times(client):
    pin_clock(client)
    book_by_api(client)  # Kista has one seat per slot
    response = _hold(client)
    assert response.status_code == 409
    html = response.text
    assert re.search(
        r'role="alert">\s*<p>This time has just been fully booked. Choose another time.</p>', html
    )
    assert "Free times on Tuesday 15 December" in html
    assert time_buttons(html)[0] == NINE_TWENTY and NINE not in time_buttons(html)


def test_a_time_that_is_not_offered_is_refused(client):
    pin_clock(client)
    response = _hold(client, "2026-12-15T09:10:00+01:00")
    assert response.status_code == 409
    assert "This time cannot be booked. Choose another time." in response.text
    assert time_buttons(response.text)[0] == NINE


def test_an_unreadable_start_is_a_422(client, settings):
    pin_clock(client)
    for start in ("tomorrow at nine", "", "2026-12-15T09:00"):  # the last has no offset
        response = _hold(client, start)
        assert response.status_code == 422, start
        assert "Choose one of the free times." in response.text
        assert time_buttons(response.text)[0] == NINE  # the calendar is there to choose again

    async def count(db):  # type: ignore[no-untyped-def]
        return len(list(await db.scalars(select(Booking))))

    assert run_with_engine(settings, count) == 0


def test_holding_at_an_unknown_office_is_a_404(client):
    pin_clock(client)
    response = _hold(client, office="atlantis")
    assert response.status_code == 404
    assert "This office does not take bookings for this service." in response.text


def test_holding_needs_the_csrf_token(client):
    pin_clock(client)
    response = client.post("/book/hold", data=HOLD | {"start": NINE}, follow_redirects=False)
    assert response.status_code == 403


def test_choosing_again_lets_the_earlier_hold_go(client, settings):
    pin_clock(client)
    first, first_token = _held(_hold(client))
    # The time step carries the earlier hold into its form, and keeps its token from leaking on.
    page = client.get("/book", params=HOLD | {"release": first, "release_token": first_token})
    assert f'<input type="hidden" name="release" value="{first}">' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    second, _token = _held(_hold(client, NINE_TWENTY, release=first, release_token=first_token))
    assert _row(settings, first)[0].status == "expired"
    assert _row(settings, second)[0].status == "held"
    assert NINE in time_buttons(client.get(KISTA).text)  # offered again at once


def test_a_wrong_release_token_keeps_the_earlier_hold(client, settings):
    pin_clock(client)
    first, _first_token = _held(_hold(client))
    _held(_hold(client, NINE_TWENTY, release=first, release_token="not-the-token"))
    assert _row(settings, first)[0].status == "held"


def test_a_refused_hold_keeps_the_earlier_one(client, settings):
    pin_clock(client)
    first, first_token = _held(_hold(client))
    book_by_api(client, NINE_TWENTY)
    response = _hold(client, NINE_TWENTY, release=first, release_token=first_token)
    assert response.status_code == 409
    assert f'<input type="hidden" name="release" value="{first}">' in response.text
    assert _row(settings, first)[0].status == "held"


def test_reschedule_mode_posts_to_the_booking(client):
    pin_clock(client)
    booking = book_by_api(client)
    reference, token = booking["reference"], booking["token"]
    params = {"reschedule": reference, "token": token}
    response = client.get("/book", params=HOLD | params)
    assert response.status_code == 200
    html = response.text
    assert f"Choose a new time for your booking {reference}." in html
    form = re.search(r'<form method="post" action="([^"]+)".*?</form>', html, re.S)
    assert form and form.group(1) == f"/bookings/{reference}/reschedule"
    assert f'<input type="hidden" name="token" value="{token}">' in form.group(0)
    assert 'name="service"' not in form.group(0)
    assert NINE not in time_buttons(html) and time_buttons(html)[0] == NINE_TWENTY  # not its own time
    assert "Change office" not in html
    assert (
        response.headers["cache-control"] == "no-store"
        and response.headers["referrer-policy"] == "no-referrer"
    )
    # The calendar's links keep the booking, so another day is still a move.
    assert f"reschedule={reference}" in html and "day=2026-12-22" in html
    fragment = client.get(
        "/book", params=HOLD | params | {"day": "2026-12-22"}, headers={"HX-Request": "true"}
    )
    assert f'action="/bookings/{reference}/reschedule"' in fragment.text


def test_reschedule_mode_needs_the_right_token_and_place(client):
    pin_clock(client)
    booking = book_by_api(client)
    wrong_token = client.get("/book", params=HOLD | {"reschedule": booking["reference"], "token": "nope"})
    assert wrong_token.status_code == 404 and "No booking matches this link." in wrong_token.text
    elsewhere = client.get(
        "/book",
        params={
            "service": "eservice",
            "office": "tensta",
            "reschedule": booking["reference"],
            "token": booking["token"],
        },
    )
    assert elsewhere.status_code == 404
