"""On SQLite, requests that write wait their turn in this process instead of in SQLite's busy handler.

SQLite lets one writer in at a time. A second ``BEGIN IMMEDIATE`` waits in the busy handler, which
sleeps and polls with growing pauses: under load the waiting writers wake late and out of order, and
the slowest request waits seconds. An asyncio lock around each request whose handler takes the
``db_write`` session queues them in arrival order instead, and the connection is free again the moment
the previous transaction commits. Several processes on one SQLite file still meet in the busy
handler; PostgreSQL needs none of this.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send

WRITE_SESSION = "db_write"


def _writes(handler: Any, cache: dict[int, bool]) -> bool:
    key = id(handler)
    if key not in cache:
        names = getattr(getattr(handler, "parsed_fn_signature", None), "parameters", {})
        cache[key] = WRITE_SESSION in names
    return cache[key]


def sqlite_write_queue(app: ASGIApp) -> ASGIApp:
    """Litestar middleware (add it only on SQLite)."""
    lock = asyncio.Lock()
    writes: dict[int, bool] = {}

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if scope["type"] != "http" or handler is None or not _writes(handler, writes):
            await app(scope, receive, send)
            return
        async with lock:
            await app(scope, receive, send)

    return middleware
