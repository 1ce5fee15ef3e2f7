"""Contacts: what logging a call accepts and refuses, the case that follows a booking, call-backs in
the office's list, and looking up a caller (always audited, never with the number)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.exceptions import NotFoundException, PermissionDeniedException
from sqlalchemy import select, update

from kontor.accounts.models import User
from kontor.audit.models import AuditEntry, Channel
from kontor.booking.models import Booking, BookingStatus
from kontor.booking.references import format_reference, new_reference
from kontor.booking.services import book
from kontor.contacts.models import Contact
from kontor.contacts.services import (
    CATEGORY_LABELS,
    OUTCOME_LABELS,
    SUMMARY_MAX,
    ContactError,
    callbacks_done_today,
    contact_for_booking,
    handoffs,
    log_contact,
    lookup_caller,
    mark_callback_done,
    office_callbacks,
    open_callbacks,
    request_callback_due,
)
from kontor.offices.models import Office, Service

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
NINE = datetime(2026, 12, 15, 9, 0, tzinfo=STOCKHOLM)  # Kista's Tuesday appointment hours begin
PHONE = "070-123 45 67"
KEY = "0701234567"


async def _user(db: Any, name: str) -> User:
    user = await db.scalar(select(User).where(User.username == name))
    assert user is not None
    return user


async def _office(db: Any, slug: str) -> Office:
    office = await db.scalar(select(Office).where(Office.slug == slug))
    assert office is not None
    return office


async def _log(db: Any, settings: Any, **overrides: Any) -> Contact:
    arguments: dict[str, Any] = {
        "agent": await _user(db, "agent"),
        "channel": Channel.PHONE,
        "category": "eservices",
        "outcome": "solved",
        "summary": "Wanted to know how to log in to the e-service.",
        "now": NOW,
        "settings": settings,
    } | overrides
    return await log_contact(db, **arguments)


async def _phone_booking(db: Any, **overrides: Any) -> Booking:
    """A visit at Kista booked by the agent for a caller, as the console does."""
    arguments: dict[str, Any] = {
        "office_slug": "kista",
        "service_code": "eservice",
        "start": NINE,
        "name": "Anna Andersson",
        "phone": PHONE,
        "language": "fi",
        "needs": ["interpreter"],
        "channel": Channel.PHONE,
        "actor": await _user(db, "agent"),
        "now": NOW,
    } | overrides
    booking, _token = await book(db, **arguments)
    return booking


async def _stored_booking(
    db: Any,
    start: datetime,
    *,
    phone: str | None = None,
    email: str | None = None,
    status: BookingStatus = BookingStatus.BOOKED,
    seat: int = 1,
) -> Booking:
    """A booking written directly (past visits, holds), with the contact key the booking service makes."""
    office = await _office(db, "kista")
    service = await db.scalar(select(Service).where(Service.code == "eservice"))
    key = email.lower() if email else "".join(c for c in phone or "" if c.isdigit()) or None
    booking = Booking(
        reference=new_reference(),
        token_hash="0" * 64,
        office_id=office.id,
        service_id=service.id,
        starts_at=start.astimezone(UTC),
        ends_at=(start + timedelta(minutes=20)).astimezone(UTC),
        seat=seat,
        status=status.value,
        hold_expires_at=NOW + timedelta(minutes=10) if status == BookingStatus.HELD else None,
        name="Anna Andersson",
        email=email,
        phone=phone,
        contact_key=key,
        language="sv",
        needs=[],
        channel="web",
    )
    db.add(booking)
    await db.flush()
    return booking


async def _audit(db: Any, action: str) -> list[AuditEntry]:
    return list(
        await db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
    )


def test_labels_cover_every_value_in_display_order() -> None:
    assert list(OUTCOME_LABELS) == ["solved", "visit_booked", "forwarded", "callback"]
    assert list(CATEGORY_LABELS) == [
        "information", "eservices", "forms", "benefits", "housing", "budget", "other",
    ]  # fmt: skip
    assert OUTCOME_LABELS["callback"] == "Call-back requested"
    assert CATEGORY_LABELS["budget"] == "Budget and debt advice"


LATER = NOW + timedelta(hours=3)
REFUSED: list[tuple[dict[str, Any], tuple[str, str]]] = [
    ({"category": "astrology"}, ("invalid", "category")),
    ({"outcome": "maybe"}, ("invalid", "outcome")),
    ({"summary": "  \n "}, ("invalid", "summary")),
    ({"summary": "x" * (SUMMARY_MAX + 1)}, ("invalid", "summary")),
    ({"outcome": "visit_booked"}, ("invalid", "booking")),
    ({"outcome": "forwarded"}, ("invalid", "office")),
    ({"outcome": "callback", "phone": PHONE}, ("invalid", "office")),
    ({"outcome": "callback", "office": "kista"}, ("invalid", "phone")),
    ({"outcome": "callback", "office": "kista", "phone": "12-34"}, ("invalid", "phone")),
    ({"outcome": "callback", "office": "kista", "phone": "1" * 21}, ("invalid", "phone")),
    ({"phone": "call me later"}, ("invalid", "phone")),
    ({"language": "de"}, ("invalid", "language")),
    ({"needs": ["interpreter", "parking"]}, ("invalid", "needs")),
    (
        {
            "outcome": "callback",
            "office": "kista",
            "phone": PHONE,
            "callback_due_at": NOW - timedelta(minutes=1),
        },
        ("invalid", "callback_due_at"),
    ),
    (
        {
            "outcome": "callback",
            "office": "kista",
            "phone": PHONE,
            "callback_due_at": LATER.replace(tzinfo=None),
        },
        ("invalid", "callback_due_at"),
    ),
    ({"office_id": 999_999}, ("not_found", "office")),
    ({"service_id": 999_999}, ("not_found", "service")),
]


async def test_refusals_name_the_field_and_write_nothing(city, write_session, read_session, settings) -> None:  # type: ignore[no-untyped-def]
    for overrides, expected in REFUSED:
        async with write_session() as db, db.begin():
            if "office" in overrides:
                overrides = {k: v for k, v in overrides.items() if k != "office"}
                overrides["office_id"] = (await _office(db, "kista")).id
            with pytest.raises(ContactError) as refused:
                await _log(db, settings, **overrides)
        assert (refused.value.kind, refused.value.field) == expected, overrides
        assert refused.value.message
    async with read_session() as db:
        assert await db.scalar(select(Contact.id)) is None
        assert await db.scalar(select(AuditEntry.id).where(AuditEntry.entity == "contact")) is None


async def test_a_solved_call_is_logged_and_audited_without_personal_data(
    city, write_session, read_session, settings
) -> None:  # type: ignore[no-untyped-def]
    summary = "  " + "x" * SUMMARY_MAX + "  "  # at the limit once trimmed
    async with write_session() as db, db.begin():
        contact = await _log(db, settings, summary=summary, phone="+46 70-123 45 67", channel=Channel.API)
        assert contact.id is not None
    async with read_session() as db:
        stored = await db.get(Contact, contact.id)
        assert stored is not None
        assert (stored.summary, stored.outcome, stored.category) == ("x" * SUMMARY_MAX, "solved", "eservices")
        assert (stored.phone, stored.contact_key, stored.channel) == ("+46 70-123 45 67", KEY, "api")
        assert stored.agent_id == city.users["agent"].id
        assert stored.callback_status is None and stored.callback_due_at is None
        assert stored.created_at == NOW
        (entry,) = await _audit(db, "contact.logged")
    assert (entry.actor, entry.channel, entry.entity, entry.entity_id) == (
        "agent",
        "api",
        "contact",
        str(contact.id),
    )
    assert entry.changes == {"category": "eservices", "outcome": "solved"}
    assert "123" not in json.dumps(entry.changes)


async def test_a_booking_fills_in_office_service_number_language_and_needs(
    city, write_session, read_session, settings
) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        booking = await _phone_booking(db)
        filled = await _log(db, settings, outcome="visit_booked", booking=booking, office_id=None)
        chosen = await _log(
            db,
            settings,
            outcome="visit_booked",
            booking=booking,
            phone="08-555 12 34",
            language="en",
            needs=[],
        )
    assert (filled.office_id, filled.service_id) == (city.kista.id, city.services["eservice"].id)
    assert (filled.booking_id, filled.phone, filled.contact_key) == (booking.id, PHONE, KEY)
    assert (filled.language, filled.needs) == ("fi", ["interpreter"])
    assert (chosen.phone, chosen.contact_key, chosen.language, chosen.needs) == (
        "08-555 12 34",
        "085551234",
        "en",
        [],
    )
    async with read_session() as db:
        entry = (await _audit(db, "contact.logged"))[0]
    assert entry.changes["booking"] == format_reference(booking.reference)
    assert entry.office_id == city.kista.id


async def test_a_call_back_opens_in_the_office_list_oldest_due_first(
    city, write_session, read_session, settings
) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        kista = await _office(db, "kista")
        default = await _log(db, settings, outcome="callback", office_id=kista.id, phone=PHONE)
        soon = await _log(
            db, settings, outcome="callback", office_id=kista.id, phone="0709876543", callback_due_at=LATER
        )
        await _log(db, settings, outcome="callback", office_id=(await _office(db, "tensta")).id, phone=PHONE)
        await _log(db, settings, outcome="forwarded", office_id=kista.id)
    assert default.callback_status == "open"
    assert default.callback_due_at == request_callback_due(NOW, settings) == NOW + timedelta(hours=24)
    assert soon.callback_due_at == LATER
    async with read_session() as db:
        listed = await open_callbacks(db, city.kista.id)
    assert [contact.id for contact in listed] == [soon.id, default.id]


async def _open_callback(write_session, settings, office: str = "kista") -> int:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        office_id = (await _office(db, office)).id
        return (await _log(db, settings, outcome="callback", office_id=office_id, phone=PHONE)).id


async def test_marking_a_call_back_done_once_records_one_event(
    city, write_session, read_session, settings
) -> None:  # type: ignore[no-untyped-def]
    contact_id = await _open_callback(write_session, settings)
    done_at = NOW + timedelta(hours=2)
    for attempt, when in enumerate((done_at, done_at + timedelta(minutes=5))):
        async with write_session() as db, db.begin():
            staff = await _user(db, "staff")
            done = await mark_callback_done(
                db,
                contact_id,
                user=staff,
                note=f"  Called, all clear {attempt}. ",
                channel=Channel.DESK,
                now=when,
            )
    assert (done.callback_status, done.callback_done_at) == ("done", done_at)
    assert done.callback_done_by_id == city.users["staff"].id
    assert done.callback_note == "Called, all clear 0."
    async with read_session() as db:
        assert await open_callbacks(db, city.kista.id) == []
        (entry,) = await _audit(db, "callback.done")
        kista = await _office(db, "kista")
        assert [c.id for c in await callbacks_done_today(db, kista, done_at)] == [contact_id]
    assert (entry.actor, entry.channel, entry.office_id) == ("staff", "desk", city.kista.id)
    assert "Called" not in json.dumps(entry.changes)


async def test_the_desk_reads_open_and_done_call_backs_in_one_query_as_in_two(
    city, write_session, read_session, settings
) -> None:  # type: ignore[no-untyped-def]
    """Open ones by due time; those done since the office's midnight the latest first; yesterday's
    done ones and other offices' not at all."""
    ids = [await _open_callback(write_session, settings) for _ in range(5)]
    await _open_callback(write_session, settings, office="tensta")
    yesterday, today = NOW - timedelta(days=1), NOW + timedelta(hours=1)
    async with write_session() as db, db.begin():
        staff = await _user(db, "staff")
        marks = ((ids[0], yesterday), (ids[1], today), (ids[2], today + timedelta(minutes=9)))
        for contact_id, when in marks:
            await mark_callback_done(db, contact_id, user=staff, note="", channel=Channel.DESK, now=when)
    async with read_session() as db:
        kista = await _office(db, "kista")
        waiting, done = await office_callbacks(db, kista, today)
        assert [c.id for c in waiting] == [c.id for c in await open_callbacks(db, kista.id)] == ids[3:]
        assert [c.id for c in done] == [c.id for c in await callbacks_done_today(db, kista, today)]
    assert [c.id for c in done] == [ids[2], ids[1]]


