"""PostgreSQL restarted under load: the app says "503, come back" while it is gone and recovers by itself.

A private cluster (:mod:`tests.pressure.pgcluster`, never the shared server) holds the city; a real
server runs on it while clients keep reading the office page, its hours, its queue, the health checks
and a waiting-room screen's event stream. The cluster is stopped (``pg_ctl stop -m fast``) for a few
seconds and started again. Meanwhile every request that needs the database is answered promptly with
503 and ``Retry-After`` (JSON under /api/, a page otherwise), never 500 and never left hanging; once
the database is back, every request is answered 200 again within seconds, without a restart of the
app, and a ticket called at a counter reaches the screen.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from kontor.db.migrate import upgrade
from kontor.settings import Settings
from tests.conftest import _skip_or_fail, run_with_engine
from tests.factories import build_city
from tests.pressure.conftest import STOCKHOLM, bearer, make_api_token, open_around_the_clock, stderr_into
from tests.pressure.pgcluster import PgCluster, unavailable
from tests.processes import KontorServer

pytestmark = pytest.mark.pressure

# Requests going on at once, each client reading the pages in turn.
CLIENTS = 3
DOWN_SECONDS = 3.0
# A request made while the database is down is answered within this, not left to the client's timeout.
PROMPT_SECONDS = 5.0
CLIENT_TIMEOUT = 10.0
RECOVERY_SECONDS = 15.0
EVENT_TIMEOUT = 10.0
HEALTH = ("/healthz", "/readyz")


def _pages() -> list[str]:
    today = datetime.now(STOCKHOLM).date()
    week = f"from={today.isoformat()}&to={(today + timedelta(days=6)).isoformat()}"
    return [
        "/offices/kista",
        # The office page and the hours may come from the app's few seconds' snapshot of the offices;
        # the screen's page reads the queue every time.
        "/offices/kista/display",
        f"/api/v1/offices/kista/hours?{week}",
        "/api/v1/offices/kista/queue",
        *HEALTH,
    ]


@dataclass
class Answer:
    path: str
    sent: float  # monotonic
    seconds: float
    status: int | None  # None: no answer (timeout or connection error)
    retry_after: str | None = None
    content_type: str = ""
    body: str = ""
    error: str = ""


class Load:
    """CLIENTS clients reading ``paths`` in turn, with every answer kept."""

    def __init__(self, base: str, paths: list[str]) -> None:
        self.base = base
        self.paths = paths
        self.answers: list[Answer] = []
        self._changed = asyncio.Condition()
        self._stopped = asyncio.Event()

    async def _client(self, offset: int) -> None:
        order = itertools.cycle(self.paths[offset:] + self.paths[:offset])
        async with httpx.AsyncClient(
            base_url=self.base, timeout=CLIENT_TIMEOUT, headers={"Accept-Language": "en"}
        ) as client:
            while not self._stopped.is_set():
                path = next(order)
                sent = time.monotonic()
                try:
                    response = await client.get(path)
                except httpx.TransportError as error:
                    answer = Answer(path, sent, time.monotonic() - sent, None, error=repr(error))
                else:
                    answer = Answer(
                        path,
                        sent,
                        time.monotonic() - sent,
                        response.status_code,
                        response.headers.get("retry-after"),
                        response.headers.get("content-type", ""),
                        response.text[:2000],
                    )
                async with self._changed:
                    self.answers.append(answer)
                    self._changed.notify_all()
                await asyncio.sleep(0.02)  # a steady load, not a flood

    async def until(self, condition: Callable[[], bool], within: float) -> bool:
        """Wait until ``condition()`` holds after an answer; False when ``within`` seconds passed."""
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(condition)
        except TimeoutError:
            return False
        return True

    def since(self, moment: float) -> list[Answer]:
        return [answer for answer in self.answers if answer.sent >= moment]

    def settled(self, moment: float, count: int = 2) -> bool:
        """Every path answered 200 to its last ``count`` requests sent after ``moment``."""
        recent = self.since(moment)
        for path in self.paths:
            last = [answer.status for answer in recent if answer.path == path][-count:]
            if len(last) < count or any(status != 200 for status in last):
                return False
        return True

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Load]:
        tasks = [asyncio.create_task(self._client(offset)) for offset in range(CLIENTS)]
        try:
            yield self
        finally:
            self._stopped.set()
            await asyncio.gather(*tasks)


class Screen:
    """A waiting-room screen: follows the SSE stream and, as a browser does, connects again a second
    after the stream ends or fails. Keeps the data lines and the status of every connection."""

    def __init__(self, base: str) -> None:
        self.url = f"{base}/offices/kista/display/events"
        self.received: asyncio.Queue[str] = asyncio.Queue()
        self.statuses: list[int | None] = []
        self.connected = asyncio.Event()

    async def _follow(self) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(CLIENT_TIMEOUT, read=None)) as client:
            while True:
                try:
                    async with client.stream("GET", self.url) as response:
                        self.statuses.append(response.status_code)
                        if response.status_code == 200:
                            self.connected.set()
                            async for line in response.aiter_lines():
                                if line.startswith("data:"):
                                    self.received.put_nowait(line)
                except httpx.TransportError:
                    self.statuses.append(None)
                await asyncio.sleep(1.0)  # the retry the stream asks browsers for

    async def wait_for(self, text: str) -> None:
        async with asyncio.timeout(EVENT_TIMEOUT):
            while text not in await self.received.get():
                pass

    @asynccontextmanager
    async def following(self) -> AsyncIterator[Screen]:
        task = asyncio.create_task(self._follow())
        try:
            async with asyncio.timeout(EVENT_TIMEOUT):
                await self.connected.wait()
            yield self
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    reason = unavailable()
    if reason is not None:
        _skip_or_fail("postgres", reason)
    made = PgCluster.create()
    try:
        made.start()
        yield made
    finally:
        made.cleanup()


@pytest.fixture
def served(cluster: PgCluster, tmp_path: Path) -> Iterator[tuple[KontorServer, str]]:
    """The factories' city on the private cluster, served; and a staff bearer token."""
    settings = Settings.from_env(
        database_url=cluster.url,
        data_dir=tmp_path,
        secret_key="test-secret-key-not-for-production",
        secure_cookies=False,
        background_worker=False,
        booking_rate_limit=0,
    )
    upgrade(settings)
    run_with_engine(settings, build_city)
    open_around_the_clock(settings, "kista")
    token = make_api_token(settings, "staff")
    (tmp_path / "server").mkdir()
    server = KontorServer(settings, tmp_path / "server")
    with stderr_into(tmp_path / "server" / "stderr.log"):
        server.start()
    try:
        yield server, token
    finally:
        server.kill()


