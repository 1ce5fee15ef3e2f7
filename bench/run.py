"""Throughput of kontor's hot pages, measured against a hello-world Litestar app in the same run, on
SQLite and on PostgreSQL.

    python bench/run.py                      # ~15 s per target
    python bench/run.py --short              # ~3 s per target (CI)
    python bench/run.py --require-postgres   # fail instead of skipping the PostgreSQL half

The SQLite half is one uvicorn worker; the PostgreSQL half is two, on one database, behind a
round-robin balancer (balancer.py), as a city runs kontor. The servers are pinned to CPU 0; the load
generator (this process) and the balancer to CPU 1; PostgreSQL runs wherever the system puts it.
The hello-world baseline is one worker on CPU 0, and both halves' ratios are to it.

The PostgreSQL half runs on a database of its own, ``kontor_bench_<pid>``, created on the server of
KONTOR_BENCH_POSTGRES_URL (or else KONTOR_TEST_POSTGRES_URL) and dropped at the end; without either
it is skipped and the output says so.

Writes bench/results/latest.json and prints a table per half. The online-booking targets (slots
listing, booking POST) are checked against the issue's goals; a missed goal is reported, never a
failed run. The queue's targets (queue_bench.py): the waiting-room display page, ticket issue and
call-next through the API, and the commit-to-screen latency of a call to N waiting-room screens
(p50/p95 in ms, goal: within a second); on PostgreSQL the screens hang on both instances and each
call is timed on the screens of the instance that did not take it. The staff calendar feed
(feed_setup.py): a year of an office's visits as one iCalendar file, built in full and answered 304
to a client whose copy is current.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import loadgen
import queue_bench
from booking_pool import NOTICE_MARGIN, SeatPool
from contact_setup import ContactSetup, prepare_contact_center
from database import PostgresServer, bench_database, configured_server
from feed_setup import FeedSetup, prepare_feed
from queue_setup import QueueSetup, prepare_queue
from screen_latency import print_latency
from servers import (
    HOST,
    BookingSetup,
    balancer,
    kontor_environment,
    prepare_booking,
    prepare_demo_city,
    sqlite_url,
    uvicorn_server,
    uvicorn_servers,
)

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
SERVER_CPU, CLIENT_CPU = 0, 1
BOOKING_SEATS = 50  # seats per slot of the booked offering, so the pool outlasts a full run
INSTANCES = 2  # kontor instances of the PostgreSQL half
SQLITE, POSTGRES = "sqlite", f"postgres ({INSTANCES} instances)"
# Beyond its warm-up and measurement, what a target may take (probes, filling lines) before it is
# stopped and reported as not measured.
TARGET_SLACK = 60.0
KONTOR_APP = ["--factory", "kontor.app:create_app"]
FEED_CONNECTIONS = 4  # calendar clients polling a feed of a few MB, not a crowd of browsers
FEED_BUILDS = 3  # GETs that build the feed, timed one after another before it is loaded
FEED_LANGUAGES = ("en", "sv")


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
    expect_text: tuple[str, ...] = ()  # shown on the page, or it renders less than a real one
    headers: tuple[tuple[str, str], ...] = ()  # sent with every request (a bearer token, a cookie)
    expected: int | None = None  # the status every answer must have when not a 2xx (a 304)


async def contact_targets(port: int, contact: ContactSetup) -> list[Target]:
    """The contact center's search across every office: through the API with the agent's token, and
    the console page an agent signed in with a browser sees."""
    bearer = (("Authorization", f"Bearer {contact.token}"),)
    targets = [
        Target("agent search API", contact.path, headers=bearer, expect_items=True),
        # One agent alone: the latency of a search itself, without waiting behind the others.
        Target("agent search, 1 client", contact.path, connections=1, headers=bearer, expect_items=True),
    ]
    cookie = await agent_session(port)
    if cookie:
        targets.append(Target("agent console search", contact.console_path, headers=(("Cookie", cookie),)))
    else:
        print("  warning: agent console: could not sign in; not measured", file=sys.stderr)
    return targets


async def agent_session(port: int) -> str:
    """A signed-in session cookie of the demo's agent, as ``name=value``."""
    import re

    import httpx

    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", follow_redirects=False) as client:
        page = await client.get("/login")
        found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        if found is None:
            return ""
        form = {"username": "agent", "password": "demo-password", "_csrf_token": found.group(1)}
        answer = await client.post("/login", data=form)
        if answer.status_code not in (302, 303):
            return ""
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


