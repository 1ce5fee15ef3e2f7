"""Throttling rules, on the database directly: windows, per-address limits, pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from kontor.accounts import throttle
from kontor.accounts.models import LoginAttempt

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _fail(db, settings, *, username="maja", address="10.0.0.1", at=NOW, times=1):
    for _ in range(times):
        await throttle.record_failure(db, username=username, address=address, settings=settings, now=at)


async def test_five_failures_refuse_until_the_oldest_leaves_the_window(write_session, settings):
    async with write_session() as db, db.begin():
        for minute in range(5):
            await _fail(db, settings, at=NOW + timedelta(minutes=minute))
        later = NOW + timedelta(minutes=5)
        refusal = await throttle.refusal(
            db, username="maja", address="10.9.9.9", settings=settings, now=later
        )
        assert refusal is not None
        assert refusal.retry_after == 600  # the first failure leaves the window at 09:15
        assert refusal.minutes == 10
        free_at = NOW + timedelta(seconds=settings.login_window_seconds, microseconds=1)
        assert (
            await throttle.refusal(db, username="maja", address="10.9.9.9", settings=settings, now=free_at)
            is None
        )


async def test_four_failures_still_allow_a_try(write_session, settings):
    async with write_session() as db, db.begin():
        await _fail(db, settings, times=4)
        assert (
            await throttle.refusal(db, username="maja", address="10.0.0.1", settings=settings, now=NOW)
            is None
        )


async def test_one_address_trying_many_usernames_is_refused(write_session, settings):
    async with write_session() as db, db.begin():
        for index in range(4 * settings.login_max_failures):
            await _fail(db, settings, username=f"user{index}")
        refusal = await throttle.refusal(db, username="fresh", address="10.0.0.1", settings=settings, now=NOW)
        assert refusal is not None
        assert (
            await throttle.refusal(db, username="fresh", address="10.0.0.2", settings=settings, now=NOW)
            is None
        )


async def test_old_attempts_are_pruned_and_success_clears(write_session, settings):
    async with write_session() as db, db.begin():
        await _fail(db, settings, times=3, at=NOW - timedelta(hours=1))
        await _fail(db, settings, username="other", times=2)
        assert await db.scalar(select(func.count()).select_from(LoginAttempt)) == 2
        await throttle.clear_failures(db, username="other")
        assert await db.scalar(select(func.count()).select_from(LoginAttempt)) == 0