async def _ticket_reaches_the_screen(base: str, token: str, screen: Screen) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=CLIENT_TIMEOUT, headers=bearer(token)) as client:
        issued = await client.post("/api/v1/offices/kista/tickets", json={"service": "eservice"})
        assert issued.status_code == 201, issued.text
        code = issued.json()["code"]
        called = await client.post("/api/v1/offices/kista/counters/1/next", json={"services": ["eservice"]})
        assert called.status_code == 200, called.text
        assert called.json()["code"] == code
    await screen.wait_for(code)
    return code


@dataclass
class Timeline:
    stopped: float = 0.0  # the cluster is down from here
    starting: float = 0.0  # and starts from here
    started: float = 0.0  # accepting connections again
    recovered: bool = False


_LOG_LINE = re.compile(r"^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)[:\s]")
_STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ - ")
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)\b")


def _server_errors(log: str) -> str:
    """The server's log records with a traceback, each summed up by its message and its last
    exception (with how often it came), and the last one in full: for failure messages."""
    records: list[list[str]] = []
    for line in log.splitlines():
        if _LOG_LINE.match(line) or not records:
            records.append([line])
        else:
            records[-1].append(line)
    seen: Counter[str] = Counter()
    last: list[str] = []
    for record in records:
        if not any(line.startswith("Traceback (most recent call last)") for line in record[1:]):
            continue
        raised = [line for line in record[1:] if _EXCEPTION.match(line)]
        seen[f"{_STAMP.sub('', record[0])} → {raised[-1] if raised else '?'}"] += 1
        last = record
    if not seen:
        return "(no tracebacks)"
    summary = "\n".join(f"{count} × {text}" for text, count in seen.most_common())
    return f"{summary}\n-- the last one --\n" + "\n".join(last)[-4000:]