async def feed_targets(port: int, feed: FeedSetup) -> tuple[list[Target], dict]:
    """The staff feed of a year of an office's visits: answered in full, and 304 to a client that
    sends the ETag of its copy; with what the feed holds and how long a build takes, timed one
    request at a time while the server is otherwise idle."""
    import statistics

    import httpx

    # As the load generator asks: gzip, Swedish.
    headers = {"Accept-Encoding": "gzip", "Accept-Language": "sv"}
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", headers=headers, timeout=120) as client:
        # kontor keeps a feed's latest body for its version and language: alternating the language
        # makes every one of these a build from the database up, as after a change of the feed.
        builds = []
        for n in range(FEED_BUILDS):
            started = time.perf_counter()
            await client.get(feed.path, params={"lang": FEED_LANGUAGES[n % len(FEED_LANGUAGES)]})
            builds.append(time.perf_counter() - started)
        await client.get(feed.path)  # what the targets ask for, built once
        started = time.perf_counter()
        answer = await client.get(feed.path)
        kept = time.perf_counter() - started
        etag = answer.headers.get("etag", "")
        started = time.perf_counter()
        fresh = await client.get(feed.path, headers={"If-None-Match": etag}) if etag else None
        checked = time.perf_counter() - started
    about = {
        "status": answer.status_code,
        "events": answer.content.count(b"BEGIN:VEVENT"),
        "visits_in_window": feed.events,
        "body_bytes": len(answer.content),
        "sent_bytes": answer.num_bytes_downloaded,
        "content_encoding": answer.headers.get("content-encoding"),
        "etag": etag,
        "build_ms": [round(seconds * 1000, 1) for seconds in builds],
        "build_median_ms": round(statistics.median(builds) * 1000, 1),
        "unchanged_ms": round(kept * 1000, 1),
        "not_modified_status": fresh.status_code if fresh else None,
        "not_modified_ms": round(checked * 1000, 1) if fresh else None,
    }
    revalidated = f", a 304 in {about['not_modified_ms']:.0f} ms" if fresh else ""
    print(
        f"  staff feed: {about['events']} events, {about['body_bytes'] / 1e6:.2f} MB "
        f"({about['sent_bytes'] / 1e6:.2f} MB sent, {about['content_encoding'] or 'not compressed'}); "
        f"a GET that builds it {about['build_median_ms']:.0f} ms (median of {FEED_BUILDS}), "
        f"one of the same version again {about['unchanged_ms']:.0f} ms{revalidated}",
        flush=True,
    )
    targets = [Target("staff feed, a year", feed.path, connections=FEED_CONNECTIONS)]
    if fresh is not None and fresh.status_code == 304:
        revalidate = (("If-None-Match", etag),)
        targets.append(
            Target(
                "staff feed, 304", feed.path, connections=FEED_CONNECTIONS, headers=revalidate, expected=304
            )
        )
    else:
        why = "no ETag, or no 304 to its If-None-Match"
        print(f"  warning: staff feed, 304: {why}; not measured", file=sys.stderr)
    return targets, about


