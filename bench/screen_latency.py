"""Commit-to-screen latency: how long after a counter's "next" is answered every waiting-room screen
has the call.

N screens follow ``/offices/{slug}/display/events`` (server-sent events: "board" on any change,
"call" when a ticket is called). Each round issues a ticket and calls it through the API; the "next"
answer comes after the commit, so the time from reading that answer to each screen's "call" event
carrying the code is what a resident waits for the screen after the clerk pressed the button.
Timestamps are taken in this process as bytes arrive, on the load generator's own core.

With several instances on PostgreSQL the screens are spread over the instances and the calls go
through each instance in turn, so the event has to cross from one instance to another (LISTEN/NOTIFY)
before a screen can show it; those screens' times are the ones reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field

import loadgen
from servers import HOST

EVENT_TIMEOUT = 5.0  # a call that takes longer than this is counted as missed
GOAL_MS = 1000.0  # the issue: screens show a call within a second


@dataclass
class Screen:
    """One SSE connection; every complete event lands in ``events`` with its arrival time."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    events: asyncio.Queue[tuple[str, str, float]] = field(default_factory=asyncio.Queue)
    task: asyncio.Task | None = None

    @classmethod
    async def open(cls, port: int, path: str) -> Screen:
        if HOST not in loadgen.LOOPBACK:
            raise ValueError("screens connect to loopback only")
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: text/event-stream\r\n"
            "User-Agent: kontor-bench-screen\r\n\r\n".encode()
        )
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).decode("latin-1")
        status = int(head.split(" ", 2)[1])
        if status != 200:
            writer.close()
            raise ConnectionError(f"{path} answered {status}")
        screen = cls(reader, writer)
        chunked = "transfer-encoding: chunked" in head.lower()
        screen.task = asyncio.ensure_future(screen._read(chunked))
        return screen

    async def _read(self, chunked: bool) -> None:
        buffer = ""
        while True:
            if chunked:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                data = (await self.reader.readexactly(size + 2))[:-2]
                if size == 0:
                    return
            else:
                data = await self.reader.read(65536)
                if not data:
                    return
            arrived = time.perf_counter()
            buffer += data.decode("utf-8").replace("\r\n", "\n")
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                name, lines = "message", []
                for line in block.split("\n"):
                    key, _sep, value = line.partition(":")
                    if key == "event":
                        name = value.strip()
                    elif key == "data":
                        lines.append(value[1:] if value.startswith(" ") else value)
                self.events.put_nowait((name, "\n".join(lines), arrived))

    def drain(self) -> None:
        while not self.events.empty():
            self.events.get_nowait()

    async def call_of(self, code: str, deadline: float) -> float | None:
        """When the "call" event naming ``code`` arrived, or None if it did not before ``deadline``."""
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            try:
                name, data, arrived = await asyncio.wait_for(self.events.get(), left)
            except TimeoutError:
                return None
            if name == "call" and code in data:
                return arrived

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.writer.close()


async def _next_board(screen: Screen) -> None:
    while (await screen.events.get())[0] != "board":
        pass


