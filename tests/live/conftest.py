"""Fixtures and helpers of the live-update tests: a started bus of the test's database, waiting for
events with a deadline, and a TCP relay that can go silent (a network that drops, not a server that
closes)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from kontor.live.bus import LiveBus, LiveEvent, create_bus, register_bus
from kontor.settings import Settings


@pytest.fixture
async def live(settings: Settings, engine: AsyncEngine) -> AsyncIterator[LiveBus]:
    """The bus the app would make for the test's database, started; on SQLite, sessions on ``engine``
    (and on ``writer(engine)``) deliver to it."""
    bus = create_bus(settings)
    register_bus(engine, bus)
    await bus.start()
    yield bus
    await bus.stop()


async def next_event(events: AsyncIterator[LiveEvent], within: float = 3.0) -> LiveEvent:
    """The next event, failing the test when none comes in time."""
    try:
        async with asyncio.timeout(within):
            return await anext(events)
    except TimeoutError:
        pytest.fail(f"no live event within {within} s")


async def assert_quiet(events: AsyncIterator[LiveEvent], wait: float = 0.4) -> None:
    """Nothing arrives for ``wait`` seconds (long enough for a NOTIFY to travel)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(wait):
            event = await anext(events)
            pytest.fail(f"unexpected live event {event}")


class SilentRelay:
    """A TCP relay to PostgreSQL whose open connections can be made to stop passing bytes while
    staying open: what a listener sees when a network path dies without a word."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._frozen: list[asyncio.Event] = []
        self.port = 0

    async def __aenter__(self) -> SilentRelay:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    def go_silent(self) -> None:
        """Stop passing bytes on every connection open now; new connections work normally."""
        for gate in self._frozen:
            gate.clear()
        self._frozen = []

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        gate = asyncio.Event()
        gate.set()
        self._frozen.append(gate)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink, gate))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, gate: asyncio.Event) -> None:
        try:
            while data := await source.read(65536):
                await gate.wait()
                sink.write(data)
                await sink.drain()
        except ConnectionError:
            pass
        finally:
            sink.close()