@pytest.mark.parametrize("who", ["agent", "bromma_manager"])
async def test_only_the_office_marks_its_call_backs_done(
    city, write_session, read_session, settings, who
) -> None:  # type: ignore[no-untyped-def]
    contact_id = await _open_callback(write_session, settings)
    async with write_session() as db, db.begin():
        with pytest.raises(PermissionDeniedException):
            await mark_callback_done(db, contact_id, user=await _user(db, who), channel=Channel.WEB, now=NOW)
    async with read_session() as db:
        assert [c.id for c in await open_callbacks(db, city.kista.id)] == [contact_id]


async def test_marking_done_refuses_unknown_call_backs_and_long_notes(city, write_session, settings) -> None:  # type: ignore[no-untyped-def]
    contact_id = await _open_callback(write_session, settings)
    async with write_session() as db, db.begin():
        solved = await _log(db, settings)
    for missing in (solved.id, 999_999):
        async with write_session() as db, db.begin():
            with pytest.raises(NotFoundException):
                await mark_callback_done(
                    db, missing, user=await _user(db, "admin"), channel=Channel.WEB, now=NOW
                )
    async with write_session() as db, db.begin():
        with pytest.raises(ContactError) as refused:
            await mark_callback_done(
                db, contact_id, user=await _user(db, "staff"), note="x" * 501, channel=Channel.WEB, now=NOW
            )
    assert (refused.value.kind, refused.value.field) == ("invalid", "note")