def _phases(load: Load, timeline: Timeline) -> str:
    """How each path was answered before, during and after the database's absence."""

    def phase(answer: Answer) -> str:
        if answer.sent < timeline.stopped:
            return "up"
        if answer.sent < timeline.starting:
            return "down"
        return "starting" if answer.sent < timeline.started else "back"

    seen = Counter((phase(a), a.path.partition("?")[0], a.status) for a in load.answers)
    return "\n".join(f"{count:4} × {what}" for what, count in sorted(seen.items(), key=str))


def _server_error(status: int | None) -> bool:
    return status is not None and status >= 500 and status != 503


def _check(load: Load, screen: Screen, timeline: Timeline) -> None:
    answers = load.answers

    # Never a 500 (or any other error than 503), from a page, a health check or the screen's stream.
    broken = [(a.path, a.status, a.body[:200]) for a in answers if _server_error(a.status)]
    broken += [("screen", status, "") for status in screen.statuses if _server_error(status)]
    assert not broken, f"server errors: {broken[:5]}"
    # Never left hanging: every request got an answer, and one made while the database was down
    # got it promptly.
    unanswered = [(a.path, a.error, round(a.seconds, 1)) for a in answers if a.status is None]
    assert not unanswered, f"requests without an answer: {unanswered[:5]}"
    down = [a for a in answers if timeline.stopped <= a.sent and a.sent + a.seconds <= timeline.starting]
    slow = [(a.path, a.status, round(a.seconds, 1)) for a in down if a.seconds > PROMPT_SECONDS]
    assert not slow, f"slow answers while the database was down: {slow[:5]}"

    # While down: 503 with Retry-After, in the form the reader expects; health checks always 503.
    refused = {(a.path.startswith("/api/"), a.path in HEALTH) for a in down if a.status == 503}
    assert refused >= {(True, False), (False, False), (False, True)}, f"503s while down: {refused}"
    for answer in down:
        what = (answer.path, answer.status, answer.retry_after, answer.content_type, answer.body[:200])
        if answer.path in HEALTH:
            assert answer.status == 503, what
            continue
        assert answer.status in (200, 503), what  # 200: still in a few seconds' cache of the app
        if answer.status != 503:
            continue
        assert answer.retry_after and answer.retry_after.isdigit(), what
        if answer.path.startswith("/api/"):
            assert answer.content_type.startswith("application/json"), what
            body = httpx.Response(503, text=answer.body).json()
            assert body["status_code"] == 503 and body["detail"], what
        else:
            assert answer.content_type.startswith("text/html"), what

    # Back by itself within RECOVERY_SECONDS, and 200 from then on.
    assert timeline.recovered, (
        f"not every page answers 200 {RECOVERY_SECONDS:g} s after the database came back: "
        f"{[(a.path, a.status, a.body[:120]) for a in load.since(timeline.started)][-10:]}"
    )


def test_postgres_restart_under_load(
    served: tuple[KontorServer, str], cluster: PgCluster, tmp_path: Path
) -> None:
    server, token = served
    timeline = Timeline()

    load = Load(server.base, _pages())
    screen = Screen(server.base)

    async def scenario() -> None:
        async with screen.following():
            async with load.running():
                # Everything answers before the database goes away.
                assert await load.until(lambda: load.settled(0.0, count=1), EVENT_TIMEOUT), load.answers[-5:]
                await asyncio.to_thread(cluster.stop)
                timeline.stopped = time.monotonic()
                await asyncio.sleep(DOWN_SECONDS)  # the load goes on against an app without its database
                timeline.starting = time.monotonic()
                await asyncio.to_thread(cluster.start)
                timeline.started = time.monotonic()
                timeline.recovered = await load.until(
                    lambda: load.settled(timeline.started), RECOVERY_SECONDS
                )
                if timeline.recovered:
                    # And 200 from then on: a few more rounds of every page.
                    after = time.monotonic()
                    assert await load.until(lambda: load.settled(after, count=3), EVENT_TIMEOUT)
                    assert all(a.status == 200 for a in load.since(after)), load.since(after)
            if timeline.recovered:
                # The screen that followed all along (reconnecting if its stream ended) shows a call.
                await _ticket_reaches_the_screen(server.base, token, screen)

    try:
        asyncio.run(scenario())
        _check(load, screen, timeline)
    except AssertionError as error:
        log = (tmp_path / "server" / "stderr.log").read_text()
        report = f"-- answers --\n{_phases(load, timeline)}\n-- the server's errors --\n{_server_errors(log)}"
        raise AssertionError(f"{error}\n{report}") from None
