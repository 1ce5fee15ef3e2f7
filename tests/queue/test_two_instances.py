"""Two real app instances on one PostgreSQL: a ticket issued on one and called on the other reach
the waiting-room screens connected to either, also after the connections that listen are dropped.

The servers run as separate processes (``uvicorn``) on the real clock, so the office is made open
around the clock for the days the test could run on.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from tests.conftest import run_with_engine

from kontor.accounts.services import create_api_token
from kontor.audit.models import Channel
from kontor.hours.models import Closure, ClosureInterval
from kontor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EVENT_TIMEOUT = 10.0


@pytest.fixture
def postgres_settings(settings: Settings) -> Settings:
    if settings.is_sqlite:
        pytest.skip("one SQLite process has no second instance to reach")
    return settings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _instance(settings: Settings, data_dir: Path) -> Iterator[str]:
    """One ``kontor`` app in a process of its own; yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "KONTOR_DATABASE_URL": settings.database_url,
        "KONTOR_DATA_DIR": str(data_dir),
        "KONTOR_SECRET_KEY": settings.secret_key,
        "KONTOR_BACKGROUND_WORKER": "false",
        "KONTOR_BOOKING_RATE_LIMIT": "0",
    }
    command = [
        sys.executable, "-m", "uvicorn", "kontor.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        "--timeout-graceful-shutdown", "3",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: S603 — our interpreter, our arguments
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"instance on port {port} did not start")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _open_around_the_clock_and_token(settings: Settings, city) -> str:  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        today = datetime.now(ZoneInfo(city.kista.timezone)).date()
        closure = Closure(
            office_id=city.kista.id,
            first_day=today - timedelta(days=1),
            last_day=today + timedelta(days=1),
            reason="Test: open all day",
        )
        db.add(closure)
        await db.flush()
        db.add(
            ClosureInterval(closure_id=closure.id, opens=clock(0, 0), closes=clock(23, 59), kind="drop_in")
        )
        staff = await db.merge(city.users["staff"])
        _token, secret = await create_api_token(
            db, name="test", user=staff, actor="test", channel=Channel.CLI
        )
        return secret

    return run_with_engine(settings, work)  # type: ignore[return-value]


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
    token = _open_around_the_clock_and_token(postgres_settings, city)
    slug = city.kista.slug
    with (
        _instance(postgres_settings, tmp_path / "a") as first,
        _instance(postgres_settings, tmp_path / "b") as second,
    ):

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
