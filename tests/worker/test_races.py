"""Two workers (two engines, as two processes have) over the same due visits, round after round: each
booking gets one reminder per way to reach the resident, and each message leaves once."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import event

from kontor.notify.sender import send_due
from kontor.worker.reminders import queue_reminders
from kontor.worker.runner import Worker, default_jobs
from kontor.worker.schedule import job_state
from tests.worker.conftest import EARLY, Recorder, add_bookings, messages, minutes

VISITS = 50
ROUNDS = 4


async def test_two_workers_queue_each_reminder_once(city, write_session, other_session, settings) -> None:
    ids = await add_bookings(write_session, city, VISITS, phones=True)
    counts = []
    for n in range(ROUNDS):
        now = EARLY + minutes(n)
        counts.append(
            await asyncio.gather(
                queue_reminders(write_session, settings, now), queue_reminders(other_session, settings, now)
            )
        )
    assert sum(map(sum, counts)) == VISITS
    reminders = await messages(write_session, "reminder")
    per_channel = Counter((message.booking_id, message.channel) for message in reminders)
    assert set(per_channel.values()) == {1}
    assert {booking_id for booking_id, _channel in per_channel} == set(ids)
    assert sum(channel == "sms" for _id, channel in per_channel) == VISITS // 2


async def test_two_full_workers_remind_and_deliver_once(city, write_session, other_session, settings) -> None:
    ids = await add_bookings(write_session, city, VISITS, phones=True)
    first, second = Recorder(), Recorder()
    workers = [
        Worker(settings, default_jobs(settings, transports=first.transports()), worker_id="host-a:1:aa"),
        Worker(settings, default_jobs(settings, transports=second.transports()), worker_id="host-b:2:bb"),
    ]
    rounds = []
    for n in range(ROUNDS):
        # Rounds a minute apart, so the reminders job is due in each; the outbox is due every round.
        now = EARLY + minutes(n)
        rounds.append(
            await asyncio.gather(
                workers[0].run_once(write_session, now), workers[1].run_once(other_session, now)
            )
        )
    for n, (ran_a, ran_b) in enumerate(rounds):
        # A job due once a minute ran in one of the two workers (those due every round may run in both).
        assert ran_a["reminders"] != ran_b["reminders"]
        assert ran_a["day_end"] != ran_b["day_end"]
        assert ran_a["purge"] + ran_b["purge"] == (1 if n == 0 else 0)

    reminders = await messages(write_session, "reminder")
    per_channel = Counter((message.booking_id, message.channel) for message in reminders)
    assert set(per_channel.values()) == {1}
    assert {booking_id for booking_id, _channel in per_channel} == set(ids)
    delivered = Counter(first.sent + second.sent)
    assert set(delivered.values()) == {1}
    assert set(delivered) == {message.id for message in reminders}
    assert {message.status for message in reminders} == {"sent"}
    async with write_session() as db:
        job = await job_state(db, "reminders")
    assert job is not None and job.runs == ROUNDS


@pytest.fixture
def statements(write_session: Any) -> list[str]:
    """The SQL the worker sends on the test's engine."""
    seen: list[str] = []
    engine = write_session.kw["bind"].sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()).upper())

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


async def test_claims_skip_rows_locked_by_another_worker(
    city, write_session, settings, backend, statements
) -> None:
    await add_bookings(write_session, city, 3)
    statements.clear()
    await queue_reminders(write_session, settings, EARLY)
    await send_due(write_session, settings, EARLY, Recorder().transports())
    claims = [sql for sql in statements if "FOR UPDATE" in sql]
    if backend == "postgres":
        assert len(claims) >= 2
        assert all("SKIP LOCKED" in sql for sql in claims)
        assert any("FROM BOOKINGS" in sql for sql in claims)
        assert any("FROM OUTBOX_MESSAGES" in sql for sql in claims)
    else:
        # SQLite has no row locks: each claim is the one writer from its first statement.
        assert claims == []
        assert statements.count("BEGIN IMMEDIATE") >= 2
        assert "BEGIN" not in statements
