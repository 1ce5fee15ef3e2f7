"""The retention purge: for each kind of row, exactly those due at the injected clock are blanked or
deleted (a second either side of the cutoff, active and already blanked rows as tables), every other
column and row stays as it was, and a second run finds nothing left to do."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor.accounts.security import hash_token
from kontor.audit.models import AuditEntry
from kontor.booking.models import SEATLESS, Booking, BookingEvent, BookingStatus
from kontor.calendars.http import VERSIONS_STORE
from kontor.calendars.models import CalendarFeed
from kontor.db.engine import create_engine, writer
from kontor.db.store import StoredValue
from kontor.notify.models import OutboxMessage
from kontor.queue.models import Ticket, TicketEvent
from kontor.retention.purge import KIND_LABELS, purge_personal_data
from kontor.waitlist.models import WaitlistEntry
from tests.conftest import run_with_engine
from tests.retention.rows import (
    CUTOFF,
    DAY,
    EMAIL,
    NAME,
    NOW,
    PHONE,
    SECOND,
    STOCKHOLM,
    booking,
    entry,
    message,
    snapshot,
    ticket,
)

MINUTES_20 = timedelta(minutes=20)
NOBODY = {"name": "", "email": None, "phone": None, "contact_key": None, "needs": []}
CUTOFF_DAY = CUTOFF.astimezone(STOCKHOLM).date()
TODAY = NOW.astimezone(STOCKHOLM).date()


def counts(**nonzero: int) -> dict[str, int]:
    return dict.fromkeys(KIND_LABELS, 0) | nonzero


async def seed(write_session: async_sessionmaker[AsyncSession], rows: dict[str, Any]) -> dict[str, int]:
    """Write ``rows`` (by case name); their ids by case name."""
    async with write_session() as db, db.begin():
        db.add_all(rows.values())
        await db.flush()
        return {case: row.id for case, row in rows.items()}


async def table(read_session: async_sessionmaker[AsyncSession], model: Any) -> dict[int, dict[str, Any]]:
    async with read_session() as db:
        return await snapshot(db, model)


def assert_blanked(
    before: dict[int, dict[str, Any]],
    after: dict[int, dict[str, Any]],
    ids: dict[str, int],
    due: set[str],
    blank: dict[str, Any],
    *,
    also_changed: set[str] = frozenset(),  # type: ignore[assignment]
) -> None:
    """Due rows hold ``blank`` and are stamped purged now; only those columns (and ``also_changed``)
    changed. Every other row is exactly as it was."""
    for case, row_id in ids.items():
        old, new = before[row_id], after[row_id]
        if case not in due:
            assert new == old, case
            continue
        assert {key: new[key] for key in blank} == blank, case
        assert new["purged_at"] == NOW, case
        changed = set(blank) | also_changed | {"purged_at"}
        assert {k: v for k, v in new.items() if k not in changed} == {
            k: v for k, v in old.items() if k not in changed
        }, case


# -- bookings -------------------------------------------------------------------------------------

EXPIRED_HOLD = {"status": "expired", **NOBODY}
BLANKED = {**NOBODY, "reminder_token_hash": None, "purged_at": CUTOFF - 9 * DAY}
BOOKINGS = [
    # case, the row's values, whether it is due
    ("ended a second before the cutoff", {"ends": CUTOFF - SECOND}, True),
    ("ended at the cutoff", {"ends": CUTOFF}, False),
    ("ended a second after the cutoff", {"ends": CUTOFF + SECOND}, False),
    ("no-show long ago", {"ends": CUTOFF - 10 * DAY, "status": "no_show"}, True),
    ("booked, never checked in, long ago", {"ends": CUTOFF - DAY, "status": "booked"}, True),
    ("upcoming", {"ends": NOW + 2 * DAY, "status": "booked"}, False),
    ("under way", {"ends": NOW + MINUTES_20, "status": "checked_in"}, False),
    (
        "cancelled after its time, which began a second before the cutoff",
        {"ends": CUTOFF - SECOND + MINUTES_20, "status": "cancelled", "cancelled_at": CUTOFF + DAY},
        True,
    ),
    (
        "cancelled after its time, which began at the cutoff",
        {"ends": CUTOFF + MINUTES_20, "status": "cancelled", "cancelled_at": CUTOFF + DAY},
        False,
    ),
    (
        "cancelled a second before the cutoff, for a time to come",
        {"ends": NOW + 5 * DAY, "status": "cancelled", "cancelled_at": CUTOFF - SECOND},
        True,
    ),
    (
        "cancelled at the cutoff, for a time to come",
        {"ends": NOW + 5 * DAY, "status": "cancelled", "cancelled_at": CUTOFF},
        False,
    ),
    ("cancelled yesterday", {"ends": NOW + 5 * DAY, "status": "cancelled", "cancelled_at": NOW - DAY}, False),
    ("a hold that ran out long ago", {"ends": CUTOFF - 2 * DAY, **EXPIRED_HOLD}, True),
    ("a hold that ran out, for a time to come", {"ends": NOW + DAY, **EXPIRED_HOLD}, False),
    ("already blanked", {"ends": CUTOFF - 10 * DAY, **BLANKED}, False),
]


async def test_bookings_due_are_blanked_and_nothing_else(city, write_session, read_session, settings) -> None:  # type: ignore[no-untyped-def]
    ids = await seed(write_session, {case: booking(city, **values) for case, values, _due in BOOKINGS})
    due = {case for case, _values, is_due in BOOKINGS if is_due}
    # A history row of each booking; two of them hold a name, as no code writes today but one might.
    async with write_session() as db, db.begin():
        for booking_id in ids.values():
            db.add(BookingEvent(booking_id=booking_id, action="booked", channel="web", actor="resident",
                                at=NOW - 40 * DAY, changes={"seat": 1}))  # fmt: skip
        for case in ("no-show long ago", "upcoming"):
            named = {"name": [NAME, "Anna A"], "seat": 2}
            db.add(BookingEvent(booking_id=ids[case], action="edited", channel="phone", actor="agent",
                                at=NOW - 40 * DAY, changes=named))  # fmt: skip
    before = await table(read_session, Booking)

    assert await purge_personal_data(write_session, settings, NOW) == counts(bookings=len(due), events=1)

    after = await table(read_session, Booking)
    blank = {**NOBODY, "reminder_token_hash": None}
    assert_blanked(before, after, ids, due, blank, also_changed={"token_hash", "updated_at"})
    for case in due:
        old, new = before[ids[case]], after[ids[case]]
        assert new["token_hash"] != old["token_hash"] and len(new["token_hash"]) == 64
        assert new["updated_at"] == NOW
    async with read_session() as db:
        events = list(await db.scalars(select(BookingEvent).order_by(BookingEvent.id)))
    purged = sorted(e.booking_id for e in events if e.action == "purged")
    assert purged == sorted(ids[case] for case in due)
    assert {(e.actor, e.channel, e.at) for e in events if e.action == "purged"} == {("system", "system", NOW)}
    edits = {e.booking_id: e.changes for e in events if e.action == "edited"}
    assert edits == {
        ids["no-show long ago"]: {"seat": 2},
        ids["upcoming"]: {"name": [NAME, "Anna A"], "seat": 2},
    }

    assert await purge_personal_data(write_session, settings, NOW) == counts()
    assert await table(read_session, Booking) == after


_AROUND_THE_CUTOFF = st.sampled_from([-SECOND, timedelta(0), SECOND]) | st.integers(
    -3 * 86400, 3 * 86400
).map(lambda seconds: timedelta(seconds=seconds))


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(list(BookingStatus)),
            _AROUND_THE_CUTOFF,
            st.none() | _AROUND_THE_CUTOFF,
            st.booleans(),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_a_booking_is_blanked_exactly_when_the_rule_says(city, settings, rows) -> None:  # type: ignore[no-untyped-def]
    """The rule in words: a booking not yet blanked whose visit ended before the cutoff, or a cancelled
    booking or a lapsed hold whose time began, or which was cancelled, before it."""

    def due(status: str, ends: Any, cancelled: Any, blanked: bool) -> bool:
        starts = ends - MINUTES_20
        gone = status in SEATLESS and (starts < CUTOFF or (cancelled is not None and cancelled < CUTOFF))
        return not blanked and (ends < CUTOFF or gone)

    made = [
        (status.value, CUTOFF + ends, None if cancelled is None else CUTOFF + cancelled, blanked)
        for status, ends, cancelled, blanked in rows
    ]

    async def work(db: Any) -> list[int]:
        added = [
            booking(city, ends=ends, status=status, cancelled_at=cancelled,
                    purged_at=CUTOFF - DAY if blanked else None)
            for status, ends, cancelled, blanked in made
        ]  # fmt: skip
        db.add_all(added)
        await db.flush()
        return [row.id for row in added]

    ids = run_with_engine(settings, work)
    purge_at(settings, NOW)

    async def purged(db: Any) -> list[Any]:
        return [await db.scalar(select(Booking.purged_at).where(Booking.id == row_id)) for row_id in ids]

    stamps = run_with_engine(settings, purged)
    assert [stamp == NOW for stamp in stamps] == [due(*row) for row in made]


def purge_at(settings: Any, now: Any) -> dict[str, int]:
    """One run from synchronous code, on an engine of its own."""

    async def main() -> dict[str, int]:
        engine = create_engine(settings)
        try:
            return await purge_personal_data(
                async_sessionmaker(writer(engine), expire_on_commit=False), settings, now
            )
        finally:
            await engine.dispose()

    return asyncio.run(main())


# -- tickets --------------------------------------------------------------------------------------

TICKETS = [
    ("issued a second before the cutoff", {"issued": CUTOFF - SECOND}, True),
    ("issued at the cutoff", {"issued": CUTOFF}, False),
    ("closed unserved long ago", {"issued": CUTOFF - 5 * DAY, "status": "closed", "called_at": None}, True),
    ("long ago, no number left", {"issued": CUTOFF - 5 * DAY, "phone": None, "alerted_at": None}, False),
    ("waiting today", {"issued": NOW - timedelta(hours=1), "status": "waiting"}, False),
    ("already blanked", {"issued": CUTOFF - 9 * DAY, "phone": None, "purged_at": CUTOFF - 8 * DAY}, False),
]


async def test_tickets_due_lose_their_number_and_nothing_else(
    city, write_session, read_session, settings
) -> None:  # type: ignore[no-untyped-def]
    ids = await seed(write_session, {case: ticket(city, **values) for case, values, _due in TICKETS})
    due = {case for case, _values, is_due in TICKETS if is_due}
    async with write_session() as db, db.begin():
        for case in ("issued a second before the cutoff", "waiting today"):
            db.add(TicketEvent(ticket_id=ids[case], action="phone", channel="web", actor="resident",
                               at=NOW - 40 * DAY, changes={"phone": PHONE, "ahead": 3}))  # fmt: skip
    before = await table(read_session, Ticket)

    assert await purge_personal_data(write_session, settings, NOW) == counts(tickets=len(due), events=1)

    assert_blanked(before, await table(read_session, Ticket), ids, due, {"phone": None})
    async with read_session() as db:
        events = list(await db.scalars(select(TicketEvent)))
    assert sorted(e.ticket_id for e in events if e.action == "purged") == sorted(ids[case] for case in due)
    kept = {e.ticket_id: e.changes for e in events if e.action == "phone"}
    assert kept == {ids["issued a second before the cutoff"]: {"ahead": 3}, ids["waiting today"]: {
        "phone": PHONE, "ahead": 3}}  # fmt: skip
    assert await purge_personal_data(write_session, settings, NOW) == counts()


# -- the waitlist ---------------------------------------------------------------------------------

WAITLIST = [
    ("booked a second before the cutoff", {"status": "booked", "finished": CUTOFF - SECOND}, True),
    ("left at the cutoff", {"status": "left", "finished": CUTOFF}, False),
    (
        "ended yesterday",
        {"status": "ended", "finished": NOW - DAY, "latest": TODAY - timedelta(days=2)},
        False,
    ),
    (
        "lapsed, its last date the day before the cutoff's",
        {"status": "lapsed", "finished": None, "latest": CUTOFF_DAY - timedelta(days=1)},
        True,
    ),
    (
        "lapsed, its last date the cutoff's",
        {"status": "lapsed", "finished": None, "latest": CUTOFF_DAY},
        False,
    ),
    (
        "still waiting, its last date long past",
        {"status": "waiting", "finished": None, "latest": CUTOFF_DAY - timedelta(days=5)},
        False,
    ),
    ("offered a seat", {"status": "offered", "finished": None}, False),
    (
        "already blanked",
        {"status": "ended", "finished": CUTOFF - 5 * DAY, "purged_at": CUTOFF - 4 * DAY, **NOBODY},
        False,
    ),
]


async def test_waitlist_entries_due_are_blanked_and_nothing_else(
    city, write_session, read_session, settings
) -> None:  # type: ignore[no-untyped-def]
    rows = {
        case: entry(city, **({"latest": TODAY + timedelta(days=3)} | values)) for case, values, _d in WAITLIST
    }
    ids = await seed(write_session, rows)
    due = {case for case, _values, is_due in WAITLIST if is_due}
    before = await table(read_session, WaitlistEntry)

    assert await purge_personal_data(write_session, settings, NOW) == counts(waitlist=len(due))

    after = await table(read_session, WaitlistEntry)
    assert_blanked(before, after, ids, due, {**NOBODY, "offer_token_hash": None}, also_changed={"token_hash"})
    for case in due:
        assert after[ids[case]]["token_hash"] != before[ids[case]]["token_hash"]
    assert await purge_personal_data(write_session, settings, NOW) == counts()


# -- messages -------------------------------------------------------------------------------------


async def test_messages_due_are_deleted_and_nothing_else(city, write_session, read_session, settings) -> None:  # type: ignore[no-untyped-def]
    bookings = await seed(
        write_session,
        {
            "due": booking(city, ends=CUTOFF - DAY),
            "upcoming": booking(city, ends=NOW + DAY, status="booked"),
            "blanked": booking(city, ends=CUTOFF - 9 * DAY, **BLANKED),
        },
    )
    cases = [
        # case, status, made, the booking it is about, whether it is deleted
        ("sent a second before the cutoff", "sent", CUTOFF - SECOND, None, True),
        ("given up before the cutoff", "failed", CUTOFF - DAY, None, True),
        ("sent at the cutoff", "sent", CUTOFF, None, False),
        ("sent yesterday", "sent", NOW - DAY, None, False),
        ("still to send, of an upcoming visit, long ago", "pending", CUTOFF - DAY, "upcoming", False),
        ("being sent, long ago", "sending", CUTOFF - DAY, None, False),
        ("still to send, of a visit blanked now", "pending", NOW - DAY, "due", True),
        ("sent yesterday, of a visit blanked now", "sent", NOW - DAY, "due", True),
        ("being sent, of a visit blanked now", "sending", NOW - DAY, "due", False),
        ("still to send, of a visit blanked before", "pending", NOW - DAY, "blanked", True),
    ]
    rows = {
        case: message(status=status, created=made, booking_id=bookings.get(about or ""))
        for case, status, made, about, _deleted in cases
    }
    rows["a webhook delivery long ago"] = message(status="sent", created=CUTOFF - DAY, channel="webhook")
    ids = await seed(write_session, rows)
    deleted = {case for case, *_rest, gone in cases if gone} | {"a webhook delivery long ago"}
    before = await table(read_session, OutboxMessage)

    result = await purge_personal_data(write_session, settings, NOW)

    assert result == counts(bookings=1, messages=len(deleted))
    after = await table(read_session, OutboxMessage)
    assert set(after) == {ids[case] for case in ids if case not in deleted}
    assert all(after[row_id] == before[row_id] for row_id in after)
    assert await purge_personal_data(write_session, settings, NOW) == counts()


# -- stored values: sessions and calendar versions ---------------------------------------------------


async def test_expired_sessions_and_versions_of_closed_calendars_are_deleted(
    city, write_session, read_session, settings
) -> None:  # type: ignore[no-untyped-def]
    staff = city.users["staff"]
    feeds = await seed(
        write_session,
        {
            name: CalendarFeed(user_id=staff.id, kind="office", office_id=city.kista.id, service_ids=[],
                               token_hash=hash_token(name), created_at=NOW - 50 * DAY, revoked_at=revoked)
            for name, revoked in (("live", None), ("revoked", NOW - DAY))
        },
    )  # fmt: skip
    bookings = await seed(
        write_session,
        {
            "due": booking(city, ends=CUTOFF - DAY),
            "upcoming": booking(city, ends=NOW + DAY, status="booked"),
            "blanked": booking(city, ends=CUTOFF - 9 * DAY, **BLANKED),
        },
    )
    stored = [
        # namespace, key, expires at, whether it is deleted
        ("sessions", "expired a second ago", NOW - SECOND, True),
        ("sessions", "expires now", NOW, True),
        ("sessions", "expires in a second", NOW + SECOND, False),
        ("sessions", "never expires", None, False),
        (VERSIONS_STORE, f"feed:{feeds['live']}:sv", None, False),
        (VERSIONS_STORE, f"feed:{feeds['revoked']}:sv", None, True),
        (VERSIONS_STORE, f"feed:{feeds['revoked']}:en", None, True),
        (VERSIONS_STORE, "feed:987654:sv", None, True),  # its feed deleted with its user
        (VERSIONS_STORE, "hours:kista:sv", None, False),
        (VERSIONS_STORE, f"booking:{bookings['due']}", None, True),
        (VERSIONS_STORE, f"booking:{bookings['upcoming']}", None, False),
        (VERSIONS_STORE, f"booking:{bookings['blanked']}", None, True),
    ]
    async with write_session() as db, db.begin():
        for namespace, key, expires_at, _gone in stored:
            db.add(StoredValue(namespace=namespace, key=key, value=b"{}", expires_at=expires_at))

    result = await purge_personal_data(write_session, settings, NOW)

    # The due booking's calendar version goes with the booking; the others are swept.
    assert result == counts(bookings=1, sessions=2, feed_versions=4)
    async with read_session() as db:
        left = {tuple(row) for row in await db.execute(select(StoredValue.namespace, StoredValue.key))}
    assert left == {(namespace, key) for namespace, key, _at, gone in stored if not gone}
    assert await purge_personal_data(write_session, settings, NOW) == counts()


# -- the run as a whole ---------------------------------------------------------------------------


async def test_a_run_is_logged_and_audited_with_counts_only(
    city, write_session, read_session, settings, caplog
) -> None:  # type: ignore[no-untyped-def]
    await seed(
        write_session,
        {
            "visit": booking(city, ends=CUTOFF - DAY),
            "ticket": ticket(city, issued=CUTOFF - DAY),
            "message": message(status="sent", created=CUTOFF - DAY),
        },
    )
    caplog.set_level(logging.DEBUG)
    result = await purge_personal_data(write_session, settings, NOW)
    assert result == counts(bookings=1, tickets=1, messages=1)
    async with read_session() as db:
        (audit,) = await db.scalars(select(AuditEntry).where(AuditEntry.action == "retention.purged"))
    assert (audit.actor, audit.channel, audit.entity) == ("system", "system", "personal_data")
    assert {kind: audit.changes[kind] for kind in KIND_LABELS} == result
    assert "bookings 1" in caplog.text and "tickets 1" in caplog.text
    for personal in (NAME, EMAIL, PHONE, "0701234567"):
        assert personal not in caplog.text
        assert personal not in repr(audit.changes)

    # A run with nothing to do leaves no audit entry.
    await purge_personal_data(write_session, settings, NOW)
    async with read_session() as db:
        entries = await db.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "retention.purged"))  # fmt: skip
    assert entries == 1


@pytest.mark.parametrize(("days", "due"), [(30, 1), (45, 0), (5, 2)])
async def test_the_period_is_the_setting(city, write_session, settings, days, due) -> None:  # type: ignore[no-untyped-def]
    await seed(
        write_session,
        {
            "40 days ago": booking(city, ends=NOW - 40 * DAY),
            "10 days ago": booking(city, ends=NOW - 10 * DAY),
        },
    )
    changed = dataclasses.replace(settings, retention_days=days)
    assert (await purge_personal_data(write_session, changed, NOW))["bookings"] == due


async def test_two_runs_at_once_share_the_work(city, write_session, read_session, settings) -> None:  # type: ignore[no-untyped-def]
    """Two workers (engines of their own) purge a backlog of several batches at the same moment:
    every due booking and ticket is blanked once, with one history row each."""
    many = 1100
    async with write_session() as db, db.begin():
        db.add_all(booking(city, ends=CUTOFF - DAY - n * SECOND) for n in range(many))
        db.add_all(ticket(city, issued=CUTOFF - DAY - n * SECOND) for n in range(many // 2))
    engines = [create_engine(settings) for _ in range(2)]
    try:
        makers = [async_sessionmaker(writer(engine), expire_on_commit=False) for engine in engines]
        runs: list[Callable[[], Awaitable[dict[str, int]]]] = [
            lambda maker=maker: purge_personal_data(maker, settings, NOW) for maker in makers
        ]
        results = await asyncio.gather(*(run() for run in runs))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(result["bookings"] for result in results) == many
    assert sum(result["tickets"] for result in results) == many // 2
    async with read_session() as db:
        left = await db.scalar(select(func.count()).select_from(Booking).where(Booking.purged_at.is_(None)))
        events = (
            await db.execute(
                select(BookingEvent.booking_id, func.count())
                .where(BookingEvent.action == "purged")
                .group_by(BookingEvent.booking_id)
            )
        ).all()
        ticket_events = await db.scalar(
            select(func.count()).select_from(TicketEvent).where(TicketEvent.action == "purged")
        )
    assert left == 0
    assert len(events) == many and {count for _id, count in events} == {1}
    assert ticket_events == many // 2
