"""Server-sent events for live pages: the current state at once, then a re-render per change.

A handler returns :func:`live_stream`; it knows nothing of what the page shows. The ``render``
callback turns "something changed" (or ``None``: "show the current state") into SSE messages, and
reads the database through :func:`read_session`, because the request's own session is closed once
the handler has returned the stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from litestar import Request
from litestar.response import ServerSentEvent, ServerSentEventMessage
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.live.bus import LiveBus, live_bus
from kontor.live.events import ALARM, CALLBACKS, CALLED, RESYNC, LiveEvent

__all__ = ["Render", "live_stream", "read_session", "renders_for"]

log = logging.getLogger(__name__)

Render = Callable[[LiveEvent | None], Awaitable[list[ServerSentEventMessage]]]

# Browsers wait this long before reconnecting a dropped stream (their default is several seconds).
RETRY_MS = 1000
# A burst (a ticket called, then the queue changed) is rendered once after this pause.
COALESCE_SECONDS = 0.03
# Kinds that make a sound on the screens: each is rendered, never merged into another event.
CHIMES = frozenset({CALLED, ALARM})
# Kinds that pages follow only when they ask for them (the call-backs are the front desk's business).
ASKED_FOR = frozenset({CALLBACKS})


def live_stream(
    request: Request[Any, Any, Any],
    office_id: int,
    render: Render,
    *,
    heartbeat: float = 15.0,
    also: frozenset[str] = frozenset(),
) -> ServerSentEvent:
    """The SSE response for a page that follows ``office_id``.

    Sends ``render(None)`` at once (a reconnecting browser catches up), then ``render(event)`` for
    the office's events, with bursts merged except for chimes (see :func:`renders_for`); a comment
    every ``heartbeat`` idle seconds keeps proxies from closing the connection. Ends when the client
    goes away or the bus stops. Events of the kinds in :data:`ASKED_FOR` are passed over unless
    ``also`` names them.
    """
    bus = live_bus(request.app.state)
    return ServerSentEvent(
        _messages(bus, office_id, render, heartbeat, ASKED_FOR - also),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@asynccontextmanager
async def read_session(state: Any) -> AsyncIterator[AsyncSession]:
    """A read session of the app for ``render`` callbacks: ``async with read_session(request.app.state)``."""
    async with state["session_maker"]() as db:
        yield db


def renders_for(events: Sequence[LiveEvent]) -> list[LiveEvent]:
    """Which events of a burst to render, in order: every chime, and after the last chime one render
    for the changes that followed it (a "resync" among them wins, since it asks for everything).
    Changes before a chime need no render of their own: the chime's render shows them."""
    chosen: list[LiveEvent] = []
    trailing: list[LiveEvent] = []
    for event in events:
        if event.kind in CHIMES:
            chosen.append(event)
            trailing = []
        else:
            trailing.append(event)
    if trailing:
        resyncs = [event for event in trailing if event.kind == RESYNC]
        chosen.append(resyncs[-1] if resyncs else trailing[-1])
    return chosen


async def _messages(
    bus: LiveBus, office_id: int, render: Render, heartbeat: float, ignored: frozenset[str]
) -> AsyncIterator[ServerSentEventMessage]:
    # Subscribed before the first render, so a change made during it is not missed.
    async with bus.subscribe(office_id) as events:
        yield ServerSentEventMessage(data=None, retry=RETRY_MS)
        messages = await _render(render, None, office_id)
        if messages is None:
            return
        for message in messages:
            yield message
        while True:
            try:
                async with asyncio.timeout(heartbeat):
                    first = await anext(events)
            except TimeoutError:
                yield ServerSentEventMessage(data=None, comment="keep-alive")
                continue
            except StopAsyncIteration:
                return
            burst, ended = await _burst(events, first)
            for event in renders_for([event for event in burst if event.kind not in ignored]):
                messages = await _render(render, event, office_id)
                if messages is None:
                    return
                for message in messages:
                    yield message
            if ended:
                return


async def _burst(events: AsyncIterator[LiveEvent], first: LiveEvent) -> tuple[list[LiveEvent], bool]:
    """``first`` and whatever else arrives within the coalescing pause; and whether the bus stopped."""
    burst = [first]
    deadline = asyncio.get_running_loop().time() + COALESCE_SECONDS
    while True:
        try:
            async with asyncio.timeout_at(deadline):
                burst.append(await anext(events))
        except TimeoutError:
            return burst, False
        except StopAsyncIteration:
            return burst, True


async def _render(
    render: Render, event: LiveEvent | None, office_id: int
) -> list[ServerSentEventMessage] | None:
    """The messages, or None when rendering failed: then the stream ends, and the browser reconnects
    after RETRY_MS and starts again from the current state."""
    try:
        return await render(event)
    except Exception:
        log.exception("live stream of office %s failed to render", office_id)
        return None
