"""Retention: a contact's personal data (summary, number, needs, the office's note) is blanked once
the retention period has passed (DESIGN rule 6). What the statistics count (category, outcome,
office, service, dates) stays. An open call-back keeps its number until the office has called.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor.audit import services as audit
from kontor.audit.models import Channel
from kontor.contacts.models import CallbackStatus, Contact
from kontor.db.engine import WRITE_OPTION

log = logging.getLogger(__name__)

DEFAULT_DAYS = 30


def contacts_due(cutoff: datetime) -> ColumnElement[bool]:
    """Contacts made before ``cutoff``, not blanked yet, whose call-back, if any, is done."""
    return (
        Contact.purged_at.is_(None)
        & (Contact.created_at < cutoff)
        & or_(Contact.callback_status.is_(None), Contact.callback_status == CallbackStatus.DONE.value)
    )


async def purge_contacts(
    session_maker: async_sessionmaker[AsyncSession], now: datetime, *, days: int | None = None
) -> int:
    """Blank the personal data of contacts made more than ``days`` ago whose call-back, if any, is
    done; how many were blanked. Recorded in the audit log (the count only)."""
    cutoff = now - timedelta(days=DEFAULT_DAYS if days is None else days)
    async with session_maker() as db, db.begin():
        await db.connection(execution_options={WRITE_OPTION: True})
        result = await db.execute(
            update(Contact)
            .where(contacts_due(cutoff))
            .values(summary="", phone=None, contact_key=None, needs=[], callback_note="", purged_at=now)
            .execution_options(synchronize_session=False)
        )
        purged = max(result.rowcount or 0, 0)
        if purged:
            audit.record(
                db,
                actor="system",
                channel=Channel.SYSTEM,
                action="contacts.purged",
                entity="contact",
                changes={"count": purged, "before": cutoff.isoformat()},
            )
    if purged:
        log.info("contacts: blanked the personal data of %s contacts", purged)
    return purged
