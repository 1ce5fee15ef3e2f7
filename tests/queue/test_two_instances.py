"""Two real app instances on one PostgreSQL: a ticket issued on one and called on the other reach
the waiting-room screens connected to either, also after the connections that listen are dropped.

The servers run as separate processes (``kontor serve``) on the real clock, so the office is made open
around the clock for the days the test could run on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from tests.pressure.conftest import make_api_token, open_around_the_clock
from tests.processes import KontorServer

from kontor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EVENT_TIMEOUT = 10.0


@pytest.fixture
def postgres_settings(settings: Settings) -> Settings:
    if settings.is_sqlite:
        pytest.skip("one SQLite process has no second instance to reach")
    return settings


@asynccontextmanager
async def _screen(base: str, slug: str) -> AsyncIterator[asyncio.Queue[str]]:
    """A waiting-room screen: every SSE data line it receives goes into the queue."""
    received: asyncio.Queue[str] = asyncio.Queue()
    connected = asyncio.Event()

    async def listen() -> None:
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(5, read=None)) as client,
            client.stream("GET", f"{base}/offices/{slug}/display/events") as response,
        ):
            assert response.status_code == 200
            connected.set()
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    received.put_nowait(line)

    task = asyncio.create_task(listen())
    try:
        await asyncio.wait_for(connected.wait(), EVENT_TIMEOUT)
        yield received
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _wait_for(received: asyncio.Queue[str], text: str) -> float:
    """Seconds until a data line containing ``text`` arrives (fails after EVENT_TIMEOUT)."""
    started = time.monotonic()
    while True:
        line = await asyncio.wait_for(received.get(), EVENT_TIMEOUT - (time.monotonic() - started))
        if text in line:
            return time.monotonic() - started


async def _issue_and_call(first: str, second: str, slug: str, token: str) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=10, headers=headers) as client:
        issued = await client.post(f"{first}/api/v1/offices/{slug}/tickets", json={"service": "eservice"})
        assert issued.status_code == 201, issued.text
        code = issued.json()["code"]
        called = await client.post(
            f"{second}/api/v1/offices/{slug}/counters/1/next", json={"services": ["eservice"]}
        )
        assert called.status_code == 200, called.text
        assert called.json()["code"] == code
        return code


async def _drop_listeners(settings: Settings) -> int:
    import asyncpg

    from kontor.live.postgres import APPLICATION_NAME, asyncpg_connect_args

    conn = await asyncpg.connect(**asyncpg_connect_args(settings.database_url))
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = $1",
            APPLICATION_NAME,
        )
        return len(rows)
    finally:
        await conn.close()


def test_calls_reach_screens_on_both_instances(postgres_settings, city, tmp_path) -> None:  # type: ignore[no-untyped-def]
    open_around_the_clock(postgres_settings, city.kista.slug)
    token = make_api_token(postgres_settings, "staff")
    slug = city.kista.slug
    with (
        KontorServer(postgres_settings, tmp_path / "a") as first_server,
        KontorServer(postgres_settings, tmp_path / "b") as second_server,
    ):
        first, second = first_server.base, second_server.base

        async def scenario() -> None:
            async with _screen(first, slug) as screen_a, _screen(second, slug) as screen_b:
                code = await _issue_and_call(first, second, slug, token)
                # Issued on the first instance, called on the second: both screens show the call.
                assert await _wait_for(screen_a, code) < EVENT_TIMEOUT
                assert await _wait_for(screen_b, code) < EVENT_TIMEOUT

                assert await _drop_listeners(postgres_settings) >= 2
                # The instances listen again by themselves; the screens stay connected meanwhile.
                deadline = time.monotonic() + 15
                while True:
                    code = await _issue_and_call(second, first, slug, token)
                    try:
                        await _wait_for(screen_a, code)
                        await _wait_for(screen_b, code)
                        break
                    except TimeoutError:
                        if time.monotonic() > deadline:
                            raise

        asyncio.run(scenario())
    assert datetime.now(UTC)  # the servers stopped cleanly inside the block
