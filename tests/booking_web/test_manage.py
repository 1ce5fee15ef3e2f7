"""A booking's private page: the details of a held time, the confirmation, moving and cancelling the
visit, its .ics, and the same 404 for a wrong link as for an unknown one."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from kontor.audit.models import Channel
from kontor.booking import holds
from kontor.booking.models import Booking
from kontor.booking.references import format_reference
from kontor.notify.models import OutboxMessage
from tests.conftest import run_with_engine
from tests.helpers import post_form

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
NINE = datetime(2026, 12, 15, 9, 0, tzinfo=STOCKHOLM)
DETAILS = {"name": "Anna Andersson", "email": "anna@example.se", "phone": "", "language": "en"}


@pytest.fixture
def held(client, settings):  # type: ignore[no-untyped-def]
    """A time held through the service, as the flow's "choose this time" button does: (path, token)."""
    client.app.state.clock = lambda: NOW

    async def work(db):  # type: ignore[no-untyped-def]
        booking, token = await holds.hold(
            db, office_slug="kista", service_code="eservice", start=NINE,
            channel=Channel.WEB, actor="resident", now=NOW,
        )  # fmt: skip
        return format_reference(booking.reference), token

    reference, token = run_with_engine(settings, work)
    return f"/bookings/{reference}", token


def _rows(settings, model, **where):  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        query = select(model).filter_by(**where) if where else select(model)
        return list(await db.scalars(query))

    return run_with_engine(settings, work)


def _confirm(client, held, **changes: object):  # type: ignore[no-untyped-def]
    path, token = held
    return post_form(client, f"{path}/confirm", {"token": token, **DETAILS, **changes})


def test_a_held_time_asks_for_the_details(client, held):
    path, token = held
    page = client.get(path, params={"token": token})
    assert page.status_code == 200
    assert "Who is coming?" in page.text and "We hold this time for you until 08:10" in page.text
    assert 'name="needs" value="interpreter"' in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"


def test_a_wrong_link_and_an_unknown_booking_look_the_same(client, held):
    path, token = held
    wrong = client.get(path, params={"token": "not-it"})
    unknown = client.get("/bookings/AAAA-AAAA", params={"token": token})
    missing = client.get(path)
    assert wrong.status_code == unknown.status_code == missing.status_code == 404
    assert post_form(client, f"{path}/confirm", {"token": "not-it", **DETAILS}).status_code == 404


def test_confirming_books_the_visit_and_queues_the_confirmation(client, held, settings):
    path, token = held
    response = _confirm(client, held, needs=["interpreter"], phone="070-123 45 67")
    assert response.status_code == 303
    assert response.headers["location"].endswith("done=confirmed")
    page = client.get(response.headers["location"])
    assert "Your visit is booked." in page.text and path.rsplit("/", 1)[1] in page.text
    assert "I need an interpreter" in page.text and "Add to my calendar" in page.text
    [booking] = _rows(settings, Booking)
    assert (booking.status, booking.name, booking.needs) == ("booked", "Anna Andersson", ["interpreter"])
    messages = _rows(settings, OutboxMessage, booking_id=booking.id)
    assert sorted((m.channel, m.kind) for m in messages) == [("email", "booked"), ("sms", "booked")]
    assert token in next(m.body for m in messages if m.channel == "email")  # the manage link
    assert _confirm(client, held).status_code == 303  # a second click changes nothing
    assert len(_rows(settings, OutboxMessage)) == 2


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": " "}, "name", "Enter your name."),
        ({"email": "anna-at-example"}, "email", "Enter a valid e-mail address"),
        ({"email": ""}, "email", "Give an e-mail address or a phone number."),
        ({"language": "de"}, "language", "Choose Swedish, English or Finnish."),
        ({"needs": ["parking"]}, "needs", "Choose needs from the list."),
    ],
)
def test_bad_details_are_shown_next_to_the_field(client, held, settings, changes, field, message):
    response = _confirm(client, held, **changes)
    assert response.status_code == 422
    assert message in response.text and f'href="#visitor-{field}"' in response.text
    assert [b.status for b in _rows(settings, Booking)] == ["held"]


