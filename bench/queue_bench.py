"""The queue's benchmark targets: issuing walk-in tickets and calling the next one through the API,
and the commit-to-screen latency (screen_latency.py).

Both throughput targets are writes that compete for the same rows, so each request goes to the next
office in turn (and the next service or counter within it): the lines stay the length a busy day
gives them instead of one line of thousands. Call-next works in rounds: lines of waiting tickets are
topped up through kontor's own service in this process (queue_setup.py), and a round ends when they
are empty rather than time cheap 204s; rounds are repeated until the time is up.

The waiting-room display page is measured on a board like one in opening hours (prepare_board):
tickets waiting and one called to every counter.
"""

from __future__ import annotations

import itertools
import json
import sys
from dataclasses import dataclass, field

import loadgen
import screen_latency
from queue_setup import AUTH, QueueOffice, QueueSetup, fill_lines
from servers import HOST

NEXT_WARMUP = 0.5  # the server is warm from issuing
# Tickets waiting per office when a call-next round starts: a busy office's morning. Longer lines
# would time how call-next scales with the line rather than its cost on a working day.
LINE_LENGTH = 150
MAX_ROUNDS = 100
# Waiting tickets on the board of the display target, besides one called to each counter.
BOARD_WAITING = 12
# The latency target may take a throughput target's limit plus this per round timed; it stops
# starting rounds then, and the round under way may take LATENCY_GRACE more.
ROUND_BUDGET = 1.5
LATENCY_GRACE = 30.0


