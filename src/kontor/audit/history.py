"""The history of a booking or a ticket: one row per change, saying who made it, through which
channel and when (DESIGN rule 5). Each history table adds the key of what it describes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from kontor.accounts.models import User
from kontor.audit.models import Channel
from kontor.db.base import utcnow


class StateChange:
    """Columns of a change record. ``changes`` holds what changed (times, seats, statuses, counters),
    never anything that identifies a resident."""

    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @declared_attr
    def actor_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


def actor_of(actor: User | str) -> tuple[int | None, str]:
    """A staff user's id and name, or no id and a label ("resident", "system", …)."""
    return (actor.id, actor.username) if isinstance(actor, User) else (None, actor)


Record = TypeVar("Record", bound=StateChange)


def record_change(
    db: AsyncSession,
    model: type[Record],
    action: str,
    *,
    channel: Channel,
    actor: User | str,
    now: datetime,
    changes: dict[str, Any],
    **subject: int,
) -> Record:
    """Add one change record of ``model``; ``subject`` is its key, e.g. ``booking_id=…``."""
    actor_id, label = actor_of(actor)
    row = model(
        at=now,
        action=action,
        channel=channel.value,
        actor_id=actor_id,
        actor=label,
        changes=changes,
        **subject,
    )
    db.add(row)
    return row