def test_a_hold_that_ran_out_is_still_confirmed_while_the_time_is_free(client, held, settings):
    client.app.state.clock = lambda: NOW + timedelta(minutes=30)
    path, token = held
    assert "no longer held for you" in client.get(path, params={"token": token}).text
    assert _confirm(client, held).status_code == 303
    assert [b.status for b in _rows(settings, Booking)] == ["booked"]


def test_a_hold_that_ran_out_and_was_taken_is_refused_kindly(client, held, settings):
    later = NOW + timedelta(minutes=30)
    client.app.state.clock = lambda: later
    taken = client.post(
        "/api/v1/bookings",
        json={
            "office": "kista",
            "service": "eservice",
            "start": NINE.isoformat(),
            "name": "B",
            "email": "b@x.se",
        },
    )
    assert taken.status_code == 201
    response = _confirm(client, held)
    assert response.status_code == 409
    assert "taken while you were away" in response.text and "Choose another time" in response.text


def test_letting_a_hold_go_returns_to_the_times(client, held, settings):
    path, token = held
    response = post_form(client, f"{path}/cancel", {"token": token})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/book?service=eservice&office=kista&day=2026-12-15")
    assert [b.status for b in _rows(settings, Booking)] == ["expired"]
    assert _rows(settings, OutboxMessage) == []


def test_the_visit_as_a_calendar_file(client, held):
    path, token = held
    assert client.get(f"{path}.ics", params={"token": token}).status_code == 404  # not booked yet
    _confirm(client, held)
    response = client.get(f"{path}.ics", params={"token": token})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    event = icalendar.Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == NINE and str(event["status"]) == "CONFIRMED"
    assert client.get(f"{path}.ics", params={"token": "wrong"}).status_code == 404


def test_moving_the_visit(client, held, settings):
    path, token = held
    _confirm(client, held)
    page = client.get(path, params={"token": token})
    assert "reschedule=" in page.text and "Change the time" in page.text
    new_start = (NINE + timedelta(minutes=20)).isoformat()
    response = post_form(client, f"{path}/reschedule", {"token": token, "start": new_start})
    assert response.status_code == 303 and response.headers["location"].endswith("done=rescheduled")
    [booking] = _rows(settings, Booking)
    assert booking.starts_at == NINE + timedelta(minutes=20)
    kinds = sorted(m.kind for m in _rows(settings, OutboxMessage))
    assert kinds == ["booked", "rescheduled"]
    ics = client.get(f"{path}.ics", params={"token": token})
    assert icalendar.Calendar.from_ical(ics.content).walk("VEVENT")[0]["sequence"] == 1

    assert post_form(client, f"{path}/reschedule", {"token": token, "start": "soon"}).status_code == 422
    refused = post_form(client, f"{path}/reschedule", {"token": token, "start": "2026-12-15T03:00:00+01:00"})
    assert refused.status_code == 409 and "This time cannot be booked" in refused.text


def test_cancelling_the_visit(client, held, settings):
    path, token = held
    _confirm(client, held)
    response = post_form(client, f"{path}/cancel", {"token": token})
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "Your visit is cancelled." in page.text and "Book a new time" in page.text
    assert "Cancel my visit" not in page.text
    assert sorted(m.kind for m in _rows(settings, OutboxMessage)) == ["booked", "cancelled"]
    ics = client.get(f"{path}.ics", params={"token": token})
    assert str(icalendar.Calendar.from_ical(ics.content).walk("VEVENT")[0]["status"]) == "CANCELLED"


def test_the_page_speaks_swedish(client, held):
    path, token = held
    _confirm(client, held)
    page = client.get(path, params={"token": token}, headers={"Accept-Language": "sv"})
    assert '<html lang="sv">' in page.text
    assert "Din bokning" in page.text
