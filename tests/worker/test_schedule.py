"""Scheduled jobs: a due job runs once however many workers race for it, not before its time; a
worker that died lets go when its lease runs out; a failure is recorded by its type and stops nothing."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from kontor.worker.models import WorkerJob
from kontor.worker.runner import Worker
from kontor.worker.schedule import Job, job_state, run_if_due
from tests.worker.conftest import MONDAY, minutes


class Counting:
    """A job that counts its runs and takes a moment, so racing workers overlap."""

    def __init__(self, result: Any = None) -> None:
        self.runs = 0
        self.result = result

    async def __call__(self, session_maker: Any, now: Any) -> Any:
        self.runs += 1
        await asyncio.sleep(0.01)
        return self.result


async def state(session_maker: Any, name: str) -> WorkerJob:
    async with session_maker() as db:
        found = await job_state(db, name)
    assert found is not None
    return found


async def test_a_due_job_runs_once_when_workers_race(city, write_session, other_session) -> None:
    counting = Counting()
    job = Job("tally", timedelta(minutes=1), counting)
    rounds = 12
    for n in range(rounds):
        now = MONDAY + minutes(n)
        # Two processes, with two claimers each; the first round also races to create the job's row.
        ran = await asyncio.gather(
            *(
                run_if_due(maker, job, now, f"{name}{i}")
                for i in range(2)
                for name, maker in (("a", write_session), ("b", other_session))
            )
        )
        assert sum(ran) == 1, f"round {n}: {ran}"
    assert counting.runs == rounds
    job_row = await state(write_session, "tally")
    assert job_row.runs == rounds
    assert job_row.next_run_at == MONDAY + minutes(rounds)
    assert (job_row.locked_until, job_row.locked_by) == (None, "")


async def test_a_job_waits_for_its_time(city, write_session) -> None:
    counting = Counting()
    job = Job("tally", timedelta(minutes=1), counting)
    assert await run_if_due(write_session, job, MONDAY, "a")
    assert not await run_if_due(write_session, job, MONDAY + timedelta(seconds=59), "a")
    assert await run_if_due(write_session, job, MONDAY + minutes(1), "a")
    assert counting.runs == 2


async def test_a_job_due_every_round_runs_every_round(city, write_session) -> None:
    counting = Counting()
    job = Job("tally", timedelta(0), counting)
    for _ in range(3):
        assert await run_if_due(write_session, job, MONDAY, "a")
    assert counting.runs == 3


async def test_the_job_of_a_crashed_worker_is_taken_over_when_its_lease_runs_out(city, write_session) -> None:
    counting = Counting()
    job = Job("tally", timedelta(minutes=1), counting)
    assert await run_if_due(write_session, job, MONDAY - minutes(5), "a")
    # As a worker that died mid-run leaves it: held for ten minutes, due long since.
    async with write_session() as db, db.begin():
        await db.execute(
            update(WorkerJob).values(
                locked_until=MONDAY + minutes(10), locked_by="dead:1:abc", next_run_at=MONDAY
            )
        )
    assert not await run_if_due(write_session, job, MONDAY + minutes(5), "b")
    assert await run_if_due(write_session, job, MONDAY + minutes(10), "b")
    job_row = await state(write_session, "tally")
    assert (job_row.runs, job_row.locked_by, job_row.locked_until) == (2, "", None)
    assert counting.runs == 2


async def test_a_failing_job_is_recorded_by_its_type_and_the_others_still_run(
    city, write_session, settings, caplog
) -> None:
    async def failing(session_maker: Any, now: Any) -> int:
        raise RuntimeError("could not reach anna@example.se at 070-123 45 67")

    counting = Counting({"sent": 2})
    worker = Worker(
        settings,
        [Job("failing", timedelta(minutes=1), failing), Job("tally", timedelta(0), counting)],
        worker_id="w",
    )
    caplog.set_level(logging.INFO)
    assert await worker.run_once(write_session, MONDAY) == {"failing": True, "tally": True}
    failed = await state(write_session, "failing")
    assert failed.last_error == "RuntimeError"
    assert failed.last_result == {}
    assert (failed.runs, failed.locked_until) == (1, None)
    # Tried again at its next time, not at once.
    assert failed.next_run_at == MONDAY + minutes(1)
    assert await worker.run_once(write_session, MONDAY + timedelta(seconds=30)) == {
        "failing": False,
        "tally": True,
    }
    assert (await state(write_session, "tally")).last_result == {"sent": 2}
    assert "failing" in caplog.text and "RuntimeError" in caplog.text
    assert "anna" not in caplog.text and "123 45" not in caplog.text


@pytest.mark.parametrize(
    ("result", "recorded"),
    [({"sent": 3, "failed": 1}, {"sent": 3, "failed": 1}), (4, {"count": 4}), (0, {"count": 0}), (None, {})],
)
async def test_the_last_result_is_kept_as_counts(city, write_session, result, recorded) -> None:
    job = Job("tally", timedelta(minutes=10), Counting(result))
    assert await run_if_due(write_session, job, MONDAY, "worker-1")
    job_row = await state(write_session, "tally")
    assert job_row.last_result == recorded
    assert job_row.last_error == ""
    assert job_row.last_started_at == MONDAY
    assert MONDAY <= job_row.last_finished_at < MONDAY + minutes(1)
    assert job_row.next_run_at == MONDAY + minutes(10)


async def test_a_failure_after_a_success_replaces_the_result_and_a_success_clears_the_error(
    city, write_session
) -> None:
    outcomes: list[Any] = [5, ValueError(), 6]

    async def flaky(session_maker: Any, now: Any) -> int:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    job = Job("flaky", timedelta(0), flaky)
    seen = []
    for _ in range(3):
        await run_if_due(write_session, job, MONDAY, "w")
        job_row = await state(write_session, "flaky")
        seen.append((job_row.last_result, job_row.last_error, job_row.runs))
    assert seen == [({"count": 5}, "", 1), ({}, "ValueError", 2), ({"count": 6}, "", 3)]


async def test_a_worker_stopped_mid_job_gives_the_job_back(city, write_session, other_session) -> None:
    started = asyncio.Event()

    async def endless(session_maker: Any, now: Any) -> None:
        started.set()
        await asyncio.Event().wait()

    job = Job("endless", timedelta(minutes=1), endless)
    task = asyncio.create_task(run_if_due(write_session, job, MONDAY, "stopping"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    job_row = await state(write_session, "endless")
    assert (job_row.locked_until, job_row.locked_by, job_row.runs) == (None, "", 0)
    # Still due: the next worker runs it at once instead of after the lease.
    counting = Counting()
    assert await run_if_due(other_session, Job("endless", timedelta(minutes=1), counting), MONDAY, "next")
    assert counting.runs == 1


async def test_a_run_that_outlived_its_lease_does_not_undo_the_next_holder(
    city, write_session, other_session, caplog
) -> None:
    taken_over: list[bool] = []
    counting = Counting()

    async def slow(session_maker: Any, now: Any) -> int:
        # Meanwhile the lease ran out and another worker took the job and finished it.
        taken_over.append(
            await run_if_due(
                other_session, Job("slow", timedelta(minutes=1), counting), now + minutes(2), "b"
            )
        )
        return 1

    job = Job("slow", timedelta(minutes=1), slow)
    assert await run_if_due(write_session, job, MONDAY, "a", lease=minutes(2))
    assert taken_over == [True]
    job_row = await state(write_session, "slow")
    assert job_row.runs == 1
    assert job_row.next_run_at == MONDAY + minutes(3)
    assert "outlived its lease" in caplog.text


async def test_an_unknown_job_has_no_state(city, read_session) -> None:
    async with read_session() as db:
        assert await job_state(db, "never-ran") is None
