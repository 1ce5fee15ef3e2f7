"""The demo's walk-in queue at Kista: a fortnight of served tickets (so wait estimates rest on real
service times) and, when the demo starts during opening hours, people waiting and two staffed
counters, so the desk, the counters and the waiting-room screen show a working morning."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import User
from kontor.accounts.security import hash_token, new_token
from kontor.audit.models import Channel
from kontor.hours.rules import day_hours, interval_bounds, is_open_at
from kontor.hours.services import office_hours
from kontor.offices.models import Counter
from kontor.offices.services import office_by_slug
from kontor.queue.counter import open_shift
from kontor.queue.models import Ticket, TicketStatus
from kontor.queue.rules import ticket_code
from kontor.queue.tickets import call_next, issue_ticket, next_number
from kontor.queue.views import walk_in_services

OFFICE = "rinkeby-kista"
CLERK = "disk.kista"
HISTORY_DAYS = 14
# Walk-ins on an ordinary day, and the spread of service times in minutes.
PER_DAY = 18
SERVICE_MINUTES = (6, 16)


async def seed_queue(db: AsyncSession, today: date, now: datetime | None) -> tuple[int, int]:
    """Seed the queue unless the office has tickets already; (created, existing)."""
    office = await office_by_slug(db, OFFICE)
    if office is None:
        return 0, 0
    existing = await db.scalar(select(func.count()).where(Ticket.office_id == office.id)) or 0
    if existing:
        return 0, existing
    services = walk_in_services(office)
    if not services:
        return 0, 0
    clerk = await db.scalar(select(User).where(User.username == CLERK))
    zone = ZoneInfo(office.timezone)
    hours = await office_hours(db, office, today - timedelta(days=HISTORY_DAYS), today)
    rng = random.Random(f"{OFFICE}-{today.isoformat()}")  # the same demo every run on one day
    created = 0
    counters = list(
        await db.scalars(
            select(Counter)
            .where(Counter.office_id == office.id, Counter.active.is_(True))
            .order_by(Counter.number)
        )
    )
    if not counters:
        return 0, 0
    for days_back in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=days_back)
        intervals = day_hours(hours, day).intervals
        if not intervals:
            continue
        opens, closes = interval_bounds(day, intervals[0], zone)
        span = max(1, int((closes - opens).total_seconds() // 60) - 30)
        for minute in sorted(rng.randrange(span) for _ in range(PER_DAY)):
            service = rng.choice(services)
            issued = opens + timedelta(minutes=minute)
            called = issued + timedelta(minutes=rng.randint(1, 25))
            served = called + timedelta(minutes=rng.randint(*SERVICE_MINUTES))
            number = await next_number(db, office.id, service.id, day)
            db.add(
                Ticket(
                    office_id=office.id, service_id=service.id, issued_service_id=service.id, day=day,
                    number=number, code=ticket_code(service.letter, number),
                    token_hash=hash_token(new_token()),
                    status=TicketStatus.SERVED.value, kind="walk_in", issued_at=issued, called_at=called,
                    served_at=served, finished_at=served, counter_id=rng.choice(counters).id,
                    channel=Channel.DESK.value, needs_help=rng.random() < 0.15,
                )
            )  # fmt: skip
            created += 1
    if now is not None and is_open_at(hours, now) and len(counters) >= 2:
        created += await _this_morning(db, office, services, counters, clerk, now, rng)
    await db.flush()
    return created, 0


async def _this_morning(db, office, services, counters, clerk, now, rng) -> int:  # type: ignore[no-untyped-def]
    ids = [service.id for service in services]
    await open_shift(db, office=office, counter=counters[0], user=clerk, service_ids=ids[:2], now=now)
    await open_shift(db, office=office, counter=counters[1], user=clerk, service_ids=ids, now=now)
    for minutes_ago in (38, 31, 24, 17, 12, 9, 4):
        await issue_ticket(
            db, office=office, service=rng.choice(services), now=now - timedelta(minutes=minutes_ago),
            channel=Channel.DESK, actor=clerk or "demo", needs_help=minutes_ago == 17,
        )  # fmt: skip
    await call_next(db, office=office, counter=counters[0], service_ids=ids, now=now, actor=clerk or "demo")
    return 7
