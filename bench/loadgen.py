"""A small HTTP/1.1 load generator on raw asyncio streams: keep-alive connections that each send one
request after another for a fixed time. Far less client overhead per request than an HTTP library,
so on its own core it outruns a one-worker server. Loopback only.

GET targets send the same bytes every time. A POST target passes ``body``, a callable that returns
the next request's JSON body, or None when it has nothing left to send (e.g. no free seat left to
book); the connections then stop and the measurement says so (``exhausted``)."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

MAX_REQUESTS = 2_000_000  # a hard stop besides the duration
GRACE_SECONDS = 10.0  # how long answers to requests sent before the end are waited for
FETCH_TIMEOUT = 30.0
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

Body = Callable[[], bytes | None]
Payloads = Callable[[], bytes | None]  # whole requests, see request_bytes


@dataclass
class Measurement:
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    client_cpu: float = 0.0  # share of one core the generator used; near 1.0 means it was the limit
    exhausted: bool = False  # the body source ran dry before the time was up

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def request_bytes(
    host: str,
    port: int,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    if body is None:
        return (
            f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kontor-bench\r\n"
            "Accept: text/html,application/json;q=0.9\r\nAccept-Language: sv\r\nAccept-Encoding: gzip\r\n"
            f"{extra}\r\n"
        ).encode()
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kontor-bench\r\n"
        "Accept: application/json\r\nAccept-Language: sv\r\nAccept-Encoding: gzip\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader, *, decompress: bool = False) -> tuple[int, bool, bytes]:
    """Read one response; return its status, whether the server keeps the connection open, and the
    body (gzip stays compressed unless ``decompress``: the load loop does not pay for it)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _sep, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip().lower()
    body = b""
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunks.append((await reader.readexactly(size + 2))[:-2])
            if size == 0:
                break
        body = b"".join(chunks)
    if decompress and headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    keep_alive = headers.get("connection") != "close"
    return status, keep_alive, body


def _payloads(host: str, port: int, path: str, method: str, body: Body | None) -> Callable[[], bytes | None]:
    if body is None:
        fixed = request_bytes(host, port, path, method)
        return lambda: fixed

    def next_payload() -> bytes | None:
        content = body()
        return None if content is None else request_bytes(host, port, path, method, content)

    return next_payload


async def _one_connection(
    host: str,
    port: int,
    next_payload: Callable[[], bytes | None],
    until: float,
    limit: int,
    result: Measurement,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    clock = time.perf_counter
    try:
        while clock() < until and result.requests < limit:
            payload = next_payload()
            if payload is None:
                result.exhausted = True
                break
            started = clock()
            writer.write(payload)
            status, keep_alive, _body = await read_response(reader)
            result.latencies.append(clock() - started)
            result.requests += 1
            result.statuses[status] += 1
            if not keep_alive:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    except (OSError, asyncio.IncompleteReadError, ValueError) as error:
        result.failures.append(f"{type(error).__name__}: {error}")
    finally:
        writer.close()


def _require_loopback(host: str) -> None:
    if host not in LOOPBACK:
        raise ValueError("the benchmark only loads servers on this machine's loopback")


async def measure(
    host: str,
    port: int,
    path: str,
    *,
    connections: int,
    seconds: float,
    method: str = "GET",
    body: Body | None = None,
    max_requests: int = MAX_REQUESTS,
    payloads: Payloads | None = None,
) -> Measurement:
    """Load ``path`` with ``connections`` keep-alive connections for ``seconds``, sending no new request
    once ``max_requests`` have been answered; ``body`` gives each request's body (module docstring).
    ``payloads``, when given, makes every whole request instead (path, headers and body may change),
    and ends the run like ``body`` does when it returns None."""
    _require_loopback(host)
    next_payload = payloads or _payloads(host, port, path, method, body)
    limit = min(max_requests, MAX_REQUESTS)
    result = Measurement()
    cpu_started, started = time.process_time(), time.perf_counter()
    until = started + seconds
    tasks = [
        asyncio.ensure_future(_one_connection(host, port, next_payload, until, limit, result))
        for _ in range(connections)
    ]
    try:
        _done, late = await asyncio.wait(tasks, timeout=seconds + GRACE_SECONDS)
    except asyncio.CancelledError:
        # A target's time limit ran out: no connection may go on loading the server after it.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    for task in late:
        task.cancel()
    if late:
        await asyncio.wait(late)
        result.failures.append(f"{len(late)} connections had no answer {GRACE_SECONDS:g} s after the end")
    result.seconds = time.perf_counter() - started
    result.client_cpu = (time.process_time() - cpu_started) / result.seconds
    return result


async def within(limit: float, work: Awaitable[dict], row: dict) -> dict:
    """``work``'s result row, or ``row`` marked as not measured when it takes longer than ``limit``
    seconds: a target that hangs costs its limit, not the run."""
    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(work, limit)
    except TimeoutError:
        detail = f"stopped at the time limit of {limit:g} s"
        print(f"  {row.get('target')}: not measured, {detail}", flush=True)
        result = row | {"probe_status": 0, "not_measured": True, "probe_detail": detail}
    # All of it: probes and filled lines besides the warm-up and the measurement.
    result["elapsed_seconds"] = round(time.perf_counter() - started, 1)
    return result


async def fetch(
    host: str,
    port: int,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, bytes]:
    """One request: its status and its (decompressed) body."""
    _require_loopback(host)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request_bytes(host, port, path, method, body, headers))
        status, _keep_alive, content = await asyncio.wait_for(
            read_response(reader, decompress=True), FETCH_TIMEOUT
        )
        return status, content
    finally:
        writer.close()


async def probe(host: str, port: int, path: str, method: str = "GET", body: bytes | None = None) -> int:
    """The status of one request, to tell a missing page from a slow one."""
    status, _content = await fetch(host, port, path, method, body)
    return status
