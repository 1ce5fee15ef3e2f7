"""The waitlist's pages: the form (good and bad input, in English and Swedish), the entry's private
page, taking, declining and leaving, the same 404 for any unknown link, CSRF on every form, and the
way in from the booking flow where it finds no free times."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from kontor.booking.models import Booking
from kontor.notify.models import OutboxMessage
from kontor.waitlist.models import WaitlistEntry
from tests.booking_web.flow_support import set_service
from tests.conftest import run_with_engine
from tests.helpers import CSRF_FIELD, csrf_token, post_form
from tests.security import payloads
from tests.waitlist.support import NOW, STOCKHOLM, link_token, run_worker

FORM = {
    "service": "eservice",
    "office": "kista",
    "earliest": "2026-12-15",
    "latest": "2026-12-15",
    "name": "Anna Andersson",
    "email": "anna@example.se",
    "phone": "",
    "language": "en",
}
SWEDISH = {"Accept-Language": "sv"}


@pytest.fixture
def pinned(client):  # type: ignore[no-untyped-def]
    client.app.state.clock = lambda: NOW
    return client


def _rows(settings, model, **where):  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        query = select(model).filter_by(**where).order_by(model.id)
        return list(await db.scalars(query))

    return run_with_engine(settings, work)


def _join(client, **changes: str):  # type: ignore[no-untyped-def]
    return post_form(client, "/waitlist", FORM | changes)


def _joined(client, **changes: str) -> str:  # type: ignore[no-untyped-def]
    """Join through the form; the entry page's path."""
    response = _join(client, **changes)
    assert response.status_code == 303, response.text
    return response.headers["location"].split("?")[0]


def _offer_path(settings, recipient: str) -> str:  # type: ignore[no-untyped-def]
    [offer] = [m for m in _rows(settings, OutboxMessage, kind="waitlist_offer") if m.recipient == recipient]
    return f"/waitlist/{link_token(offer.body)}"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_the_form_comes_filled_in_for_the_office_and_the_horizon(pinned):  # type: ignore[no-untyped-def]
    page = pinned.get("/waitlist", params={"service": "eservice", "office": "kista"})
    assert page.status_code == 200
    html = page.text
    assert '<option value="eservice" selected>' in html and '<option value="kista" selected>' in html
    assert 'name="earliest" value="2026-12-14"' in html and 'name="latest" value="2027-02-12"' in html
    assert 'min="2026-12-14" max="2027-02-12"' in html
    assert f'name="{CSRF_FIELD}"' in html and '<label for="waitlist-name">' in html
    assert '<option value="">Any office</option>' in html
    # Only the offices that take bookings for the service are offered.
    assert 'value="tensta"' in html and 'value="bromma"' in html
    assert 'value="tensta"' not in pinned.get("/waitlist", params={"service": "finnish"}).text


def test_joining_leads_to_the_entrys_private_page(pinned, settings):  # type: ignore[no-untyped-def]
    response = _join(pinned)
    assert response.status_code == 303 and response.headers["location"].endswith("?done=joined")
    page = pinned.get(response.headers["location"])
    assert page.status_code == 200
    text = _text(page.text)
    assert "You are on the waitlist." in text and "We are sending a confirmation to anna@example.se." in text
    assert "You are number 1 in line for this service." in text and "Medborgarkontor Kista" in text
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    [entry] = _rows(settings, WaitlistEntry)
    assert (entry.name, entry.office_id is not None, entry.language, entry.status) == (
        "Anna Andersson",
        True,
        "en",
        "waiting",
    )
    [message] = _rows(settings, OutboxMessage, kind="waitlist_joined")
    token = response.headers["location"].split("?")[0].rsplit("/", 1)[1]
    assert (
        link_token(message.body) == token
        and "You are on the waitlist for Help with e-services." in message.body
    )

    second = _join(pinned, office="", name="Bo", email="bo@example.se")
    assert "You are number 2 in line" in _text(pinned.get(second.headers["location"]).text)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Enter your name."),
        ({"email": "anna-at-example"}, "email", "Enter a valid e-mail address"),
        ({"earliest": "2026-12-01"}, "earliest", "The first date cannot be in the past."),
        ({"earliest": "15.12.2026"}, "earliest", "Enter the first date you can come"),
        (
            {"latest": "2026-12-14", "earliest": "2026-12-15"},
            "latest",
            "The last date cannot be before the first",
        ),
        ({"latest": "2027-03-01"}, "latest", "Choose a last date no later than 12 February 2027"),
        ({"office": "tensta", "service": "budget"}, "office", "This office does not take bookings"),
        ({"service": ""}, "service", "Choose a service."),
    ],
)
def test_bad_input_is_shown_by_its_field(pinned, settings, changes, field, message):  # type: ignore[no-untyped-def]
    response = _join(pinned, **changes)
    assert response.status_code == 422
    assert message in response.text and f'href="#waitlist-{field}"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="Anna Andersson"' in response.text or field == "name"  # what was typed is kept
    assert _rows(settings, WaitlistEntry) == [] and _rows(settings, OutboxMessage) == []