async def _boards(screens: list[Screen]) -> None:
    """Until every screen has shown its next board (or EVENT_TIMEOUT has passed): the work a change
    before the call causes is then done and not timed with the call."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(_next_board(s) for s in screens)), EVENT_TIMEOUT)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


@dataclass(frozen=True)
class Office:
    """Where the rounds happen: the office's paths, a walk-in service, a staff token's headers."""

    slug: str
    service: str
    counter: int
    headers: dict[str, str]

    @property
    def events(self) -> str:
        return f"/offices/{self.slug}/display/events"

    @property
    def tickets(self) -> str:
        return f"/api/v1/offices/{self.slug}/tickets"

    @property
    def next(self) -> str:
        return f"/api/v1/offices/{self.slug}/counters/{self.counter}/next"


async def screen_latency(
    office: Office,
    *,
    screen_ports: list[int],
    call_ports: list[int],
    screens: int,
    rounds: int,
    time_limit: float,
) -> dict:
    """Open ``screens`` screens of ``office``, spread round ``screen_ports``, and time ``rounds``
    calls to them, each made through the next of ``call_ports``; no round starts after ``time_limit``
    seconds. With screens on several instances, the row's numbers are those of the screens on an
    instance other than the one that took the call: the cross-instance path, which is what a
    deployment of several instances relies on. The same-instance ones are kept beside them."""
    path = office.events
    cross = len(set(screen_ports)) > 1
    row: dict = {"target": "commit-to-screen", "kind": "latency", "path": path, "connections": screens}
    try:
        opened = [await Screen.open(screen_ports[n % len(screen_ports)], path) for n in range(screens)]
    except (OSError, ValueError, ConnectionError, TimeoutError) as error:
        status = 404 if "404" in str(error) else 0
        print(f"  commit-to-screen: not measured ({error})", flush=True)
        return row | {
            "probe_status": status,
            "missing": status == 404,
            "not_measured": status != 404,
            "probe_detail": str(error),
        }
    on_port = [screen_ports[n % len(screen_ports)] for n in range(screens)]
    latencies: list[float] = []
    same_instance: list[float] = []
    missed = early = done = 0
    stop_at = time.perf_counter() + time_limit
    try:
        await _boards(opened)
        body = json.dumps({"services": [office.service]}).encode()
        issue = json.dumps({"service": office.service}).encode()
        for number in range(rounds):
            if time.perf_counter() > stop_at:
                break
            port = call_ports[number % len(call_ports)]
            for screen in opened:
                screen.drain()
            await loadgen.fetch(HOST, port, office.tickets, "POST", issue, office.headers)
            await _boards(opened)
            status, content = await loadgen.fetch(HOST, port, office.next, "POST", body, office.headers)
            answered = time.perf_counter()
            if status != 200:
                return row | {
                    "probe_status": status,
                    "not_measured": True,
                    "probe_detail": content[:200].decode(),
                }
            code = json.loads(content)["code"]
            arrivals = await asyncio.gather(*(s.call_of(code, answered + EVENT_TIMEOUT) for s in opened))
            for arrived, screen_port in zip(arrivals, on_port, strict=True):
                if arrived is None:
                    missed += 1
                    continue
                early += arrived < answered
                sample = max(0.0, arrived - answered)
                (same_instance if cross and screen_port == port else latencies).append(sample)
            done += 1
            await _boards(opened)  # the board each screen renders after the call
    finally:
        for screen in opened:
            screen.close()
    p95 = round(_percentile(latencies, 0.95) * 1000, 2)
    row |= {
        "probe_status": 200,
        "rounds": done,
        "samples": len(latencies),
        "missed": missed,
        "before_answer": early,  # the screen had it before this process had read the answer: counted as 0
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p95_ms": p95,
        "max_ms": round(max(latencies, default=0.0) * 1000, 2),
        "goals": [
            {
                "goal": f"p95 ≤ {GOAL_MS:g} ms",
                "metric": "p95_ms",
                "at_most": GOAL_MS,
                "value": p95,
                "met": bool(latencies) and not missed and p95 <= GOAL_MS,
            }
        ],
    }
    if done < rounds:
        row["stopped_early"] = f"time limit of {time_limit:g} s: {done} of {rounds} rounds timed"
    if cross:
        row["cross_instance"] = {
            "instances": len(set(screen_ports)),
            "screens_per_instance": screens // len(set(screen_ports)),
            "calls_through": "each instance in turn; the numbers are the other instances' screens",
            "same_instance_samples": len(same_instance),
            "same_instance_p50_ms": round(_percentile(same_instance, 0.50) * 1000, 2),
            "same_instance_p95_ms": round(_percentile(same_instance, 0.95) * 1000, 2),
        }
    where = " on the other instance" if cross else ""
    print(
        f"  commit-to-screen: p50 {row['p50_ms']:.1f} ms, p95 {p95:.1f} ms over {screens} screens{where}",
        flush=True,
    )
    return row


def print_latency(rows: list[dict]) -> None:
    """The latency rows as a table of their own (run.py's table is about throughput)."""
    numbers = f"{'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'missed':>6}"
    header = f"{'target':<22} {'screens':>7} {'rounds':>6} {numbers}  goal"
    print(header)
    print("-" * len(header))
    for row in rows:
        lead = f"{row['target']:<22} {row['connections']:>7}"
        if "p95_ms" not in row:
            print(f"{lead} not measured ({row.get('probe_detail', row.get('probe_status'))})")
            continue
        goal = row["goals"][0]
        verdict = "met" if goal["met"] else "not met"
        across = " (screens on the other instance)" if row.get("cross_instance") else ""
        print(
            f"{lead} {row['rounds']:>6} {row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f} {row['max_ms']:>8.2f} "
            f"{row['missed']:>6}  {goal['goal']} {verdict}{across}"
        )
