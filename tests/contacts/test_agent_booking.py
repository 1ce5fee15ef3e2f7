"""Booking a visit for a caller from the agent console: recorded as made by phone by the agent, the
confirmation by text message, the call logged with the office's summary, the read-back script in
the caller's language; refusals that write nothing; moving and cancelling after the caller reads
the reference out."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select

from kontor.accounts.models import User
from kontor.booking.models import Booking, BookingEvent
from kontor.booking.references import normalize_reference
from kontor.contacts.models import Contact
from kontor.contacts.spelling import spell_reference
from kontor.i18n import current_locale, format_date
from kontor.notify.models import OutboxMessage
from tests.conftest import run_with_engine
from tests.contacts.agent_support import (
    CALLER,
    KISTA_NINE,
    audit_entries,
    book_for,
    counts,
    pin_clock,
    rows,
    slot,
    text_of,
)
from tests.helpers import logged_in, post_form

SUMMARY = "Needs help applying for housing allowance online; brings last year's tax return."


def _form(**changes: object) -> dict[str, object]:
    return {
        "console": "service=eservice&phone=070-123+45+67",
        "slot": slot("kista", KISTA_NINE),
        "name": "Anna Andersson",
        "phone": CALLER,
        "email": "",
        "language": "en",
        "needs": ["interpreter"],
        "category": "eservices",
        "summary": SUMMARY,
    } | changes


def _book(client, **changes: object) -> str:  # type: ignore[no-untyped-def]
    """Book through the console; the reference, from the address it sends the agent to."""
    response = post_form(client, "/agent/bookings", _form(**changes))
    assert response.status_code == 303, text_of(response.text)[:2000]
    found = re.fullmatch(r"/agent/bookings/([A-Z0-9]{4}-[A-Z0-9]{4})\?booked=1", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def _agent_id(settings) -> int:  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        return await db.scalar(select(User.id).where(User.username == "agent"))

    return run_with_engine(settings, work)  # type: ignore[return-value]


def test_a_visit_booked_for_a_caller_is_made_by_phone_by_the_agent_and_confirmed_by_sms(client, settings):
    logged_in(pin_clock(client), "agent")
    reference = _book(client)
    agent_id = _agent_id(settings)
    (booking,) = rows(settings, Booking)
    assert booking.reference == normalize_reference(reference)
    assert (booking.channel, booking.created_by_id, booking.status) == ("phone", agent_id, "booked")
    assert (booking.phone, booking.email, booking.language, booking.needs) == (
        CALLER,
        None,
        "en",
        ["interpreter"],
    )
    (event,) = rows(settings, BookingEvent, booking_id=booking.id)
    assert (event.action, event.channel, event.actor) == ("booked", "phone", "agent")
    # The confirmation: a text message in the outbox, no e-mail.
    (message,) = rows(settings, OutboxMessage)
    assert (message.channel, message.kind, message.recipient) == ("sms", "booked", CALLER)
    assert reference in message.body and message.language == "en"
    # The call, logged with the booking: the office's case.
    (contact,) = rows(settings, Contact)
    assert (contact.outcome, contact.category, contact.booking_id) == (
        "visit_booked",
        "eservices",
        booking.id,
    )
    assert (contact.summary, contact.agent_id, contact.channel) == (SUMMARY, agent_id, "phone")
    assert (contact.office_id, contact.needs, contact.phone) == (booking.office_id, ["interpreter"], CALLER)
    assert escape(SUMMARY) in client.get(f"/agent/bookings/{reference}").text


def test_the_read_back_spells_the_reference_in_the_callers_language(client, settings):
    logged_in(pin_clock(client), "agent")
    for minutes, language in ((0, "sv"), (20, "en"), (40, "fi")):
        reference = _book(
            client, language=language, slot=slot("kista", KISTA_NINE + timedelta(minutes=minutes))
        )
        page = client.get(f"/agent/bookings/{reference}", params={"booked": "1"})
        assert page.status_code == 200
        script = page.text.split('class="panel agent-read-back"')[1].split("</section>")[0]
        assert f'<div lang="{language}">' in script
        spelled = spell_reference(reference, language)
        assert len(spelled) == 8
        for character, word in spelled:
            assert f"<li><strong>{character}</strong> – {word}</li>" in script
        token = current_locale.set(language)
        try:
            day = format_date(KISTA_NINE.date(), "full")
        finally:
            current_locale.reset(token)
        assert day in script, language
        # The agent's own screen stays in the agent's language.
        assert "Read back to the caller" in page.text and "The visit is booked." in page.text


def test_every_view_of_a_booking_is_audited(client, settings):
    reference = book_for(settings)
    logged_in(pin_clock(client), "agent")
    assert client.get(f"/agent/bookings/{reference.lower()}").status_code == 200
    (entry,) = audit_entries(settings, "booking.viewed")
    assert (entry.entity, entry.entity_id, entry.channel, entry.actor) == (
        "booking",
        reference,
        "phone",
        "agent",
    )
    assert client.get("/agent/bookings/AAAA-AAAA").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": " "}, "name", "Enter your name."),
        ({"phone": "12"}, "phone", "Enter a valid phone number, like 070-123 45 67."),
        ({"phone": ""}, "phone", "Give an e-mail address or a phone number."),
        ({"slot": "kista|tomorrow"}, "slot", "Choose one of the free times."),
        ({"category": ""}, "category", "Choose what the call was about."),
        ({"summary": ""}, "summary", "Write a short summary of what the call was about."),
        # Not a start the office offers (Kista takes bookings on Tuesday mornings only).
        ({"slot": slot("kista", KISTA_NINE + timedelta(hours=5))}, "slot",
         "This time cannot be booked. Choose another time."),
        # Passes the booking's check (up to 40 characters) but not the contact's (up to 20 digits):
        # the booking made in the same transaction is rolled back with it.
        ({"phone": "0701234567 0701234567 07"}, "phone", "Enter a valid phone number, like 070-123 45 67."),
    ],
)  # fmt: skip
def test_a_refused_booking_keeps_the_form_and_writes_nothing(client, settings, changes, field, message):
    logged_in(pin_clock(client), "agent")
    before = counts(settings)
    response = post_form(client, "/agent/bookings", _form(**changes))
    assert response.status_code in (409, 422)
    assert re.search(rf'id="book-{field}-error">{re.escape(message)}<', response.text), text_of(response.text)
    assert counts(settings) == before
    # The form comes back as it was sent, for the agent to correct.
    assert 'value="Anna Andersson"' in response.text or changes.get("name")
    assert audit_entries(settings, "contact.logged") == []


def test_a_time_taken_meanwhile_is_refused_with_409_and_other_times_offered(client, settings):
    book_for(settings, phone="070-999 99 99")  # Kista's 09:00 has one seat
    logged_in(pin_clock(client), "agent")
    before = counts(settings)
    response = post_form(client, "/agent/bookings", _form())
    assert response.status_code == 409
    assert "This time has just been fully booked. Choose another time." in response.text
    assert counts(settings) == before
    assert 'name="slot" value="bromma|' in response.text  # the search is shown again, without it


# -- moving and cancelling --------------------------------------------------------------------------


def _booking(settings) -> Booking:  # type: ignore[no-untyped-def]
    (booking,) = rows(settings, Booking)
    return booking


MOVED = KISTA_NINE + timedelta(minutes=40)


def test_a_visit_is_not_moved_or_cancelled_without_the_right_reference(client, settings):
    reference = book_for(settings)
    logged_in(pin_clock(client), "agent")
    before = counts(settings)
    for verify in ("", "AAAA-AAAA"):
        form = {"verify": verify, "start": MOVED.isoformat()}
        moved = post_form(client, f"/agent/bookings/{reference}/reschedule", form)
        cancelled = post_form(client, f"/agent/bookings/{reference}/cancel", {"verify": verify})
        for response, name in ((moved, "reschedule"), (cancelled, "cancel")):
            assert response.status_code == 422
            assert f'id="{name}-verify-error">This is not the booking' in response.text
    booking = _booking(settings)
    assert (booking.starts_at, booking.status) == (KISTA_NINE, "booked")
    assert counts(settings) == before


def test_a_visit_is_moved_once_the_caller_reads_the_reference(client, settings):
    reference = book_for(settings)
    logged_in(pin_clock(client), "agent")
    spoken = reference.lower().replace("-", " ")
    response = post_form(
        client, f"/agent/bookings/{reference}/reschedule", {"verify": spoken, "start": MOVED.isoformat()}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/agent/bookings/{reference}?done=rescheduled"
    assert "The visit has a new time." in client.get(response.headers["location"]).text
    booking = _booking(settings)
    assert booking.starts_at == MOVED
    events = rows(settings, BookingEvent, booking_id=booking.id, action="rescheduled")
    assert [(event.channel, event.actor) for event in events] == [("phone", "agent")]
    (message,) = rows(settings, OutboxMessage, kind="rescheduled")
    assert (message.channel, message.recipient) == ("sms", CALLER)


def test_moving_to_a_time_that_is_not_free_says_so(client, settings):
    reference = book_for(settings)
    book_for(settings, start=MOVED, phone="070-999 99 99")
    logged_in(pin_clock(client), "agent")
    response = post_form(
        client, f"/agent/bookings/{reference}/reschedule", {"verify": reference, "start": MOVED.isoformat()}
    )
    assert response.status_code == 409
    assert 'id="reschedule-start-error">This time has just been fully booked.' in response.text
    (booking,) = rows(settings, Booking, reference=normalize_reference(reference))
    assert booking.starts_at == KISTA_NINE
    assert rows(settings, OutboxMessage, kind="rescheduled") == []


def test_a_visit_is_cancelled_once_the_caller_reads_the_reference(client, settings):
    reference = book_for(settings)
    logged_in(pin_clock(client), "agent")
    response = post_form(client, f"/agent/bookings/{reference}/cancel", {"verify": reference})
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "The visit is cancelled." in page.text and "Move the visit" not in page.text
    booking = _booking(settings)
    assert booking.status == "cancelled"
    (event,) = rows(settings, BookingEvent, booking_id=booking.id, action="cancelled")
    assert (event.channel, event.actor) == ("phone", "agent")
    (message,) = rows(settings, OutboxMessage, kind="cancelled")
    assert message.channel == "sms"
