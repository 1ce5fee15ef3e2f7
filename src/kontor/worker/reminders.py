"""Reminders of booked visits, ``reminder_hours`` before the visit, by e-mail and text message.

Each booking is reminded once: the booking is marked (``reminded_at``) in the same transaction that
queues its messages, so however many workers look at once, one of them takes it and the others
skip it (``SKIP LOCKED`` on PostgreSQL, one writer at a time on SQLite). Moving the visit clears the
mark (:func:`kontor.booking.services.reschedule`), and the new time is reminded again.

A visit booked or moved when its reminder time had already come is marked without a message: the
resident has just had the confirmation.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor.accounts.security import hash_token, new_token
from kontor.booking.models import Booking, BookingStatus
from kontor.db.engine import WRITE_OPTION
from kontor.notify.messages import queue_reminder_messages
from kontor.settings import Settings

log = logging.getLogger(__name__)

# Bookings taken per transaction: a large backlog (a worker that was down) is worked off in short
# transactions that hold few locks.
BATCH = 200


async def queue_reminders(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> int:
    """Queue the reminders that are due at ``now``; how many bookings were reminded."""
    if settings.reminder_hours <= 0:
        return 0
    lead = timedelta(hours=settings.reminder_hours)
    reminded = skipped = 0
    while True:
        async with session_maker() as db, db.begin():
            await db.connection(execution_options={WRITE_OPTION: True})
            ids = list(
                await db.scalars(
                    select(Booking.id)
                    .where(*_due(now, lead))
                    .order_by(Booking.starts_at, Booking.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            if not ids:
                break
            bookings = await db.scalars(select(Booking).where(Booking.id.in_(ids)).order_by(Booking.id))
            for booking in list(bookings):
                if await _remind(db, booking, settings, now, lead):
                    reminded += 1
                else:
                    skipped += 1
        if len(ids) < BATCH:
            break
    if reminded or skipped:
        log.info("reminders: %s bookings reminded, %s needed none", reminded, skipped)
    return reminded


def _due(now: datetime, lead: timedelta) -> tuple[ColumnElement[bool], ...]:
    return (
        Booking.status == BookingStatus.BOOKED.value,
        Booking.purged_at.is_(None),
        Booking.reminded_at.is_(None),
        Booking.starts_at > now,
        Booking.starts_at <= now + lead,
    )


async def _remind(
    db: AsyncSession, booking: Booking, settings: Settings, now: datetime, lead: timedelta
) -> bool:
    """Mark ``booking`` reminded and queue its reminder, unless it was booked or moved (its last
    change) after its reminder time had come; whether a reminder was queued."""
    needed = booking.updated_at <= booking.starts_at - lead
    token = new_token() if needed else None
    marked = await db.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.reminded_at.is_(None))
        # updated_at kept: the reminder changes nothing about the visit, and calendar feeds (which
        # watch updated_at) need not be rebuilt for it.
        .values(
            reminded_at=now,
            reminder_token_hash=hash_token(token) if token else Booking.reminder_token_hash,
            updated_at=Booking.updated_at,
        )
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1 or token is None:
        return False
    return bool(queue_reminder_messages(db, booking, settings=settings, token=token, now=now))
