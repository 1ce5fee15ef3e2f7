"""The queue bench's database: offices open around the clock, a staff token, and lines of waiting
tickets filled in this process for call-next.

The offices are opened with special hours from yesterday to the day after tomorrow, so the queue
targets run at any real time; the offices the other targets load keep their hours.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from servers import BOOKING_OFFICE, PREFERRED_OFFICE, _settings

QUEUE_USER = "bench-queue"
# A bench database only, served on loopback: a fixed token keeps the runs comparable.
QUEUE_TOKEN = "kontor_bench-queue-token-0123456789abcdef"  # noqa: S105
AUTH = {"Authorization": f"Bearer {QUEUE_TOKEN}"}
FILL_BATCH = 500


@dataclass(frozen=True)
class QueueOffice:
    slug: str
    services: tuple[str, ...]  # walk-in services' codes
    counters: tuple[int, ...]


@dataclass(frozen=True)
class QueueSetup:
    offices: tuple[QueueOffice, ...]  # the throughput targets go round these
    screen: QueueOffice  # the latency test's own office, whose board no other target touches


async def prepare_queue(database_url: str, today: date) -> QueueSetup:
    """Open every office but the other targets' around the clock, and give a staff user of them the
    bench's API token."""
    from sqlalchemy import delete, select
    from sqlalchemy.ext.asyncio import async_sessionmaker
    from sqlalchemy.orm import selectinload

    from kontor.accounts.models import ApiToken, Role, User
    from kontor.accounts.security import hash_token
    from kontor.db.engine import create_engine, writer
    from kontor.hours.models import Closure, ClosureInterval
    from kontor.offices.models import Office, OfficeService

    first, last = today - timedelta(days=1), today + timedelta(days=2)
    engine = create_engine(_settings(database_url))
    try:
        async with async_sessionmaker(writer(engine), expire_on_commit=False)() as db:
            query = (
                select(Office)
                .where(Office.slug.not_in([PREFERRED_OFFICE, BOOKING_OFFICE]))
                .options(selectinload(Office.offerings).selectinload(OfficeService.service))
                .options(selectinload(Office.counters))
                .order_by(Office.slug)
            )
            offices = []
            for office in await db.scalars(query):
                services = tuple(o.service.code for o in office.offerings if o.is_walk_in)
                counters = tuple(c.number for c in office.counters if c.active)
                if not services or not counters:
                    continue
                offices.append((office, QueueOffice(office.slug, services, counters)))
                # The latest-starting closure of a date wins: none of the seed's may compete with ours.
                await db.execute(
                    delete(Closure).where(
                        Closure.office_id == office.id, Closure.first_day <= last, Closure.last_day >= first
                    )
                )
                for n in range((last - first).days + 1):
                    day = first + timedelta(days=n)
                    around_the_clock = ClosureInterval(opens=time(0), closes=time.max, kind="drop_in")
                    db.add(
                        Closure(
                            office_id=office.id,
                            first_day=day,
                            last_day=day,
                            reason="Benchmark",
                            intervals=[around_the_clock],
                        )
                    )
            if len(offices) < 2:
                raise RuntimeError(
                    "the demo city has too few offices with walk-in services for the queue bench"
                )
            user = User(username=QUEUE_USER, display_name="Bench Desk", role=Role.STAFF)
            user.offices = [office for office, _plan in offices]
            db.add(user)
            await db.flush()
            db.add(
                ApiToken(
                    name="bench", user_id=user.id, token_hash=hash_token(QUEUE_TOKEN), prefix=QUEUE_TOKEN[:12]
                )
            )
            await db.commit()
    finally:
        await engine.dispose()
    plans = [plan for _office, plan in offices]
    return QueueSetup(offices=tuple(plans[1:]), screen=plans[0])


async def fill_lines(database_url: str, offices: tuple[QueueOffice, ...], per_office: int) -> None:
    """Make exactly ``per_office`` tickets wait at each office: the newest beyond that are closed (as
    at a day's end), the missing ones issued round its walk-in services through kontor's service in
    this process, far quicker than over HTTP and while the server is idle. A line is only topped up,
    so a refill costs what the calls since the last one took, not a whole morning of tickets."""
    from sqlalchemy import func, select, update
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from kontor.audit.models import Channel
    from kontor.db.engine import create_engine, writer
    from kontor.offices.models import Office, Service
    from kontor.queue.models import Ticket, TicketStatus
    from kontor.queue.tickets import issue_ticket

    plans = {office.slug: office for office in offices}
    engine = create_engine(_settings(database_url))
    try:
        maker = async_sessionmaker(writer(engine), expire_on_commit=False)
        async with maker() as db, db.begin():
            rows = {o.slug: o for o in await db.scalars(select(Office).where(Office.slug.in_(plans)))}
            services = {s.code: s for s in await db.scalars(select(Service))}
            waiting_at = Ticket.status == TicketStatus.WAITING
            counts = await db.execute(
                select(Ticket.office_id, func.count())
                .where(Ticket.office_id.in_([o.id for o in rows.values()]), waiting_at)
                .group_by(Ticket.office_id)
            )
            waiting = {office_id: count for office_id, count in counts.all()}
            missing: dict[str, int] = {}
            for slug, office in rows.items():
                have = waiting.get(office.id, 0)
                missing[slug] = max(0, per_office - have)
                if have <= per_office:
                    continue
                newest = (
                    select(Ticket.id)
                    .where(Ticket.office_id == office.id, waiting_at)
                    .order_by(Ticket.issued_at.desc(), Ticket.id.desc())
                    .limit(have - per_office)
                )
                surplus = list(await db.scalars(newest))
                await db.execute(
                    update(Ticket)
                    .where(Ticket.id.in_(surplus))
                    .values(status=TicketStatus.CLOSED, finished_at=datetime.now(UTC))
                    .execution_options(synchronize_session=False)
                )

        async def top_up(slug: str, count: int) -> None:
            plan, office = plans[slug], rows[slug]
            codes = [plan.services[(per_office - count + n) % len(plan.services)] for n in range(count)]
            for start in range(0, count, FILL_BATCH):
                async with maker() as db, db.begin():
                    for code in codes[start : start + FILL_BATCH]:
                        await issue_ticket(
                            db,
                            office=office,
                            service=services[code],
                            now=datetime.now(UTC),
                            channel=Channel.API,
                            actor="bench",
                        )

        if engine.dialect.name == "sqlite":  # one writer at a time anyway
            for slug, count in missing.items():
                await top_up(slug, count)
        else:  # offices number their tickets apart: one transaction per office, side by side
            await asyncio.gather(*(top_up(slug, count) for slug, count in missing.items()))
    finally:
        await engine.dispose()
