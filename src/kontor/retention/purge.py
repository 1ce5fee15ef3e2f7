"""Retention (DESIGN rule 6): personal data is kept for the visit and a while after it, then blanked.

A run of :func:`purge_personal_data` blanks the names, contacts and needs of bookings, walk-in tickets
and waitlist entries whose visit (or wait) ended more than ``retention_days`` ago, blanks contacts
after ``contact_retention_days`` (kontor.contacts.retention), and deletes what would otherwise keep a
copy: messages, expired sessions, the versions of calendars nobody may read any more. What the
statistics count stays: office, service, times, status, channel, who booked, seat, queue timings,
category and outcome. A resident may have their own booking blanked at once (:func:`forget_booking`).

Each kind is blanked in batches, a transaction each, so a backlog never holds SQLite's one writer for
long; on PostgreSQL rows are claimed with SKIP LOCKED, so two runs at once share the work. The log
and the audit log get counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor.accounts.models import User
from kontor.accounts.security import hash_token, new_token
from kontor.audit import services as audit
from kontor.audit.history import StateChange, record_change
from kontor.audit.models import Channel
from kontor.booking.models import SEATLESS, Booking, BookingEvent
from kontor.calendars.http import VERSIONS_STORE
from kontor.calendars.models import CalendarFeed
from kontor.contacts.models import Contact
from kontor.contacts.retention import contacts_due, purge_contacts
from kontor.db.engine import WRITE_OPTION
from kontor.db.store import StoredValue
from kontor.i18n import N_
from kontor.notify.models import MessageStatus, OutboxMessage
from kontor.queue.models import Ticket, TicketEvent
from kontor.settings import Settings
from kontor.waitlist.models import ACTIVE_STATUSES, WaitlistEntry
from kontor.worker.models import WorkerJob

log = logging.getLogger(__name__)

# The worker's job, and how often it runs: nothing is due by the minute.
JOB_NAME = "purge"
PURGE_EVERY = timedelta(hours=1)
BATCH = 500
KIND_LABELS = {
    "bookings": N_("Bookings"),
    "tickets": N_("Walk-in tickets"),
    "waitlist": N_("Waitlist entries"),
    "contacts": N_("Contact center contacts"),
    "messages": N_("Messages to residents"),
    "events": N_("History entries"),
    "sessions": N_("Expired sessions"),
    "feed_versions": N_("Calendar versions"),
}
# Keys of a history record that would hold a resident's data. None are written today; should one
# ever be, the history of a blanked booking or ticket must not keep the copy.
PERSONAL_KEYS = frozenset({"name", "email", "phone", "contact_key", "needs", "recipient", "summary", "note"})
_SENDING = MessageStatus.SENDING.value
_FINISHED_MESSAGES = (MessageStatus.SENT.value, MessageStatus.FAILED.value)


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Where "long enough ago" begins at a moment: for visits, tickets, the waitlist and messages;
    for contacts; and the first local date whose waitlist entries are still kept."""

    personal: datetime
    contacts: datetime
    day: date

    @classmethod
    def at(cls, settings: Settings, now: datetime) -> Cutoffs:
        personal = now - timedelta(days=settings.retention_days)
        day = personal.astimezone(ZoneInfo(settings.default_timezone)).date()
        return cls(personal, now - timedelta(days=settings.contact_retention_days), day)


def bookings_due(cutoff: datetime) -> ColumnElement[bool]:
    """Not blanked yet, and the visit ended before ``cutoff``; a cancelled booking or a hold that ran
    out also once its time or its cancellation lies before it."""
    seatless = Booking.status.in_(SEATLESS) & or_(Booking.starts_at < cutoff, Booking.cancelled_at < cutoff)
    return Booking.purged_at.is_(None) & or_(Booking.ends_at < cutoff, seatless)


def tickets_due(cutoff: datetime) -> ColumnElement[bool]:
    """A number left for the near-turn message on a ticket issued before ``cutoff``: finished before
    it too, since every ticket is closed at the end of its day."""
    return Ticket.purged_at.is_(None) & Ticket.phone.is_not(None) & (Ticket.issued_at < cutoff)


