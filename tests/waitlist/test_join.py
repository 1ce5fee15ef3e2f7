"""Joining a line: what is refused and why (every field at fault at once), one place per contact and
service, the message of joining; and, for any line and any free seats, the fairness rule."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from kontor.booking.models import Booking, BookingEvent
from kontor.notify.models import OutboxMessage
from kontor.waitlist import services
from kontor.waitlist.models import WaitlistEntry
from tests.waitlist.support import NOW, TUESDAY, WEDNESDAY, at, fill, join, link_token, makers, offers, outbox

LAST = date(2027, 2, 12)  # today (2026-12-14) and the service's 60 days' horizon

GOOD = {
    "service_code": "eservice",
    "office_slug": "kista",
    "earliest": TUESDAY,
    "latest": WEDNESDAY,
    "name": "Anna Andersson",
    "email": "anna@example.se",
    "phone": "",
    "language": "sv",
    "needs": [],
}


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"service_code": "passport"}, {"service": "Choose a service."}),
        ({"service_code": "consumer"}, {"service": "This service cannot be booked online."}),
        ({"service_code": "finnish", "office_slug": "bromma"}, {"office": "This office does not take"}),
        ({"office_slug": "nowhere"}, {"office": "This office does not take bookings"}),
        ({"earliest": date(2026, 12, 13)}, {"earliest": "The first date cannot be in the past."}),
        ({"earliest": None, "latest": None}, {"earliest": "Enter the first", "latest": "Enter the last"}),
        ({"latest": LAST + timedelta(days=1)}, {"latest": "Choose a last date no later than %(last)s"}),
        ({"earliest": LAST + timedelta(days=1), "latest": LAST}, {"earliest": "Choose a first date"}),
        ({"earliest": WEDNESDAY, "latest": TUESDAY}, {"latest": "The last date cannot be before the first"}),
        ({"name": " ", "email": "anna-at-example"}, {"name": "Enter your name."}),
        ({"email": "", "phone": ""}, {"email": "Give an e-mail address or a phone number."}),
        ({"phone": "12"}, {"phone": "Enter a valid phone number"}),
        ({"language": "de"}, {"language": "Choose Swedish, English or Finnish."}),
        ({"needs": ["parking"]}, {"needs": "Choose needs from the list."}),
    ],
)
async def test_what_joining_refuses(city, settings, write_session, read_session, changes, errors) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        with pytest.raises(services.JoinError) as refused:
            await services.join(db, **(GOOD | changes), settings=settings, now=NOW)
    assert set(refused.value.errors) == set(errors)
    for field, message in errors.items():
        assert refused.value.errors[field].startswith(message)
    if "latest" in errors and "%(last)s" in errors["latest"]:
        assert (refused.value.first, refused.value.last) == (date(2026, 12, 14), LAST)
    async with read_session() as db:
        assert list(await db.scalars(select(WaitlistEntry))) == []
        assert list(await db.scalars(select(OutboxMessage))) == []


@pytest.mark.parametrize(
    ("first", "second", "refused"),
    [
        ({"email": "anna@example.se"}, {"email": " ANNA@example.se "}, "email"),
        ({"email": "", "phone": "+46 70 123 45 67"}, {"email": "", "phone": "070-123 45 67"}, "phone"),
        ({"office_slug": "kista"}, {"office_slug": None}, "email"),
        ({"service_code": "budget"}, {"service_code": "eservice"}, None),  # another service's line
        ({"email": "anna@example.se"}, {"email": "bo@example.se"}, None),
    ],
)
async def test_one_place_per_contact_and_service(
    city, settings, write_session, first, second, refused
) -> None:
    async with write_session() as db, db.begin():
        await services.join(db, **(GOOD | first), settings=settings, now=NOW)
    async with write_session() as db, db.begin():
        if refused is None:
            await services.join(db, **(GOOD | second), settings=settings, now=NOW)
            return
        with pytest.raises(services.JoinError) as error:
            await services.join(db, **(GOOD | second), settings=settings, now=NOW)
    assert list(error.value.errors) == [refused]
    assert "already on the waitlist" in error.value.errors[refused]


async def test_who_left_may_join_again_at_the_end(city, settings, write_session) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        entry, _token = await services.join(db, **GOOD, settings=settings, now=NOW)
        await services.leave(db, entry, now=NOW)
        again, _token = await services.join(db, **GOOD, settings=settings, now=NOW + timedelta(minutes=1))
        assert again.id != entry.id and await services.place_in_line(db, again) == 1


async def test_joining_queues_the_link_in_the_residents_language(
    city, settings, write_session, read_session
) -> None:
    async with write_session() as db, db.begin():
        entry, token = await services.join(
            db, **(GOOD | {"phone": "070-123 45 67", "needs": ["interpreter"]}), settings=settings, now=NOW
        )
    assert (entry.contact_key, entry.needs, entry.status, entry.created_at) == (
        "anna@example.se",
        ["interpreter"],
        "waiting",
        NOW,
    )
    messages = await outbox(read_session, "waitlist_joined")
    assert sorted((m.channel, m.recipient, m.language) for m in messages) == [
        ("email", "anna@example.se", "sv"),
        ("sms", "070-123 45 67", "sv"),
    ]
    email = next(m for m in messages if m.channel == "email")
    assert email.office_id == city.kista.id and email.booking_id is None
    assert link_token(email.body) == token and email.body.startswith("Hej Anna Andersson,")
    sms = next(m for m in messages if m.channel == "sms")
    assert len(sms.body) <= 300 and token in sms.body
    async with write_session() as db:
        assert (await services.find_entry(db, token)).id == entry.id
        assert await services.find_entry(db, "not-" + token) is None


async def test_the_place_in_line_counts_who_could_take_the_same_seats(city, settings, write_session) -> None:  # type: ignore[no-untyped-def]
    line = [("Anna", "bromma"), ("Bo", None), ("Cecilia", "kista"), ("David", "kista"), ("Eva", None)]
    async with write_session() as db, db.begin():
        joined = {}
        for n, (name, office) in enumerate(line):
            joined[name], _token = await join(
                db, settings, name, office, TUESDAY, TUESDAY, now=NOW + timedelta(seconds=n)
            )
        places = {name: await services.place_in_line(db, entry) for name, entry in joined.items()}
    assert places == {"Anna": 1, "Bo": 2, "Cecilia": 2, "David": 3, "Eva": 5}


# -- the fairness rule, for any line and any free seats ---------------------------------------

SEATS = [
    ("kista", at(15, "09:00")),
    ("kista", at(15, "11:40")),
    ("tensta", at(15, "10:00")),
    ("bromma", at(15, "08:00")),
    ("bromma", at(16, "15:40")),
    ("tensta", at(16, "10:00")),
]
OFFICE_CHOICES = [None, "kista", "tensta", "bromma"]
WINDOWS = [(TUESDAY, TUESDAY), (TUESDAY, WEDNESDAY), (WEDNESDAY, WEDNESDAY)]
LINES = st.lists(st.tuples(st.sampled_from(OFFICE_CHOICES), st.sampled_from(WINDOWS)), min_size=1, max_size=6)
FREE = st.sets(st.sampled_from(SEATS), max_size=len(SEATS))


def _fits(office: str | None, window: tuple[date, date], seat: tuple[str, object]) -> bool:
    slug, start = seat
    return office in (None, slug) and window[0] <= start.date() <= window[1]  # type: ignore[attr-defined]


@hypothesis_settings(
    max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(line=LINES, free=FREE)
def test_each_in_line_gets_the_earliest_seat_left_by_those_before(city, settings, line, free) -> None:  # type: ignore[no-untyped-def]
    free = sorted(free, key=lambda seat: (seat[1], seat[0]))

    async def scenario() -> dict[str, object]:
        maker, engine = makers(settings)
        try:
            async with maker() as db, db.begin():
                for model in (OutboxMessage, WaitlistEntry, BookingEvent, Booking):
                    await db.execute(delete(model))
                await fill(db, [TUESDAY, WEDNESDAY], free=free)
                for n, (office, (earliest, latest)) in enumerate(line):
                    joined = NOW + timedelta(seconds=n)
                    await join(db, settings, f"P{n}", office, earliest, latest, now=joined)
            await services.run_waitlist(maker, settings, NOW + timedelta(minutes=1))
            return await offers(maker)
        finally:
            await engine.dispose()

    got = asyncio.run(scenario())

    # The rule, step by step: in line order, each takes the earliest seat it fits of those still free.
    left = list(free)
    expected: dict[str, object] = {}
    for n, (office, window) in enumerate(line):
        seat = next((s for s in left if _fits(office, window, s)), None)
        expected[f"P{n}"] = seat
        if seat is not None:
            left.remove(seat)
    assert got == expected