def test_bad_input_in_swedish(pinned, settings):  # type: ignore[no-untyped-def]
    pinned.headers.update(SWEDISH)
    response = _join(pinned, name="", earliest="2026-12-01")
    assert response.status_code == 422
    assert '<html lang="sv">' in response.text and "Kontrollera dina uppgifter" in response.text
    assert 'href="#waitlist-name">Ange ditt namn.</a>' in response.text
    assert 'href="#waitlist-earliest">' in response.text
    assert _rows(settings, WaitlistEntry) == []


def test_joining_in_swedish_sends_swedish_messages(pinned, settings):  # type: ignore[no-untyped-def]
    pinned.headers.update(SWEDISH)
    page = pinned.get("/waitlist", params={"service": "eservice"})
    assert '<option value="sv" lang="sv" selected>' in page.text
    assert _joined(pinned, language="sv").startswith("/waitlist/")
    [message] = _rows(settings, OutboxMessage, kind="waitlist_joined")
    assert message.language == "sv" and message.body.startswith("Hej Anna Andersson,")


def test_the_same_contact_cannot_wait_twice_for_a_service(pinned, settings):  # type: ignore[no-untyped-def]
    _joined(pinned)
    again = _join(pinned, office="", email="ANNA@example.se")
    assert again.status_code == 422 and "You are already on the waitlist for this service." in again.text
    assert len(_rows(settings, WaitlistEntry)) == 1


def test_an_unknown_link_is_a_404(pinned):  # type: ignore[no-untyped-def]
    assert pinned.get("/waitlist/not-a-token").status_code == 404
    assert pinned.get("/waitlist/" + "x" * 300).status_code == 404
    for action in ("take", "decline", "leave"):
        assert post_form(pinned, f"/waitlist/not-a-token/{action}").status_code == 404


def test_every_form_needs_the_csrf_token(pinned, settings):  # type: ignore[no-untyped-def]
    csrf_token(pinned, "/waitlist")
    assert pinned.post("/waitlist", data=FORM, follow_redirects=False).status_code == 403
    path = _joined(pinned)
    for action in ("take", "decline", "leave"):
        assert pinned.post(f"{path}/{action}", data={}, follow_redirects=False).status_code == 403
    assert [e.status for e in _rows(settings, WaitlistEntry)] == ["waiting"]


def test_taking_an_offer_books_the_time(pinned, settings):  # type: ignore[no-untyped-def]
    own = _joined(pinned, phone="070-123 45 67")
    assert run_worker(settings, NOW + timedelta(minutes=1))["offered"] == 1
    offer = _offer_path(settings, "anna@example.se")

    for path in (offer, own):  # the offer's link and the entry's own open the same page
        page = _text(pinned.get(path).text)
        assert "A time is free for you" in page and "Tuesday 15 December at 09:00–09:20" in page
        assert "We hold this time for you until Monday 14 December 09:01." in page
    taken = post_form(pinned, f"{offer}/take")

    assert taken.status_code == 303
    location = taken.headers["location"]
    assert location.startswith("/bookings/") and "done=confirmed" in location
    booked = _text(pinned.get(location).text)
    assert "Your visit is booked." in booked and "Anna Andersson" in booked
    [booking] = [b for b in _rows(settings, Booking) if b.status == "booked"]
    assert (booking.name, booking.email, booking.phone, booking.channel) == (
        "Anna Andersson",
        "anna@example.se",
        "070-123 45 67",
        "web",
    )
    confirmations = _rows(settings, OutboxMessage, kind="booked")
    assert sorted(m.channel for m in confirmations) == ["email", "sms"]
    assert "You took the time offered to you." in _text(pinned.get(own).text)
    # A second click finds the offer taken: nothing more is booked.
    again = post_form(pinned, f"{offer}/take")
    assert again.status_code == 409 and "You have taken this time already." in again.text
    assert len([b for b in _rows(settings, Booking) if b.status == "booked"]) == 1


