"""Driving the real app in the test's own event loop, for pages with live streams.

``serving(app)`` runs the app's lifespan (so its live bus is started) and gives an httpx client on
it; ``EventStream`` opens an SSE response and reads its events as they arrive (httpx's ASGI transport
and Litestar's test clients only hand a response over once it is complete, which a stream never is).
Everything runs in one loop, so a test can subscribe to ``app.state.live_bus`` too.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
from litestar import Litestar
from tests.factories import PASSWORDS
from tests.helpers import CSRF_COOKIE, CSRF_FIELD

BASE_URL = "http://testserver.local"


async def _let_sessions_close() -> None:
    """Let connections that streams cut short hand themselves back before the engine is disposed: a
    connection SQLAlchemy closes (after a hung-up stream's session is collected) while the engine
    closes it too can wait for an aiosqlite thread that has already stopped, and the test's event
    loop then never finishes closing."""
    gc.collect()
    pending = [task for task in asyncio.all_tasks() if "_terminate_graceful_close" in repr(task.get_coro())]
    if pending:
        await asyncio.wait(pending, timeout=3)


@asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """The app started (lifespan) in this loop, with an English-speaking client."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))  # type: ignore[arg-type]
    await inbox.put({"type": "lifespan.startup"})
    started = await asyncio.wait_for(outbox.get(), 10)
    assert started["type"] == "lifespan.startup.complete", started
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url=BASE_URL, headers={"Accept-Language": "en"}
        ) as client:
            yield client
    finally:
        await _let_sessions_close()
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(outbox.get(), 10)
        await asyncio.wait_for(task, 10)


async def log_in(client: httpx.AsyncClient, username: str) -> None:
    """Through the real login form, as a browser would."""
    await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORDS.get(username, PASSWORDS["manager"]),
            CSRF_FIELD: client.cookies[CSRF_COOKIE],
        },
    )
    assert response.status_code == 303, response.text


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, Any], **headers: str
) -> httpx.Response:
    if CSRF_COOKIE not in client.cookies:
        await client.get("/login")
    return await client.post(path, data={**data, CSRF_FIELD: client.cookies[CSRF_COOKIE]}, headers=headers)


class EventStream:
    """One SSE request to ``app``: ``async with EventStream(app, "/x/events?y=1", client) as s``.

    ``client`` (optional) lends its cookies, so a logged-in user's stream can be opened."""

    def __init__(self, app: Litestar, url: str, client: httpx.AsyncClient | None = None) -> None:
        self._app = app
        parts = urlsplit(url)
        self._path, self._query = parts.path, parts.query
        cookies = "; ".join(f"{name}={value}" for name, value in (client.cookies.items() if client else []))
        self._headers = [
            (b"host", b"testserver.local"),
            (b"accept", b"text/event-stream"),
            (b"accept-language", b"en"),
        ]
        if cookies:
            self._headers.append((b"cookie", cookies.encode()))
        self._messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._gone = asyncio.Event()
        self._asked = False
        self._task: asyncio.Task[None] | None = None
        self._buffer = ""
        self.status = 0
        self.headers: dict[str, str] = {}
        self.raw = ""

    async def __aenter__(self) -> EventStream:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": self._path,
            "raw_path": self._path.encode(),
            "root_path": "",
            "query_string": self._query.encode(),
            "headers": self._headers,
            "client": ("127.0.0.1", 50001),
            "server": ("testserver.local", 80),
            "state": {},
        }
        self._task = asyncio.create_task(self._app(scope, self._receive, self._messages.put))  # type: ignore[arg-type]
        start = await asyncio.wait_for(self._messages.get(), 5)
        assert start["type"] == "http.response.start", start
        self.status = start["status"]
        self.headers = {key.decode().lower(): value.decode() for key, value in start["headers"]}
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._gone.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 5)

    async def next_event(self, name: str | None = None, within: float = 5.0) -> tuple[str, str]:
        """The next event (named ``name``, if given) as (event name, data), within ``within`` seconds;
        comments (heartbeats) and the opening ``retry`` are skipped."""
        async with asyncio.timeout(within):
            while True:
                while "\r\n\r\n" not in self._buffer:
                    message = await self._messages.get()
                    chunk = message.get("body", b"").decode()
                    self.raw += chunk
                    self._buffer += chunk
                    if not message.get("more_body", False) and "\r\n\r\n" not in self._buffer:
                        raise AssertionError(f"the stream ended: {self.raw!r}")
                block, self._buffer = self._buffer.split("\r\n\r\n", 1)
                event, data = "message", []
                for line in block.split("\r\n"):
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        data.append(line[6:])
                if data and (name is None or event == name):
                    return event, "\n".join(data)

    async def _receive(self) -> dict[str, Any]:
        if not self._asked:
            self._asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}
