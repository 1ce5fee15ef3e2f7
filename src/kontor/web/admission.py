"""Admission control: under a rush, the public waits its turn or is told to come back, and staff don't.

When a batch of times is released, residents' requests can arrive at many times the rate one process
can serve. Queued without limit, every request gets slow together — the front desk's tablet and the
contact center's agents included, who book through the same app. So each process lets a bounded
number of public requests run at once; the next ones wait briefly, in order, for a turn; the rest are
answered at once with 503 and ``Retry-After``. Signed-in staff and API clients with a bearer token are
never held back, and while any of them is being served, fewer public requests are let in, so staff
pages stay as quick as on a quiet day.

Server-sent event streams (screens, ticket pages) are long-lived and almost idle: they are not
counted. Static files and health checks are not counted either.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import deque
from collections.abc import Callable

from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Receive, Scope, Send

from kontor.accounts.sessions import SESSION_COOKIE
from kontor.settings import Settings

# Seconds a shed client is asked to wait before trying again.
RETRY_AFTER = 2
_NOT_COUNTED = re.compile(r"^/(?:static/|healthz$|readyz$)|/events$")


_ADMITTED = "kontor_admitted"


def _credentials(scope: Scope) -> bool:
    for name, value in scope.get("headers") or []:
        if name == b"authorization" or (name == b"cookie" and SESSION_COOKIE.encode() in value):
            return True
    return False


class Overloaded(HTTPException):
    status_code = 503


class Admission:
    """Turns for public requests: ``limit`` at once, ``limit // 8`` (at least one) while staff are
    being served; up to ``4 × limit`` wait at most ``wait`` seconds for a turn, first come first served."""

    def __init__(self, limit: int, wait: float) -> None:
        self.limit = max(1, limit)
        self.wait = wait
        self.max_waiting = 4 * self.limit
        self.running = 0
        self.staff = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        # Called when the last staff request in flight is done (the SQLite write line hands on).
        self.on_staff_done: list[Callable[[], None]] = []

    @property
    def _room(self) -> int:
        return (max(1, self.limit // 8) if self.staff else self.limit) - self.running

    async def enter(self) -> bool:
        """Take a turn; False when none came in time (the caller sheds the request)."""
        if self._room > 0 and not self._waiting:
            self.running += 1
            return True
        if len(self._waiting) >= self.max_waiting:
            return False
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            await asyncio.wait_for(asyncio.shield(turn), self.wait)
        except TimeoutError:
            if turn.done() and not turn.cancelled():
                return True  # the turn came as the wait ran out: it is ours (running was counted)
            turn.cancel()
            self._drop(turn)
            return False
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.leave()
            else:
                turn.cancel()
                self._drop(turn)
            raise
        return True

    def leave(self) -> None:
        self.running -= 1
        self._hand_on()

    def staff_enter(self) -> None:
        self.staff += 1

    def staff_leave(self) -> None:
        self.staff -= 1
        self._hand_on()
        if not self.staff:
            for hook in self.on_staff_done:
                hook()

    def staff_busy(self) -> bool:
        return self.staff > 0

    def _hand_on(self) -> None:
        while self._waiting and self._room > 0:
            turn = self._waiting.popleft()
            if not turn.done():
                self.running += 1
                turn.set_result(None)

    async def _admitted(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        if not await self.enter():
            raise Overloaded(
                detail="Many people are using kontor right now. Try again in a moment.",
                headers={"Retry-After": str(RETRY_AFTER)},
            )
        scope.setdefault("state", {})[_ADMITTED] = True
        try:
            await app(scope, receive, send)
        finally:
            self.leave()

    def door(self, app: ASGIApp) -> ASGIApp:
        """Litestar middleware, before sessions and authentication: a request without any credential
        (no session cookie, no Authorization header) is public for sure, and waits for its turn
        before the app spends anything more on it."""

        async def door(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or _NOT_COUNTED.search(scope["path"]) or _credentials(scope):
                await app(scope, receive, send)
                return
            await self._admitted(app, scope, receive, send)

        return door

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Litestar middleware, after authentication: staff are counted (never held); a request that
        carried a credential but turned out anonymous waits for its turn here. Litestar builds a stack
        per route; all of them share this object."""

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                scope["type"] != "http"
                or _NOT_COUNTED.search(scope["path"])
                or scope.get("state", {}).get(_ADMITTED)
            ):
                await app(scope, receive, send)
                return
            if scope.get("user"):
                self.staff_enter()
                try:
                    await app(scope, receive, send)
                finally:
                    self.staff_leave()
                return
            await self._admitted(app, scope, receive, send)

        return middleware

    def _drop(self, turn: asyncio.Future[None]) -> None:
        with contextlib.suppress(ValueError):
            self._waiting.remove(turn)


def admission_control(settings: Settings) -> Admission | None:
    """The process's admission control (its ``middleware`` goes after authentication, which tells
    staff from the public); None when ``KONTOR_PUBLIC_CONCURRENCY`` is 0."""
    if settings.public_concurrency <= 0:
        return None
    return Admission(settings.public_concurrency, settings.public_queue_ms / 1000)
