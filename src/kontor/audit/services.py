"""Writing the audit log, in the same transaction as the change it records."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import User
from kontor.audit.models import AuditEntry, Channel


def record(
    db: AsyncSession,
    *,
    actor: User | str,
    channel: Channel,
    action: str,
    entity: str,
    entity_id: object = "",
    office_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the session; it commits (or rolls back) with the change itself."""
    entry = AuditEntry(
        actor_id=actor.id if isinstance(actor, User) else None,
        actor=actor.username if isinstance(actor, User) else actor,
        channel=channel.value,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        office_id=office_id,
        changes=_jsonable(changes or {}),
    )
    db.add(entry)
    return entry


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # dates, times, enums
