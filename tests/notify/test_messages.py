"""Confirmations of a booking: one message per way to reach the resident, in their language, with
what, where, when, the reference, and the private links only when the token is known."""

from __future__ import annotations

import pytest
from icalendar import Calendar
from sqlalchemy import select
from tests.notify.conftest import NOW, make_booking, outbox

from kontor.booking.models import Booking
from kontor.i18n import current_locale
from kontor.notify.messages import SMS_LIMIT, queue_booking_messages
from kontor.notify.models import OutboxMessage
from kontor.offices.models import Service


async def test_an_email_confirmation_tells_everything_the_visit_needs(
    city, write_session, read_session, settings
) -> None:
    booking, token = await make_booking(
        write_session, settings, language="en", needs=["interpreter", "computer_help"]
    )
    (message,) = await outbox(read_session)
    assert (message.channel, message.kind, message.status) == ("email", "booked", "pending")
    assert message.recipient == "anna@example.se"
    assert message.language == "en"
    assert (message.booking_id, message.office_id) == (booking.id, city.kista.id)
    assert message.next_attempt_at == NOW
    assert message.attempts == 0
    assert "Help with e-services" in message.subject
    assert "Tuesday, 15 December 2026" in message.subject
    body = message.body
    for text in (
        "Hello Anna Andersson,",
        "Your visit is booked.",
        "What: Help with e-services",
        "Where: Medborgarkontor Kista, Kistagången 1, 164 40 Kista",
        "When: Tuesday, 15 December 2026, 09:00–09:20",
        f"Booking reference: {booking.reference[:4]}-{booking.reference[4:]}",
        "You told us you need ",
        "an interpreter",
        "help with a computer",
        f"http://127.0.0.1:8000/bookings/{booking.reference[:4]}-{booking.reference[4:]}?token={token}",
        f"http://127.0.0.1:8000/bookings/{booking.reference[:4]}-{booking.reference[4:]}.ics?token={token}",
        "08-000 00 01",
    ):
        assert text in body, text
    calendar = Calendar.from_ical(message.calendar)
    assert calendar["METHOD"] == "PUBLISH"
    (event,) = calendar.walk("VEVENT")
    assert event["UID"] == f"{booking.reference}@kontor"
    assert event.decoded("DTSTART").hour == 9


@pytest.mark.parametrize(
    ("language", "service", "date"),
    [
        ("sv", "Hjälp med e-tjänster", "tisdag 15 december 2026"),
        ("fi", "Apua sähköisissä palveluissa", "tiistai 15. joulukuuta 2026"),
        ("en", "Help with e-services", "Tuesday, 15 December 2026"),
    ],
)
async def test_messages_are_in_the_language_of_the_booking(
    city, write_session, read_session, settings, language, service, date
) -> None:
    token = current_locale.set("en")
    try:
        await make_booking(write_session, settings, language=language, phone="070-123 45 67")
        # The caller's language is back as it was.
        assert current_locale.get() == "en"
    finally:
        current_locale.reset(token)
    email, sms = await outbox(read_session)
    assert (email.channel, sms.channel) == ("email", "sms")
    assert {email.language, sms.language} == {language}
    assert service in email.subject and date in email.subject
    assert service in sms.body
    assert sms.recipient == "070-123 45 67"
    assert sms.subject == "" and sms.calendar is None


async def test_a_text_message_is_short_and_keeps_the_link(
    city, write_session, read_session, settings
) -> None:
    async with write_session() as db, db.begin():
        service = await db.scalar(select(Service).where(Service.code == "eservice"))
        service.name_en = "A service with a very long name " * 5
    booking, token = await make_booking(
        write_session, settings, email=None, phone="+46701234567", language="en"
    )
    (sms,) = await outbox(read_session)
    assert sms.channel == "sms"
    assert len(sms.body) <= SMS_LIMIT
    assert f"?token={token}" in sms.body
    assert f"{booking.reference[:4]}-{booking.reference[4:]}" in sms.body
    assert "09:00" in sms.body


async def test_without_the_token_the_resident_is_sent_to_the_first_confirmation(
    city, write_session, read_session, settings
) -> None:
    booking, _token = await make_booking(
        write_session, settings, queue=False, phone="070-123 45 67", language="en"
    )
    async with write_session() as db, db.begin():
        stored = await db.get(Booking, booking.id)
        rows = queue_booking_messages(
            db, stored, "rescheduled", settings=settings, token=None, now=NOW, sequence=1
        )
    assert [row.kind for row in rows] == ["rescheduled", "rescheduled"]
    email, sms = await outbox(read_session)
    for message in (email, sms):
        assert "token=" not in message.body
    assert "use the link in your confirmation" in email.body
    assert "use the link in your confirmation" in sms.body
    assert "Your visit has been moved to a new time." in email.body
    (event,) = Calendar.from_ical(email.calendar).walk("VEVENT")
    assert event["SEQUENCE"] == 1
    assert "token" not in event["URL"]


async def test_a_cancellation_says_so_and_cancels_the_calendar_entry(
    city, write_session, read_session, settings
) -> None:
    booking, token = await make_booking(write_session, settings, queue=False, language="en")
    async with write_session() as db, db.begin():
        stored = await db.get(Booking, booking.id)
        queue_booking_messages(db, stored, "cancelled", settings=settings, token=token, now=NOW, sequence=2)
    (email,) = await outbox(read_session)
    assert email.kind == "cancelled"
    assert "cancelled" in email.subject
    assert "Your visit has been cancelled." in email.body
    assert "To book a new visit: http://127.0.0.1:8000/book" in email.body
    calendar = Calendar.from_ical(email.calendar)
    assert calendar["METHOD"] == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert event["STATUS"] == "CANCELLED"


async def test_an_unknown_event_is_refused(city, write_session, settings) -> None:
    booking, token = await make_booking(write_session, settings, queue=False)
    async with write_session() as db:
        stored = await db.get(Booking, booking.id)
        with pytest.raises(ValueError, match="unknown booking event"):
            queue_booking_messages(db, stored, "moved", settings=settings, token=token, now=NOW)
        assert not [obj for obj in db.new if isinstance(obj, OutboxMessage)]
