"""A small round-robin TCP balancer on loopback, in front of the PostgreSQL half's kontor instances.

Each accepted client connection is paired with a new connection to the next backend in turn (the
one after it when that one refuses), and bytes are copied both ways until either side ends: then
both are closed. So a keep-alive connection, or a screen's event stream, stays on its backend for
its whole life, as behind a TCP proxy in production. No HTTP parsing, so it costs the measured
servers nothing but the copying, which runs on its own core.

    python bench/balancer.py --port 8100 --backend 127.0.0.1:8001 --backend 127.0.0.1:8002 [--stats FILE]

On SIGTERM or SIGINT it stops and writes the connections each backend was given to ``--stats``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections import Counter
from pathlib import Path

HOST = "127.0.0.1"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
CHUNK = 65536
CONNECT_TIMEOUT = 5.0

Backend = tuple[str, int]


class Balancer:
    def __init__(self, backends: list[Backend]) -> None:
        if not backends:
            raise ValueError("no backend to balance over")
        self.backends = backends
        self.given: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self._next = 0
        self._open: dict[asyncio.StreamWriter, asyncio.Event] = {}  # a client's writer: its handler ended

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """A connection to the next backend in turn; when it refuses, to the ones after it, each
        tried once (the turn is taken before connecting: clients connect side by side)."""
        first = self._next
        self._next = (first + 1) % len(self.backends)
        for step in range(len(self.backends)):
            host, port = self.backends[(first + step) % len(self.backends)]
            try:
                pair = await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT)
            except (OSError, TimeoutError):
                self.refused[f"{host}:{port}"] += 1
                continue
            self.given[f"{host}:{port}"] += 1
            return pair
        return None

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        ended = self._open[client_writer] = asyncio.Event()
        try:
            upstream = await self._connect()
            if upstream is None:
                return
            upstream_reader, upstream_writer = upstream
            try:
                pumps = [
                    asyncio.ensure_future(_copy(client_reader, upstream_writer)),
                    asyncio.ensure_future(_copy(upstream_reader, client_writer)),
                ]
                try:
                    await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for pump in pumps:
                        pump.cancel()
                    await asyncio.gather(*pumps, return_exceptions=True)
            finally:
                _close(upstream_writer)
        finally:
            _close(client_writer)
            del self._open[client_writer]
            ended.set()

    async def close_all(self) -> None:
        """Close every client connection; each handler then sees the end of its stream and closes
        its backend's side (handlers are not cancelled: asyncio would report that as an error)."""
        ends = list(self._open.values())
        for writer in list(self._open):
            _close(writer)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(end.wait() for end in ends)), CONNECT_TIMEOUT)

    def stats(self) -> dict:
        return {"connections": dict(self.given), "refused": dict(self.refused)}


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Until end of stream or an error on either side (the caller then closes both)."""
    with contextlib.suppress(OSError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, RuntimeError):
        writer.close()


def parse_backend(text: str) -> Backend:
    host, sep, port = text.rpartition(":")
    if not sep or host not in LOOPBACK or not port.isdigit():
        raise argparse.ArgumentTypeError(f"not a loopback HOST:PORT: {text!r}")
    return host, int(port)


async def serve(port: int, backends: list[Backend]) -> dict:
    """Balance until SIGTERM or SIGINT; the connections each backend was given."""
    balancer = Balancer(backends)
    server = await asyncio.start_server(balancer.handle, HOST, port, reuse_address=True, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()
        server.close()
        await balancer.close_all()
    return balancer.stats()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help=f"port to listen on ({HOST})")
    parser.add_argument(
        "--backend", type=parse_backend, action="append", required=True, help="HOST:PORT, repeated"
    )
    parser.add_argument("--stats", type=Path, default=None, help="where to write the counts on exit")
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        stats = asyncio.run(serve(args.port, args.backend))
    else:
        stats = uvloop.run(serve(args.port, args.backend))
    if args.stats is not None:
        args.stats.write_text(json.dumps(stats, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
