"""Retention: a contact's personal data is blanked after the retention period, open call-backs keep
theirs until done, and the worker's step runs with the setting's period, now and then."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kontor.accounts.models import User
from kontor.audit.models import AuditEntry, Channel
from kontor.contacts.models import Contact
from kontor.contacts.retention import purge_contacts
from kontor.contacts.services import log_contact, mark_callback_done

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
PHONE = "070-123 45 67"


async def _contacts(write_session, settings, city) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Contacts logged 40, 31, 29 days ago and today; two old call-backs, one of them done."""
    made: dict[str, int] = {}
    async with write_session() as db, db.begin():
        agent = await db.scalar(select(User).where(User.username == "agent"))
        staff = await db.scalar(select(User).where(User.username == "staff"))

        async def log(name: str, days_ago: int, **extra: Any) -> None:
            at = NOW - timedelta(days=days_ago)
            outcome = extra.pop("outcome", "solved")
            contact = await log_contact(
                db, agent=agent, channel=Channel.PHONE, category="benefits", outcome=outcome,
                summary=f"Summary of {name}.", phone=PHONE, needs=["interpreter"], now=at, settings=settings,
                **extra,
            )  # fmt: skip
            made[name] = contact.id

        await log("old", 40)
        await log("just_over", 31)
        await log("recent", 29)
        await log("today", 0)
        await log("open_callback", 40, outcome="callback", office_id=city.kista.id)
        await log("done_callback", 40, outcome="callback", office_id=city.kista.id)
        await mark_callback_done(
            db, made["done_callback"], user=staff, note="Called back.", channel=Channel.DESK,
            now=NOW - timedelta(days=39),
        )  # fmt: skip
    return made


async def test_personal_data_is_blanked_after_the_period(
    city, write_session, read_session, settings, caplog
) -> None:  # type: ignore[no-untyped-def]
    made = await _contacts(write_session, settings, city)
    caplog.set_level(logging.INFO)
    assert await purge_contacts(write_session, NOW, days=30) == 3
    assert await purge_contacts(write_session, NOW, days=30) == 0  # nothing left to do
    async with read_session() as db:
        rows = {c.id: c for c in await db.scalars(select(Contact))}
        entries = list(await db.scalars(select(AuditEntry).where(AuditEntry.action == "contacts.purged")))
    for name in ("old", "just_over", "done_callback"):
        contact = rows[made[name]]
        assert (contact.summary, contact.phone, contact.contact_key) == ("", None, None), name
        assert (contact.needs, contact.callback_note, contact.purged_at) == ([], "", NOW), name
        assert (contact.category, contact.office_id is None) == ("benefits", name != "done_callback")
    for name in ("recent", "today", "open_callback"):
        contact = rows[made[name]]
        assert contact.purged_at is None and contact.summary == f"Summary of {name}."
        assert (contact.phone, contact.needs) == (PHONE, ["interpreter"])
    assert rows[made["done_callback"]].callback_status == "done"
    (entry,) = entries
    assert (entry.actor, entry.channel, entry.entity, entry.changes["count"]) == (
        "system",
        "system",
        "contact",
        3,
    )
    assert "3" in caplog.text and "Summary" not in caplog.text and "123" not in caplog.text


async def test_the_default_period_is_thirty_days(city, write_session, read_session, settings) -> None:  # type: ignore[no-untyped-def]
    await _contacts(write_session, settings, city)
    assert await purge_contacts(write_session, NOW) == 3
