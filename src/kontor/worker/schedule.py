"""Periodic jobs that run once however many workers run them: before a job runs, a worker claims the
job's row in ``worker_jobs`` with one conditional UPDATE, which only one worker can win (PostgreSQL
re-checks the condition on the row it waited for; SQLite has one writer at a time).

A claim is a lease: a worker that dies mid-run holds the job only until ``locked_until``, then the
next worker takes it over. A job that fails is logged by its exception's type only (the message
could carry a resident's details) and is tried again at its next time; the other jobs go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor.db.engine import WRITE_OPTION
from kontor.worker.models import WorkerJob

log = logging.getLogger(__name__)

JobResult = Mapping[str, int] | int | None
JobRun = Callable[[async_sessionmaker[AsyncSession], datetime], Awaitable[JobResult]]

# Longer than any job takes (the outbox's sends time out after a minute each): a job still running
# when its lease runs out may be started a second time by another worker.
DEFAULT_LEASE = timedelta(minutes=10)
# A stopping worker lets go of the job it was interrupted in, so a restart need not wait for the
# lease; if the database does not answer in this time, the lease runs out by itself.
RELEASE_SECONDS = 2.0
_LOCKED_BY_LENGTH = 100


@dataclass(frozen=True)
class Job:
    """A job of the worker: ``run(session_maker, now)`` every ``every`` (timedelta(0): every round),
    returning what it did as counts, a single count, or None."""

    name: str
    every: timedelta
    run: JobRun


async def run_if_due(
    session_maker: async_sessionmaker[AsyncSession],
    job: Job,
    now: datetime,
    worker_id: str,
    lease: timedelta = DEFAULT_LEASE,
) -> bool:
    """Run ``job`` if it is due at ``now`` and no other worker holds it; whether it ran (a run that
    failed counts as run: it is recorded, and tried again at its next time)."""
    worker_id = worker_id[:_LOCKED_BY_LENGTH]
    if not job.every:
        await _run_every_round(session_maker, job, now)
        return True
    if not await _may_be_due(session_maker, job.name, now):
        return False
    if not await _claim(session_maker, job.name, now, worker_id, lease):
        return False
    started = time.monotonic()
    result: dict[str, int] = {}
    error = ""
    try:
        result = _counts(await job.run(session_maker, now))
    except asyncio.CancelledError:
        await _let_go(session_maker, job.name, worker_id)
        raise
    except Exception as exc:
        error = type(exc).__name__
        log.error("job %s failed: %s", job.name, error)
    # The clock is the caller's; how long the run took is measured, so the record stays truthful.
    finished = now + timedelta(seconds=time.monotonic() - started)
    await _finish(session_maker, job, now, finished, worker_id, result, error)
    return True


async def _run_every_round(session_maker: async_sessionmaker[AsyncSession], job: Job, now: datetime) -> None:
    """A job of every round claims its own rows (messages, holds, tickets, waitlist entries), so
    workers may run it side by side and it takes no lease. Its run is recorded only when it did
    something or failed: an idle round writes nothing, and on SQLite every write of the worker waits
    for the app's writers and holds them back."""
    started = time.monotonic()
    result: dict[str, int] = {}
    error = ""
    try:
        result = _counts(await job.run(session_maker, now))
    except Exception as exc:
        error = type(exc).__name__
        log.error("job %s failed: %s", job.name, error)
    if not error and not any(result.values()):
        return
    finished = now + timedelta(seconds=time.monotonic() - started)
    recorded = {
        "last_started_at": now,
        "last_finished_at": finished,
        "last_result": result,
        "last_error": error,
    }
    async with session_maker() as db, db.begin():
        await db.connection(execution_options={WRITE_OPTION: True})
        insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
        await db.execute(
            insert(WorkerJob)
            .values(name=job.name, next_run_at=now, locked_by="", runs=1, **recorded)
            .on_conflict_do_update(
                index_elements=[WorkerJob.name], set_={**recorded, "runs": WorkerJob.runs + 1}
            )
        )


async def job_state(db: AsyncSession, name: str) -> WorkerJob | None:
    """The job's row: when it runs next, who holds it, what its last run did; None before its first run."""
    return await db.scalar(
        select(WorkerJob).where(WorkerJob.name == name).execution_options(populate_existing=True)
    )


def _counts(result: JobResult) -> dict[str, int]:
    if result is None:
        return {}
    if isinstance(result, int):
        return {"count": result}
    return {str(key): int(value) for key, value in result.items()}


async def _may_be_due(session_maker: async_sessionmaker[AsyncSession], name: str, now: datetime) -> bool:
    """A look without the writer's lock: on SQLite most rounds then leave the jobs that are not due
    without making the app's writers wait. The claim decides."""
    async with session_maker() as db:
        await db.connection(execution_options={WRITE_OPTION: False})
        row = (
            await db.execute(
                select(WorkerJob.next_run_at, WorkerJob.locked_until).where(WorkerJob.name == name)
            )
        ).first()
    if row is None:
        return True
    return row.next_run_at <= now and (row.locked_until is None or row.locked_until <= now)


async def _claim(
    session_maker: async_sessionmaker[AsyncSession],
    name: str,
    now: datetime,
    worker_id: str,
    lease: timedelta,
) -> bool:
    held = {"locked_until": now + lease, "locked_by": worker_id, "last_started_at": now}
    async with session_maker() as db, db.begin():
        # A writer from the start on SQLite (BEGIN IMMEDIATE), whichever session maker was passed.
        await db.connection(execution_options={WRITE_OPTION: True})
        claimed = await db.execute(
            update(WorkerJob)
            .where(
                WorkerJob.name == name,
                WorkerJob.next_run_at <= now,
                or_(WorkerJob.locked_until.is_(None), WorkerJob.locked_until <= now),
            )
            .values(**held)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:
            return True
        # Not due, held, or never run: only the last inserts, and of two first workers one inserts.
        insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
        created = await db.scalar(
            insert(WorkerJob)
            .values(name=name, next_run_at=now, last_result={}, last_error="", runs=0, **held)
            .on_conflict_do_nothing(index_elements=[WorkerJob.name])
            .returning(WorkerJob.name)
        )
        return created is not None


async def _finish(
    session_maker: async_sessionmaker[AsyncSession],
    job: Job,
    now: datetime,
    finished: datetime,
    worker_id: str,
    result: dict[str, int],
    error: str,
) -> None:
    values: dict[str, Any] = {
        "last_finished_at": finished,
        "last_result": result,
        "last_error": error,
        "runs": WorkerJob.runs + 1,
        "next_run_at": now + job.every,
        "locked_until": None,
        "locked_by": "",
    }
    async with session_maker() as db, db.begin():
        await db.connection(execution_options={WRITE_OPTION: True})
        # Only while still ours: past its lease another worker may have taken the job over.
        recorded = await db.execute(
            update(WorkerJob)
            .where(WorkerJob.name == job.name, WorkerJob.locked_by == worker_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    if recorded.rowcount != 1:
        log.warning("job %s outlived its lease; another worker had taken it over", job.name)


async def _let_go(session_maker: async_sessionmaker[AsyncSession], name: str, worker_id: str) -> None:
    async def release() -> None:
        async with session_maker() as db, db.begin():
            await db.connection(execution_options={WRITE_OPTION: True})
            await db.execute(
                update(WorkerJob)
                .where(WorkerJob.name == name, WorkerJob.locked_by == worker_id)
                .values(locked_until=None, locked_by="")
                .execution_options(synchronize_session=False)
            )

    with contextlib.suppress(Exception):
        await asyncio.wait_for(release(), RELEASE_SECONDS)
