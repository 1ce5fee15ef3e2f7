"""The worker's rounds: the jobs it runs by default, a round with real transports, its loop inside the
app (started and stopped by Litestar's hooks) and on its own until told to stop."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.datastructures import State

from kontor.notify.sender import BackgroundWorker as OldName
from kontor.worker import runner
from kontor.worker.runner import BackgroundWorker, Worker, default_jobs
from kontor.worker.schedule import Job, job_state
from tests.worker.conftest import EARLY, add_bookings, messages, minutes


def test_the_default_jobs_and_how_often_they_run(settings) -> None:
    jobs = {job.name: job.every for job in default_jobs(settings)}
    assert jobs == {
        "outbox": timedelta(0),
        "holds": timedelta(0),
        "day_end": timedelta(minutes=1),
        "reminders": timedelta(minutes=1),
        "ticket_alerts": timedelta(0),
        "waitlist": timedelta(0),
        "purge": timedelta(hours=1),
    }
    worker = Worker(settings)
    assert [job.name for job in worker.jobs] == list(jobs)
    assert worker.interval == settings.worker_interval_seconds
    assert re.fullmatch(r"[^:]+:\d+:[0-9a-f]{6}", worker.worker_id)
    assert Worker(settings).worker_id != worker.worker_id


def test_a_wrong_transport_setting_stops_the_worker_at_once(settings) -> None:
    with pytest.raises(ValueError, match="KONTOR_MAIL_TRANSPORT"):
        Worker(dataclasses.replace(settings, mail_transport="pigeon"))


async def test_a_round_reminds_and_the_next_delivers_to_the_folder(city, write_session, settings) -> None:
    await add_bookings(write_session, city, 3, phones=True)
    worker = Worker(settings)
    assert await worker.run_once(write_session, EARLY) == dict.fromkeys(
        ("outbox", "holds", "day_end", "reminders", "ticket_alerts", "waitlist", "purge"), True
    )
    assert await worker.run_once(write_session, EARLY + timedelta(seconds=5)) == {
        "outbox": True,
        "holds": True,
        "day_end": False,
        "reminders": False,
        "ticket_alerts": True,
        "waitlist": True,
        "purge": False,
    }
    folder = Path(settings.data_dir) / "outbox"
    assert len(list(folder.glob("*.eml"))) == 3
    assert len(list(folder.glob("*.txt"))) == 1
    assert {message.status for message in await messages(write_session, "reminder")} == {"sent"}
    async with write_session() as db:
        reminders = await job_state(db, "reminders")
        outbox = await job_state(db, "outbox")
    assert reminders is not None and reminders.last_result == {"reminded": 3}
    assert outbox is not None and outbox.last_result == {"sent": 4}


class Gate:
    """A job that tells when it has started and finishes when let go."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.go = asyncio.Event()
        self.finished: list[datetime] = []

    async def __call__(self, session_maker: Any, now: datetime) -> int:
        self.started.set()
        await self.go.wait()
        self.finished.append(now)
        return 1


async def test_run_forever_finishes_the_round_under_way_when_stopped(city, write_session, settings) -> None:
    gate = Gate()
    worker = Worker(settings, [Job("gate", timedelta(0), gate)], worker_id="w")
    stop = asyncio.Event()
    clock = iter(EARLY + minutes(n) for n in range(100))
    running = asyncio.create_task(worker.run_forever(write_session, lambda: next(clock), stop))
    await gate.started.wait()
    stop.set()
    gate.go.set()
    await asyncio.wait_for(running, 5)
    assert gate.finished == [EARLY]
    async with write_session() as db:
        state = await job_state(db, "gate")
    assert state is not None and (state.runs, state.locked_until) == (1, None)


def app_like(write_session: Any, now: datetime) -> Any:
    """What the worker's hooks read of a Litestar app."""
    return type("App", (), {"state": State({"write_session_maker": write_session, "clock": lambda: now})})()


async def test_the_app_hooks_run_rounds_by_the_app_clock(city, write_session, settings) -> None:
    await add_bookings(write_session, city, 2)
    worker = Worker(dataclasses.replace(settings, worker_interval_seconds=1))
    app = app_like(write_session, EARLY)
    await worker.start(app)
    await worker.start(app)  # a second start changes nothing
    try:
        folder = Path(settings.data_dir) / "outbox"
        for _ in range(100):
            if len(list(folder.glob("*.eml"))) == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await worker.stop(app)
    assert len(list(folder.glob("*.eml"))) == 2
    await worker.stop(app)  # stopping twice is harmless


async def test_stopping_the_app_abandons_a_stuck_round_and_gives_its_job_back(
    city, write_session, settings, monkeypatch
) -> None:
    monkeypatch.setattr(runner, "STOP_GRACE_SECONDS", 0.2)
    gate = Gate()
    worker = Worker(settings, [Job("stuck", timedelta(minutes=1), gate)], worker_id="w")
    app = app_like(write_session, EARLY)
    await worker.start(app)
    await asyncio.wait_for(gate.started.wait(), 5)
    await asyncio.wait_for(worker.stop(app), 5)
    assert gate.finished == []
    async with write_session() as db:
        state = await job_state(db, "stuck")
    assert state is not None and (state.locked_until, state.locked_by, state.runs) == (None, "", 0)


async def test_the_former_name_runs_the_outbox_and_its_steps(city, write_session, settings) -> None:
    ran: list[datetime] = []

    async def step(session_maker: Any, now: datetime) -> None:
        ran.append(now)

    assert OldName is BackgroundWorker
    worker = OldName(settings, steps=[step], interval=2.5)
    assert worker.interval == 2.5
    assert await worker.run_once(write_session, EARLY) == {"outbox": True, "step": True}
    assert await worker.run_once(write_session, EARLY) == {"outbox": True, "step": True}
    assert ran == [EARLY, EARLY]
