"""The worker: every few seconds, one round over the jobs (send the outbox, sweep holds, end the
day, remind, purge), each run only when due and by one worker at a time (:mod:`kontor.worker.schedule`).

It runs inside the app (``KONTOR_BACKGROUND_WORKER``, on by default; also in ``kontor demo``) or as
``kontor worker`` beside the servers; any number of both may run against one database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor.booking.holds import sweep_expired_holds
from kontor.notify.sender import Step, send_due
from kontor.notify.transports import Transport, transports_for
from kontor.queue.alerts import queue_ticket_alerts
from kontor.queue.dayend import close_all_days
from kontor.retention import purge
from kontor.settings import Settings
from kontor.waitlist.services import run_waitlist
from kontor.worker.reminders import queue_reminders
from kontor.worker.schedule import Job, JobResult, run_if_due

log = logging.getLogger(__name__)

EVERY_ROUND = timedelta(0)
# How long a stopping app waits for the round under way before it abandons it (a message being sent
# is then sent again after its claim runs out; a job's lease is given back).
STOP_GRACE_SECONDS = 10.0


def default_jobs(settings: Settings, *, transports: Mapping[str, Transport] | None = None) -> list[Job]:
    """The jobs every worker runs. ``transports`` default to the settings' (built now, so a wrong
    transport setting stops the worker when it starts, not at the first message)."""

    async def reminders(session_maker: async_sessionmaker[AsyncSession], now: datetime) -> JobResult:
        return {"reminded": await queue_reminders(session_maker, settings, now)}

    async def ticket_alerts(session_maker: async_sessionmaker[AsyncSession], now: datetime) -> JobResult:
        return {"alerted": await queue_ticket_alerts(session_maker, settings, now)}

    async def waitlist(session_maker: async_sessionmaker[AsyncSession], now: datetime) -> JobResult:
        return await run_waitlist(session_maker, settings, now)

    return [
        outbox_job(settings, transports),
        Job("holds", EVERY_ROUND, sweep_expired_holds),
        Job("day_end", timedelta(minutes=1), close_all_days),
        Job("reminders", timedelta(minutes=1), reminders),
        Job("ticket_alerts", EVERY_ROUND, ticket_alerts),
        Job("waitlist", EVERY_ROUND, waitlist),
        # Personal data past its retention period: bookings, tickets, waitlist, contacts, messages.
        Job(purge.JOB_NAME, purge.PURGE_EVERY, purge.purge_job(settings)),
    ]


def outbox_job(settings: Settings, transports: Mapping[str, Transport] | None = None) -> Job:
    """Sending the outbox, every round."""
    transports = transports if transports is not None else transports_for(settings)

    async def outbox(session_maker: async_sessionmaker[AsyncSession], now: datetime) -> JobResult:
        return {"sent": await send_due(session_maker, settings, now, transports)}

    return Job("outbox", EVERY_ROUND, outbox)


def default_worker_id() -> str:
    """Host, process and a random part: which worker holds a job, readable by an operator."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """Runs ``jobs`` (by default :func:`default_jobs`) in rounds, ``settings.worker_interval_seconds``
    apart. A job that fails, or a database that does not answer, is logged and the rounds go on."""

    def __init__(
        self,
        settings: Settings,
        jobs: Sequence[Job] | None = None,
        *,
        transports: Mapping[str, Transport] | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.settings = settings
        if jobs is None:
            jobs = default_jobs(settings, transports=transports)
        self.jobs: list[Job] = list(jobs)
        self.worker_id = worker_id or default_worker_id()
        self.interval: float = settings.worker_interval_seconds
        self._task: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None

    async def run_once(
        self, session_maker: async_sessionmaker[AsyncSession], now: datetime
    ) -> dict[str, bool]:
        """One round: each job that is due and free; which jobs ran."""
        ran: dict[str, bool] = {}
        for job in self.jobs:
            try:
                ran[job.name] = await run_if_due(session_maker, job, now, self.worker_id)
            except Exception as exc:
                # The claim itself failed (the database is away): the type only, as for the jobs.
                log.error("job %s not run: %s", job.name, type(exc).__name__)
                ran[job.name] = False
        return ran

    async def run_forever(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        stop: asyncio.Event,
    ) -> None:
        """Rounds until ``stop`` is set; a round under way is finished first."""
        while not stop.is_set():
            await self.run_once(session_maker, clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

    async def start(self, app: Any) -> None:
        """For Litestar's ``on_startup``: rounds on the app's write sessions, by the app's clock."""
        from kontor.hours.services import current_time

        if self._task is not None:
            return
        state = app.state
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(
            self.run_forever(state.write_session_maker, lambda: current_time(state), self._stop),
            name="kontor-worker",
        )

    async def stop(self, app: Any) -> None:
        """For Litestar's ``on_shutdown``: let the round under way finish, for a while."""
        task, self._task = self._task, None
        if task is None:
            return
        if self._stop is not None:
            self._stop.set()
        # On timeout wait_for cancels the round; the job under way gives its lease back.
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, STOP_GRACE_SECONDS)


class BackgroundWorker(Worker):
    """The worker under its former name and signature: the outbox, then each of ``steps`` (called
    with the write session maker and now), every round. New code uses :class:`Worker`."""

    def __init__(
        self,
        settings: Settings,
        *,
        transports: Mapping[str, Transport] | None = None,
        steps: Sequence[Step] = (),
        interval: float = 5.0,
    ) -> None:
        named = [Job(getattr(step, "__name__", repr(step)), EVERY_ROUND, step) for step in steps]
        jobs = [outbox_job(settings, transports), *named]
        super().__init__(settings, jobs)
        self.interval = interval