def test_an_offer_taken_too_late_is_refused_kindly(pinned, settings):  # type: ignore[no-untyped-def]
    _joined(pinned)
    run_worker(settings, NOW + timedelta(minutes=1))
    offer = _offer_path(settings, "anna@example.se")
    pinned.app.state.clock = lambda: NOW + timedelta(minutes=90)

    assert "is no longer held for you" in _text(pinned.get(offer).text)
    refused = post_form(pinned, f"{offer}/take")

    assert refused.status_code == 409
    assert "This offer is no longer held for you, so the time was not booked." in _text(refused.text)
    assert [b.status for b in _rows(settings, Booking)] == ["held"]  # the worker lets it go next round
    assert _rows(settings, OutboxMessage, kind="booked") == []


def test_declining_passes_the_time_to_the_next(pinned, settings):  # type: ignore[no-untyped-def]
    _joined(pinned)
    run_worker(settings, NOW + timedelta(minutes=1))
    offer = _offer_path(settings, "anna@example.se")
    _joined(pinned, name="Bo", email="bo@example.se")

    declined = post_form(pinned, f"{offer}/decline")

    assert declined.status_code == 303 and declined.headers["location"].endswith("?done=declined")
    assert "You declined the time, and have left the waitlist." in _text(
        pinned.get(declined.headers["location"]).text
    )
    assert [b.status for b in _rows(settings, Booking)] == ["expired"]
    assert run_worker(settings, NOW + timedelta(minutes=2))["offered"] == 1
    bo = _text(pinned.get(_offer_path(settings, "bo@example.se")).text)
    assert "A time is free for you" in bo and "09:00" in bo
    assert post_form(pinned, f"{offer}/decline").status_code == 303  # a second click changes nothing


def test_leaving_the_line(pinned, settings):  # type: ignore[no-untyped-def]
    path = _joined(pinned)
    nothing = post_form(pinned, f"{path}/decline")
    assert nothing.status_code == 409 and "nothing to decline" in nothing.text
    left = post_form(pinned, f"{path}/leave")
    assert left.status_code == 303 and left.headers["location"].endswith("?done=left")
    page = _text(pinned.get(left.headers["location"]).text)
    assert "You have left the waitlist." in page and "Join the waitlist again" in page
    assert [e.status for e in _rows(settings, WaitlistEntry)] == ["left"]
    assert post_form(pinned, f"{path}/leave").status_code == 303


def test_the_booking_flow_leads_to_the_waitlist_when_nothing_is_free(client, settings):  # type: ignore[no-untyped-def]
    # A Saturday noon with a day's horizon: no office has a free time.
    client.app.state.clock = lambda: datetime(2026, 12, 19, 12, 0, tzinfo=STOCKHOLM)
    set_service(settings, "eservice", horizon_days=1)

    place = client.get("/book", params={"service": "eservice"}).text
    assert 'href="/waitlist?service=eservice"' in place
    assert 'href="/waitlist?service=eservice&amp;office=kista"' in place
    times = client.get("/book", params={"service": "eservice", "office": "tensta"}).text
    assert (
        "No free times this month" in times and 'href="/waitlist?service=eservice&amp;office=tensta"' in times
    )
    form = client.get("/waitlist", params={"service": "eservice", "office": "tensta"})
    assert form.status_code == 200 and '<option value="tensta" selected>' in form.text


_HOSTILE = st.sampled_from(payloads.EVERYTHING) | st.text(max_size=40)
_FIELDS = {
    "service": st.sampled_from(["eservice", "budget", "consumer"]) | _HOSTILE,
    "office": st.sampled_from(["", "kista", "bromma"]) | _HOSTILE,
    "earliest": st.sampled_from(["2026-12-15", *payloads.DATES]) | st.dates().map(date.isoformat) | _HOSTILE,
    "latest": st.sampled_from(["2026-12-16", *payloads.DATES]) | st.dates().map(date.isoformat) | _HOSTILE,
    "name": st.sampled_from(["Anna"]) | _HOSTILE,
    "email": st.emails() | _HOSTILE,
    "phone": st.sampled_from(["", "070-123 45 67"]) | _HOSTILE,
    "language": st.sampled_from(["sv", "en", "fi"]) | _HOSTILE,
    "needs": st.lists(st.sampled_from(["interpreter", "parking"]) | _HOSTILE, max_size=2),
}


@hypothesis_settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(form=st.fixed_dictionaries({}, optional=_FIELDS))
def test_hostile_input_is_a_form_error_never_a_crash(pinned, form):  # type: ignore[no-untyped-def]
    response = post_form(pinned, "/waitlist", form)
    assert response.status_code in (303, 400, 422), response.status_code
    assert not any(unsafe in response.text for unsafe in payloads.UNSAFE)
