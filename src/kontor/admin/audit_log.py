"""Reading the audit log: newest first, filtered, a page at a time; managers see their offices only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import User
from kontor.admin.services import is_admin
from kontor.audit.models import AuditEntry
from kontor.offices.models import Office

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class AuditQuery:
    office: str = ""  # an office's slug
    actor: str = ""
    action: str = ""
    page: int = 1

    def as_params(self, page: int) -> dict[str, str | int]:
        """The query string for another page of the same filter."""
        params = {"office": self.office, "actor": self.actor, "action": self.action}
        return {key: value for key, value in params.items() if value} | {"page": page}


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[tuple[AuditEntry, Office | None]]
    page: int
    has_next: bool


def _visible(query: Select, user: User) -> Select:
    if is_admin(user):
        return query
    return query.where(AuditEntry.office_id.in_(user.office_ids))


async def audit_page(db: AsyncSession, user: User, wanted: AuditQuery) -> AuditPage:
    """One page of entries the user may see, matching the filter, newest first."""
    query = _visible(select(AuditEntry, Office).outerjoin(Office, Office.id == AuditEntry.office_id), user)
    if wanted.office:
        query = query.where(Office.slug == wanted.office)
    if wanted.actor:
        query = query.where(AuditEntry.actor == wanted.actor)
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    page = max(wanted.page, 1)
    # One row more than a page tells whether there is an older page, without counting.
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    rows = list(await db.execute(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    entries = [(entry, office) for entry, office in rows[:PAGE_SIZE]]
    return AuditPage(entries=entries, page=page, has_next=len(rows) > PAGE_SIZE)


async def known_actions(db: AsyncSession, user: User) -> list[str]:
    """The actions that occur in the entries the user may see, for the filter's choices."""
    query = _visible(select(AuditEntry.action).distinct(), user).order_by(AuditEntry.action)
    return list(await db.scalars(query))
