"""LISTEN/NOTIFY across instances: every instance hears every commit, and a listener that loses its
connection, loudly or silently, comes back and tells its subscribers to re-read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.live.conftest import SilentRelay, assert_quiet, next_event

from kontor.live.bus import CHANNEL, RESYNC, LiveEvent, announce
from kontor.live.postgres import APPLICATION_NAME, PostgresBus, asyncpg_connect_args
from kontor.settings import Settings

WriteSessions = async_sessionmaker[AsyncSession]
on_postgres = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


@pytest.fixture
async def instances(settings: Settings) -> AsyncIterator[tuple[PostgresBus, PostgresBus]]:
    """The buses of two app instances on one database."""
    first, second = PostgresBus(settings.database_url), PostgresBus(settings.database_url)
    await first.start()
    await second.start()
    yield first, second
    await first.stop()
    await second.stop()


@on_postgres
async def test_a_commit_reaches_every_instance(
    instances: tuple[PostgresBus, PostgresBus], write_session: WriteSessions
) -> None:
    first, second = instances
    assert first.listener_pid != second.listener_pid
    async with first.subscribe(3) as here, second.subscribe(3) as there:
        async with write_session() as db, db.begin():
            await announce(db, 3, "called", {"code": "A004", "counter": 2})
        for events in (here, there):
            assert await next_event(events) == LiveEvent(3, "called", {"code": "A004", "counter": 2})


@on_postgres
async def test_publish_reaches_every_instance_even_from_one_that_does_not_listen(
    instances: tuple[PostgresBus, PostgresBus], settings: Settings
) -> None:
    first, second = instances
    idle = PostgresBus(settings.database_url)  # never started: sends over a connection of its own
    async with first.subscribe(1) as here, second.subscribe(1) as there:
        await first.publish(LiveEvent(1, "alarm", {"counter": 1}))
        await idle.publish(LiveEvent(1, "ticket"))
        for events in (here, there):
            assert await next_event(events) == LiveEvent(1, "alarm", {"counter": 1})
            assert await next_event(events) == LiveEvent(1, "ticket")


@on_postgres
async def test_after_its_connection_is_killed_the_bus_comes_back_and_asks_for_a_resync(
    settings: Settings, write_session: WriteSessions
) -> None:
    bus = PostgresBus(settings.database_url, first_backoff=0.05)
    await bus.start()
    try:
        async with bus.subscribe(1) as kista, bus.subscribe(2) as bromma:
            killed = bus.listener_pid
            async with write_session() as db:
                assert await db.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": killed})
            assert await next_event(kista, within=5) == LiveEvent(1, RESYNC)
            assert await next_event(bromma) == LiveEvent(2, RESYNC)
            assert bus.listening and bus.listener_pid != killed
            async with write_session() as db, db.begin():
                await announce(db, 1, "ticket")
            assert await next_event(kista) == LiveEvent(1, "ticket")
    finally:
        await bus.stop()


@on_postgres
async def test_a_listener_that_goes_silent_is_replaced(
    settings: Settings, write_session: WriteSessions
) -> None:
    url = make_url(settings.database_url)
    async with SilentRelay(url.host or "127.0.0.1", url.port or 5432) as relay:
        relayed = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
        bus = PostgresBus(relayed, ping_interval=0.2, timeout=0.5, first_backoff=0.05)
        await bus.start()
        try:
            async with bus.subscribe(1) as events:
                silenced = bus.listener_pid
                relay.go_silent()
                # No FATAL message, no closed socket: only the unanswered ping gives it away.
                assert await next_event(events, within=5) == LiveEvent(1, RESYNC)
                assert bus.listener_pid != silenced
                async with write_session() as db, db.begin():
                    await announce(db, 1, "ticket")
                assert await next_event(events) == LiveEvent(1, "ticket")
        finally:
            await bus.stop()


@on_postgres
async def test_the_listener_shows_in_pg_stat_activity(
    settings: Settings, write_session: WriteSessions
) -> None:
    bus = PostgresBus(settings.database_url, ping_interval=0.05)
    await bus.start()
    try:
        await asyncio.sleep(0.3)  # a few pings
        async with write_session() as db:
            rows = (
                await db.execute(
                    text(
                        "SELECT pid, query FROM pg_stat_activity "
                        "WHERE application_name = :name AND datname = current_database()"
                    ),
                    {"name": APPLICATION_NAME},
                )
            ).all()
        assert [(pid, query.startswith("LISTEN")) for pid, query in rows] == [(bus.listener_pid, True)]
    finally:
        await bus.stop()


@on_postgres
async def test_strangers_on_the_channel_are_ignored(live: PostgresBus, write_session: WriteSessions) -> None:
    async with live.subscribe(1) as events:
        async with write_session() as db, db.begin():
            await db.execute(text("SELECT pg_notify(:c, 'hello'), pg_notify(:c, '[1]')"), {"c": CHANNEL})
            await announce(db, 1, "ticket")
        assert await next_event(events) == LiveEvent(1, "ticket")
        await assert_quiet(events, wait=0.2)
    assert live.listening


@on_postgres
async def test_stop_ends_subscriptions_and_closes_the_listener(settings: Settings) -> None:
    bus = PostgresBus(settings.database_url)
    await bus.start()
    async with bus.subscribe(1) as events:
        waiting = asyncio.create_task(anext(events))
        await asyncio.sleep(0)
        await bus.stop()
        with pytest.raises(StopAsyncIteration):
            await waiting
    assert not bus.listening and bus.listener_pid is None


async def test_a_database_that_does_not_answer_stops_nothing() -> None:
    # Port 1 refuses connections: start gives up waiting, publish drops the event, stop still works.
    bus = PostgresBus("postgresql+asyncpg://kontor@127.0.0.1:1/kontor", timeout=0.3, first_backoff=0.05)
    await bus.start()
    assert not bus.listening
    async with bus.subscribe(1) as events:
        await bus.publish(LiveEvent(1, "alarm"))
        await bus.stop()
        assert [event async for event in events] == []


def test_a_channel_must_be_a_plain_name() -> None:
    with pytest.raises(ValueError, match="not a channel name"):
        PostgresBus("postgresql+asyncpg://k@h/d", channel='x"; DROP TABLE offices; --')


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+asyncpg://kontor:s%40cret@db.example:5433/city",
            {"host": "db.example", "port": 5433, "user": "kontor", "password": "s@cret", "database": "city"},
        ),
        (
            "postgresql+asyncpg://postgres@127.0.0.1/kontor",
            {"host": "127.0.0.1", "user": "postgres", "database": "kontor"},
        ),
        (
            "postgresql+asyncpg://k@h/d?ssl=require&prepared_statement_cache_size=0",
            {"host": "h", "user": "k", "database": "d", "ssl": "require"},
        ),
        (
            "postgresql+asyncpg://k@h/d?sslmode=verify-full",
            {"host": "h", "user": "k", "database": "d", "ssl": "verify-full"},
        ),
    ],
)
def test_the_listener_connects_where_the_engine_does(url: str, expected: dict[str, object]) -> None:
    assert asyncpg_connect_args(url) == expected
