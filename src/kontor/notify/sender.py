"""Sending the outbox: claim due messages, send them outside any transaction, record the outcome.

A message is claimed by one sender only (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, a single
writer on SQLite), however many workers and app instances send; the claim sets
``next_attempt_at`` ten minutes ahead, so a message whose sender died while sending is taken up
again once that time has passed (it may then be sent twice, never lost). Failures are retried after
1, 2, 4 … minutes, at most an hour apart; after the eighth failed try the message is given up and
shown to staff as failed. The worker (:mod:`kontor.worker.runner`) calls :func:`send_due` every round.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor.db.engine import WRITE_OPTION
from kontor.notify.models import MessageStatus, OutboxMessage
from kontor.notify.transports import Transport, transports_for
from kontor.settings import Settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CLAIM_MINUTES = 10
MAX_BACKOFF_MINUTES = 60
ERROR_LENGTH = 300
_SENDING = MessageStatus.SENDING.value
_CLAIMABLE = (MessageStatus.PENDING.value, _SENDING)
_EMAIL = re.compile(r"[^\s<>@\"']+@[^\s<>@\"']+")
_DIGITS = re.compile(r"\+?\d[\d ()-]{5,}\d")

Step = Callable[[async_sessionmaker[AsyncSession], datetime], Awaitable[Any]]


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: 1, 2, 4, 8 … minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), MAX_BACKOFF_MINUTES))


def describe_error(error: BaseException, recipient: str) -> str:
    """What went wrong, for staff and logs: without the recipient, any address or phone number."""
    text = f"{type(error).__name__}: {error}"
    if recipient:
        text = text.replace(recipient, "<recipient>")
    text = _DIGITS.sub("<number>", _EMAIL.sub("<address>", text))
    return text[:ERROR_LENGTH]


async def _claim(
    session_maker: async_sessionmaker[AsyncSession], now: datetime, limit: int
) -> list[OutboxMessage]:
    """Take up to ``limit`` due messages for this process; each row is won by one claimer only.

    On PostgreSQL the due rows are locked as they are chosen, skipping those another sender is
    choosing at the same moment, so several senders each take a share instead of queueing for the
    same rows. On SQLite the transaction is the only writer (BEGIN IMMEDIATE) from its first statement.
    """
    due = (OutboxMessage.status.in_(_CLAIMABLE), OutboxMessage.next_attempt_at <= now)
    async with session_maker() as db, db.begin():
        await db.connection(execution_options={WRITE_OPTION: True})
        rows = await db.execute(
            select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts)
            .where(*due)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        chosen = list(rows)
        # A message whose sender died after its last try is given up rather than tried a ninth time.
        spent = [row.id for row in chosen if row.status == _SENDING and row.attempts >= MAX_ATTEMPTS]
        if spent:
            await db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(spent))
                .values(status=MessageStatus.FAILED.value, last_error="Interrupted while sending.")
                .execution_options(synchronize_session=False)
            )
        wanted = [row.id for row in chosen if row.id not in spent]
        if not wanted:
            return []
        # Counted when tried, so a try that never reports back (a crash) still counts. Still
        # conditional: the rows are this transaction's, but the claim must not depend on it.
        claimed = await db.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(wanted), *due)
            .values(
                status=_SENDING,
                attempts=OutboxMessage.attempts + 1,
                next_attempt_at=now + timedelta(minutes=CLAIM_MINUTES),
            )
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        claimed_ids = list(claimed)
        if not claimed_ids:
            return []
        messages = await db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(claimed_ids))
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
        claimed_rows = list(messages)
        # Detached before the commit: they are read while sending, after this session is gone.
        db.expunge_all()
        return claimed_rows


async def _record(
    session_maker: async_sessionmaker[AsyncSession], message: OutboxMessage, now: datetime, error: str | None
) -> None:
    if error is None:
        values: dict[str, Any] = {"status": MessageStatus.SENT.value, "sent_at": now, "last_error": ""}
    elif message.attempts >= MAX_ATTEMPTS:
        values = {"status": MessageStatus.FAILED.value, "last_error": error}
    else:
        values = {
            "status": MessageStatus.PENDING.value,
            "last_error": error,
            "next_attempt_at": now + backoff(message.attempts),
        }
    async with session_maker() as db, db.begin():
        # Only while still ours: staff may have changed it in the meantime.
        await db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.status == MessageStatus.SENDING.value)
            .values(**values)
        )


async def send_due(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    now: datetime,
    transports: Mapping[str, Transport] | None = None,
    limit: int = 50,
) -> int:
    """Send up to ``limit`` messages that are due at ``now``; returns how many were sent."""
    transports = transports if transports is not None else transports_for(settings)
    sent = 0
    for message in await _claim(session_maker, now, limit):
        error: str | None = None
        try:
            transport = transports[message.channel]
            await transport.send(message)
        except Exception as exc:
            error = describe_error(exc, message.recipient)
            log.warning(
                "outbox message %s (%s) not sent, try %s: %s",
                message.id,
                message.channel,
                message.attempts,
                error,
            )
        else:
            sent += 1
        await _record(session_maker, message, now, error)
    return sent


def __getattr__(name: str) -> Any:
    # The loop that ran the outbox and the other steps is now kontor.worker.runner's; the old name
    # still answers for code that imports it from here.
    if name == "BackgroundWorker":
        from kontor.worker.runner import BackgroundWorker

        return BackgroundWorker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
