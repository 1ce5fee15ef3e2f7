"""An SSE request driven by hand against an ASGI app: read what has arrived so far, then hang up.

Litestar's test clients hand over a response only once it is complete, which a live stream never is
until someone ends it; this keeps the connection open and looks at it while it streams.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.types import ASGIApp


class OpenStream:
    """``async with OpenStream(app, "/path") as stream: await stream.read_until("data: x")``."""

    def __init__(self, app: ASGIApp, path: str, headers: dict[str, str] | None = None) -> None:
        self._app = app
        self._path, _, self._query = path.partition("?")
        self._extra_headers = [
            (key.lower().encode(), value.encode()) for key, value in (headers or {}).items()
        ]
        self._chunks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._hung_up = asyncio.Event()
        self._asked = False
        self._task: asyncio.Task[None] | None = None
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = ""
        self.complete = False

    async def __aenter__(self) -> OpenStream:
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
            "headers": [
                (b"host", b"testserver.local"),
                (b"accept", b"text/event-stream"),
                *self._extra_headers,
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver.local", 80),
            "state": {},
        }
        self._task = asyncio.create_task(self._app(scope, self._receive, self._send))  # type: ignore[arg-type]
        async with asyncio.timeout(5.0):
            start = await self._chunks.get()
        assert start["type"] == "http.response.start", start
        self.status = start["status"]
        self.headers = {key.decode().lower(): value.decode() for key, value in start["headers"]}
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.hang_up()

    async def read_until(self, text: str, within: float = 3.0) -> str:
        """The body so far, once it contains ``text``."""
        async with asyncio.timeout(within):
            while text not in self.body:
                if self.complete:
                    raise AssertionError(f"the stream ended without {text!r}: {self.body!r}")
                self._take(await self._chunks.get())
        return self.body

    async def until_finished(self, within: float = 3.0) -> str:
        """The whole body, once the server has ended the response."""
        async with asyncio.timeout(within):
            while not self.complete:
                self._take(await self._chunks.get())
            assert self._task is not None
            await self._task
        return self.body

    async def hang_up(self) -> None:
        """Go away as a browser does; the app's task must then finish by itself."""
        self._hung_up.set()
        if self._task is not None:
            async with asyncio.timeout(3.0):
                await self._task

    def _take(self, message: dict[str, Any]) -> None:
        assert message["type"] == "http.response.body", message
        self.body += message.get("body", b"").decode()
        self.complete = not message.get("more_body", False)

    async def _receive(self) -> dict[str, Any]:
        if not self._asked:
            self._asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._hung_up.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        # As servers do: once the response is complete, the app hears that the client has gone.
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self._hung_up.set()
        await self._chunks.put(message)
