"""The SSE helper of live pages: current state first, a render per change (bursts merged, chimes
kept), heartbeats while idle, and an end when the browser leaves or the bus stops."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar import Litestar, Request, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.live.sse import OpenStream

from kontor.live import stream
from kontor.live.bus import ALARM, CALLED, RESYNC, TICKET, LiveBus, LiveEvent, MemoryBus
from kontor.live.stream import live_stream, renders_for
from kontor.offices.models import Office


class Page:
    """A page that follows an office: renders say which event they were for, and are recorded."""

    def __init__(self, bus: LiveBus, heartbeat: float = 15.0, **state: Any) -> None:
        self.bus = bus
        self.rendered: list[LiveEvent | None] = []

        async def render(event: LiveEvent | None) -> list[ServerSentEventMessage]:
            self.rendered.append(event)
            if event is not None and event.kind == "boom":
                raise RuntimeError("the template is broken")
            text = "now" if event is None else f"{event.kind} {event.data.get('code', '')}".strip()
            return [ServerSentEventMessage(event="update", data=text)]

        @get("/offices/{office_id:int}/live")
        async def follow(request: Request[Any, Any, Any], office_id: FromPath[int]) -> ServerSentEvent:
            return live_stream(request, office_id, render, heartbeat=heartbeat)

        self.app = Litestar([follow], state=State({"live_bus": bus, **state}))


async def test_the_current_state_comes_first_then_each_change() -> None:
    page = Page(MemoryBus())
    async with OpenStream(page.app, "/offices/4/live") as sse:
        assert sse.status == 200
        assert sse.headers["content-type"].startswith("text/event-stream")
        assert sse.headers["cache-control"] == "no-store"
        assert sse.headers["x-accel-buffering"] == "no"
        body = await sse.read_until("data: now")
        assert body.startswith("retry: 1000\r\n\r\n")  # browsers come back within a second
        await page.bus.publish(LiveEvent(9, TICKET))  # another office's
        await page.bus.publish(LiveEvent(4, CALLED, {"code": "A012", "counter": 2}))
        body = await sse.read_until("data: called A012")
        assert "event: update\r\ndata: called A012\r\n\r\n" in body
        assert page.rendered == [None, LiveEvent(4, CALLED, {"code": "A012", "counter": 2})]


async def test_an_idle_stream_sends_heartbeats() -> None:
    page = Page(MemoryBus(), heartbeat=0.05)
    async with OpenStream(page.app, "/offices/4/live") as sse:
        body = await sse.read_until(": keep-alive\r\n\r\n: keep-alive\r\n\r\n")
        assert page.rendered == [None]  # a heartbeat renders nothing
        await page.bus.publish(LiveEvent(4, TICKET))
        body = await sse.read_until("data: ticket")
        assert body.index("data: now") < body.index(": keep-alive") < body.index("data: ticket")


async def test_a_browser_that_leaves_ends_its_subscription() -> None:
    bus = MemoryBus()
    page = Page(bus)
    async with OpenStream(page.app, "/offices/4/live") as sse:
        await sse.read_until("data: now")
        assert bus.subscriber_count(4) == 1
        await sse.hang_up()
    assert bus.subscriber_count() == 0


async def test_stopping_the_bus_ends_the_response() -> None:
    bus = MemoryBus()
    page = Page(bus)
    async with OpenStream(page.app, "/offices/4/live") as sse:
        await sse.read_until("data: now")
        await bus.stop()
        await sse.until_finished()
    assert bus.subscriber_count() == 0


async def test_a_render_that_fails_ends_the_stream_without_an_error() -> None:
    bus = MemoryBus()
    page = Page(bus)
    async with OpenStream(page.app, "/offices/4/live") as sse:
        await sse.read_until("data: now")
        await bus.publish(LiveEvent(4, "boom"))
        body = await sse.until_finished()  # the browser reconnects and starts from the current state
    assert "boom" not in body and bus.subscriber_count() == 0


@pytest.mark.parametrize(
    ("burst", "rendered"),
    [
        ([TICKET, TICKET, TICKET], [TICKET]),
        ([TICKET, CALLED, TICKET], [CALLED, TICKET]),
        ([TICKET, TICKET, CALLED], [CALLED]),
        ([CALLED, ALARM, CALLED], [CALLED, ALARM, CALLED]),
        ([TICKET, RESYNC, TICKET], [RESYNC]),
        ([RESYNC, CALLED, TICKET], [CALLED, TICKET]),
    ],
)
async def test_a_burst_is_rendered_once_but_every_chime_is_kept(
    burst: list[str], rendered: list[str]
) -> None:
    bus = MemoryBus()
    page = Page(bus)
    async with OpenStream(page.app, "/offices/4/live") as sse:
        await sse.read_until("data: now")
        for number, kind in enumerate(burst):
            await bus.publish(LiveEvent(4, kind, {"code": f"A{number:03}"}))
        last = rendered[-1]
        await sse.read_until(f"data: {last} A{max(i for i, k in enumerate(burst) if k == last):03}")
    assert [event.kind for event in page.rendered[1:] if event is not None] == rendered


_kinds = st.lists(st.sampled_from([TICKET, CALLED, ALARM, RESYNC, "other"]), min_size=1, max_size=12)


@given(_kinds)
def test_renders_of_a_burst(kinds: list[str]) -> None:
    burst = [LiveEvent(1, kind, {"n": n}) for n, kind in enumerate(kinds)]
    chosen = renders_for(burst)
    chimes = [event for event in burst if event.kind in (CALLED, ALARM)]
    # In order, every chime, and at most one other render, which comes last and sees the end state.
    assert [event.data["n"] for event in chosen] == sorted(event.data["n"] for event in chosen)
    assert [event for event in chosen if event.kind in (CALLED, ALARM)] == chimes
    assert len(chosen) - len(chimes) <= 1
    if burst[-1].kind not in (CALLED, ALARM):
        assert chosen[-1].kind not in (CALLED, ALARM)
    else:
        assert chosen[-1] is burst[-1]


def test_the_test_client_streams_it_until_the_bus_stops() -> None:
    bus = MemoryBus()
    page = Page(bus, heartbeat=0.05)
    with TestClient(page.app) as client:
        # Litestar's client returns the response once it is complete: change and end it meanwhile.
        def meanwhile() -> None:
            portal = client.blocking_portal
            deadline = time.monotonic() + 5
            while portal.call(lambda: _async(bus.subscriber_count, 4)) == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            portal.call(bus.publish, LiveEvent(4, CALLED, {"code": "B002"}))
            time.sleep(0.2)
            portal.call(bus.stop)

        helper = threading.Thread(target=meanwhile)
        helper.start()
        response = client.get("/offices/4/live")
        helper.join()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    body = response.text
    assert body.index("data: now") < body.index("data: called B002")
    assert ": keep-alive" in body


async def _async(function: Any, *args: Any) -> Any:
    return function(*args)


async def test_render_reads_through_its_own_session(
    city, read_session: async_sessionmaker[AsyncSession]
) -> None:  # type: ignore[no-untyped-def]
    bus = MemoryBus()
    counts: list[int] = []

    @get("/offices/{office_id:int}/live")
    async def follow(request: Request[Any, Any, Any], office_id: FromPath[int]) -> ServerSentEvent:
        async def render(event: LiveEvent | None) -> list[ServerSentEventMessage]:
            async with stream.read_session(request.app.state) as db:
                counts.append(await db.scalar(select(func.count()).select_from(Office)) or 0)
            return [ServerSentEventMessage(data=f"offices {counts[-1]}")]

        return live_stream(request, office_id, render)

    app = Litestar([follow], state=State({"live_bus": bus, "session_maker": read_session}))
    async with OpenStream(app, "/offices/1/live") as sse:
        await sse.read_until("data: offices")
        await bus.publish(LiveEvent(1, TICKET))
        await sse.read_until("data: offices", within=3)
        await sse.read_until(f"data: offices {counts[0]}\r\n\r\ndata: offices {counts[0]}")
    assert len(counts) == 2 and counts[0] > 0
