"""Two residents on the demo's waitlist. They joined last week, when nothing was free; seats have
freed since, so the demo's worker offers each one at its first round, and the outbox shows the
offers beside the messages of joining."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.settings import Settings
from kontor.waitlist.models import WaitlistEntry
from kontor.waitlist.services import join

SERVICE = "eservices"
JOINED_DAYS_AGO = 5
# Fictional residents: name, office (None: any office), e-mail, phone, language.
WAITING = (
    ("Leila Ahmadi", "rinkeby-kista", None, "070-174 00 21", "sv"),
    ("Matti Korhonen", None, "matti.korhonen@example.fi", None, "fi"),
)


async def seed_waitlist(db: AsyncSession, today: date, settings: Settings) -> tuple[int, int]:
    """Put the demo residents on the waitlist, unless anyone is on it already; (created, existing)."""
    existing = await db.scalar(select(func.count()).select_from(WaitlistEntry)) or 0
    if existing:
        return 0, existing
    zone = ZoneInfo(settings.default_timezone)
    joined_at = datetime.combine(today - timedelta(days=JOINED_DAYS_AGO), time(9, 0), zone)
    created = 0
    for name, office, email, phone, language in WAITING:
        await join(
            db, service_code=SERVICE, office_slug=office, earliest=today + timedelta(days=1),
            latest=today + timedelta(days=14), name=name, email=email, phone=phone, language=language,
            settings=settings, now=joined_at,
        )  # fmt: skip
        created += 1
    return created, 0
