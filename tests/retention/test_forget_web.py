"""A resident deletes their own details from the booking's page: an upcoming visit is cancelled (its
seat freed, the change recorded) and no message goes out, a past visit just loses the details, and
the old link then answers 404. A confirmation is needed, the CSRF token too, and the right link."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from kontor.audit.models import AuditEntry, Channel
from kontor.booking.models import Booking, BookingEvent
from kontor.booking.references import format_reference
from kontor.booking.services import book
from kontor.notify.messages import queue_booking_messages
from kontor.notify.models import OutboxMessage
from tests.conftest import run_with_engine
from tests.helpers import post_form

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
NINE = datetime(2026, 12, 15, 9, 0, tzinfo=STOCKHOLM)  # Kista's Tuesday appointment hours
NAME, EMAIL = "Anna Andersson", "anna@example.se"


@pytest.fixture
def booked(client: Any, settings: Any) -> tuple[str, str, int]:
    """A visit booked on the web for tomorrow at nine, its confirmation waiting in the outbox:
    the page's path, the token, the booking's id."""
    client.app.state.clock = lambda: NOW

    async def work(db: Any) -> tuple[str, str, int]:
        booking, token = await book(
            db, office_slug="kista", service_code="eservice", start=NINE, name=NAME, email=EMAIL,
            needs=["interpreter"], channel=Channel.WEB, actor="resident", now=NOW,
        )  # fmt: skip
        queue_booking_messages(db, booking, "booked", settings=settings, token=token, now=NOW)
        return f"/bookings/{format_reference(booking.reference)}", token, booking.id

    return run_with_engine(settings, work)  # type: ignore[return-value]


def fetch(settings: Any, query: Any) -> list[Any]:
    async def work(db: Any) -> list[Any]:
        return list(await db.scalars(query))

    return run_with_engine(settings, work)  # type: ignore[return-value]


def stored(settings: Any, booking_id: int) -> Booking:
    (booking,) = fetch(settings, select(Booking).where(Booking.id == booking_id))
    return booking


def test_the_page_offers_to_delete_and_says_the_visit_is_cancelled_too(client, booked) -> None:  # type: ignore[no-untyped-def]
    path, token, _id = booked
    page = client.get(path, params={"token": token})
    assert page.status_code == 200
    assert "Delete my details" in page.text
    assert "will be cancelled too" in page.text and "Yes, cancel my visit and delete my details" in page.text
    assert f'action="{path}/forget"' in page.text and 'name="confirm" value="yes" required' in page.text


def test_deleting_the_details_of_an_upcoming_visit(client, booked, settings) -> None:  # type: ignore[no-untyped-def]
    path, token, booking_id = booked
    response = post_form(client, f"{path}/forget", {"token": token, "confirm": "yes"})
    assert response.status_code == 303 and response.headers["location"] == "/bookings/forgotten"
    done = client.get(response.headers["location"])
    assert done.status_code == 200 and "Your details have been deleted" in done.text
    assert NAME not in done.text and done.headers["cache-control"] == "no-store"

    booking = stored(settings, booking_id)
    assert (booking.status, booking.cancelled_at, booking.purged_at) == ("cancelled", NOW, NOW)
    assert (booking.name, booking.email, booking.phone, booking.contact_key, booking.needs) == (
        "",
        None,
        None,
        None,
        [],
    )
    events = fetch(
        settings, select(BookingEvent).where(BookingEvent.booking_id == booking_id).order_by(BookingEvent.id)
    )
    by_resident = [(action, "resident", "web", NOW) for action in ("booked", "cancelled", "purged")]
    assert [(e.action, e.actor, e.channel, e.at) for e in events] == by_resident
    # The confirmation waiting to go out is gone, and no cancellation was queued to the deleted address.
    assert fetch(settings, select(OutboxMessage)) == []
    (audit,) = fetch(settings, select(AuditEntry).where(AuditEntry.action == "booking.purged"))
    assert (audit.actor, audit.channel, audit.entity_id) == ("resident", "web", str(booking_id))
    assert NAME not in repr(audit.changes) and EMAIL not in repr(audit.changes)
    # The old link is now like any unknown one.
    assert client.get(path, params={"token": token}).status_code == 404
    assert post_form(client, f"{path}/forget", {"token": token, "confirm": "yes"}).status_code == 404

    # The seat is free: once the pause after a cancellation is over, someone else books it.
    client.app.state.clock = lambda: NOW + timedelta(minutes=settings.cancel_release_minutes + 1)
    again = client.post(
        "/api/v1/bookings",
        json={
            "office": "kista",
            "service": "eservice",
            "start": NINE.isoformat(),
            "name": "B",
            "email": "b@x.se",
        },
    )
    assert again.status_code == 201


def test_deleting_the_details_of_a_past_visit(client, booked, settings) -> None:  # type: ignore[no-untyped-def]
    path, token, booking_id = booked
    run_with_engine(settings, lambda db: db.execute(update(Booking).values(status="served")))
    client.app.state.clock = lambda: NINE + timedelta(days=2)
    page = client.get(path, params={"token": token})
    assert "Delete my details" in page.text and "will be cancelled too" not in page.text

    response = post_form(client, f"{path}/forget", {"token": token, "confirm": "yes"})

    assert response.status_code == 303
    booking = stored(settings, booking_id)
    assert (booking.status, booking.cancelled_at, booking.name, booking.email) == ("served", None, "", None)
    assert booking.purged_at == NINE + timedelta(days=2)
    actions = fetch(settings, select(BookingEvent.action).where(BookingEvent.booking_id == booking_id))
    assert sorted(actions) == ["booked", "purged"]
    assert client.get(path, params={"token": token}).status_code == 404


@pytest.mark.parametrize("language", ["en", "sv"])
def test_without_the_confirmation_nothing_is_deleted(client, booked, settings, language) -> None:  # type: ignore[no-untyped-def]
    path, token, booking_id = booked
    response = post_form(client, f"{path}/forget", {"token": token}, headers={"Accept-Language": language})
    assert response.status_code == 422
    assert f'<html lang="{language}"' in response.text and 'id="forget-error"' in response.text
    assert (
        'aria-describedby="forget-error"' in response.text
        and '<details class="confirm-forget" open>' in response.text
    )
    if language == "en":
        assert "Tick the box to confirm that your details may be deleted." in response.text
    booking = stored(settings, booking_id)
    assert (booking.status, booking.name, booking.purged_at) == ("booked", NAME, None)


def test_a_visit_under_way_keeps_its_details(client, booked, settings) -> None:  # type: ignore[no-untyped-def]
    path, token, booking_id = booked
    run_with_engine(settings, lambda db: db.execute(update(Booking).values(status="checked_in")))
    assert "Delete my details" not in client.get(path, params={"token": token}).text
    response = post_form(client, f"{path}/forget", {"token": token, "confirm": "yes"})
    assert response.status_code == 409 and "under way" in response.text
    assert stored(settings, booking_id).name == NAME


def test_the_csrf_token_and_the_right_link_are_needed(client, booked, settings) -> None:  # type: ignore[no-untyped-def]
    path, token, booking_id = booked
    client.get(path, params={"token": token})  # the CSRF cookie is set, but the form's token is left out
    no_csrf = client.post(f"{path}/forget", data={"token": token, "confirm": "yes"}, follow_redirects=False)
    assert no_csrf.status_code == 403
    wrong_token = post_form(client, f"{path}/forget", {"token": "not-it", "confirm": "yes"})
    assert wrong_token.status_code == 404
    unknown = post_form(client, "/bookings/AAAA-AAAA/forget", {"token": token, "confirm": "yes"})
    assert unknown.status_code == 404
    booking = stored(settings, booking_id)
    assert (booking.status, booking.name, booking.purged_at) == ("booked", NAME, None)


def test_a_cancelled_visit_can_have_its_details_deleted_too(client, booked, settings) -> None:  # type: ignore[no-untyped-def]
    path, token, booking_id = booked
    assert post_form(client, f"{path}/cancel", {"token": token}).status_code == 303
    page = client.get(path, params={"token": token}).text
    assert "Delete my details" in page and "will be cancelled too" not in page
    assert post_form(client, f"{path}/forget", {"token": token, "confirm": "yes"}).status_code == 303
    booking = stored(settings, booking_id)
    assert (booking.status, booking.name, booking.purged_at) == ("cancelled", "", NOW)
    assert fetch(settings, select(OutboxMessage)) == []  # the cancellation's message too
