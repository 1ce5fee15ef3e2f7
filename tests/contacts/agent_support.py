"""Shared pieces of the agent console's page tests: the clock, rows in the database, and readers of
the console's pages.

NOW is Monday 2026-12-14 10:30 in Stockholm: Kista (drop-in 09–12), Tensta (10–16) and Bromma
(08–16) are open. "eservice" can be booked from 12:40 today (two hours' notice) at Tensta and Bromma
(20-minute slots), and at Kista only in its appointment hours, Tuesdays 09:00–12:00.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from kontor.audit.models import AuditEntry, Channel
from kontor.booking import services
from kontor.booking.models import Booking
from kontor.booking.references import format_reference
from kontor.contacts.models import Contact
from kontor.notify.models import OutboxMessage
from kontor.offices.models import Office, Service
from kontor.queue.tickets import issue_ticket
from tests.conftest import run_with_engine

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 10, 30, tzinfo=STOCKHOLM)
KISTA_NINE = datetime(2026, 12, 15, 9, 0, tzinfo=STOCKHOLM)
CALLER = "070-123 45 67"
SEARCH = "/agent?service=eservice"


def pin_clock(client, now: datetime = NOW):  # type: ignore[no-untyped-def]
    client.app.state.clock = lambda: now
    return client


def slot(office: str, start: datetime) -> str:
    """A free time as the console's booking form names it."""
    return f"{office}|{start.isoformat()}"


def offered_slots(html: str) -> list[tuple[str, datetime]]:
    """The (office, start) of the times the booking form offers, in page order."""
    found = re.findall(r'name="slot" value="([^"|]+)\|([^"]+)"', html)
    return [(office, datetime.fromisoformat(start)) for office, start in found]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def rows(settings, model, **where: Any) -> list:  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        query = select(model).filter_by(**where) if where else select(model)
        return list((await db.scalars(query)).unique())

    return run_with_engine(settings, work)  # type: ignore[return-value]


def counts(settings) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """How many bookings, contacts and outbox messages there are: a refused form changes none."""

    async def work(db):  # type: ignore[no-untyped-def]
        return {
            model.__tablename__: await db.scalar(select(func.count()).select_from(model))
            for model in (Booking, Contact, OutboxMessage)
        }

    return run_with_engine(settings, work)  # type: ignore[return-value]


def audit_entries(settings, action: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    return rows(settings, AuditEntry, action=action)


def set_notes(settings, slug: str, notes: str) -> None:  # type: ignore[no-untyped-def]
    async def work(db) -> None:  # type: ignore[no-untyped-def]
        await db.execute(update(Office).where(Office.slug == slug).values(agent_notes=notes))

    run_with_engine(settings, work)


def book_for(settings, *, office: str = "kista", start: datetime = KISTA_NINE, **visitor: Any) -> str:  # type: ignore[no-untyped-def]
    """A booking made online (not by the console), by default with the caller's number; its reference."""
    details = {"name": "Anna Andersson", "phone": CALLER, "language": "sv"} | visitor

    async def work(db):  # type: ignore[no-untyped-def]
        booking, _token = await services.book(
            db, office_slug=office, service_code="eservice", start=start,
            channel=Channel.WEB, actor="resident", now=NOW, **details,
        )  # fmt: skip
        return format_reference(booking.reference)

    return run_with_engine(settings, work)  # type: ignore[return-value]


def walk_ins(settings, office: str, count: int, service: str = "eservice", now: datetime = NOW) -> None:  # type: ignore[no-untyped-def]
    """``count`` residents waiting at ``office`` for ``service``."""

    async def work(db) -> None:  # type: ignore[no-untyped-def]
        found = await db.scalar(select(Office).where(Office.slug == office))
        kind = await db.scalar(select(Service).where(Service.code == service))
        for _ in range(count):
            await issue_ticket(db, office=found, service=kind, now=now, channel=Channel.DESK, actor="desk")

    run_with_engine(settings, work)
