"""Staff calendar feeds on both databases: who may have which feed, how a feed is refused, its token
kept only as a hash, revocation and lost access closing it at once, and what it shows: the window,
the statuses, the services, whose bookings, which personal data, and each visit's SEQUENCE."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql import Executable
from tests.factories import City

from kontor.accounts.models import User, office_memberships
from kontor.accounts.security import TOKEN_BYTES, hash_token
from kontor.audit.models import AuditEntry, Channel
from kontor.booking.models import Booking, BookingEvent
from kontor.booking.services import book, reschedule
from kontor.calendars.bookings_feed import FeedContent, bookings_calendar
from kontor.calendars.feeds import (
    FEED_AHEAD,
    FEED_PAST,
    MAX_FEEDS,
    FeedError,
    create_feed,
    feed_for_token,
    feed_visits,
    revoke_feed,
    user_feeds,
)
from kontor.calendars.models import CalendarFeed
from kontor.i18n import current_locale
from kontor.offices.models import Counter, Office

Sessions = async_sessionmaker[AsyncSession]
STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
TODAY = datetime(2026, 12, 14, tzinfo=STOCKHOLM)  # local midnight
NINE = datetime(2026, 12, 15, 9, 0, tzinfo=STOCKHOLM)  # Kista's Tuesday appointment hours


async def _create(write_session: Sessions, user: User, **values: Any) -> tuple[CalendarFeed, str]:
    async with write_session() as db, db.begin():
        return await create_feed(db, user, now=NOW, **values)


async def _refusal(write_session: Sessions, user: User, **values: Any) -> tuple[str, str | None]:
    with pytest.raises(FeedError) as refused:
        await _create(write_session, user, **values)
    return refused.value.code, refused.value.field


async def _counter(read_session: Sessions, office: Office, number: int = 1) -> Counter:
    async with read_session() as db:
        counter = await db.scalar(
            select(Counter).where(Counter.office_id == office.id, Counter.number == number)
        )
        assert counter is not None
        return counter


async def _found(read_session: Sessions, token: str) -> CalendarFeed | None:
    async with read_session() as db:
        return await feed_for_token(db, token)


async def _change(write_session: Sessions, statement: Executable) -> None:
    async with write_session() as db, db.begin():
        await db.execute(statement)


# -- who may have which feed -------------------------------------------------------------------------

KISTA, BROMMA = "kista", "bromma"
FORBIDDEN_KIND = ("forbidden", "kind")
NOT_THEIR_OFFICE = ("invalid", "office_id")
NO_COUNTER = ("invalid", "counter_id")
NOT_OFFERED = ("invalid", "service_ids")
# (user, kind, office) → None when allowed, else (code, field). Kista's staff and manager work at
# Kista, Bromma's manager at Bromma; the admin may use any office; the agent no office at all.
WHO_MAY = [
    *[(user, "office", KISTA, None) for user in ("admin", "manager", "staff")],
    *[(user, "counter", KISTA, None) for user in ("admin", "manager", "staff")],
    ("admin", "office", BROMMA, None),
    ("admin", "counter", BROMMA, None),
    ("manager", "office", BROMMA, NOT_THEIR_OFFICE),
    ("staff", "office", BROMMA, NOT_THEIR_OFFICE),
    ("staff", "counter", BROMMA, NOT_THEIR_OFFICE),
    ("bromma_manager", "office", KISTA, NOT_THEIR_OFFICE),
    ("bromma_manager", "counter", BROMMA, None),
    ("agent", "office", KISTA, FORBIDDEN_KIND),
    ("agent", "counter", KISTA, FORBIDDEN_KIND),
    ("agent", "agent", None, None),
    ("admin", "agent", None, None),
    ("manager", "agent", None, FORBIDDEN_KIND),
    ("staff", "agent", None, FORBIDDEN_KIND),
    ("bromma_manager", "agent", None, FORBIDDEN_KIND),
]


async def test_who_may_have_which_feed(city: City, write_session: Sessions, read_session: Sessions) -> None:
    offices = {KISTA: city.kista, BROMMA: city.bromma}
    counters = {slug: await _counter(read_session, office) for slug, office in offices.items()}
    for username, kind, slug, expected in WHO_MAY:
        values: dict[str, Any] = {"kind": kind}
        if slug is not None:
            values["office_id"] = offices[slug].id
        if kind == "counter":
            values["counter_id"] = counters[slug].id
        user = city.users[username]
        if expected is None:
            feed, _token = await _create(write_session, user, **values)
            assert (feed.kind, feed.office_id, feed.user_id) == (kind, values.get("office_id"), user.id)
        else:
            assert await _refusal(write_session, user, **values) == expected, (username, kind, slug)


async def test_refusals_name_the_field(city: City, write_session: Sessions, read_session: Sessions) -> None:
    kista, tensta = city.kista, city.tensta
    kista_counter = await _counter(read_session, kista)
    bromma_counter = await _counter(read_session, city.bromma)
    closed_counter = await _counter(read_session, kista, 2)
    await _change(write_session, update(Counter).where(Counter.id == closed_counter.id).values(active=False))
    await _change(write_session, update(Office).where(Office.id == tensta.id).values(active=False))
    staff, admin, agent = city.users["staff"], city.users["admin"], city.users["agent"]
    consumer = city.services["consumer"].id
    cases = [
        (staff, {"kind": "calendar", "office_id": kista.id}, ("invalid", "kind")),
        (staff, {"kind": "office"}, ("invalid", "office_id")),
        (staff, {"kind": "office", "office_id": 999_999}, ("invalid", "office_id")),
        (admin, {"kind": "office", "office_id": tensta.id}, ("invalid", "office_id")),  # inactive office
        (staff, {"kind": "office", "office_id": kista.id, "counter_id": kista_counter.id}, NO_COUNTER),
        (staff, {"kind": "counter", "office_id": kista.id}, NO_COUNTER),
        (staff, {"kind": "counter", "office_id": kista.id, "counter_id": bromma_counter.id}, NO_COUNTER),
        (staff, {"kind": "counter", "office_id": kista.id, "counter_id": closed_counter.id}, NO_COUNTER),
        (agent, {"kind": "agent", "office_id": kista.id}, ("invalid", "office_id")),
        (agent, {"kind": "agent", "counter_id": kista_counter.id}, ("invalid", "counter_id")),
        (agent, {"kind": "agent", "service_ids": [999_999]}, ("invalid", "service_ids")),
        # Budget advice is offered at Kista and Bromma, not at Tensta; Consumer advice not at Bromma.
        (admin, {"kind": "office", "office_id": city.bromma.id, "service_ids": [consumer]}, NOT_OFFERED),
        (staff, {"kind": "office", "office_id": kista.id, "label": "x" * 121}, ("invalid", "label")),
    ]  # fmt: skip
    for user, values, expected in cases:
        assert await _refusal(write_session, user, **values) == expected, values
    async with read_session() as db:
        assert await db.scalar(select(CalendarFeed.id)) is None
        assert await db.scalar(select(AuditEntry.id).where(AuditEntry.entity == "calendar_feed")) is None


async def test_a_deactivated_user_gets_no_feed(city: City, write_session: Sessions) -> None:
    staff = city.users["staff"]
    staff.active = False
    assert await _refusal(write_session, staff, kind="office", office_id=city.kista.id) == FORBIDDEN_KIND


async def test_at_most_twenty_feeds_per_user(city: City, write_session: Sessions) -> None:
    staff = city.users["staff"]
    made = [
        await _create(write_session, staff, kind="office", office_id=city.kista.id) for _ in range(MAX_FEEDS)
    ]
    assert await _refusal(write_session, staff, kind="office", office_id=city.kista.id) == ("limit", None)
    # Someone else's count is their own; a revoked feed no longer counts.
    await _create(write_session, city.users["manager"], kind="office", office_id=city.kista.id)
    async with write_session() as db, db.begin():
        assert await revoke_feed(db, staff, made[0][0].id, now=NOW) is not None
    await _create(write_session, staff, kind="office", office_id=city.kista.id)


async def test_labels_are_trimmed_or_made_up(
    city: City, write_session: Sessions, read_session: Sessions
) -> None:
    staff, kista = city.users["staff"], city.kista
    counter = await _counter(read_session, kista)
    budget = city.services["budget"]
    feed, _token = await _create(
        write_session, staff, kind="office", office_id=kista.id, label="  Min \n kalender "
    )
    assert feed.label == "Min kalender"
    feed, _token = await _create(write_session, staff, kind="office", office_id=kista.id, label="x" * 120)
    assert feed.label == "x" * 120
    feed, _token = await _create(write_session, staff, kind="office", office_id=kista.id)
    assert feed.label == "Medborgarkontor Kista"
    values = {"kind": "counter", "office_id": kista.id, "counter_id": counter.id, "service_ids": [budget.id]}
    feed, _token = await _create(write_session, staff, **values)
    assert feed.label == "Medborgarkontor Kista – Lucka 1: Budget- och skuldrådgivning"
    assert feed.service_ids == [budget.id]
    reset = current_locale.set("en")
    try:
        feed, _token = await _create(write_session, city.users["agent"], kind="agent")
    finally:
        current_locale.reset(reset)
    assert feed.label == "Visits booked by Aino Agent"


# -- the token ---------------------------------------------------------------------------------------


async def test_the_token_is_stored_only_as_its_hash(
    city: City, write_session: Sessions, read_session: Sessions
) -> None:
    assert TOKEN_BYTES * 8 >= 128
    staff = city.users["staff"]
    feed, token = await _create(write_session, staff, kind="office", office_id=city.kista.id)
    assert len(token) >= 32
    async with read_session() as db:
        rows = (await db.execute(select(CalendarFeed.__table__))).all()
        audit = (await db.execute(select(AuditEntry.__table__))).all()
    assert [row.token_hash for row in rows] == [hash_token(token)]
    stored = repr(rows) + repr(audit)
    assert token not in stored and token[:12] not in stored
    assert (await _found(read_session, token)).id == feed.id  # type: ignore[union-attr]
    for wrong in ("", token[:-1], token + "x", hash_token(token)):
        assert await _found(read_session, wrong) is None


async def test_create_and_revoke_are_audited(
    city: City, write_session: Sessions, read_session: Sessions
) -> None:
    staff = city.users["staff"]
    feed, token = await _create(
        write_session, staff, kind="office", office_id=city.kista.id, channel=Channel.API
    )
    async with write_session() as db, db.begin():
        await revoke_feed(db, staff, feed.id, now=NOW + timedelta(hours=1))
    async with read_session() as db:
        entries = list(await db.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(e.action, e.entity, e.entity_id, e.actor_id, e.office_id) for e in entries] == [
        ("calendar_feed.created", "calendar_feed", str(feed.id), staff.id, city.kista.id),
        ("calendar_feed.revoked", "calendar_feed", str(feed.id), staff.id, city.kista.id),
    ]
    assert [e.channel for e in entries] == ["api", "web"]
    assert entries[0].changes["kind"] == "office" and entries[0].changes["office"] == "kista"
    assert token not in repr([e.changes for e in entries])


# -- revocation, and access lost -----------------------------------------------------------------------


async def test_revoking_closes_the_feed_and_only_its_owner_can(
    city: City, write_session: Sessions, read_session: Sessions
) -> None:
    staff, manager = city.users["staff"], city.users["manager"]
    feed, token = await _create(write_session, staff, kind="office", office_id=city.kista.id)
    async with write_session() as db, db.begin():
        assert await revoke_feed(db, manager, feed.id, now=NOW) is None  # not theirs
        assert await revoke_feed(db, staff, 999_999, now=NOW) is None
    assert await _found(read_session, token) is not None
    async with write_session() as db, db.begin():
        revoked = await revoke_feed(db, staff, feed.id, now=NOW)
        assert revoked is not None and revoked.revoked_at == NOW
        assert await revoke_feed(db, staff, feed.id, now=NOW) is None  # already revoked
    assert await _found(read_session, token) is None
    async with read_session() as db:
        assert await user_feeds(db, staff) == []
        assert await db.scalar(select(AuditEntry.id).where(AuditEntry.action == "calendar_feed.revoked"))


LOSING_ACCESS: dict[str, Callable[[City], Executable]] = {
    "deactivated": lambda city: update(User).where(User.id == city.users["staff"].id).values(active=False),
    "removed from the office": lambda city: delete(office_memberships).where(
        office_memberships.c.user_id == city.users["staff"].id
    ),
    "now an agent": lambda city: update(User).where(User.id == city.users["staff"].id).values(role="agent"),
    "office closed down": lambda city: update(Office).where(Office.id == city.kista.id).values(active=False),
}


@pytest.mark.parametrize("change", list(LOSING_ACCESS))
async def test_losing_access_closes_the_feed_at_once(
    city: City, write_session: Sessions, read_session: Sessions, change: str
) -> None:
    _feed, token = await _create(write_session, city.users["staff"], kind="office", office_id=city.kista.id)
    assert await _found(read_session, token) is not None
    await _change(write_session, LOSING_ACCESS[change](city))
    assert await _found(read_session, token) is None


async def test_a_closed_counter_closes_its_feed_only(
    city: City, write_session: Sessions, read_session: Sessions
) -> None:
    staff, kista = city.users["staff"], city.kista
    counter = await _counter(read_session, kista)
    _feed, counter_token = await _create(
        write_session, staff, kind="counter", office_id=kista.id, counter_id=counter.id
    )
    _feed, office_token = await _create(write_session, staff, kind="office", office_id=kista.id)
    await _change(write_session, update(Counter).where(Counter.id == counter.id).values(active=False))
    assert await _found(read_session, counter_token) is None
    assert await _found(read_session, office_token) is not None


async def test_an_agent_who_is_no_longer_one_loses_their_feed(
    city: City, write_session: Sessions, read_session: Sessions
) -> None:
    agent = city.users["agent"]
    _feed, token = await _create(write_session, agent, kind="agent")
    assert await _found(read_session, token) is not None
    await _change(write_session, update(User).where(User.id == agent.id).values(role="staff"))
    assert await _found(read_session, token) is None


async def test_user_feeds_newest_first(city: City, write_session: Sessions, read_session: Sessions) -> None:
    staff, kista = city.users["staff"], city.kista
    counter = await _counter(read_session, kista)
    older, _token = await _create(write_session, staff, kind="office", office_id=kista.id)
    newer, _token = await _create(
        write_session, staff, kind="counter", office_id=kista.id, counter_id=counter.id
    )
    await _create(write_session, city.users["manager"], kind="office", office_id=kista.id)
    async with read_session() as db:
        found = await user_feeds(db, staff)
    assert [feed.id for feed in found] == [newer.id, older.id]
    # Loaded with the feed: usable after the session is gone.
    assert [(feed.office.name, feed.counter.number if feed.counter else None) for feed in found] == [
        ("Medborgarkontor Kista", 1),
        ("Medborgarkontor Kista", None),
    ]


# -- what a feed shows ---------------------------------------------------------------------------------

_numbers = iter(range(1_000_000))


async def _visit(
    write_session, office: Office, service_code: str, city, start: datetime, **values: Any
) -> int:
    """Insert a booking as the booking service would have left it; its id."""
    service = city.services[service_code]
    row = {
        "reference": f"R{next(_numbers):07d}",
        "token_hash": "x" * 64,
        "office_id": office.id,
        "service_id": service.id,
        "starts_at": start.astimezone(UTC),
        "ends_at": (start + timedelta(minutes=service.duration_minutes)).astimezone(UTC),
        "seat": next(_numbers) + 1,
        "status": "booked",
        "name": "Anna Andersson",
        "email": "anna.andersson@example.se",
        "phone": "070-123 45 67",
        "language": "sv",
        "needs": [],
        "channel": "web",
        "created_at": NOW - timedelta(days=1),
        "updated_at": NOW - timedelta(days=1),
    } | values
    async with write_session() as db, db.begin():
        return int(await db.scalar(insert(Booking).values(**row).returning(Booking.id)))


async def _shown(read_session: Sessions, token: str, **values: Any) -> FeedContent:
    async with read_session() as db:
        feed = await feed_for_token(db, token)
        assert feed is not None
        return await feed_visits(db, feed, now=NOW, **({"locale": "en"} | values))


WINDOW_START = TODAY - FEED_PAST  # 2026-09-15 00:00, local
WINDOW_END = TODAY + FEED_AHEAD  # 2027-12-15 00:00, local: not included


async def test_the_window_and_the_statuses_shown(
    city: City, write_session: Sessions, read_session: Sessions
) -> None:
    kista = city.kista
    _feed, token = await _create(write_session, city.users["staff"], kind="office", office_id=kista.id)
    expected: set[str] = set()
    starts = [
        (WINDOW_START - timedelta(minutes=1), False),
        (WINDOW_START, True),
        (NOW + timedelta(days=1), True),
        (WINDOW_END - timedelta(minutes=20), True),
        (WINDOW_END, False),
    ]
    for start, shown in starts:
        booking_id = await _visit(write_session, kista, "eservice", city, start)
        if shown:
            expected.add(await _reference(write_session, booking_id))
    for status, shown in [
        ("held", False), ("expired", False), ("cancelled", False),
        ("checked_in", True), ("served", True), ("no_show", True),
    ]:  # fmt: skip
        booking_id = await _visit(
            write_session, kista, "eservice", city, NOW + timedelta(hours=2), status=status
        )
        if shown:
            expected.add(await _reference(write_session, booking_id))
    await _visit(write_session, city.bromma, "eservice", city, NOW + timedelta(days=1))  # another office
    content = await _shown(read_session, token)
    assert {visit.reference for visit in content.visits} == expected
    assert [visit.start for visit in content.visits] == sorted(visit.start for visit in content.visits)
    assert {visit.status for visit in content.visits} == {"booked", "checked_in", "served", "no_show"}


async def _reference(write_session: Sessions, booking_id: int) -> str:
    async with write_session() as db:
        return str(await db.scalar(select(Booking.reference).where(Booking.id == booking_id)))


async def test_a_service_filter(city: City, write_session: Sessions, read_session: Sessions) -> None:
    kista, budget = city.kista, city.services["budget"]
    _feed, token = await _create(
        write_session, city.users["staff"], kind="office", office_id=kista.id, service_ids=[budget.id]
    )
    await _visit(write_session, kista, "eservice", city, NOW + timedelta(days=1))
    await _visit(write_session, kista, "budget", city, NOW + timedelta(days=2))
    content = await _shown(read_session, token)
    assert [visit.service for visit in content.visits] == ["Budget and debt advice"]


async def test_an_agents_feed_shows_what_they_booked_anywhere_and_no_names(
    city, write_session, read_session
) -> None:
    agent, staff = city.users["agent"], city.users["staff"]
    reset = current_locale.set("en")  # the made-up label is in the creator's language
    try:
        _feed, token = await _create(write_session, agent, kind="agent")
    finally:
        current_locale.reset(reset)
    by_agent = {"created_by_id": agent.id, "channel": "phone"}
    mine = {
        await _visit(write_session, city.kista, "eservice", city, NOW + timedelta(days=1), **by_agent),
        await _visit(
            write_session, city.bromma, "budget", city, NOW + timedelta(days=3), **by_agent,
            needs=["interpreter"], language="fi",
        ),
    }  # fmt: skip
    await _visit(write_session, city.kista, "eservice", city, NOW + timedelta(days=2), created_by_id=staff.id)
    await _visit(write_session, city.kista, "eservice", city, NOW + timedelta(days=4))
    content = await _shown(read_session, token, public_url="https://kontor.example/")
    references = {await _reference(write_session, booking_id) for booking_id in mine}
    assert {visit.reference for visit in content.visits} == references
    assert [visit.office for visit in content.visits] == ["Medborgarkontor Kista", "Medborgarkontor Bromma"]
    assert content.visits[1].location == "Medborgarkontor Bromma, Brommaplan 3, 168 76 Bromma"
    assert (content.visits[1].needs, content.visits[1].language) == (("interpreter",), "fi")
    assert all(visit.name is None for visit in content.visits)
    assert (content.title, content.timezone) == ("Visits booked by Aino Agent", "Europe/Stockholm")
    assert content.desk_url == "https://kontor.example/agent"
    data = bookings_calendar(content, locale="en")
    assert b"Anna" not in data and b"anna.andersson" not in data and b"070-123" not in data


@pytest.mark.parametrize("kind", ["office", "counter"])
async def test_office_and_counter_feeds_show_names_but_no_contacts(
    city: City, write_session: Sessions, read_session: Sessions, kind: str
) -> None:
    kista = city.kista
    counter = await _counter(read_session, kista)
    values: dict[str, Any] = {"kind": kind, "office_id": kista.id}
    if kind == "counter":
        values["counter_id"] = counter.id
    _feed, token = await _create(write_session, city.users["staff"], **values)
    await _visit(write_session, kista, "eservice", city, NOW + timedelta(days=1), needs=["accessibility"])
    content = await _shown(read_session, token, locale="sv", public_url="https://kontor.example")
    (visit,) = content.visits
    assert (visit.name, visit.needs, visit.service) == (
        "Anna Andersson",
        ("accessibility",),
        "Hjälp med e-tjänster",
    )
    assert visit.location == "Medborgarkontor Kista, Kistagången 1, 164 40 Kista"
    assert content.desk_url == "https://kontor.example/desk/kista"
    data = bookings_calendar(content, locale="sv")
    assert b"Anna Andersson" in data
    assert b"anna.andersson" not in data and b"070-123" not in data


@contextmanager
def _selects(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)


async def test_sequences_count_moves_in_one_grouped_query(
    city: City, write_session: Sessions, read_session: Sessions, engine: AsyncEngine
) -> None:
    kista, staff = city.kista, city.users["staff"]
    _feed, token = await _create(write_session, staff, kind="office", office_id=kista.id)
    async with write_session() as db, db.begin():
        moved, _booking_token = await book(
            db, office_slug="kista", service_code="eservice", start=NINE, name="Bo Berg",
            email="bo@example.se", channel=Channel.WEB, actor="resident", now=NOW,
        )  # fmt: skip
        await reschedule(
            db, moved, NINE + timedelta(minutes=20), channel=Channel.WEB, actor="resident", now=NOW
        )
        await reschedule(db, moved, NINE + timedelta(minutes=40), channel=Channel.DESK, actor=staff, now=NOW)
    untouched = await _visit(write_session, kista, "eservice", city, NOW + timedelta(days=5))
    checked_in = await _visit(
        write_session, kista, "budget", city, NOW + timedelta(days=6), status="checked_in"
    )
    async with write_session() as db, db.begin():
        for action in ("rescheduled", "checked_in", "booked"):  # only moves (and cancellations) count
            await db.execute(
                insert(BookingEvent).values(
                    booking_id=checked_in, at=NOW, action=action, channel="desk", actor="staff", changes={}
                )
            )
    async with read_session() as db:
        feed = await feed_for_token(db, token)
        assert feed is not None
        with _selects(engine) as statements:
            content = await feed_visits(db, feed, now=NOW, locale="en")
    assert len(statements) == 2, statements  # the visits, then their sequences
    assert "GROUP BY" in statements[1].upper()
    sequences = {visit.reference: visit.sequence for visit in content.visits}
    assert sequences == {
        moved.reference: 2,
        await _reference(write_session, untouched): 0,
        await _reference(write_session, checked_in): 1,
    }
    (shown,) = [visit for visit in content.visits if visit.reference == moved.reference]
    assert shown.start == NINE + timedelta(minutes=40)
    assert shown.stamp == NOW  # the last change


async def test_a_feed_with_no_visits_asks_once(
    city: City, write_session: Sessions, read_session: Sessions, engine: AsyncEngine
) -> None:
    _feed, token = await _create(write_session, city.users["staff"], kind="office", office_id=city.kista.id)
    async with read_session() as db:
        feed = await feed_for_token(db, token)
        assert feed is not None
        with _selects(engine) as statements:
            content = await feed_visits(db, feed, now=NOW, locale="xx")
    assert content.visits == [] and len(statements) == 1
    assert content.title == "Medborgarkontor Kista" and content.desk_url is None
