"""A small HTTP/1.1 load generator on raw asyncio streams: keep-alive connections that each send one
request after another for a fixed time. Far less client overhead per request than an HTTP library,
so on its own core it outruns a one-worker server. Loopback only."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

MAX_REQUESTS = 2_000_000  # a hard stop besides the duration


@dataclass
class Measurement:
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    client_cpu: float = 0.0  # share of one core the generator used; near 1.0 means it was the limit

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def request_bytes(host: str, port: int, path: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kontor-bench\r\n"
        "Accept: text/html,application/json;q=0.9\r\nAccept-Language: sv\r\nAccept-Encoding: gzip\r\n\r\n"
    ).encode()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; return its status and whether the server keeps the connection open."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _sep, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip().lower()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    keep_alive = headers.get("connection") != "close"
    return status, keep_alive


async def _one_connection(host: str, port: int, payload: bytes, until: float, result: Measurement) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    clock = time.perf_counter
    try:
        while clock() < until and result.requests < MAX_REQUESTS:
            started = clock()
            writer.write(payload)
            status, keep_alive = await read_response(reader)
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


async def measure(host: str, port: int, path: str, *, connections: int, seconds: float) -> Measurement:
    """Load ``path`` with ``connections`` keep-alive connections for ``seconds``."""
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError("the benchmark only loads servers on this machine's loopback")
    payload = request_bytes(host, port, path)
    result = Measurement()
    cpu_started, started = time.process_time(), time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(_one_connection(host, port, payload, until, result) for _ in range(connections)))
    result.seconds = time.perf_counter() - started
    result.client_cpu = (time.process_time() - cpu_started) / result.seconds
    return result


async def probe(host: str, port: int, path: str) -> int:
    """The status of one request, to tell a missing page from a slow one."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request_bytes(host, port, path))
        status, _keep_alive = await read_response(reader)
        return status
    finally:
        writer.close()