@pytest.mark.parametrize(
    ("done_local", "shown"),
    [
        (datetime(2026, 12, 14, 0, 0), True),  # midnight at the office
        (datetime(2026, 12, 13, 23, 59), False),  # the evening before (22:59 UTC)
        (datetime(2026, 12, 14, 7, 59), True),
    ],
)
async def test_done_today_counts_from_midnight_at_the_office(
    city, write_session, read_session, settings, done_local, shown
) -> None:  # type: ignore[no-untyped-def]
    contact_id = await _open_callback(write_session, settings)
    async with write_session() as db, db.begin():
        await db.execute(
            update(Contact)
            .where(Contact.id == contact_id)
            .values(callback_status="done", callback_done_at=done_local.replace(tzinfo=STOCKHOLM))
        )
    async with read_session() as db:
        listed = await callbacks_done_today(db, await _office(db, "kista"), NOW)
    assert [c.id for c in listed] == ([contact_id] if shown else [])


async def test_the_handoff_is_the_latest_summary_still_kept(
    city, write_session, read_session, settings
) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        booking = await _phone_booking(db)
        other = await _phone_booking(db, start=NINE + timedelta(minutes=20), phone="0709876543")
        await _log(db, settings, outcome="visit_booked", booking=booking, summary="First call.")
        summary = "Needs help with the housing form."
        latest = await _log(
            db,
            settings,
            outcome="visit_booked",
            booking=booking,
            summary=summary,
            now=NOW + timedelta(minutes=5),
        )
        purged = await _log(db, settings, outcome="visit_booked", booking=other, summary="Purged.")
        await db.execute(update(Contact).where(Contact.id == purged.id).values(summary="", purged_at=NOW))
    async with read_session() as db:
        found = await handoffs(db, [booking.id, other.id, 999_999])
        assert {key: contact.id for key, contact in found.items()} == {booking.id: latest.id}
        assert found[booking.id].summary == "Needs help with the housing form."
        assert (await contact_for_booking(db, booking.id)).id == latest.id  # type: ignore[union-attr]
        assert await contact_for_booking(db, other.id) is None
        assert await handoffs(db, []) == {}


