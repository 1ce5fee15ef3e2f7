"""Reminders, by an injected clock: exactly the visits due get one, once, by each way the resident
can be reached, in their language, with a private link that opens the booking."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from kontor.audit.models import Channel
from kontor.booking.models import Booking
from kontor.booking.services import cancel, reschedule
from kontor.db.engine import create_engine, writer
from kontor.notify.messages import SMS_LIMIT
from kontor.worker.reminders import queue_reminders
from tests.helpers import post_form
from tests.worker.conftest import BOOKED_AT, EARLY, MONDAY, NINE, add_bookings, book_visit, messages, minutes

ELEVEN = NINE + timedelta(hours=2)
PHONE = "070-123 45 67"
_LINK = re.compile(r"/bookings/([A-Z0-9]{4}-[A-Z0-9]{4})\?token=(\S+)")


async def set_status(write_session: Any, booking: Booking, **values: Any) -> None:
    async with write_session() as db, db.begin():
        await db.execute(update(Booking).where(Booking.id == booking.id).values(**values))


async def cancelled(write_session: Any, booking: Booking) -> None:
    async with write_session() as db, db.begin():
        row = await db.get(Booking, booking.id)
        await cancel(db, row, channel=Channel.WEB, actor="resident", now=BOOKED_AT + minutes(5))


async def booking_row(session_maker: Any, booking_id: int) -> Booking:
    async with session_maker() as db:
        return await db.get_one(Booking, booking_id)


AFTER = {
    "cancel": cancelled,
    "served": lambda ws, b: set_status(ws, b, status="served"),
    "checked_in": lambda ws, b: set_status(ws, b, status="checked_in"),
    "purge": lambda ws, b: set_status(ws, b, purged_at=BOOKED_AT + minutes(1), name="", email=None),
}

# (case, visit starts, booked at, the worker's now, contacts, what happened after, reminder hours,
#  channels reminded)
CASES = [
    ("due tomorrow", NINE, BOOKED_AT, MONDAY, "email", None, 24, ["email"]),
    ("due in two hours", ELEVEN, BOOKED_AT, NINE, "email", None, 24, ["email"]),
    ("due exactly now", NINE, BOOKED_AT, NINE - timedelta(hours=24), "email", None, 24, ["email"]),
    ("a second early", NINE, BOOKED_AT, NINE - timedelta(hours=24, seconds=1), "email", None, 24, []),
    ("in three days", NINE, BOOKED_AT, NINE - timedelta(days=3), "email", None, 24, []),
    ("has begun", NINE, BOOKED_AT, NINE, "email", None, 24, []),
    ("booked within the lead", NINE, MONDAY + minutes(60), MONDAY + minutes(61), "email", None, 24, []),
    ("cancelled", NINE, BOOKED_AT, MONDAY, "email", "cancel", 24, []),
    ("checked in", NINE, BOOKED_AT, MONDAY, "email", "checked_in", 24, []),
    ("served", NINE, BOOKED_AT, MONDAY, "email", "served", 24, []),
    ("purged", NINE, BOOKED_AT, MONDAY, "email", "purge", 24, []),
    ("reminders off", NINE, BOOKED_AT, MONDAY, "email", None, 0, []),
    ("text message only", NINE, BOOKED_AT, MONDAY, "sms", None, 24, ["sms"]),
    ("e-mail and text message", NINE, BOOKED_AT, MONDAY, "both", None, 24, ["email", "sms"]),
    ("two hours ahead, told so", ELEVEN, BOOKED_AT, NINE + minutes(1), "email", None, 2, ["email"]),
    ("two hours ahead, not yet", ELEVEN, BOOKED_AT, NINE - minutes(1), "email", None, 2, []),
]


@pytest.mark.parametrize(
    ("start", "booked_at", "now", "contacts", "after", "hours", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_exactly_the_due_visits_are_reminded_once(
    city, write_session, read_session, settings, start, booked_at, now, contacts, after, hours, expected
) -> None:
    contact = {
        "email": {"email": "anna@example.se"},
        "sms": {"email": None, "phone": PHONE},
        "both": {"phone": PHONE},
    }[contacts]
    booking, _token = await book_visit(write_session, at=booked_at, start=start, **contact)
    if after:
        await AFTER[after](write_session, booking)
    settings = dataclasses.replace(settings, reminder_hours=hours)

    first = await queue_reminders(write_session, settings, now)
    again = await queue_reminders(write_session, settings, now)
    later = await queue_reminders(write_session, settings, now + minutes(1)) if expected else 0

    assert (first, again, later) == (1 if expected else 0, 0, 0)
    reminders = await messages(read_session, "reminder")
    assert sorted(message.channel for message in reminders) == expected
    assert all(message.booking_id == booking.id and message.status == "pending" for message in reminders)
    row = await booking_row(read_session, booking.id)
    assert (row.reminder_token_hash is not None) == bool(expected)
    if expected:
        assert row.reminded_at == now
        # The reminder is no change of the visit: feeds that watch updated_at stay as they were.
        assert row.updated_at == booked_at


async def test_a_visit_booked_within_the_lead_is_marked_without_a_message(
    city, write_session, settings
) -> None:
    booking, _token = await book_visit(write_session, at=MONDAY + minutes(60))
    assert await queue_reminders(write_session, settings, MONDAY + minutes(61)) == 0
    row = await booking_row(write_session, booking.id)
    assert row.reminded_at == MONDAY + minutes(61)
    assert row.reminder_token_hash is None


@pytest.mark.parametrize(
    ("language", "hello", "service", "date", "day"),
    [
        (
            "sv",
            "Hej Anna Andersson,",
            "Hjälp med e-tjänster",
            "tisdag 15 december 2026",
            "tisdag 15 december",
        ),
        (
            "en",
            "Hello Anna Andersson,",
            "Help with e-services",
            "Tuesday, 15 December 2026",
            "Tuesday 15 December",
        ),
        (
            "fi",
            "Hei Anna Andersson,",
            "Apua sähköisissä palveluissa",
            "tiistai 15. joulukuuta 2026",
            "tiistai 15.",
        ),
    ],
)
async def test_reminders_speak_the_language_of_the_booking(
    city, write_session, read_session, settings, language, hello, service, date, day
) -> None:
    booking, _token = await book_visit(
        write_session, language=language, phone=PHONE, needs=["interpreter"], start=ELEVEN
    )
    assert await queue_reminders(write_session, settings, ELEVEN - timedelta(hours=23)) == 1
    email, sms = await messages(read_session, "reminder")
    assert (email.channel, sms.channel) == ("email", "sms")
    assert {email.language, sms.language} == {language}
    assert (email.recipient, sms.recipient) == ("anna@example.se", PHONE)
    assert service in email.subject and date in email.subject
    reference = f"{booking.reference[:4]}-{booking.reference[4:]}"
    for text in (hello, service, date, "11:00", "Kistagången 1", reference, "08-000 00 01"):
        assert text in email.body, text
    assert email.calendar is None
    for text in (service[:10], day, "11:00", "Kistagången 1", reference):
        assert text in sms.body, text
    assert len(sms.body) <= SMS_LIMIT
    # The same new link in both.
    assert _LINK.search(email.body).groups() == _LINK.search(sms.body).groups()


async def test_the_reminder_tells_the_needs_and_the_way_to_cancel(
    city, write_session, read_session, settings
) -> None:
    await book_visit(write_session, language="en", needs=["interpreter", "accessibility"])
    await queue_reminders(write_session, settings, MONDAY)
    (email,) = await messages(read_session, "reminder")
    assert email.subject.startswith("Reminder of your visit: Help with e-services")
    for text in (
        "This is a reminder of your visit.",
        "When: Tuesday, 15 December 2026, 09:00–09:20",
        "You told us you need accessibility (for example step-free access), an interpreter.",
        "If you cannot come, please cancel",
        "To see, change or cancel your visit: http://127.0.0.1:8000/bookings/",
        ".ics?token=",
    ):
        assert text in email.body, text


async def _move(write_session: Any, booking_id: int, start: datetime, now: datetime) -> None:
    async with write_session() as db, db.begin():
        row = await db.get_one(Booking, booking_id)
        await reschedule(db, row, start, channel=Channel.WEB, actor="resident", now=now)


async def test_a_moved_visit_is_reminded_again_once(city, write_session, read_session, settings) -> None:
    booking, _token = await book_visit(write_session)
    assert await queue_reminders(write_session, settings, MONDAY) == 1
    first_hash = (await booking_row(read_session, booking.id)).reminder_token_hash

    # Moved a week on, after the reminder: reminded again the day before the new time, once.
    next_week = NINE + timedelta(days=7)
    await _move(write_session, booking.id, next_week, MONDAY + minutes(30))
    assert (await booking_row(read_session, booking.id)).reminded_at is None
    assert await queue_reminders(write_session, settings, MONDAY + minutes(31)) == 0
    assert await queue_reminders(write_session, settings, next_week - timedelta(hours=23)) == 1
    assert await queue_reminders(write_session, settings, next_week - timedelta(hours=22)) == 0
    reminders = await messages(read_session, "reminder")
    assert len(reminders) == 2
    assert "tisdag 22 december" in reminders[1].subject
    assert (await booking_row(read_session, booking.id)).reminder_token_hash != first_hash


async def test_a_visit_moved_into_the_lead_is_not_reminded(
    city, write_session, read_session, settings
) -> None:
    booking, _token = await book_visit(write_session, start=NINE + timedelta(days=7))
    # Moved on Monday to Tuesday morning: the confirmation of the move is the reminder.
    await _move(write_session, booking.id, NINE, MONDAY)
    assert await queue_reminders(write_session, settings, MONDAY + minutes(1)) == 0
    assert await messages(read_session, "reminder") == []


async def test_a_backlog_is_worked_off_in_batches(
    city, write_session, read_session, settings, monkeypatch
) -> None:
    monkeypatch.setattr("kontor.worker.reminders.BATCH", 4)
    ids = await add_bookings(write_session, city, 10)
    assert await queue_reminders(write_session, settings, EARLY) == 10
    assert sorted(message.booking_id for message in await messages(read_session, "reminder")) == sorted(ids)


def _setup(settings: Any, work: Any) -> Any:
    async def main() -> Any:
        engine = create_engine(settings)
        try:
            return await work(async_sessionmaker(writer(engine), expire_on_commit=False))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def test_the_reminder_link_opens_and_changes_the_booking(client, app, settings) -> None:
    async def remind(maker: Any) -> tuple[str, str, str]:
        _booking, token = await book_visit(maker, language="en")
        await queue_reminders(maker, settings, MONDAY)
        (email,) = await messages(maker, "reminder")
        reference, link_token = _LINK.search(email.body).groups()
        return reference, link_token, token

    reference, link_token, token = _setup(settings, remind)
    app.state.clock = lambda: MONDAY
    path = f"/bookings/{reference}"
    page = client.get(path, params={"token": link_token})
    assert page.status_code == 200 and reference in page.text
    # The confirmation's link still opens it too; a wrong token does not.
    assert client.get(path, params={"token": token}).status_code == 200
    assert client.get(path, params={"token": link_token + "x"}).status_code == 404

    # Moved through the reminder's link: the resident lands on the booking, still by that link.
    next_week = (NINE + timedelta(days=7)).isoformat()
    moved = post_form(client, f"{path}/reschedule", {"token": link_token, "start": next_week})
    assert moved.status_code == 303
    assert client.get(moved.headers["location"]).status_code == 200

    async def reminded(maker: Any) -> list[str | None]:
        async with maker() as db:
            row = await db.scalar(select(Booking))
        return [None if row.reminded_at is None else "reminded"]

    assert _setup(settings, reminded) == [None]
