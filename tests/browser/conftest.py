"""A live kontor for the browser tests: a migrated SQLite file seeded with the demo city, served by
uvicorn on a thread, and Debian's Chromium driven by Playwright.

Chromium is ``/usr/bin/chromium`` (``apt-get install chromium``) or ``KONTOR_TEST_CHROMIUM``. Without it
these tests skip and the run says so at the end; ``KONTOR_REQUIRE_BROWSER=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import selectinload
from tests.conftest import _settings, _skip_or_fail

from kontor.accounts.models import User
from kontor.app import create_app
from kontor.db.engine import create_engine, writer
from kontor.db.migrate import upgrade
from kontor.settings import Settings

CHROMIUM = os.environ.get("KONTOR_TEST_CHROMIUM", "/usr/bin/chromium")
# The machine has no network beyond loopback: keep Chromium from reaching out at all.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class LiveSite:
    url: str
    office: str  # slug of the office the manager runs
    username: str
    password: str
    settings: Settings | None = None


async def _seed(settings: Settings) -> tuple[str, str, str]:
    """Seed the demo city (or, until it exists, the tests' small city); return a manager's username,
    password and office."""
    engine = create_engine(settings)
    try:
        maker = async_sessionmaker(writer(engine), expire_on_commit=False)
        async with maker() as db:
            try:
                from kontor.demo.seed import seed_demo
            except ImportError:
                from tests.factories import PASSWORDS, build_city

                await build_city(db)
                login = ("manager", PASSWORDS["manager"])
            else:
                await seed_demo(db, date.today())
                login = ("chef.kista", "demo-password")
            await db.commit()
        async with maker() as db:
            manager = await db.scalar(
                select(User).where(User.username == login[0]).options(selectinload(User.offices))
            )
            assert manager is not None and manager.offices, (
                f"the seed has no manager {login[0]!r} in an office"
            )
            return login[0], login[1], manager.offices[0].slug
    finally:
        await engine.dispose()


def _run_apart(coroutine_function, *args):  # type: ignore[no-untyped-def]
    """Run a coroutine on a thread of its own: sync Playwright keeps an event loop on the main thread."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, asyncio.run(coroutine_function(*args))))
        except BaseException as exc:  # handed back to the caller
            outcome.append((False, exc))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    succeeded, value = outcome[0]
    if not succeeded:
        raise value
    return value


def _wait_until_healthy(url: str, thread: threading.Thread, deadline: float) -> None:
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the live server stopped while starting")
        with contextlib.suppress(httpx.TransportError):  # not listening yet
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the live server did not answer {url}/healthz in time")


@pytest.fixture(scope="module")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    folder: Path = tmp_path_factory.mktemp("live-site")
    settings = _settings(f"sqlite+aiosqlite:///{folder / 'kontor.db'}", folder)
    upgrade(settings)
    username, password, office = _run_apart(_seed, settings)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    # Off the main thread uvicorn installs no signal handlers, so Ctrl+C still reaches pytest.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="live-site", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, thread, time.monotonic() + 30)
        yield LiveSite(url=url, office=office, username=username, password=password, settings=settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# Module scope, not session: while sync Playwright runs, the main thread has a running event loop,
# which would break every later test that calls asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _skip_or_fail(
            "browser", f"no Chromium at {CHROMIUM} (apt-get install chromium, or set KONTOR_TEST_CHROMIUM)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("browser", "the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, live_site: LiveSite) -> Iterator[Any]:
    """A fresh browser context (no cookies) that speaks Swedish, like most of the city's visitors.
    Any server error, JavaScript exception or Content-Security-Policy violation on the way fails the test."""
    context = browser.new_context(base_url=live_site.url, locale="sv-SE", timezone_id="Europe/Stockholm")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    problems: list[str] = []

    def on_response(response: Any) -> None:
        if response.status >= 500:
            problems.append(f"{response.status} from {response.url}")

    def on_console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"CSP violation: {message.text}")

    tab.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    tab.on("console", on_console)
    tab.on("response", on_response)
    try:
        yield tab
    finally:
        context.close()
    assert not problems, "the browser saw problems:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def open_site(live_site: LiveSite) -> LiveSite:
    """The live site with its office open around the clock, for the queue's tests on the real clock."""
    from tests.browser.queue_support import open_all_day

    _run_apart(open_all_day, live_site)
    return live_site
