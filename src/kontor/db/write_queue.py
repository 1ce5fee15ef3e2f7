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
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send

WRITE_SESSION = "db_write"
# Whether the running request holds the write turn.
_HOLDING: ContextVar[bool] = ContextVar("kontor_write_turn", default=False)


def _writes(handler: Any, cache: dict[int, bool]) -> bool:
    key = id(handler)
    if key not in cache:
        names = getattr(getattr(handler, "parsed_fn_signature", None), "parameters", {})
        cache[key] = WRITE_SESSION in names
    return cache[key]


class WriteTurns:
    """One writer at a time, in arrival order, except that signed-in staff and API clients go before
    the public: a front desk issuing a ticket does not wait behind a rush of online bookings. While
    ``staff_busy()`` says staff requests are being served, waiting public writers are held back
    altogether, so a staff page does not share the process with a stream of bookings; ``wake()``
    hands the turn on once they are done. Priority never starves the public: a public writer that
    has waited ``public_max_wait`` seconds goes next, whoever else waits."""

    def __init__(self, staff_busy: Callable[[], bool] = lambda: False, public_max_wait: float = 0.1) -> None:
        self.staff_busy = staff_busy
        self.public_max_wait = public_max_wait
        self.busy = False
        self._staff: deque[asyncio.Future[None]] = deque()
        self._public: deque[asyncio.Future[None]] = deque()
        self._since: dict[asyncio.Future[None], float] = {}

    async def acquire(self, staff: bool) -> None:
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()
        line = self._staff if staff else self._public
        line.append(turn)
        if not staff:
            self._since[turn] = loop.time()
            # Held back while staff are served: come back when the wait is up, in case nothing else
            # hands the turn on before then.
            loop.call_later(self.public_max_wait, self.wake)
        self.wake()
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # the turn was handed over as the request was cancelled
            elif turn in line:
                line.remove(turn)
            raise
        finally:
            self._since.pop(turn, None)

    def release(self) -> None:
        self.busy = False
        self.wake()

    @contextlib.asynccontextmanager
    async def turn(self, staff: bool) -> AsyncIterator[None]:
        """Hold the turn for the block; re-entrant within one request (the session store writes while
        a writing request still holds its turn)."""
        if _HOLDING.get():
            yield
            return
        await self.acquire(staff)
        holding = _HOLDING.set(True)
        try:
            yield
        finally:
            _HOLDING.reset(holding)
            self.release()

    def wake(self) -> None:
        """Give the free turn to the next writer that may have it."""
        if self.busy:
            return
        if self._public and self._overdue(self._public[0]):
            lines: tuple[deque[asyncio.Future[None]], ...] = (self._public, self._staff)
        elif self.staff_busy():
            lines = (self._staff,)
        else:
            lines = (self._staff, self._public)
        for line in lines:
            while line:
                turn = line.popleft()
                if not turn.done():
                    self.busy = True
                    turn.set_result(None)
                    return

    def _overdue(self, turn: asyncio.Future[None]) -> bool:
        since = self._since.get(turn)
        return since is not None and asyncio.get_running_loop().time() - since >= self.public_max_wait


def sqlite_write_queue(turns: WriteTurns) -> Any:
    """Litestar middleware (add it only on SQLite). Made once per app: Litestar builds a middleware
    stack per route, and every route must wait in the same line."""
    writes: dict[int, bool] = {}

    def middleware_factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            handler = scope.get("route_handler")
            if scope["type"] != "http" or handler is None or not _writes(handler, writes):
                await app(scope, receive, send)
                return
            async with turns.turn(staff=bool(scope.get("user"))):
                await app(scope, receive, send)

        return middleware

    return middleware_factory


@contextlib.asynccontextmanager
async def staff_transaction(state: Any) -> AsyncIterator[Any]:
    """A short write transaction of its own from the app's ``state``, outside the request's session:
    on SQLite it waits its turn in the app's write line as staff, not in SQLite's busy handler (a
    request that holds the turn re-enters it)."""
    turns = state.get("write_turns")
    line = turns.turn(staff=True) if turns else contextlib.nullcontext()
    async with line, state.write_session_maker() as db, db.begin():
        yield db
