"""The bus of several app instances on one PostgreSQL: LISTEN/NOTIFY on one connection per instance.

Litestar's own PostgreSQL channel backends have lost events and died after one error, so this one
is small and stubborn: a supervisor task keeps a dedicated asyncpg connection listening, notices when
it dies (the driver's termination callback, and a repeated LISTEN every few seconds for a connection
that died silently), reconnects with growing pauses for as long as the bus runs, and then tells
every local subscriber to re-read, because events sent meanwhile never reached this instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from kontor.live.events import CHANNEL, LiveEvent, decode_event, encode_event
from kontor.live.local import LocalSubscribers

__all__ = ["APPLICATION_NAME", "PostgresBus", "asyncpg_connect_args"]

log = logging.getLogger(__name__)

# The bus's connections show up under this name in pg_stat_activity (operations, tests).
APPLICATION_NAME = "kontor-live"
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def asyncpg_connect_args(database_url: str) -> dict[str, Any]:
    """Keyword arguments for ``asyncpg.connect`` from SQLAlchemy's ``postgresql+asyncpg://`` URL.

    Only the address, credentials and TLS options: SQLAlchemy's own query options (pool, cache
    sizes) would reach PostgreSQL as unknown server settings.
    """
    url = make_url(database_url)
    args: dict[str, Any] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "database": url.database,
    }
    ssl = url.query.get("ssl") or url.query.get("sslmode")
    if ssl:
        args["ssl"] = ssl if isinstance(ssl, str) else ssl[0]
    return {key: value for key, value in args.items() if value is not None}


class PostgresBus:
    """A :class:`kontor.live.bus.LiveBus` over PostgreSQL LISTEN/NOTIFY (see the module's text)."""

    def __init__(
        self,
        database_url: str,
        *,
        channel: str = CHANNEL,
        ping_interval: float = 10.0,
        first_backoff: float = 0.1,
        max_backoff: float = 5.0,
        timeout: float = 5.0,
    ) -> None:
        if not _IDENTIFIER.fullmatch(channel):
            raise ValueError(f"not a channel name: {channel!r}")
        self._connect_args = {
            **asyncpg_connect_args(database_url),
            "server_settings": {"application_name": APPLICATION_NAME},
        }
        self._channel = channel
        self._ping_interval = ping_interval
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._timeout = timeout
        self._local = LocalSubscribers()
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        # Made in start(): asyncio primitives belong to the loop that runs the app.
        self._lock: asyncio.Lock | None = None
        self._listening: asyncio.Event | None = None

    # -- the LiveBus interface ---------------------------------------------------------------

    async def start(self) -> None:
        """Start listening; waits briefly for the first LISTEN so no early event is missed. If the
        database does not answer yet, the app starts anyway and the bus keeps trying."""
        if self._task is not None:
            return
        self._local.open()
        self._lock = asyncio.Lock()
        self._listening = asyncio.Event()
        self._task = asyncio.create_task(self._supervise(), name="kontor-live-listener")
        try:
            await asyncio.wait_for(self._listening.wait(), self._timeout)
        except TimeoutError:
            log.warning("live updates: not listening yet, still trying")

    async def stop(self) -> None:
        """Stop listening and end every open subscription."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._listening is not None:
            self._listening.clear()
        await self._close_connection()
        self._local.close()

    def subscribe(self, office_id: int) -> AbstractAsyncContextManager[AsyncIterator[LiveEvent]]:
        """The office's events from now on, from every instance, until the bus stops."""
        return self._local.subscribe(office_id)

    async def publish(self, event: LiveEvent) -> None:
        """NOTIFY every instance (this one included) at once. Failures are logged, never raised."""
        try:
            payload = encode_event(event)
        except (TypeError, ValueError):
            log.exception("live event of kind %r for office %s not sent", event.kind, event.office_id)
            return
        if await self._notify_on_listener(payload):
            return
        # The listening connection is down or busy beyond reason: a connection of its own.
        try:
            conn = await asyncpg.connect(**self._connect_args, timeout=self._timeout)
            try:
                await asyncio.wait_for(self._notify(conn, payload), self._timeout)
            finally:
                await _close(conn)
        except Exception as exc:  # never into the caller: a lost live update is not worth a 500
            log.warning("live event for office %s dropped: %s", event.office_id, _describe(exc))

    # -- for this instance ------------------------------------------------------------------------

    def deliver(self, event: LiveEvent) -> None:
        """Hand ``event`` to this instance's subscribers only."""
        self._local.deliver(event)

    @property
    def listening(self) -> bool:
        """Whether the LISTEN connection is up right now."""
        return self._listening is not None and self._listening.is_set()

    @property
    def listener_pid(self) -> int | None:
        """The PostgreSQL backend process of the listening connection (operations, tests)."""
        conn = self._conn
        return conn.get_server_pid() if conn is not None and not conn.is_closed() else None

    def subscriber_count(self, office_id: int | None = None) -> int:
        """How many subscriptions are open on this instance (of one office, or of all)."""
        return self._local.subscriber_count(office_id)

    # -- the listening connection ---------------------------------------------------------

    async def _supervise(self) -> None:
        assert self._listening is not None
        delay = self._first_backoff
        connected_before = False
        while True:
            try:
                conn = await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure: wait and try again, for as long as the bus runs
                log.warning("live updates: cannot listen (%s); again in %.1f s", _describe(exc), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)
                continue
            self._conn = conn
            self._listening.set()
            if connected_before:
                log.info("live updates: listening again")
                self._local.resync_everyone()
            connected_before = True
            started = asyncio.get_running_loop().time()
            try:
                await self._watch(conn)
            except Exception as exc:  # whatever went wrong, the remedy is a new connection
                log.warning("live updates: watching the connection failed (%s)", _describe(exc))
            self._listening.clear()
            # Dead or mute: closing politely would only wait for an answer that will not come.
            self._conn = None
            conn.terminate()
            # A connection that lived a while earns a quick retry; one that keeps dying backs off.
            if asyncio.get_running_loop().time() - started > self._max_backoff * 2:
                delay = self._first_backoff
            log.warning("live updates: connection lost; reconnecting in %.1f s", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def _listen(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(**self._connect_args, timeout=self._timeout)
        try:
            await asyncio.wait_for(conn.add_listener(self._channel, self._on_notification), self._timeout)
        except BaseException:
            conn.terminate()
            raise
        return conn

    async def _watch(self, conn: asyncpg.Connection) -> None:
        """Return when ``conn`` is closed, reported dead by the driver, or stops answering."""
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        while not conn.is_closed():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self._ping_interval)
                return
            try:
                await asyncio.wait_for(self._ping(conn), self._timeout)
            except Exception as exc:
                log.warning("live updates: listening connection does not answer (%s)", _describe(exc))
                return

    async def _ping(self, conn: asyncpg.Connection) -> None:
        # LISTEN again rather than SELECT 1: a no-op that also renews the subscription, and it keeps
        # pg_stat_activity showing what the connection is for.
        assert self._lock is not None
        async with self._lock:
            await conn.execute(f'LISTEN "{self._channel}"')

    def _on_notification(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            event = decode_event(payload)
        except ValueError:
            # Someone else's NOTIFY on our channel: say how long, not what it said.
            log.warning("live updates: ignored a notification of %d characters", len(payload))
            return
        self._local.deliver(event)

    async def _notify_on_listener(self, payload: str) -> bool:
        conn, lock = self._conn, self._lock
        if conn is None or lock is None or conn.is_closed():
            return False
        try:
            async with asyncio.timeout(self._timeout), lock:
                await self._notify(conn, payload)
        except Exception as exc:
            log.warning("live updates: NOTIFY on the listening connection failed (%s)", _describe(exc))
            return False
        return True

    async def _notify(self, conn: asyncpg.Connection, payload: str) -> None:
        await conn.execute("SELECT pg_notify($1, $2)", self._channel, payload)

    async def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await _close(conn)


async def _close(conn: asyncpg.Connection) -> None:
    """Close politely when the server answers, at once when it does not."""
    if conn.is_closed():
        return
    try:
        await asyncio.wait_for(conn.close(), 1.0)
    except Exception:
        conn.terminate()


def _describe(exc: BaseException) -> str:
    # The type and the driver's message: connection errors name hosts and databases, never people.
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
