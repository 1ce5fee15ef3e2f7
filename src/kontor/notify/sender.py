"""Sending the outbox: claim due messages, send them outside any transaction, record the outcome.

A message is claimed by a conditional UPDATE that only one app instance can win; the claim sets
``next_attempt_at`` ten minutes ahead, so a message whose sender died while sending is taken up
again once that time has passed (it may then be sent twice, never lost). Failures are retried after
1, 2, 4 … minutes, at most an hour apart; after the eighth failed try the message is given up and
shown to staff as failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor.notify.models import MessageStatus, OutboxMessage
from kontor.notify.transports import Transport, transports_for
from kontor.settings import Settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CLAIM_MINUTES = 10
MAX_BACKOFF_MINUTES = 60
ERROR_LENGTH = 300
_CLAIMABLE = (MessageStatus.PENDING.value, MessageStatus.SENDING.value)
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
    """Take up to ``limit`` due messages for this process; each row is won by one claimer only."""
    due = (OutboxMessage.status.in_(_CLAIMABLE), OutboxMessage.next_attempt_at <= now)
    async with session_maker() as db, db.begin():
        # A message whose sender died after its last try is given up rather than tried a ninth time.
        await db.execute(
            update(OutboxMessage)
            .where(*due, OutboxMessage.status == MessageStatus.SENDING.value)
            .where(OutboxMessage.attempts >= MAX_ATTEMPTS)
            .values(status=MessageStatus.FAILED.value, last_error="Interrupted while sending.")
        )
        candidates = await db.scalars(
            select(OutboxMessage.id)
            .where(*due)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
        claimed: list[int] = []
        for message_id in list(candidates):
            # Counted when tried, so a try that never reports back (a crash) still counts.
            result = await db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, *due)
                .values(
                    status=MessageStatus.SENDING.value,
                    attempts=OutboxMessage.attempts + 1,
                    next_attempt_at=now + timedelta(minutes=CLAIM_MINUTES),
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                claimed.append(message_id)
        if not claimed:
            return []
        rows = await db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(claimed))
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
        claimed_rows = list(rows)
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


class BackgroundWorker:
    """Sends the outbox every few seconds, then runs the other periodic ``steps`` (each called with
    the write session maker and now). One failing step is logged and the loop goes on."""

    def __init__(
        self,
        settings: Settings,
        *,
        transports: Mapping[str, Transport] | None = None,
        steps: Sequence[Step] = (),
        interval: float = 5.0,
    ) -> None:
        self.settings = settings
        # Built now, so a wrong transport setting stops the server at startup.
        self.transports = transports if transports is not None else transports_for(settings)
        self.steps: list[Step] = list(steps)
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def run_once(self, session_maker: async_sessionmaker[AsyncSession], now: datetime) -> None:
        """One round: the outbox, then each step."""
        work: list[tuple[str, Step]] = [
            ("send_due", lambda maker, at: send_due(maker, self.settings, at, self.transports))
        ]
        work += [(getattr(step, "__name__", repr(step)), step) for step in self.steps]
        for name, step in work:
            try:
                await step(session_maker, now)
            except Exception as exc:
                # The type only: a message could carry a resident's details.
                log.error("background step %s failed: %s", name, type(exc).__name__)

    async def _loop(self, app: Any) -> None:
        from kontor.hours.services import current_time

        while True:
            await self.run_once(app.state.write_session_maker, current_time(app.state))
            await asyncio.sleep(self.interval)

    async def start(self, app: Any) -> None:
        """For Litestar's ``on_startup``."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(app), name="kontor-background-worker")

    async def stop(self, app: Any) -> None:
        """For Litestar's ``on_shutdown``: a send under way is abandoned and retried after its claim."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