async def test_lookup_by_phone_finds_the_callers_bookings_and_contacts(
    city, write_session, read_session, settings
) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        upcoming = await _phone_booking(db)
        later = await _stored_booking(db, NINE + timedelta(days=7), phone=PHONE)
        # Known by the e-mail address, with the number typed the international way.
        with_email = await _stored_booking(
            db, NINE + timedelta(days=1), email="anna@example.se", phone="+46 (70) 123-45-67"
        )
        past = await _stored_booking(db, NOW - timedelta(days=20), phone=PHONE)
        older_past = await _stored_booking(db, NOW - timedelta(days=25), phone=PHONE)
        cancelled = await _stored_booking(
            db, NINE + timedelta(days=2), phone=PHONE, status=BookingStatus.CANCELLED
        )
        await _stored_booking(db, NINE + timedelta(days=3), phone=PHONE, status=BookingStatus.HELD)
        await _stored_booking(db, NINE + timedelta(days=4), phone=PHONE, status=BookingStatus.EXPIRED)
        await _stored_booking(db, NOW - timedelta(days=31), phone=PHONE)  # too long ago
        await _stored_booking(db, NINE + timedelta(minutes=40), phone="0709876543")  # someone else
        by_key = await _log(db, settings, phone=PHONE, now=NOW - timedelta(days=10))
        by_booking = await _log(db, settings, outcome="visit_booked", booking=upcoming, phone="", now=NOW)
        await _log(db, settings, phone=PHONE, now=NOW - timedelta(days=91))  # too long ago
        await _log(db, settings, phone="0709876543")  # someone else
        agent = await _user(db, "agent")
        record = await lookup_caller(db, user=agent, phone="+46 70 123 45 67", channel=Channel.PHONE, now=NOW)
    assert [b.id for b in record.bookings] == [
        upcoming.id, with_email.id, cancelled.id, later.id, past.id, older_past.id,
    ]  # fmt: skip
    assert [c.id for c in record.contacts] == [by_booking.id, by_key.id]
    async with read_session() as db:
        (entry,) = await _audit(db, "caller.lookup")
    assert (entry.actor, entry.channel, entry.entity) == ("agent", "phone", "caller")
    assert entry.changes["searched_by"] == ["phone"]
    assert entry.changes["references"] == [format_reference(b.reference) for b in record.bookings]
    assert entry.changes["contacts"] == [by_booking.id, by_key.id]
    assert "123" not in json.dumps(entry.changes)


