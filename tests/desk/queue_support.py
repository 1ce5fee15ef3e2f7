"""Helpers of the desk's queue tests: the clock while Kista is open, the tickets in the database, and a
live stream read as a signed-in browser would.

Kista's Tuesday (see tests/factories.py): open 09:00–12:00 and 13:00–17:00; the desk tests' day is
Tuesday 2026-12-15.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import select
from tests.desk.conftest import at
from tests.live.sse import OpenStream

from kontor.app import create_app
from kontor.queue.models import Ticket
from kontor.settings import Settings

OPEN_NOW = at(15, 9, 30)
BEFORE_OPENING = at(15, 8, 0)
LUNCH = at(15, 12, 30)
HTMX = {"HX-Request": "true", "HX-Target": "desk-new-ticket"}
CLOSED_MESSAGE = "The office is closed now; tickets are issued while it is open."


def all_tickets(fetch: Callable[..., Any]) -> list[Ticket]:
    """Every ticket in the database, in the order they were issued."""

    async def read(db):  # type: ignore[no-untyped-def]
        return list((await db.scalars(select(Ticket).order_by(Ticket.id))).unique())

    return fetch(read)  # type: ignore[no-any-return]


def token_of(response: Any) -> str:
    """The ticket token of a redirect to its slip: /tickets/{token}/print?desk=1."""
    location = response.headers["location"]
    assert location.startswith("/tickets/") and location.endswith("/print?desk=1"), location
    return location.removeprefix("/tickets/").removesuffix("/print?desk=1")


def _with_headers(app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        scope = {**scope, "headers": [*scope["headers"], *headers]}  # type: ignore[typeddict-item]
        await app(scope, receive, send)

    return wrapped


class LiveDesk:
    """An app of the test's database, run in the test's own event loop, whose live streams are read
    while they stream; ``cookies`` come from a client that logged in (sessions live in the database)."""

    def __init__(self, settings: Settings) -> None:
        self.app: Litestar = create_app(settings)
        self._lifespan: AbstractAsyncContextManager[None] | None = None

    async def __aenter__(self) -> LiveDesk:
        # The app's own startup and shutdown: the live bus starts, the engines are disposed of after.
        self._lifespan = self.app.lifespan()
        await self._lifespan.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self._lifespan is not None
        await self._lifespan.__aexit__(*exc)

    def stream(self, path: str, client: TestClient | None = None, language: str = "en") -> OpenStream:
        headers = [(b"accept-language", language.encode())]
        if client is not None:
            cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
            headers.append((b"cookie", cookie.encode()))
        return OpenStream(_with_headers(self.app, headers), path)

    def write_session(self):  # type: ignore[no-untyped-def]
        """A write session of this app: its commits reach this app's live bus."""
        return self.app.state.write_session_maker()