def waitlist_due(cutoff: datetime, day: date) -> ColumnElement[bool]:
    """Out of the line before ``cutoff``, or out of it with a last date before ``day``. An entry still
    in line is left to the waitlist, which ends it once its dates pass."""
    return (
        WaitlistEntry.purged_at.is_(None)
        & WaitlistEntry.status.not_in(ACTIVE_STATUSES)
        & or_(WaitlistEntry.finished_at < cutoff, WaitlistEntry.latest < day)
    )


def messages_due(cutoff: datetime) -> ColumnElement[bool]:
    """Sent or given up, and made before ``cutoff``; and those of a blanked booking, unless being
    sent right now. A message's recipient and body are personal data."""
    finished = OutboxMessage.status.in_(_FINISHED_MESSAGES) & (OutboxMessage.created_at < cutoff)
    blanked = select(Booking.id).where(Booking.purged_at.is_not(None))
    return or_(finished, (OutboxMessage.status != _SENDING) & OutboxMessage.booking_id.in_(blanked))


# -- blanking ---------------------------------------------------------------------------------------


async def _claim(db: AsyncSession, model: Any, due: ColumnElement[bool]) -> list[int]:
    """Up to a batch of due rows' ids, locked for this transaction (PostgreSQL skips rows another run
    holds; on SQLite the write transaction holds the whole database)."""
    query = select(model.id).where(due).order_by(model.id).limit(BATCH).with_for_update(skip_locked=True)
    return list(await db.scalars(query))


async def _scrub(db: AsyncSession, model: type[StateChange], where: ColumnElement[bool]) -> int:
    """Drop personal keys from the ``changes`` of history rows; how many rows held any."""
    rows = (await db.execute(select(model.id, model.changes).where(where))).all()  # type: ignore[attr-defined]
    dirty = [
        {"id": row_id, "changes": {k: v for k, v in changes.items() if k not in PERSONAL_KEYS}}
        for row_id, changes in rows
        if isinstance(changes, dict) and PERSONAL_KEYS & changes.keys()
    ]
    if dirty:
        await db.execute(update(model), dirty)
    return len(dirty)


def _fresh_hash() -> str:
    """The hash of a new token that nobody is given: the private link of a blanked row opens nothing."""
    return hash_token(new_token())


async def _blank_bookings(
    db: AsyncSession, ids: list[int], now: datetime, *, actor: User | str, channel: Channel
) -> tuple[int, int]:
    """Blank the bookings ``ids``, record it in their history, delete their messages and calendar
    versions. Each gets a fresh random token that nobody knows: its private link stops working.
    Returns how many history rows were scrubbed and how many messages deleted."""
    blank = {"name": "", "email": None, "phone": None, "contact_key": None, "needs": []}
    blank |= {"reminder_token_hash": None, "purged_at": now, "updated_at": now}
    await db.execute(update(Booking), [{"id": i, "token_hash": _fresh_hash(), **blank} for i in ids])
    scrubbed = await _scrub(db, BookingEvent, BookingEvent.booking_id.in_(ids))
    for booking_id in ids:
        record_change(
            db, BookingEvent, "purged", channel=channel, actor=actor, now=now, changes={},
            booking_id=booking_id,
        )  # fmt: skip
    deleted = await db.execute(
        delete(OutboxMessage).where(OutboxMessage.booking_id.in_(ids), OutboxMessage.status != _SENDING)
    )
    versions = [f"booking:{booking_id}" for booking_id in ids]
    await db.execute(
        delete(StoredValue).where(StoredValue.namespace == VERSIONS_STORE, StoredValue.key.in_(versions))
    )
    await db.flush()
    return scrubbed, max(deleted.rowcount or 0, 0)


async def _blank_tickets(db: AsyncSession, ids: list[int], now: datetime) -> int:
    await db.execute(
        update(Ticket)
        .where(Ticket.id.in_(ids))
        .values(phone=None, purged_at=now)
        .execution_options(synchronize_session=False)
    )
    scrubbed = await _scrub(db, TicketEvent, TicketEvent.ticket_id.in_(ids))
    for ticket_id in ids:
        record_change(
            db, TicketEvent, "purged", channel=Channel.SYSTEM, actor="system", now=now, changes={},
            ticket_id=ticket_id,
        )  # fmt: skip
    return scrubbed


