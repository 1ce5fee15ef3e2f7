"""Announcing inside a transaction: subscribers hear of a change only once it is committed, on SQLite
(through the process's bus) and on PostgreSQL (through NOTIFY)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.live.conftest import assert_quiet, next_event

from kontor.app import create_app
from kontor.live.bus import LiveBus, LiveEvent, announce, live_bus
from kontor.settings import Settings

WriteSessions = async_sessionmaker[AsyncSession]


async def test_an_announced_change_arrives_after_the_commit_and_not_before(
    live: LiveBus, write_session: WriteSessions
) -> None:
    async with live.subscribe(1) as events, write_session() as db:
        async with db.begin():
            await announce(db, 1, "called", {"code": "A001", "counter": 3})
            await db.execute(text("SELECT 1"))
            await assert_quiet(events)
        assert await next_event(events) == LiveEvent(1, "called", {"code": "A001", "counter": 3})


async def test_a_rolled_back_change_is_never_announced(live: LiveBus, write_session: WriteSessions) -> None:
    async with live.subscribe(1) as events:
        async with write_session() as db:
            await announce(db, 1, "ticket", {"n": 1})
            await db.rollback()
        async with write_session() as db:
            await announce(db, 1, "ticket", {"n": 2})
            # Closed without a commit: as good as a rollback.
        async with write_session() as db, db.begin():
            await announce(db, 1, "ticket", {"n": 3})
        assert await next_event(events) == LiveEvent(1, "ticket", {"n": 3})
        await assert_quiet(events)


async def test_a_savepoint_that_rolls_back_takes_only_its_own_events(
    live: LiveBus, write_session: WriteSessions
) -> None:
    async with live.subscribe(1) as events:
        async with write_session() as db, db.begin():
            await announce(db, 1, "ticket", {"n": 1})
            with pytest.raises(LookupError):
                async with db.begin_nested():
                    await announce(db, 1, "ticket", {"n": 2})
                    raise LookupError
            async with db.begin_nested():
                await announce(db, 1, "ticket", {"n": 3})
            await assert_quiet(events, wait=0.2)  # a released savepoint is not yet a commit
        assert await next_event(events) == LiveEvent(1, "ticket", {"n": 1})
        assert await next_event(events) == LiveEvent(1, "ticket", {"n": 3})
        await assert_quiet(events)


async def test_events_keep_their_office_and_order(live: LiveBus, write_session: WriteSessions) -> None:
    async with live.subscribe(1) as kista, live.subscribe(2) as bromma:
        async with write_session() as db, db.begin():
            await announce(db, 2, "ticket")
            await announce(db, 1, "ticket")
            await announce(db, 2, "called", {"code": "B007", "counter": 1})
        assert await next_event(kista) == LiveEvent(1, "ticket")
        assert await next_event(bromma) == LiveEvent(2, "ticket")
        assert await next_event(bromma) == LiveEvent(2, "called", {"code": "B007", "counter": 1})
        await assert_quiet(kista, wait=0.1)


async def test_without_a_bus_announcing_changes_nothing(write_session: WriteSessions, backend: str) -> None:
    # The CLI and service tests have no bus; the transaction goes through all the same.
    async with write_session() as db, db.begin():
        await announce(db, 1, "ticket")
        assert await db.scalar(text("SELECT 1")) == 1


async def test_an_oversized_event_is_a_mistake_of_the_caller(write_session: WriteSessions) -> None:
    async with write_session() as db, db.begin():
        with pytest.raises(ValueError, match="larger than"):
            await announce(db, 1, "ticket", {"padding": "x" * 5000})


async def test_the_app_delivers_commits_of_its_sessions_to_its_bus(settings: Settings) -> None:
    app = create_app(settings)
    bus = live_bus(app.state)
    await bus.start()
    try:
        async with bus.subscribe(5) as events:
            for maker in ("session_maker", "write_session_maker"):
                async with app.state[maker]() as db, db.begin():
                    await announce(db, 5, "ticket", {"via": maker})
                assert await next_event(events) == LiveEvent(5, "ticket", {"via": maker})
    finally:
        await bus.stop()
        await app.state["session_maker"].kw["bind"].dispose()
