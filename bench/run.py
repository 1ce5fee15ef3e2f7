"""Throughput of kontor's hot pages, measured against a hello-world Litestar app in the same run.

    python bench/run.py            # ~15 s per target
    python bench/run.py --short    # ~3 s per target (CI)

Each server is one uvicorn worker pinned to CPU 0; the load generator runs here, pinned to CPU 1.
Writes bench/results/latest.json and prints a table. The online-booking targets (slots listing, booking
POST) are checked against the issue's goals; a missed goal is reported, never a failed run. The queue's
targets (queue_bench.py): ticket issue and call-next through the API, and the commit-to-screen
latency of a call to N waiting-room screens (p50/p95 in ms, goal: within a second).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import loadgen
import queue_bench
from booking_pool import NOTICE_MARGIN, SeatPool
from queue_setup import prepare_queue
from screen_latency import print_latency
from servers import HOST, BookingSetup, kontor_environment, prepare_booking, prepare_demo_city, uvicorn_server

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
SERVER_CPU, CLIENT_CPU = 0, 1
BOOKING_SEATS = 50  # seats per slot of the booked offering, so the pool outlasts a full run


@dataclass(frozen=True)
class Goal:
    """A bound on one number of a result row (``ratio_to_hello``, ``p99_ms``)."""

    label: str
    metric: str
    at_least: float | None = None
    at_most: float | None = None

    def check(self, row: dict) -> dict:
        value = row.get(self.metric)
        met = (
            value is not None
            and (self.at_least is None or value >= self.at_least)
            and (self.at_most is None or value <= self.at_most)
        )
        bounds = {"at_least": self.at_least, "at_most": self.at_most}
        return {"goal": self.label, "metric": self.metric, **bounds, "value": value, "met": met}


# The online-booking issue's goals.
SLOTS_GOALS = (Goal("≥ 0.25× hello", "ratio_to_hello", at_least=0.25),)
BOOKING_GOALS = (
    Goal("≥ 0.10× hello", "ratio_to_hello", at_least=0.10),
    Goal("p99 ≤ 50 ms", "p99_ms", at_most=50.0),
)


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    method: str = "GET"
    body: loadgen.Body | None = None  # POST: the next request's body, None when there is none left
    connections: int | None = None  # None: the run's --connections
    goals: tuple[Goal, ...] = ()
    expect_items: bool = False  # a JSON list that must not be empty


def kontor_targets(office: str, today: date) -> list[Target]:
    return [
        Target("office page", f"/offices/{office}"),
        Target("hours API, two weeks", f"/api/v1/offices/{office}/hours?{_two_weeks(today)}"),
        Target("office finder", "/"),
    ]


def _two_weeks(today: date) -> str:
    return f"from={today.isoformat()}&to={(today + timedelta(days=13)).isoformat()}"


def slots_path(setup: BookingSetup, today: date) -> str:
    return f"/api/v1/offices/{setup.office}/slots?service={setup.service}&{_two_weeks(today)}"


def slots_target(setup: BookingSetup, today: date, connections: int) -> Target:
    path = slots_path(setup, today)
    return Target("slots API", path, connections=connections, goals=SLOTS_GOALS, expect_items=True)


def booking_target(pool: SeatPool, connections: int) -> Target:
    body = pool.next_body
    return Target("booking POST", "/api/v1/bookings", "POST", body, connections, BOOKING_GOALS)


async def seat_pool(port: int, setup: BookingSetup, today: date) -> SeatPool:
    """The free seats of the slots listing, fetched once, minus starts near the notice limit."""
    status, content = await loadgen.fetch(HOST, port, slots_path(setup, today))
    listing = json.loads(content) if status == 200 else []
    earliest = datetime.now(UTC) + setup.min_notice + NOTICE_MARGIN
    return SeatPool.from_listing(setup.office, setup.service, listing, earliest)


def _detail(content: bytes) -> str:
    try:
        return str(json.loads(content).get("detail", ""))[:200]
    except (ValueError, AttributeError):
        return content[:200].decode("utf-8", "replace")


def _probe_warning(target: Target, status: int, content: bytes) -> str | None:
    if not target.expect_items or status != 200:
        return None
    try:
        items = json.loads(content)
    except ValueError:
        return "the answer is not JSON"
    return (
        None if isinstance(items, list) and items else "the listing is empty: nothing to measure but overhead"
    )


async def run_target(
    target: Target, port: int, *, connections: int, warmup: float, seconds: float, hello_rps: float = 0.0
) -> dict:
    connections = target.connections or connections
    body = target.body() if target.body else None
    status, content = await loadgen.fetch(HOST, port, target.path, target.method, body)
    row: dict = {
        "target": target.name,
        "method": target.method,
        "path": target.path,
        "connections": connections,
        "probe_status": status,
    }
    if status == 404:
        row["missing"] = True
        print(f"  {target.name}: missing (404)", flush=True)
        return row
    if target.body and not 200 <= status < 300:
        # Every POST would fail the same way: report the first instead of timing failures.
        row.update(not_measured=True, probe_detail=_detail(content))
        print(
            f"  {target.name}: not measured, the probe answered {status}: {row['probe_detail']}", flush=True
        )
        return row
    if warning := _probe_warning(target, status, content):
        row["warning"] = warning
        print(f"  warning: {target.name}: {warning}", file=sys.stderr, flush=True)
    load = {"connections": connections, "method": target.method, "body": target.body}
    await loadgen.measure(HOST, port, target.path, seconds=warmup, **load)
    result = await loadgen.measure(HOST, port, target.path, seconds=seconds, **load)
    ok = sum(count for code, count in result.statuses.items() if 200 <= code < 300)
    row.update(
        requests=result.requests,
        seconds=round(result.seconds, 3),
        requests_per_second=round(result.per_second, 1),
        p50_ms=round(result.percentile(0.50) * 1000, 2),
        p99_ms=round(result.percentile(0.99) * 1000, 2),
        non_2xx=result.requests - ok,
        statuses={str(code): count for code, count in sorted(result.statuses.items())},
        failures=result.failures[:5],
        client_cpu=round(result.client_cpu, 2),
    )
    if result.exhausted:
        row["stopped_early"] = (
            "stopped early: nothing left to send (every free seat booked); rate is up to then"
        )
    if hello_rps:
        row["ratio_to_hello"] = round(row["requests_per_second"] / hello_rps, 4)
    if target.goals:
        row["goals"] = [goal.check(row) for goal in target.goals]
    print(f"  {target.name}: {row['requests_per_second']:.0f} req/s", flush=True)
    return row


def pin_cpus() -> tuple[int | None, str]:
    available = sorted(os.sched_getaffinity(0))
    if {SERVER_CPU, CLIENT_CPU} <= set(available):
        os.sched_setaffinity(0, {CLIENT_CPU})
        return SERVER_CPU, f"server on CPU {SERVER_CPU}, load generator on CPU {CLIENT_CPU}"
    return None, f"not pinned (CPUs available: {available})"


def _verdict(goal: dict) -> str:
    return "" if goal["met"] is None else ("met" if goal["met"] else "not met")


def print_table(rows: list[dict]) -> None:
    numbers = f"{'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs hello':>9} {'non-2xx':>8}"
    header = f"{'target':<22} {numbers}  {'goal':<15} {'met':<7}  path"
    print(header)
    print("-" * len(header))
    for row in rows:
        lead = f"{row['target']:<22} {row['connections']:>5}"
        goals = row.get("goals") or [{"goal": "", "met": None}]
        if row.get("missing") or row.get("not_measured"):
            why = "missing (404)" if row.get("missing") else f"not measured ({row['probe_status']})"
            print(f"{lead} {why:>44}  {'':<15} {'':<7}  {row['path']}")
            continue
        ratio = f"{row['ratio_to_hello']:.3f}×" if "ratio_to_hello" in row else "—"
        speed = f"{row['requests_per_second']:>9.0f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}"
        first = f"{goals[0]['goal']:<15} {_verdict(goals[0]):<7}"
        print(f"{lead} {speed} {ratio:>9} {row['non_2xx']:>8}  {first}  {row['path']}")
        for goal in goals[1:]:
            print(f"{'':<{23 + len(numbers)}}  {goal['goal']:<15} {_verdict(goal):<7}")


async def main(args: argparse.Namespace) -> int:
    seconds = args.seconds or (3.0 if args.short else 15.0)
    warmup = 1.0 if args.short else 3.0
    server_cpu, pinning = pin_cpus()
    print(f"kontor benchmark: {seconds:g} s per target after {warmup:g} s warm-up, "
          f"{args.connections} connections ({args.booking_connections} for online booking), {pinning}",
          flush=True)  # fmt: skip
    rows: list[dict] = []
    measure = {"connections": args.connections, "warmup": warmup, "seconds": seconds}

    with uvicorn_server(["hello:app", "--app-dir", "bench"], cpu=server_cpu) as port:
        rows.append(await run_target(Target("hello world", "/"), port, **measure))
    hello_rps = rows[0].get("requests_per_second") or 0.0

    with tempfile.TemporaryDirectory(prefix="kontor-bench-") as folder:
        office = await prepare_demo_city(Path(folder))
        setup = await prepare_booking(Path(folder), BOOKING_SEATS)
        env = kontor_environment(Path(folder))
        today = date.today()
        queue = await prepare_queue(Path(folder), today)
        with uvicorn_server(["--factory", "kontor.app:create_app"], env=env, cpu=server_cpu) as port:
            for target in kontor_targets(office, today):
                rows.append(await run_target(target, port, **measure, hello_rps=hello_rps))
            slots = slots_target(setup, today, args.booking_connections)
            rows.append(await run_target(slots, port, **measure, hello_rps=hello_rps))
            pool = await seat_pool(port, setup, today)
            booking = booking_target(pool, args.booking_connections)
            print(f"  booking POST: {pool.size} free seats in {pool.slots} slots to book", flush=True)
            if pool.size:
                rows.append(await run_target(booking, port, **measure, hello_rps=hello_rps))
                rows[-1]["seat_pool"] = pool.summary()
            else:
                print("  warning: booking POST: no free seat to book; not measured", file=sys.stderr)
            screens = {"screens": args.screens, "rounds": args.screen_rounds or (20 if args.short else 100)}
            rows += await queue_bench.queue_targets(
                port, Path(folder), queue, **measure, hello_rps=hello_rps, **screens
            )

    print()
    print_table([row for row in rows if row.get("kind") != "latency"])
    print()
    print_latency([row for row in rows if row.get("kind") == "latency"])
    for row in rows:
        for note in (row.get("warning"), row.get("stopped_early")):
            if note:
                print(f"note: {row['target']}: {note}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "short" if args.short else "full",
        **measure,
        "booking_connections": args.booking_connections,
        "booking_seats_per_slot": BOOKING_SEATS,
        "screens": args.screens,
        "pinning": pinning,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "results": rows,
    }
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten to {RESULTS}")
    saturated = [row["target"] for row in rows if row.get("client_cpu", 0) > 0.95]
    if saturated:
        names = ", ".join(saturated)
        print(f"note: the load generator used a whole core for {names}; the server may be faster than shown")
    broken = [
        row
        for row in rows
        if row.get("not_measured") or (not row.get("missing") and (row.get("non_2xx") or row.get("failures")))
    ]
    for row in broken:
        answer = row.get("statuses") or f"{row['probe_status']} {row.get('probe_detail', '')}"
        print(f"error: {row['target']} answered {answer} {row.get('failures', '')}", file=sys.stderr)
    return 1 if broken else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="about 3 s per target (CI)")
    parser.add_argument("--seconds", type=float, default=None, help="measured seconds per target")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections")
    parser.add_argument(
        "--booking-connections", type=int, default=32, help="connections for the slots API and booking POST"
    )
    parser.add_argument("--screens", type=int, default=20, help="waiting-room screens for commit-to-screen")
    parser.add_argument(
        "--screen-rounds", type=int, default=None, help="calls timed (default 20, short; 100)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    try:
        import uvloop
    except ImportError:
        sys.exit(asyncio.run(main(arguments)))
    sys.exit(uvloop.run(main(arguments)))
