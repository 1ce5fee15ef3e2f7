"""Admission control and the SQLite write line: who gets a turn, in which order, and who is turned away."""

from __future__ import annotations

import asyncio

import pytest
from litestar.testing import TestClient

from kontor.app import create_app
from kontor.db.write_queue import WriteTurns
from kontor.settings import Settings
from kontor.web.admission import Admission


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("limit", "staff", "arrivals", "admitted_at_once"),
    [
        (4, False, 3, 3),
        (4, False, 4, 4),
        (4, False, 9, 4),
        (16, True, 9, 2),  # while staff are served, an eighth of the turns
        (4, True, 5, 1),  # never fewer than one
    ],
)
async def test_at_most_the_limit_run_at_once(
    limit: int, staff: bool, arrivals: int, admitted_at_once: int
) -> None:
    admission = Admission(limit, wait=5)
    if staff:
        admission.staff_enter()
    tasks = [asyncio.create_task(admission.enter()) for _ in range(arrivals)]
    await _settle()
    assert sum(task.done() for task in tasks) == admitted_at_once
    assert admission.running == admitted_at_once
    for task in tasks:
        task.cancel()


async def test_waiting_requests_get_turns_first_come_first_served() -> None:
    admission = Admission(1, wait=5)
    assert await admission.enter()
    order: list[int] = []

    async def wait_for_turn(number: int) -> None:
        assert await admission.enter()
        order.append(number)

    tasks = [asyncio.create_task(wait_for_turn(number)) for number in range(4)]
    await _settle()
    for _ in range(4):
        admission.leave()
        await _settle()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3]
    assert admission.running == 1


async def test_a_request_that_waits_too_long_is_turned_away_and_leaves_no_trace() -> None:
    admission = Admission(1, wait=0.05)
    assert await admission.enter()
    assert not await admission.enter()
    assert admission.running == 1
    admission.leave()
    assert admission.running == 0
    assert await admission.enter()


async def test_beyond_four_times_the_limit_waiting_the_next_is_turned_away_at_once() -> None:
    admission = Admission(2, wait=30)
    assert await admission.enter()
    assert await admission.enter()
    waiting = [asyncio.create_task(admission.enter()) for _ in range(8)]
    await _settle()
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert not await admission.enter()
    assert loop.time() - started < 1
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    assert admission.running == 2


async def test_a_cancelled_waiter_gives_its_turn_on() -> None:
    admission = Admission(1, wait=5)
    assert await admission.enter()
    first = asyncio.create_task(admission.enter())
    second = asyncio.create_task(admission.enter())
    await _settle()
    first.cancel()
    await _settle()
    admission.leave()
    assert await asyncio.wait_for(second, 1)
    assert admission.running == 1


async def test_when_staff_leave_the_waiting_public_get_their_turns_back() -> None:
    admission = Admission(4, wait=5)
    admission.staff_enter()
    tasks = [asyncio.create_task(admission.enter()) for _ in range(4)]  # one gets in at once
    await _settle()
    assert sum(task.done() for task in tasks) == 1
    admission.staff_leave()
    await _settle()
    assert all(task.done() for task in tasks)
    assert admission.running == 4


async def test_staff_writers_go_before_waiting_public_writers() -> None:
    turns = WriteTurns()
    await turns.acquire(staff=False)
    order: list[str] = []

    async def write(name: str, staff: bool) -> None:
        await turns.acquire(staff=staff)
        order.append(name)
        turns.release()

    tasks = [
        asyncio.create_task(write("public 1", False)),
        asyncio.create_task(write("public 2", False)),
        asyncio.create_task(write("staff", True)),
    ]
    await _settle()
    turns.release()
    await asyncio.gather(*tasks)
    assert order == ["staff", "public 1", "public 2"]
    assert not turns.busy


