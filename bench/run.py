"""Throughput of kontor's hot pages, measured against a hello-world Litestar app in the same run.

    python bench/run.py            # ~15 s per target
    python bench/run.py --short    # ~3 s per target (CI)

Each server is one uvicorn worker pinned to CPU 0; the load generator runs here, pinned to CPU 1.
Writes bench/results/latest.json and prints a table.
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
from servers import HOST, kontor_environment, prepare_demo_city, uvicorn_server

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
SERVER_CPU, CLIENT_CPU = 0, 1


@dataclass(frozen=True)
class Target:
    name: str
    path: str


def kontor_targets(office: str, today: date) -> list[Target]:
    two_weeks = f"from={today.isoformat()}&to={(today + timedelta(days=13)).isoformat()}"
    return [
        Target("office page", f"/offices/{office}"),
        Target("hours API, two weeks", f"/api/v1/offices/{office}/hours?{two_weeks}"),
        Target("office finder", "/"),
    ]


async def run_target(target: Target, port: int, *, connections: int, warmup: float, seconds: float) -> dict:
    status = await loadgen.probe(HOST, port, target.path)
    row: dict = {"target": target.name, "path": target.path, "probe_status": status}
    if status == 404:
        row["missing"] = True
        print(f"  {target.name}: missing (404)", flush=True)
        return row
    await loadgen.measure(HOST, port, target.path, connections=connections, seconds=warmup)
    result = await loadgen.measure(HOST, port, target.path, connections=connections, seconds=seconds)
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
    print(f"  {target.name}: {row['requests_per_second']:.0f} req/s", flush=True)
    return row


def pin_cpus() -> tuple[int | None, str]:
    available = sorted(os.sched_getaffinity(0))
    if {SERVER_CPU, CLIENT_CPU} <= set(available):
        os.sched_setaffinity(0, {CLIENT_CPU})
        return SERVER_CPU, f"server on CPU {SERVER_CPU}, load generator on CPU {CLIENT_CPU}"
    return None, f"not pinned (CPUs available: {available})"


def print_table(rows: list[dict]) -> None:
    header = f"{'target':<22} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs hello':>9} {'non-2xx':>8}  path"
    print(header)
    print("-" * len(header))
    for row in rows:
        if row.get("missing"):
            print(f"{row['target']:<22} {'missing (404)':>45}  {row['path']}")
            continue
        ratio = f"{row['ratio_to_hello'] * 100:.1f}%" if "ratio_to_hello" in row else "—"
        speed = f"{row['requests_per_second']:>9.0f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}"
        print(f"{row['target']:<22} {speed} {ratio:>9} {row['non_2xx']:>8}  {row['path']}")


async def main(args: argparse.Namespace) -> int:
    seconds = args.seconds or (3.0 if args.short else 15.0)
    warmup = 1.0 if args.short else 3.0
    server_cpu, pinning = pin_cpus()
    print(f"kontor benchmark: {seconds:g} s per target after {warmup:g} s warm-up, "
          f"{args.connections} connections, {pinning}", flush=True)  # fmt: skip
    rows: list[dict] = []
    measure = {"connections": args.connections, "warmup": warmup, "seconds": seconds}

    with uvicorn_server(["hello:app", "--app-dir", "bench"], cpu=server_cpu) as port:
        rows.append(await run_target(Target("hello world", "/"), port, **measure))
    hello_rps = rows[0].get("requests_per_second") or 0.0

    with tempfile.TemporaryDirectory(prefix="kontor-bench-") as folder:
        office = await prepare_demo_city(Path(folder))
        env = kontor_environment(Path(folder))
        with uvicorn_server(["--factory", "kontor.app:create_app"], env=env, cpu=server_cpu) as port:
            for target in kontor_targets(office, date.today()):
                row = await run_target(target, port, **measure)
                if hello_rps and "requests_per_second" in row:
                    row["ratio_to_hello"] = round(row["requests_per_second"] / hello_rps, 4)
                rows.append(row)

    print()
    print_table(rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "short" if args.short else "full",
        **measure,
        "pinning": pinning,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "results": rows,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {RESULTS}")
    saturated = [row["target"] for row in rows if row.get("client_cpu", 0) > 0.95]
    if saturated:
        names = ", ".join(saturated)
        print(f"note: the load generator used a whole core for {names}; the server may be faster than shown")
    broken = [row for row in rows if not row.get("missing") and (row.get("non_2xx") or row.get("failures"))]
    for row in broken:
        print(f"error: {row['target']} answered {row['statuses']} {row['failures']}", file=sys.stderr)
    return 1 if broken else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="about 3 s per target (CI)")
    parser.add_argument("--seconds", type=float, default=None, help="measured seconds per target")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    try:
        import uvloop
    except ImportError:
        sys.exit(asyncio.run(main(arguments)))
    sys.exit(uvloop.run(main(arguments)))
