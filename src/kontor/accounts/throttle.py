"""Login throttling: failed attempts per username and per client address, kept in the database so
every app instance sees the same count."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import LoginAttempt
from kontor.db.base import utcnow
from kontor.settings import Settings

# One address may fail this many times the per-username limit: a shared office network or a proxy
# carries many honest users, but a password sprayer still runs into it.
ADDRESS_FACTOR = 4


@dataclass(frozen=True, slots=True)
class Refusal:
    """Login attempts are refused for ``retry_after`` more seconds."""

    retry_after: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


async def refusal(
    db: AsyncSession, *, username: str, address: str, settings: Settings, now: datetime | None = None
) -> Refusal | None:
    """Whether a new attempt must be refused, before any password is checked."""
    now = now or utcnow()
    window = timedelta(seconds=settings.login_window_seconds)
    limits = (
        (LoginAttempt.username == username[:80], settings.login_max_failures),
        (LoginAttempt.address == address[:64], settings.login_max_failures * ADDRESS_FACTOR),
    )
    waits = []
    for condition, limit in limits:
        # The limit-th newest failure in the window: once it leaves the window, one more attempt is allowed.
        blocking = await db.scalar(
            select(LoginAttempt.at)
            .where(condition, LoginAttempt.at > now - window)
            .order_by(LoginAttempt.at.desc())
            .offset(limit - 1)
            .limit(1)
        )
        if blocking is not None:
            waits.append(math.ceil((blocking + window - now).total_seconds()))
    if not waits:
        return None
    return Refusal(retry_after=max(1, *waits))


async def record_failure(
    db: AsyncSession, *, username: str, address: str, settings: Settings, now: datetime | None = None
) -> None:
    """Count a failed attempt, and drop attempts too old to matter any more."""
    now = now or utcnow()
    db.add(LoginAttempt(username=username[:80], address=address[:64], at=now))
    cutoff = now - timedelta(seconds=settings.login_window_seconds)
    await db.execute(delete(LoginAttempt).where(LoginAttempt.at < cutoff))
    await db.flush()


async def clear_failures(db: AsyncSession, *, username: str) -> None:
    """A successful login forgives the username's earlier mistakes (not the address's)."""
    await db.execute(delete(LoginAttempt).where(LoginAttempt.username == username[:80]))