async def _blank_waitlist(db: AsyncSession, ids: list[int], now: datetime) -> None:
    blank = {"name": "", "email": None, "phone": None, "contact_key": None, "needs": []}
    blank |= {"offer_token_hash": None, "purged_at": now}
    await db.execute(update(WaitlistEntry), [{"id": i, "token_hash": _fresh_hash(), **blank} for i in ids])


async def _stale_versions(db: AsyncSession) -> list[str]:
    """Keys of kept calendar versions whose calendar nobody may read any more: a revoked or deleted
    staff feed, a blanked or deleted booking."""
    keys = await db.scalars(
        select(StoredValue.key).where(
            StoredValue.namespace == VERSIONS_STORE,
            or_(StoredValue.key.startswith("feed:"), StoredValue.key.startswith("booking:")),
        )
    )
    feeds: dict[str, int] = {}
    bookings: dict[str, int] = {}
    for key in keys:
        kind, _sep, rest = key.partition(":")
        number = rest.split(":", 1)[0]
        if number.isdigit():
            (feeds if kind == "feed" else bookings)[key] = int(number)
    live_feeds: set[int] = set()
    live_bookings: set[int] = set()
    for chunk in _chunks(sorted(set(feeds.values()))):
        live_feeds |= set(
            await db.scalars(
                select(CalendarFeed.id).where(CalendarFeed.id.in_(chunk), CalendarFeed.revoked_at.is_(None))
            )
        )
    for chunk in _chunks(sorted(set(bookings.values()))):
        live_bookings |= set(
            await db.scalars(select(Booking.id).where(Booking.id.in_(chunk), Booking.purged_at.is_(None)))
        )
    stale = [key for key, number in feeds.items() if number not in live_feeds]
    return stale + [key for key, number in bookings.items() if number not in live_bookings]


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[start : start + BATCH] for start in range(0, len(values), BATCH)]


SessionMaker = async_sessionmaker[AsyncSession]


async def _in_batches(session_maker: SessionMaker, work: Callable[[AsyncSession], Awaitable[int]]) -> None:
    """Run ``work`` in write transactions of its own until a batch comes back less than full."""
    while True:
        async with session_maker() as db, db.begin():
            await db.connection(execution_options={WRITE_OPTION: True})
            done = await work(db)
        if done < BATCH:
            return


async def purge_personal_data(
    session_maker: SessionMaker,
    settings: Settings,
    now: datetime,
    *,
    actor: User | str = "system",
    channel: Channel = Channel.SYSTEM,
) -> dict[str, int]:
    """One run of the retention rules at ``now``; how many rows of each kind were blanked or deleted
    (``events``: history rows that held personal data). ``actor`` and ``channel`` say who started
    it, for the audit log: the worker, or an administrator's "Purge now"."""
    cut = Cutoffs.at(settings, now)
    counts = dict.fromkeys(KIND_LABELS, 0)

    async def bookings(db: AsyncSession) -> int:
        ids = await _claim(db, Booking, bookings_due(cut.personal))
        if ids:
            scrubbed, deleted = await _blank_bookings(db, ids, now, actor="system", channel=Channel.SYSTEM)
            counts["bookings"] += len(ids)
            counts["events"] += scrubbed
            counts["messages"] += deleted
        return len(ids)

    async def tickets(db: AsyncSession) -> int:
        ids = await _claim(db, Ticket, tickets_due(cut.personal))
        if ids:
            counts["events"] += await _blank_tickets(db, ids, now)
            counts["tickets"] += len(ids)
        return len(ids)

    async def waitlist(db: AsyncSession) -> int:
        ids = await _claim(db, WaitlistEntry, waitlist_due(cut.personal, cut.day))
        if ids:
            await _blank_waitlist(db, ids, now)
            counts["waitlist"] += len(ids)
        return len(ids)

    async def messages(db: AsyncSession) -> int:
        ids = await _claim(db, OutboxMessage, messages_due(cut.personal))
        if ids:
            await db.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
            counts["messages"] += len(ids)
        return len(ids)

    async def stored(db: AsyncSession) -> int:
        expired = await db.execute(delete(StoredValue).where(StoredValue.expires_at <= now))
        counts["sessions"] += max(expired.rowcount or 0, 0)
        stale = await _stale_versions(db)
        for chunk in _chunks(stale):
            await db.execute(
                delete(StoredValue).where(StoredValue.namespace == VERSIONS_STORE, StoredValue.key.in_(chunk))
            )
        counts["feed_versions"] += len(stale)
        return 0

    for work in (bookings, tickets, waitlist, messages, stored):
        await _in_batches(session_maker, work)
    counts["contacts"] = await purge_contacts(session_maker, now, days=settings.contact_retention_days)
    if any(counts.values()):
        async with session_maker() as db, db.begin():
            await db.connection(execution_options={WRITE_OPTION: True})
            changes = {**counts, "before": cut.personal.isoformat()}
            audit.record(
                db, actor=actor, channel=channel, action="retention.purged", entity="personal_data",
                changes=changes,
            )  # fmt: skip
        log.info("retention: purged %s", ", ".join(f"{kind} {n}" for kind, n in counts.items()))
    return counts