async def test_a_cancelled_writer_does_not_block_the_line() -> None:
    turns = WriteTurns()
    await turns.acquire(staff=False)
    stuck = asyncio.create_task(turns.acquire(staff=False))
    after = asyncio.create_task(turns.acquire(staff=True))
    await _settle()
    stuck.cancel()
    await _settle()
    turns.release()
    await asyncio.wait_for(after, 1)
    turns.release()
    assert not turns.busy


def test_a_flooded_public_page_is_answered_503_with_retry_after(settings: Settings, city) -> None:  # type: ignore[no-untyped-def]
    """Through the app: with every turn taken, the next public request is shed in the reader's
    language, the API with JSON; a signed-in member of staff still gets the page."""
    from dataclasses import replace

    from tests.helpers import logged_in

    app = create_app(replace(settings, public_concurrency=1, public_queue_ms=50))
    admission: Admission = app.state["admission"]
    with TestClient(app, base_url="http://testserver.local") as client:
        client.headers.update({"Accept-Language": "en"})
        assert client.get("/").status_code == 200
        admission.running = admission.limit  # every turn taken
        page = client.get("/offices/kista")
        api = client.get("/api/v1/offices")
        health = client.get("/healthz")
        admission.running = 0
        assert (page.status_code, page.headers["retry-after"]) == (503, "2")
        assert "Very busy right now" in page.text
        assert (api.status_code, api.headers["retry-after"]) == (503, "2")
        assert "Try again" in api.json()["detail"]
        assert health.status_code == 200
        staff = logged_in(client, "staff")
        admission.running = admission.limit
        desk = staff.get("/desk/kista")
        admission.running = 0
        assert desk.status_code == 200


def test_admission_is_off_when_the_concurrency_is_zero(settings: Settings) -> None:
    from dataclasses import replace

    assert create_app(replace(settings, public_concurrency=0)).state["admission"] is None


async def test_public_writers_wait_while_staff_are_served_and_go_on_after() -> None:
    staff_in_flight = [1]
    turns = WriteTurns(lambda: staff_in_flight[0] > 0)
    public = asyncio.create_task(turns.acquire(staff=False))
    await _settle()
    assert not public.done()  # the line is free, but a staff page is being served
    await turns.acquire(staff=True)  # staff writers are not held back
    turns.release()
    await _settle()
    assert not public.done()
    staff_in_flight[0] = 0
    turns.wake()
    await asyncio.wait_for(public, 1)
    assert turns.busy


async def test_admission_tells_the_write_line_when_the_last_staff_request_is_done() -> None:
    admission = Admission(4, wait=1)
    turns = WriteTurns(admission.staff_busy)
    admission.on_staff_done.append(turns.wake)
    admission.staff_enter()
    admission.staff_enter()
    public = asyncio.create_task(turns.acquire(staff=False))
    await _settle()
    admission.staff_leave()
    await _settle()
    assert not public.done()
    admission.staff_leave()
    await asyncio.wait_for(public, 1)


async def test_a_public_writer_is_not_starved_by_a_stream_of_staff_writers() -> None:
    """Staff go first, but a public writer that has waited long enough goes next, whoever waits."""
    turns = WriteTurns(lambda: True, public_max_wait=0.05)
    await turns.acquire(staff=True)
    public = asyncio.create_task(turns.acquire(staff=False))
    staff = [asyncio.create_task(turns.acquire(staff=True)) for _ in range(3)]
    await _settle()
    turns.release()  # the public writer has not waited long yet: a staff writer goes
    await _settle()
    assert not public.done()
    await asyncio.sleep(0.06)
    turns.release()
    await asyncio.wait_for(public, 1)
    assert sum(task.done() for task in staff) == 1
    for task in staff:
        task.cancel()


async def test_a_held_back_public_writer_gets_the_free_line_when_its_wait_is_up() -> None:
    turns = WriteTurns(lambda: True, public_max_wait=0.05)  # staff are always being served
    public = asyncio.create_task(turns.acquire(staff=False))
    await _settle()
    assert not public.done()
    await asyncio.wait_for(public, 1)  # nothing released or left: the timer handed the line on
    assert turns.busy
