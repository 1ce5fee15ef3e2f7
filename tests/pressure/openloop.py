"""An open-loop load generator for tests: request i leaves at its scheduled time whether or not the
earlier ones have been answered, as residents arrive at a release whatever the server is doing.

A closed loop (N clients that each wait for their answer before asking again) slows down with the
server and so never builds the queue an overloaded server faces; an open loop does. Each request runs
in a task of its own over a bounded pool of keep-alive connections; its latency counts from the moment
its task began, so time spent waiting for a free connection is part of it (no coordinated omission).

The HTTP/1.1 client is a small one on asyncio streams: a general client costs milliseconds of CPU per
request, enough for the generator to fall behind at a few hundred requests a second on one core.

    async with Connections(host, port) as connections:
        run = await open_loop(connections, call_for, rate=200, duration=8)
    run.check_schedule()              # raises GeneratorLag when the generator could not keep up
    [o.status for o in run.outcomes]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

CLIENT_TIMEOUT = 10.0


class GeneratorLag(RuntimeError):
    """The generator itself fell behind its schedule: the server saw less load than the run claims."""


class ProtocolError(RuntimeError):
    """The server's answer was not HTTP/1.1 as this client reads it."""


@dataclass(frozen=True)
class Call:
    """One request to send: ``label`` groups requests in summaries, ``tag`` is the caller's own."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    label: str = ""
    tag: str = ""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


# -- the client --------------------------------------------------------------------------------


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reusable = True

    def close(self) -> None:
        self.reusable = False
        self.writer.close()


class Connections:
    """Keep-alive HTTP/1.1 connections to one server, at most ``limit`` of them in use at once; a
    request that finds all in use waits for one, first come first served."""

    def __init__(self, host: str, port: int, limit: int = 200) -> None:
        self.host = host
        self.port = port
        self._turns = asyncio.Semaphore(limit)
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()

    async def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        on_sent: Callable[[], None] | None = None,
    ) -> Answer:
        """Send one request and read the whole answer. A connection whose request failed or was
        cancelled (a timeout) is closed, never handed to the next request."""
        async with self._turns:
            connection = self._idle_connection() or await self._connect()
            try:
                connection.writer.write(self._head(method, path, headers or {}, body) + (body or b""))
                if on_sent is not None:
                    on_sent()
                answer = await self._read(connection, method)
            except BaseException:
                connection.close()
                self._open.discard(connection)
                raise
            if connection.reusable:
                self._idle.append(connection)
            else:
                connection.close()
                self._open.discard(connection)
            return answer

    def _idle_connection(self) -> _Connection | None:
        """The connection used last that the server has not closed meanwhile (keep-alive timeout)."""
        while self._idle:
            connection = self._idle.pop()
            if not connection.reader.at_eof() and not connection.writer.is_closing():
                return connection
            connection.close()
            self._open.discard(connection)
        return None

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        connection = _Connection(reader, writer)
        self._open.add(connection)
        return connection

    def _head(self, method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    @staticmethod
    async def _read(connection: _Connection, method: str) -> Answer:
        reader = connection.reader
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        parts = head[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"not an HTTP/1.1 status line: {head[0]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in head[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("connection", "").lower() == "close" or parts[0] == "HTTP/1.0":
            connection.reusable = False
        if method == "HEAD" or status in (204, 304) or status < 200:
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = await Connections._chunks(reader)
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        else:  # the body ends where the connection does
            connection.reusable = False
            body = await reader.read()
        return Answer(status, headers, body)

    @staticmethod
    async def _chunks(reader: asyncio.StreamReader) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, if any
                    pass
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)

    async def aclose(self) -> None:
        for connection in list(self._open):
            connection.close()
        for connection in list(self._open):
            with contextlib.suppress(OSError):
                await connection.writer.wait_closed()
        self._open.clear()
        self._idle.clear()

    async def __aenter__(self) -> Connections:
        return self

    async def __aexit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.aclose()


# -- requests and their outcomes -----------------------------------------------------------------


@dataclass
class Outcome:
    """What became of one request. Times are seconds after the run's start; ``latency`` counts from
    ``issued`` (the wait for a free connection included) to the whole answer read."""

    call: Call
    scheduled: float
    issued: float = math.nan
    sent: float = math.nan
    latency: float = math.nan
    status: int | None = None
    retry_after: str | None = None
    body: Any = None
    error: str | None = None

    @property
    def answered(self) -> bool:
        return self.status is not None


def _created(status: int) -> bool:
    return status == 201


async def send(
    connections: Connections,
    outcome: Outcome,
    t0: float,
    give_up_after: float = CLIENT_TIMEOUT,
    keep_body: Callable[[int], bool] = _created,
) -> Outcome:
    """Send ``outcome.call`` and fill in ``outcome``. A request without a whole answer
    ``give_up_after`` seconds after it began is recorded with ``error`` and no status."""
    call = outcome.call

    def on_sent() -> None:
        outcome.sent = time.perf_counter() - t0

    began = time.perf_counter()
    outcome.issued = began - t0
    try:
        async with asyncio.timeout(give_up_after):
            answer = await connections.request(call.method, call.path, call.headers, call.body, on_sent)
    except TimeoutError:
        outcome.error = "timeout"
        return outcome
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ProtocolError) as error:
        outcome.error = type(error).__name__
        outcome.latency = time.perf_counter() - began
        return outcome
    outcome.latency = time.perf_counter() - began
    outcome.status = answer.status
    outcome.retry_after = answer.headers.get("retry-after")
    if keep_body(answer.status):
        try:
            outcome.body = json.loads(answer.body)
        except ValueError:
            outcome.body = answer.body
    return outcome


# -- schedules and runs --------------------------------------------------------------------------


def fixed_schedule(rate: float, duration: float) -> list[float]:
    """Evenly spaced departures: ``rate`` per second for ``duration`` seconds."""
    return [i / rate for i in range(math.floor(rate * duration))]


def poisson_schedule(rate: float, duration: float, seed: int = 0) -> list[float]:
    """Departures of a Poisson process of ``rate`` per second (exponential gaps), reproducible by seed."""
    rng = random.Random(seed)
    times: list[float] = []
    at = rng.expovariate(rate)
    while at < duration:
        times.append(at)
        at += rng.expovariate(rate)
    return times


@dataclass
class Run:
    """The outcomes of one open-loop run, in schedule order."""

    rate: float
    duration: float
    outcomes: list[Outcome]

    @property
    def lateness(self) -> list[float]:
        """How late each task began against its schedule (the generator's own delay)."""
        return [o.issued - o.scheduled for o in self.outcomes]

    @property
    def achieved_rate(self) -> float:
        """Requests per second the generator actually issued over the span it needed for them."""
        if not self.outcomes:
            return 0.0
        return len(self.outcomes) / (max(o.issued for o in self.outcomes) + 1 / self.rate)

    @property
    def wire_rate(self) -> float:
        """Requests per second that went out on a connection: lower than ``achieved_rate`` when every
        connection of the pool was taken by an unanswered request."""
        sent = [o.sent for o in self.outcomes if not math.isnan(o.sent)]
        return len(sent) / (max(sent) + 1 / self.rate) if sent else 0.0

    def check_schedule(self, tolerance: float = 0.10) -> None:
        """Raise GeneratorLag when the generator issued fewer than ``1 - tolerance`` of the promised
        requests per second, so a slow test machine never passes for a server that held up."""
        expected = self.rate * self.duration
        if len(self.outcomes) < (1 - tolerance) * expected - 1:
            raise GeneratorLag(f"{len(self.outcomes)} requests scheduled, {expected:.0f} promised")
        if self.achieved_rate < (1 - tolerance) * self.rate:
            raise GeneratorLag(
                f"issued {self.achieved_rate:.1f}/s of {self.rate:.1f}/s "
                f"(p99 lateness {percentile(self.lateness, 0.99) * 1000:.0f} ms)"
            )


async def open_loop(
    connections: Connections,
    call_for: Callable[[int], Call],
    *,
    rate: float,
    duration: float,
    poisson: bool = False,
    seed: int = 0,
    give_up_after: float = CLIENT_TIMEOUT,
    keep_body: Callable[[int], bool] = _created,
) -> Run:
    """Send ``call_for(i)`` at the i-th departure of the schedule (fixed rate, or Poisson), each in a
    task of its own, and wait for every answer (or its timeout)."""
    departures = poisson_schedule(rate, duration, seed) if poisson else fixed_schedule(rate, duration)
    # Built before the clock starts, so building them cannot delay a departure.
    outcomes = [Outcome(call_for(i), due) for i, due in enumerate(departures)]
    tasks: list[asyncio.Task[Outcome]] = []
    t0 = time.perf_counter()
    for outcome in outcomes:
        delay = t0 + outcome.scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(connections, outcome, t0, give_up_after, keep_body)))
    await asyncio.gather(*tasks)
    return Run(rate, duration, outcomes)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``; NaN when there are none."""
    ordered = sorted(v for v in values if not math.isnan(v))
    if not ordered:
        return math.nan
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]
