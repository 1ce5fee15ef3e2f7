"""The slots API's short-lived cache: answers expire with time, the minute, and any booking change."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kontor.audit.models import Channel
from kontor.booking.services import book
from kontor.booking.slot_cache import SlotCache

NOW = datetime(2026, 12, 14, 8, 0, 10, tzinfo=ZoneInfo("Europe/Stockholm"))
NINE = datetime(2026, 12, 15, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))


def test_an_answer_is_kept_within_its_minute_and_age(monkeypatch):
    cache = SlotCache(max_age=2.0)
    key = cache.key("kista", "eservice", now=NOW)
    assert key == cache.key("kista", "eservice", now=NOW.replace(second=59))
    assert key != cache.key("kista", "eservice", now=NOW.replace(minute=1))
    cache.put(key, ["answer"], cache.generation())
    assert cache.get(key) == ["answer"]
    clock = __import__("time").monotonic() + 2.5
    monkeypatch.setattr("kontor.booking.slot_cache.time.monotonic", lambda: clock)
    assert cache.get(key) is None


async def _book_then(write_session, *, commit: bool) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db:
        await db.begin()
        await book(
            db, office_slug="kista", service_code="eservice", start=NINE, name="Anna",
            email="anna@example.se", channel=Channel.WEB, actor="resident", now=NOW,
        )  # fmt: skip
        await (db.commit() if commit else db.rollback())


@pytest.mark.parametrize(("commit", "stale"), [(True, True), (False, False)])
async def test_only_a_committed_booking_makes_the_answers_stale(city, write_session, commit, stale):  # type: ignore[no-untyped-def]
    cache = SlotCache(max_age=60)
    key = cache.key("kista", "eservice", now=NOW)
    cache.put(key, ["before"], cache.generation())
    await _book_then(write_session, commit=commit)
    assert (cache.get(key) is None) is stale


async def test_requests_that_miss_together_compute_once():
    cache = SlotCache()
    key = cache.key("kista", "eservice", now=NOW)
    calls = []

    async def make():  # type: ignore[no-untyped-def]
        calls.append(1)
        await asyncio.sleep(0.05)
        return ["answer"]

    answers = await asyncio.gather(*(cache.get_or_make(key, make) for _ in range(20)))
    assert answers == [["answer"]] * 20 and len(calls) == 1


async def test_a_failed_computation_is_not_kept():
    cache = SlotCache()
    key = cache.key("kista", "eservice", now=NOW)

    async def fail():  # type: ignore[no-untyped-def]
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        await cache.get_or_make(key, fail)
    assert cache.get(key) is None
