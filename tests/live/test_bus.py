"""The in-memory bus (one process, SQLite) and the events' NOTIFY form."""

from __future__ import annotations

import asyncio
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.live.conftest import assert_quiet, next_event

from kontor.live.bus import MemoryBus, create_bus, live_bus
from kontor.live.events import MAX_PAYLOAD, RESYNC, LiveEvent, decode_event, encode_event
from kontor.live.postgres import PostgresBus
from kontor.settings import Settings


async def test_subscribers_of_the_office_get_its_events_in_order() -> None:
    bus = MemoryBus()
    await bus.start()
    async with bus.subscribe(7) as screen, bus.subscribe(7) as desk:
        await bus.publish(LiveEvent(7, "ticket"))
        await bus.publish(LiveEvent(7, "called", {"code": "A001", "counter": 2}))
        for events in (screen, desk):
            assert await next_event(events) == LiveEvent(7, "ticket")
            assert await next_event(events) == LiveEvent(7, "called", {"code": "A001", "counter": 2})


async def test_offices_do_not_hear_each_other() -> None:
    bus = MemoryBus()
    async with bus.subscribe(1) as kista, bus.subscribe(2) as bromma:
        await bus.publish(LiveEvent(2, "ticket"))
        assert await next_event(bromma) == LiveEvent(2, "ticket")
        await assert_quiet(kista, wait=0.05)


async def test_events_before_subscribing_and_after_leaving_are_not_kept() -> None:
    bus = MemoryBus()
    await bus.publish(LiveEvent(1, "ticket"))
    async with bus.subscribe(1) as events:
        assert bus.subscriber_count(1) == 1
        await assert_quiet(events, wait=0.05)
    assert bus.subscriber_count() == 0
    await bus.publish(LiveEvent(1, "ticket"))  # nobody listens: nothing to do, nothing raised


async def test_stop_ends_every_subscription_and_start_opens_again() -> None:
    bus = MemoryBus()
    await bus.start()
    async with bus.subscribe(1) as first, bus.subscribe(2) as second:
        waiting = asyncio.create_task(anext(first))
        await asyncio.sleep(0)
        await bus.stop()
        with pytest.raises(StopAsyncIteration):
            await waiting
        assert [event async for event in second] == []
    async with bus.subscribe(1) as late:
        assert [event async for event in late] == []  # subscribing to a stopped bus ends at once
    await bus.start()
    async with bus.subscribe(1) as again:
        await bus.publish(LiveEvent(1, "ticket"))
        assert await next_event(again) == LiveEvent(1, "ticket")


async def test_a_subscriber_that_falls_behind_is_told_to_resync() -> None:
    bus = MemoryBus(inbox_size=3)
    async with bus.subscribe(1) as slow, bus.subscribe(1) as quick:
        for number in range(5):
            await bus.publish(LiveEvent(1, "ticket", {"n": number}))
            assert await next_event(quick) == LiveEvent(1, "ticket", {"n": number})
        # 0, 1, 2 filled the inbox; 3 found it full and became a resync; 4 queued behind it.
        assert await next_event(slow) == LiveEvent(1, RESYNC)
        assert await next_event(slow) == LiveEvent(1, "ticket", {"n": 4})
        await assert_quiet(slow, wait=0.05)


async def test_waiting_with_a_timeout_loses_no_event() -> None:
    bus = MemoryBus()
    async with bus.subscribe(1) as events:
        for _ in range(3):
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.01):
                    await anext(events)
        await bus.publish(LiveEvent(1, "ticket"))
        assert await next_event(events) == LiveEvent(1, "ticket")


async def test_events_from_another_thread_reach_the_subscribers_loop() -> None:
    bus = MemoryBus()
    async with bus.subscribe(1) as events:
        # A test that drives the app's sessions from its own thread and loop, say.
        worker = threading.Thread(target=asyncio.run, args=(bus.publish(LiveEvent(1, "ticket")),))
        worker.start()
        assert await next_event(events) == LiveEvent(1, "ticket")
        worker.join()
        stopper = threading.Thread(target=asyncio.run, args=(bus.stop(),))
        stopper.start()
        assert [event async for event in events] == []
        stopper.join()


def test_the_bus_follows_the_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sqlite = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    postgres = Settings(database_url="postgresql+asyncpg://kontor:secret@db.example:5433/kontor")
    assert isinstance(create_bus(sqlite), MemoryBus)
    assert isinstance(create_bus(postgres), PostgresBus)  # connects only when started


def test_the_app_state_must_hold_a_bus() -> None:
    bus = MemoryBus()
    assert live_bus({"live_bus": bus}) is bus
    with pytest.raises(RuntimeError, match="no live bus"):
        live_bus({})


# -- the NOTIFY payload ----------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(
    office_id=st.integers(1, 2**31 - 1),
    kind=st.text(min_size=1, max_size=12),
    data=st.dictionaries(st.text(max_size=8), _json, max_size=5),
)
def test_an_event_survives_its_notify_form(office_id: int, kind: str, data: dict) -> None:  # type: ignore[type-arg]
    event = LiveEvent(office_id, kind, data)
    payload = encode_event(event)
    assert len(payload.encode()) <= MAX_PAYLOAD
    assert decode_event(payload) == event


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "not json",
        "[1, 2]",
        '{"k": "ticket"}',
        '{"o": "7", "k": "ticket"}',
        '{"o": true, "k": "ticket"}',
        '{"o": 7, "k": ""}',
        '{"o": 7, "k": 3}',
        '{"o": 7, "k": "ticket", "d": [1]}',
    ],
)
def test_other_payloads_on_the_channel_are_not_events(payload: str) -> None:
    with pytest.raises(ValueError, match="not a live event"):
        decode_event(payload)


def test_a_missing_data_part_is_empty() -> None:
    assert decode_event('{"o": 7, "k": "alarm"}') == LiveEvent(7, "alarm", {})


def test_an_oversized_or_unserialisable_event_is_refused() -> None:
    with pytest.raises(ValueError, match="larger than"):
        encode_event(LiveEvent(1, "ticket", {"x": "a" * MAX_PAYLOAD}))
    with pytest.raises(TypeError):
        encode_event(LiveEvent(1, "ticket", {"when": object()}))