@dataclass
class IssueRequests:
    """POST tickets, round the offices, and round each office's walk-in services."""

    port: int
    offices: tuple[QueueOffice, ...]
    sent: int = 0

    def __call__(self) -> bytes:
        office = self.offices[self.sent % len(self.offices)]
        service = office.services[(self.sent // len(self.offices)) % len(office.services)]
        self.sent += 1
        body = json.dumps({"service": service}).encode()
        return loadgen.request_bytes(HOST, self.port, tickets_path(office), "POST", body, AUTH)


@dataclass
class NextRequests:
    """POST next, round the offices with tickets left in the pool, and round each office's counters;
    None once every ticket of the pool has been asked for."""

    port: int
    pool: dict[str, int]  # waiting tickets per office
    offices: tuple[QueueOffice, ...]
    sent: int = 0
    _turn: itertools.cycle = field(init=False)

    def __post_init__(self) -> None:
        self._turn = itertools.cycle(self.offices)

    def __call__(self) -> bytes | None:
        for _ in range(len(self.offices)):
            office = next(self._turn)
            if self.pool.get(office.slug, 0) > 0:
                self.pool[office.slug] -= 1
                counter = office.counters[self.sent % len(office.counters)]
                self.sent += 1
                return loadgen.request_bytes(HOST, self.port, next_path(office, counter), "POST", b"{}", AUTH)
        return None


def tickets_path(office: QueueOffice) -> str:
    return f"/api/v1/offices/{office.slug}/tickets"


def next_path(office: QueueOffice, counter: int) -> str:
    return f"/api/v1/offices/{office.slug}/counters/{counter}/next"


def measured_row(
    name: str, path: str, connections: int, result: loadgen.Measurement, hello_rps: float
) -> dict:
    """A result row in run.py's shape."""
    ok = sum(count for code, count in result.statuses.items() if 200 <= code < 300)
    row = {
        "target": name,
        "method": "POST",
        "path": path,
        "connections": connections,
        "requests": result.requests,
        "seconds": round(result.seconds, 3),
        "requests_per_second": round(result.per_second, 1),
        "p50_ms": round(result.percentile(0.50) * 1000, 2),
        "p99_ms": round(result.percentile(0.99) * 1000, 2),
        "non_2xx": result.requests - ok,
        "statuses": {str(code): count for code, count in sorted(result.statuses.items())},
        "failures": result.failures[:5],
        "client_cpu": round(result.client_cpu, 2),
    }
    if hello_rps:
        row["ratio_to_hello"] = round(row["requests_per_second"] / hello_rps, 4)
    print(f"  {name}: {row['requests_per_second']:.0f} req/s", flush=True)
    return row


async def _probe(port: int, path: str, body: bytes) -> dict:
    """The probe's status, and when the endpoint fails, why it is not measured (``failed``)."""
    status, content = await loadgen.fetch(HOST, port, path, "POST", body, AUTH)
    if 200 <= status < 300:
        return {"probe_status": status}
    try:
        detail = str(json.loads(content).get("detail", ""))[:200]
    except (ValueError, AttributeError):
        detail = content[:200].decode("utf-8", "replace")
    print(f"  {path}: not measured, the probe answered {status}: {detail}", flush=True)
    return {
        "probe_status": status,
        "probe_detail": detail,
        "missing": status == 404,
        "not_measured": status != 404,
        "failed": True,
    }


async def issue_target(
    port: int, setup: QueueSetup, *, connections: int, warmup: float, seconds: float, hello_rps: float
) -> dict:
    """Ticket issue: POST tickets with a staff bearer token, for warmup + seconds."""
    path = "/api/v1/offices/{slug}/tickets"
    base = {"target": "ticket issue", "method": "POST", "path": path, "connections": connections}
    first = setup.offices[0]
    probe = await _probe(port, tickets_path(first), json.dumps({"service": first.services[0]}).encode())
    if probe.pop("failed", False):
        return base | probe
    requests = IssueRequests(port, setup.offices)
    load = {"connections": connections, "payloads": requests}
    await loadgen.measure(HOST, port, path, seconds=warmup, **load)
    result = await loadgen.measure(HOST, port, path, seconds=seconds, **load)
    return (
        measured_row("ticket issue", path, connections, result, hello_rps)
        | probe
        | {"offices": len(setup.offices)}
    )


def _merge(total: loadgen.Measurement, part: loadgen.Measurement) -> None:
    seconds = total.seconds + part.seconds
    if seconds:
        total.client_cpu = (total.client_cpu * total.seconds + part.client_cpu * part.seconds) / seconds
    total.seconds = seconds
    total.requests += part.requests
    total.latencies += part.latencies
    total.statuses.update(part.statuses)
    total.failures += part.failures


async def next_target(
    port: int, database_url: str, setup: QueueSetup, *, connections: int, seconds: float, hello_rps: float
) -> dict:
    """Call-next: POST next round the offices' counters, in rounds that each start from lines of
    LINE_LENGTH and end when they are empty; the rounds add up to ``seconds`` of measurement."""
    path = "/api/v1/offices/{slug}/counters/{counter}/next"
    base = {"target": "call-next", "method": "POST", "path": path, "connections": connections}
    offices = setup.offices
    await fill_lines(database_url, offices, LINE_LENGTH)
    first = offices[0]
    probe = await _probe(port, next_path(first, first.counters[0]), b"{}")
    if probe.pop("failed", False):
        return base | probe

    async def one_round(span: float) -> loadgen.Measurement:
        await fill_lines(database_url, offices, LINE_LENGTH)
        calls = NextRequests(port, {office.slug: LINE_LENGTH for office in offices}, offices)
        return await loadgen.measure(HOST, port, path, seconds=span, connections=connections, payloads=calls)

    await one_round(NEXT_WARMUP)
    total, rounds = loadgen.Measurement(), 0
    while total.seconds < seconds and rounds < MAX_ROUNDS:
        part = await one_round(seconds - total.seconds)
        _merge(total, part)
        rounds += 1
        if not part.requests:
            break
    row = measured_row("call-next", path, connections, total, hello_rps) | probe
    row["lines"] = {"length_at_start": LINE_LENGTH, "offices": len(offices), "rounds": rounds}
    if nobody := total.statuses.get(204, 0):
        row["nobody_waiting_204"] = nobody
        print(f"  note: call-next: {nobody} answers were 204 (no one waiting)", file=sys.stderr)
    return row


async def prepare_board(port: int, database_url: str, office: QueueOffice) -> list[str]:
    """Tickets waiting at ``office`` and one called to each of its counters, so its waiting-room
    display has a board to render, as in opening hours; the codes called."""
    await fill_lines(database_url, (office,), BOARD_WAITING + len(office.counters))
    called = []
    for counter in office.counters:
        status, content = await loadgen.fetch(HOST, port, next_path(office, counter), "POST", b"{}", AUTH)
        if status == 200:
            called.append(json.loads(content)["code"])
    return called


async def queue_targets(
    port: int,
    database_url: str,
    setup: QueueSetup,
    *,
    connections: int,
    warmup: float,
    seconds: float,
    hello_rps: float,
    screens: int,
    rounds: int,
    limit: float,
    screen_ports: list[int] | None = None,
    call_ports: list[int] | None = None,
) -> list[dict]:
    """The three queue rows: ticket issue, call-next (both throughput, loading ``port``) and
    commit-to-screen latency (screens on ``screen_ports``, calls through ``call_ports``; both
    ``port`` when not given). Each target is stopped after ``limit`` seconds."""
    measure = {"connections": connections, "seconds": seconds, "hello_rps": hello_rps}
    issue = await loadgen.within(
        limit,
        issue_target(port, setup, warmup=warmup, **measure),
        {"target": "ticket issue", "method": "POST", "path": "/api/v1/offices/{slug}/tickets"},
    )
    call = await loadgen.within(
        limit,
        next_target(port, database_url, setup, **measure),
        {"target": "call-next", "method": "POST", "path": "/api/v1/offices/{slug}/counters/{counter}/next"},
    )
    screen = setup.screen
    office = screen_latency.Office(screen.slug, screen.services[0], screen.counters[0], AUTH)
    latency_limit = limit + rounds * ROUND_BUDGET
    latency = await loadgen.within(
        latency_limit + LATENCY_GRACE,
        screen_latency.screen_latency(
            office,
            screen_ports=screen_ports or [port],
            call_ports=call_ports or [port],
            screens=screens,
            rounds=rounds,
            time_limit=latency_limit,
        ),
        {"target": "commit-to-screen", "kind": "latency", "path": office.events},
    )
    for row in (issue, call, latency):
        row.setdefault("connections", screens if row is latency else connections)
    return [issue, call, latency]