def purge_job(settings: Settings) -> Callable[[SessionMaker, datetime], Awaitable[dict[str, int]]]:
    """The worker's "purge" job: :func:`purge_personal_data` with ``settings``."""

    async def purge(session_maker: SessionMaker, now: datetime) -> dict[str, int]:
        return await purge_personal_data(session_maker, settings, now)

    return purge


async def forget_booking(
    db: AsyncSession, booking: Booking, *, now: datetime, actor: User | str, channel: Channel
) -> None:
    """Blank one booking at once, at its resident's request, in the caller's transaction: as the purge
    does, and with every message of it that is not being sent right now. Cancelling an upcoming
    visit first is the caller's part."""
    scrubbed, deleted = await _blank_bookings(db, [booking.id], now, actor=actor, channel=channel)
    audit.record(
        db, actor=actor, channel=channel, action="booking.purged", entity="booking", entity_id=booking.id,
        office_id=booking.office_id, changes={"messages": deleted, "events": scrubbed},
    )  # fmt: skip
    log.info("booking %s: personal data deleted at the resident's request", booking.id)


# -- the admin page's figures ----------------------------------------------------------------------


async def due_counts(db: AsyncSession, settings: Settings, now: datetime) -> dict[str, int]:
    """How many rows of each kind a run at ``now`` would blank or delete (history rows aside: which
    of them hold personal data shows only on reading them)."""
    cut = Cutoffs.at(settings, now)

    async def count(model: Any, where: ColumnElement[bool]) -> int:
        return int(await db.scalar(select(func.count()).select_from(model).where(where)) or 0)

    return {
        "bookings": await count(Booking, bookings_due(cut.personal)),
        "tickets": await count(Ticket, tickets_due(cut.personal)),
        "waitlist": await count(WaitlistEntry, waitlist_due(cut.personal, cut.day)),
        "contacts": await count(Contact, contacts_due(cut.contacts)),
        "messages": await count(OutboxMessage, messages_due(cut.personal)),
        "sessions": await count(StoredValue, StoredValue.expires_at <= now),
        "feed_versions": len(await _stale_versions(db)),
    }


async def record_run(
    session_maker: SessionMaker,
    name: str,
    now: datetime,
    result: Mapping[str, int],
    *,
    started_at: datetime | None = None,
    error: str = "",
) -> None:
    """Note a run of the job ``name`` that was not claimed through the worker (an administrator's
    "Purge now") in its row, as the worker notes its own: when, its counts, an error's type, one more
    run. The row is made if the worker has not made it yet; its schedule and lock are left alone."""
    values: dict[str, Any] = {
        "last_started_at": started_at or now,
        "last_finished_at": now,
        "last_result": dict(result),
        "last_error": error[:300],
    }
    async with session_maker() as db, db.begin():
        await db.connection(execution_options={WRITE_OPTION: True})
        insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(WorkerJob).values(name=name, next_run_at=now, locked_by="", runs=1, **values)
        await db.execute(
            statement.on_conflict_do_update(
                index_elements=["name"], set_={**values, "runs": WorkerJob.__table__.c.runs + 1}
            )
        )