async def test_lookup_by_reference_finds_that_booking(city, write_session, read_session, settings) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        booking = await _phone_booking(db)
        contact = await _log(db, settings, outcome="visit_booked", booking=booking)
        held = await _stored_booking(db, NINE + timedelta(days=1), phone=PHONE, status=BookingStatus.HELD)
        agent = await _user(db, "agent")
        typed = format_reference(booking.reference).lower().replace("-", " ")
        record = await lookup_caller(db, user=agent, reference=typed, channel=Channel.API, now=NOW)
        nothing = await lookup_caller(db, user=agent, reference=held.reference, channel=Channel.API, now=NOW)
    assert [b.id for b in record.bookings] == [booking.id]
    assert [c.id for c in record.contacts] == [contact.id]
    assert (nothing.bookings, nothing.contacts) == ([], [])
    async with read_session() as db:
        first, second = await _audit(db, "caller.lookup")
    assert first.changes == {
        "searched_by": ["reference"],
        "references": [format_reference(booking.reference)],
        "contacts": [contact.id],
    }
    assert second.changes["references"] == []


@pytest.mark.parametrize(
    ("search", "field"),
    [
        ({}, "phone"),
        ({"phone": "  ", "reference": ""}, "phone"),
        ({"phone": "12345"}, "phone"),
        ({"reference": "ACDE-477"}, "reference"),
        ({"reference": "BBBB-8888"}, "reference"),  # look-alike characters are never in a reference
    ],
)
async def test_lookup_needs_a_number_or_a_reference(city, write_session, read_session, search, field) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        with pytest.raises(ContactError) as refused:
            await lookup_caller(db, user=await _user(db, "agent"), channel=Channel.PHONE, now=NOW, **search)
    assert (refused.value.kind, refused.value.field) == ("invalid", field)