def kontor_targets(office: str, today: date) -> list[Target]:
    return [
        Target("office page", f"/offices/{office}"),
        Target("hours API, two weeks", f"/api/v1/offices/{office}/hours?{_two_weeks(today)}"),
        # The office's opening hours as a calendar: 15 months of recurring events, built each time.
        Target("hours feed (.ics)", f"/offices/{office}/hours.ics"),
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
    if status != 200:
        return None
    if target.expect_text:
        page = content.decode("utf-8", "replace")
        if absent := [text for text in target.expect_text if text not in page]:
            return f"the page does not show {', '.join(absent)}: it renders less than in opening hours"
    if not target.expect_items:
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
    headers = dict(target.headers)
    status, content = await loadgen.fetch(HOST, port, target.path, target.method, body, headers)
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
    load: dict = {"connections": connections, "method": target.method, "body": target.body}
    if headers:
        request = loadgen.request_bytes(HOST, port, target.path, headers=headers)
        load["payloads"] = lambda: request
    await loadgen.measure(HOST, port, target.path, seconds=warmup, **load)
    result = await loadgen.measure(HOST, port, target.path, seconds=seconds, **load)
    ok = sum(
        count
        for code, count in result.statuses.items()
        if (code == target.expected if target.expected else 200 <= code < 300)
    )
    row.update(
        requests=result.requests,
        seconds=round(result.seconds, 3),
        requests_per_second=round(result.per_second, 1),
        p50_ms=round(result.percentile(0.50) * 1000, 2),
        p95_ms=round(result.percentile(0.95) * 1000, 2),
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


@dataclass(frozen=True)
class Placement:
    """Which CPU each part runs on (None: wherever the system puts it)."""

    server_cpu: int | None
    client_cpu: int | None

    @property
    def text(self) -> str:
        if self.server_cpu is None:
            return f"not pinned (CPUs available: {sorted(os.sched_getaffinity(0))})"
        return (
            f"kontor and hello on CPU {self.server_cpu}; load generator and balancer on CPU "
            f"{self.client_cpu}; PostgreSQL not pinned"
        )

    def as_json(self) -> dict:
        return {
            "servers_cpu": self.server_cpu,
            "load_generator_cpu": self.client_cpu,
            "balancer_cpu": self.client_cpu,
            "postgresql_cpu": None,
            "text": self.text,
        }


def pin_cpus() -> Placement:
    """Servers on CPU 0, this process (and the balancer it starts) on CPU 1, when both exist."""
    available = sorted(os.sched_getaffinity(0))
    if (os.cpu_count() or 1) >= 2 and {SERVER_CPU, CLIENT_CPU} <= set(available):
        os.sched_setaffinity(0, {CLIENT_CPU})
        return Placement(SERVER_CPU, CLIENT_CPU)
    return Placement(None, None)


def _verdict(goal: dict) -> str:
    return "" if goal["met"] is None else ("met" if goal["met"] else "not met")


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def print_table(rows: list[dict]) -> None:
    numbers = (
        f"{'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'vs hello':>9} {'non-2xx':>8}"
    )
    header = f"{'target':<22} {numbers}  {'goal':<15} {'met':<7}  path"
    print(header)
    print("-" * len(header))
    for row in rows:
        lead = f"{row['target']:<22} {row.get('connections', ''):>5}"
        goals = row.get("goals") or [{"goal": "", "met": None}]
        if row.get("missing") or row.get("not_measured"):
            why = "missing (404)" if row.get("missing") else f"not measured ({row['probe_status']})"
            print(f"{lead} {why:>53}  {'':<15} {'':<7}  {row['path']}")
            continue
        ratio = f"{row['ratio_to_hello']:.3f}×" if "ratio_to_hello" in row else "—"
        speed = (
            f"{row['requests_per_second']:>9.0f} {row['p50_ms']:>8.2f} {_ms(row.get('p95_ms')):>8} "
            f"{row['p99_ms']:>8.2f}"
        )
        first = f"{goals[0]['goal']:<15} {_verdict(goals[0]):<7}"
        print(f"{lead} {speed} {ratio:>9} {row['non_2xx']:>8}  {first}  {row['path']}")
        for goal in goals[1:]:
            print(f"{'':<{23 + len(numbers)}}  {goal['goal']:<15} {_verdict(goal):<7}")


@dataclass
class Half:
    """One database's part of the run: its rows, or why it did not run."""

    database: str
    title: str
    run: bool = True
    reason: str = ""  # why it did not run (not an error)
    error: str = ""  # why it failed
    info: dict = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"run": self.run, "reason": self.reason or None, "error": self.error or None, **self.info}

    def print(self) -> None:
        print(f"\n== {self.title}")
        if not self.run:
            print(self.reason)
            return
        if self.error:
            print(f"failed: {self.error}")
        throughput = [row for row in self.rows if row.get("kind") != "latency"]
        latency = [row for row in self.rows if row.get("kind") == "latency"]
        if throughput:
            print_table(throughput)
        if latency:
            print()
            print_latency(latency)


@dataclass(frozen=True)
class Measure:
    """How each target is loaded."""

    connections: int
    booking_connections: int
    warmup: float
    seconds: float
    screens: int
    rounds: int

    @property
    def limit(self) -> float:
        return self.warmup + self.seconds + TARGET_SLACK


Prepared = tuple[str, BookingSetup, QueueSetup, ContactSetup, FeedSetup]


async def prepare(database_url: str, today: date) -> Prepared:
    """Migrate, seed the demo city and make it ready for the targets: the same on both databases."""
    started = time.monotonic()
    office = await prepare_demo_city(database_url)
    setup = await prepare_booking(database_url, BOOKING_SEATS)
    contact = await prepare_contact_center(database_url, today, skip=(setup.office, setup.service))
    feed = await prepare_feed(database_url, today)
    queue = await prepare_queue(database_url, today)
    print(
        f"  demo city migrated and seeded in {time.monotonic() - started:.1f} s "
        f"({contact.bookings} bookings at {contact.offices} offices; {feed.inserted} more at {feed.office} "
        f"for its staff feed, which shows {feed.events})",
        flush=True,
    )
    return office, setup, queue, contact, feed


async def measure_kontor(
    database_url: str,
    port: int,
    prepared: Prepared,
    today: date,
    how: Measure,
    hello_rps: float,
    *,
    rows: list[dict],
    screen_ports: list[int],
    call_ports: list[int],
) -> None:
    """Every kontor target, loading ``port``, each row added to ``rows`` as it is measured (a failure
    keeps the ones before it); the screens of the latency target hang on ``screen_ports`` and its
    calls go through ``call_ports``."""
    office, setup, queue, contact, feed = prepared
    measure = {"connections": how.connections, "warmup": how.warmup, "seconds": how.seconds}

    async def run(target: Target) -> dict:
        base = {"target": target.name, "method": target.method, "path": target.path}
        connections = target.connections or how.connections
        work = run_target(target, port, **measure, hello_rps=hello_rps)
        row = await loadgen.within(how.limit, work, base | {"connections": connections})
        rows.append(row)
        return row

    for target in kontor_targets(office, today):
        await run(target)
    board = queue.offices[0]
    called = await queue_bench.prepare_board(port, database_url, board)
    await run(Target("waiting-room display", f"/offices/{board.slug}/display", expect_text=tuple(called)))
    await run(slots_target(setup, today, how.booking_connections))
    pool = await seat_pool(port, setup, today)
    print(f"  booking POST: {pool.size} free seats in {pool.slots} slots to book", flush=True)
    if pool.size:
        row = await run(booking_target(pool, how.booking_connections))
        row["seat_pool"] = pool.summary()
    else:
        print("  warning: booking POST: no free seat to book; not measured", file=sys.stderr)
    for target in await contact_targets(port, contact):
        await run(target)
    targets, about = await feed_targets(port, feed)
    for target in targets:
        row = await run(target)
        row["feed"] = about
    queue_rows = await queue_bench.queue_targets(
        port,
        database_url,
        queue,
        **measure,
        hello_rps=hello_rps,
        screens=how.screens,
        rounds=how.rounds,
        limit=how.limit,
        screen_ports=screen_ports,
        call_ports=call_ports,
    )
    rows.extend(queue_rows)


async def sqlite_half(half: Half, how: Measure, hello_rps: float, placement: Placement) -> None:
    today = date.today()
    with tempfile.TemporaryDirectory(prefix="kontor-bench-") as name:
        folder = Path(name)
        url = sqlite_url(folder)
        prepared = await prepare(url, today)
        env = kontor_environment(url, folder)
        half.info |= {"instances": 1}
        with uvicorn_server(KONTOR_APP, env=env, cpu=placement.server_cpu) as port:
            await measure_kontor(
                url,
                port,
                prepared,
                today,
                how,
                hello_rps,
                rows=half.rows,
                screen_ports=[port],
                call_ports=[port],
            )


async def postgres_half(
    half: Half, server: PostgresServer, how: Measure, hello_rps: float, placement: Placement
) -> None:
    today = date.today()
    half.info |= {"server": server.address, "from": server.variable, "instances": INSTANCES}
    async with bench_database(server) as database:
        half.info |= {"database": database.name, "server_version": database.server_version}
        print(
            f"PostgreSQL {database.server_version} at {server.address}: database {database.name}, "
            f"{INSTANCES} kontor instances behind a round-robin balancer",
            flush=True,
        )
        prepared = await prepare(database.url, today)
        with tempfile.TemporaryDirectory(prefix="kontor-bench-pg-") as name:
            folder = Path(name)
            stats = folder / "balancer.json"
            env = kontor_environment(database.url, folder)
            with uvicorn_servers(KONTOR_APP, INSTANCES, env=env, cpu=placement.server_cpu) as ports:
                half.info["instance_ports"] = ports
                with balancer(ports, stats=stats, cpu=placement.client_cpu) as port:
                    await measure_kontor(
                        database.url,
                        port,
                        prepared,
                        today,
                        how,
                        hello_rps,
                        rows=half.rows,
                        screen_ports=ports,
                        call_ports=ports,
                    )
            if stats.exists():
                half.info["balancer"] = json.loads(stats.read_text())


async def run_half(half: Half, work) -> None:  # type: ignore[no-untyped-def]
    """Run one half; a failure is recorded in it (and fails the run) instead of ending the run."""
    print(f"\n{half.title}", flush=True)
    started = time.monotonic()
    try:
        await work
    except Exception as error:  # the other half and the results file are still worth having
        half.error = f"{type(error).__name__}: {error}"
        print(f"error: {half.title}: {half.error}", file=sys.stderr, flush=True)
    half.info["wall_seconds"] = round(time.monotonic() - started, 1)
    print(f"  {half.database}: {half.info['wall_seconds']:g} s in all", flush=True)
    for row in half.rows:
        row["database"] = half.database


async def main(args: argparse.Namespace) -> int:
    started = time.monotonic()
    try:
        server = configured_server()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if server is None and args.require_postgres:
        print(
            "error: --require-postgres: KONTOR_BENCH_POSTGRES_URL is not set (nor KONTOR_TEST_POSTGRES_URL)",
            file=sys.stderr,
        )
        return 1
    seconds = args.seconds or (3.0 if args.short else 15.0)
    warmup = 1.0 if args.short else 3.0
    how = Measure(
        connections=args.connections,
        booking_connections=args.booking_connections,
        warmup=warmup,
        seconds=seconds,
        screens=args.screens,
        rounds=args.screen_rounds or (20 if args.short else 100),
    )
    placement = pin_cpus()
    mode = "short" if args.short else "full"
    print(f"kontor benchmark ({mode}): {seconds:g} s per target after {warmup:g} s warm-up, "
          f"{args.connections} connections ({args.booking_connections} for online booking), "
          f"{os.cpu_count()} CPUs", flush=True)  # fmt: skip
    print(f"placement: {placement.text}", flush=True)

    measure = {"connections": how.connections, "warmup": how.warmup, "seconds": how.seconds}
    with uvicorn_server(["hello:app", "--app-dir", "bench"], cpu=placement.server_cpu) as port:
        hello = await run_target(Target("hello world", "/"), port, **measure)
    hello["database"] = None
    hello_rps = hello.get("requests_per_second") or 0.0

    sqlite = Half(SQLITE, "SQLite, one kontor instance")
    await run_half(sqlite, sqlite_half(sqlite, how, hello_rps, placement))
    postgres = Half(POSTGRES, f"PostgreSQL, {INSTANCES} kontor instances behind a round-robin balancer")
    if server is None:
        postgres.run = False
        postgres.reason = (
            "PostgreSQL half not run: KONTOR_BENCH_POSTGRES_URL is not set (nor KONTOR_TEST_POSTGRES_URL)"
        )
        print(f"\n{postgres.reason}", flush=True)
    else:
        await run_half(postgres, postgres_half(postgres, server, how, hello_rps, placement))
    halves = [sqlite, postgres]

    print(f"\n== Baseline: hello world, one process ({placement.text.split(';')[0]})")
    print_table([hello])
    for half in halves:
        half.print()
    rows = [hello, *sqlite.rows, *postgres.rows]
    print()
    for row in rows:
        for note in (row.get("warning"), row.get("stopped_early")):
            if note:
                print(f"note: {row['target']} ({row['database'] or 'baseline'}): {note}")
    wall = round(time.monotonic() - started, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": mode,
        **measure,
        "booking_connections": how.booking_connections,
        "booking_seats_per_slot": BOOKING_SEATS,
        "screens": how.screens,
        "screen_rounds": how.rounds,
        "target_time_limit": how.limit,
        "cpus": os.cpu_count(),
        "placement": placement.as_json(),
        "pinning": placement.text,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "databases": {half.database: half.as_json() for half in halves},
        "wall_seconds": wall,
        "results": rows,
    }
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {RESULTS} after {wall:g} s")
    saturated = [f"{row['target']} ({row['database']})" for row in rows if row.get("client_cpu", 0) > 0.95]
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
        where = row["database"] or "baseline"
        print(
            f"error: {row['target']} ({where}) answered {answer} {row.get('failures', '')}", file=sys.stderr
        )
    failed = [half for half in halves if half.error]
    for half in failed:
        print(f"error: {half.title}: {half.error}", file=sys.stderr)
    return 1 if broken or failed else 0


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
    parser.add_argument(
        "--require-postgres",
        action="store_true",
        help="fail when KONTOR_BENCH_POSTGRES_URL (or KONTOR_TEST_POSTGRES_URL) is not set (CI)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    try:
        import uvloop
    except ImportError:
        sys.exit(asyncio.run(main(arguments)))
    sys.exit(uvloop.run(main(arguments)))
