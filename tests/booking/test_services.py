"""The booking service: what it accepts, what it refuses and why, references and tokens, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from kontor.accounts.security import hash_token
from kontor.audit.models import Channel
from kontor.booking.models import Booking, BookingEvent
from kontor.booking.references import ALPHABET, format_reference, normalize_reference
from kontor.booking.services import BookingError, book, cancel, find_by_reference, reschedule, taken_seats

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
NINE = datetime(2026, 12, 15, 9, 0, tzinfo=STOCKHOLM)  # Kista's Tuesday appointment hours begin
SLOT = timedelta(minutes=20)


def _request(**overrides: object) -> dict[str, object]:
    # Each name books with its own address: the limit per contact has tests of its own.
    name = str(overrides.get("name", "Anna Andersson"))
    email = "".join(c for c in name.lower() if c.isalnum()) + "@example.se"
    return {
        "office_slug": "kista",
        "service_code": "eservice",
        "start": NINE,
        "name": "Anna Andersson",
        "email": email,
        "channel": Channel.WEB,
        "actor": "resident",
        "now": NOW,
    } | overrides


async def _book(write_session, **overrides: object) -> tuple[Booking, str]:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        return await book(db, **_request(**overrides))


async def _refusal(write_session, **overrides: object) -> tuple[str, str | None]:  # type: ignore[no-untyped-def]
    with pytest.raises(BookingError) as refused:
        await _book(write_session, **overrides)
    return refused.value.kind, refused.value.field


REFUSED = [
    ({"name": "   "}, ("invalid", "name")),
    ({"name": "x" * 121}, ("invalid", "name")),
    ({"email": None, "phone": None}, ("invalid", "email")),
    ({"email": "anna-at-example.se"}, ("invalid", "email")),
    ({"email": None, "phone": "call me"}, ("invalid", "phone")),
    ({"language": "de"}, ("invalid", "language")),
    ({"needs": ["interpreter", "parking"]}, ("invalid", "needs")),
    ({"start": NINE.replace(tzinfo=None)}, ("invalid", "start")),
    ({"office_slug": "atlantis"}, ("not_found", "office")),
    ({"service_code": "tarot"}, ("not_found", "service")),
    ({"service_code": "consumer"}, ("not_bookable", "service")),  # walk-in only
    ({"office_slug": "tensta", "service_code": "budget"}, ("not_bookable", "service")),  # not offered there
    ({"start": NINE + timedelta(minutes=5)}, ("not_bookable", "start")),  # not a slot start
    ({"start": NINE - timedelta(hours=1)}, ("not_bookable", "start")),  # before appointment hours
    ({"now": NINE - timedelta(hours=1)}, ("not_bookable", "start")),  # inside the two hours' notice
    ({"start": NINE + timedelta(days=70)}, ("not_bookable", "start")),  # beyond the 60-day horizon
    # Trettondedag jul, a Tuesday: closed, although Tuesdays have appointment hours.
    (
        {"start": datetime(2026, 1, 6, 9, tzinfo=STOCKHOLM), "now": datetime(2026, 1, 2, tzinfo=STOCKHOLM)},
        ("not_bookable", "start"),
    ),
]


async def test_refusals_say_why_and_write_nothing(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    for overrides, expected in REFUSED:
        assert await _refusal(write_session, **overrides) == expected, overrides
    async with read_session() as db:
        assert await db.scalar(select(Booking.id)) is None
        assert await db.scalar(select(BookingEvent.id)) is None


async def test_accepted_variants(city, write_session) -> None:  # type: ignore[no-untyped-def]
    the_week_after = datetime(2026, 1, 13, 9, tzinfo=STOCKHOLM)
    booking, _ = await _book(
        write_session,
        start=the_week_after,
        now=datetime(2026, 1, 2, tzinfo=STOCKHOLM),
        email=None,
        phone="+46 70-123 45 67",
        language="fi",
        needs=["interpreter", "accessibility"],
        name="  Aino  ",
    )
    assert (booking.name, booking.email, booking.phone, booking.language) == (
        "Aino",
        None,
        "+46 70-123 45 67",
        "fi",
    )
    assert booking.needs == ["accessibility", "interpreter"]
    assert booking.starts_at == the_week_after.astimezone(UTC)
    assert booking.ends_at - booking.starts_at == SLOT
    assert booking.status == "booked"


async def test_reference_and_token(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    booking, token = await _book(write_session)

    assert len(booking.reference) == 8 and set(booking.reference) <= set(ALPHABET)
    shown = format_reference(booking.reference)
    assert shown[4] == "-" and shown.replace("-", "") == booking.reference
    assert len(token) >= 22  # at least 128 bits of base64
    assert booking.token_hash == hash_token(token) and token not in booking.token_hash

    async with read_session() as db:
        for typed in (booking.reference, shown, shown.lower(), f" {shown[:4].lower()} {shown[5:]} "):
            found = await find_by_reference(db, typed, token)
            assert found is not None and found.id == booking.id, typed
        assert await find_by_reference(db, booking.reference, token + "x") is None
        assert await find_by_reference(db, booking.reference, "") is None
        unknown = next(c * 8 for c in ALPHABET if c * 8 != booking.reference)
        assert await find_by_reference(db, unknown, token) is None
        assert await find_by_reference(db, "not a reference", token) is None
    assert normalize_reference("ABCD-0000") is None  # 0 and B are not in the alphabet


async def test_every_change_is_recorded_with_channel_and_actor(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    agent = city.users["agent"]
    booking, _ = await _book(write_session, channel=Channel.PHONE, actor=agent)
    later = NOW + timedelta(hours=1)
    for _ in range(2):  # the second cancellation changes nothing and records nothing
        async with write_session() as db, db.begin():
            mine = await db.get(Booking, booking.id)
            await cancel(db, mine, channel=Channel.WEB, actor="resident", now=later)

    async with read_session() as db:
        saved = await db.get(Booking, booking.id)
        events = list(await db.scalars(select(BookingEvent).order_by(BookingEvent.id)))
    assert (saved.status, saved.cancelled_at, saved.channel, saved.created_by_id) == (
        "cancelled",
        later,
        "phone",
        agent.id,
    )
    assert [(e.action, e.channel, e.actor_id, e.actor) for e in events] == [
        ("booked", "phone", agent.id, "agent"),
        ("cancelled", "web", None, "resident"),
    ]
    assert events[1].at == later
    for event in events:  # no personal data in the history
        assert "Anna" not in str(event.changes) and "anna@" not in str(event.changes)


async def _hold(write_session, city, expires: datetime) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        await db.execute(
            insert(Booking).values(
                reference="HHHHHHHH",
                token_hash="0" * 64,
                office_id=city.kista.id,
                service_id=city.services["eservice"].id,
                starts_at=NINE,
                ends_at=NINE + SLOT,
                seat=1,
                status="held",
                hold_expires_at=expires,
                name="Held",
                email="h@example.se",
                language="sv",
                needs=[],
                channel="web",
                created_at=NOW,
                updated_at=NOW,
            )
        )


async def test_holds_keep_their_seat_until_they_expire(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    office_id, service_id = city.kista.id, city.services["eservice"].id
    await _hold(write_session, city, expires=NOW + timedelta(minutes=10))
    async with read_session() as db:
        assert await taken_seats(db, office_id, service_id, NINE, NINE + SLOT, NOW) == {
            NINE.astimezone(UTC): 1
        }
        expired_then = NOW + timedelta(minutes=10)
        assert await taken_seats(db, office_id, service_id, NINE, NINE + SLOT, expired_then) == {}
    assert (await _refusal(write_session))[0] == "full"

    booking, _ = await _book(write_session, now=NOW + timedelta(minutes=11))

    assert booking.seat == 1
    async with read_session() as db:
        # The hold stays, marked expired and without a seat, so its holder can be told what happened.
        assert await db.scalar(select(Booking.status).where(Booking.reference == "HHHHHHHH")) == "expired"


async def test_reschedule_moves_the_seat_or_leaves_the_booking_as_it_was(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    mine, _ = await _book(write_session)
    other, _ = await _book(write_session, start=NINE + 2 * SLOT, name="Bertil")

    async with write_session() as db, db.begin():
        moved = await reschedule(
            db, await db.get(Booking, mine.id), NINE + SLOT, channel=Channel.WEB, actor="resident", now=NOW
        )
        assert (moved.starts_at, moved.seat) == ((NINE + SLOT).astimezone(UTC), 1)
    freed, _ = await _book(write_session, name="Cecilia")  # the old 09:00 seat is free again
    assert freed.seat == 1

    with pytest.raises(BookingError) as refused:
        async with write_session() as db, db.begin():
            await reschedule(
                db,
                await db.get(Booking, mine.id),
                other.starts_at,
                channel=Channel.WEB,
                actor="resident",
                now=NOW,
            )
    assert refused.value.kind == "full"
    with pytest.raises(BookingError) as refused:
        async with write_session() as db, db.begin():
            await reschedule(
                db,
                await db.get(Booking, mine.id),
                NINE + timedelta(minutes=7),
                channel=Channel.WEB,
                actor="resident",
                now=NOW,
            )
    assert refused.value.kind == "not_bookable"

    async with read_session() as db:
        kept = await db.get(Booking, mine.id)
        assert (kept.starts_at, kept.seat, kept.status) == ((NINE + SLOT).astimezone(UTC), 1, "booked")
        actions = list(
            await db.scalars(
                select(BookingEvent.action)
                .where(BookingEvent.booking_id == mine.id)
                .order_by(BookingEvent.id)
            )
        )
    assert actions == ["booked", "rescheduled"]
