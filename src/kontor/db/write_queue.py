"""On SQLite, requests that write wait their turn in this process instead of in SQLite's busy handler.

SQLite lets one writer in at a time. A second ``BEGIN IMMEDIATE`` waits in the busy handler, which
sleeps and polls with growing pauses: under load the waiting writers wake late and out of order, and
the slowest request waits seconds. An asyncio lock around each request whose handler takes the
``db_write`` session queues them in arrival order instead, and the connection is free again the moment
the previous transaction commits. Several processes on one SQLite file still meet in the busy
handler; PostgreSQL needs none of this.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send

WRITE_SESSION = "db_write"


def _writes(handler: Any, cache: dict[int, bool]) -> bool:
    key = id(handler)
    if key not in cache:
        names = getattr(getattr(handler, "parsed_fn_signature", None), "parameters", {})
        cache[key] = WRITE_SESSION in names
    return cache[key]


class WriteTurns:
    """One writer at a time, in arrival order, except that signed-in staff and API clients go before
    the public: a front desk issuing a ticket does not wait behind a rush of online bookings."""

    def __init__(self) -> None:
        self.busy = False
        self._staff: deque[asyncio.Future[None]] = deque()
        self._public: deque[asyncio.Future[None]] = deque()

    async def acquire(self, staff: bool) -> None:
        if not self.busy and not self._staff and not self._public:
            self.busy = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        line = self._staff if staff else self._public
        line.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # the turn was handed over as the request was cancelled
            elif turn in line:
                line.remove(turn)
            raise

    def release(self) -> None:
        for line in (self._staff, self._public):
            while line:
                turn = line.popleft()
                if not turn.done():
                    turn.set_result(None)  # busy stays True: the turn passes straight on
                    return
        self.busy = False


def sqlite_write_queue() -> Any:
    """Litestar middleware (add it only on SQLite). Made once per app: Litestar builds a middleware
    stack per route, and every route must wait in the same line."""
    turns = WriteTurns()
    writes: dict[int, bool] = {}

    def middleware_factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            handler = scope.get("route_handler")
            if scope["type"] != "http" or handler is None or not _writes(handler, writes):
                await app(scope, receive, send)
                return
            await turns.acquire(staff=bool(scope.get("user")))
            try:
                await app(scope, receive, send)
            finally:
                turns.release()

        return middleware

    return middleware_factory
