"""The audit log: who changed what, through which channel, and when."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kontor.db.base import Base, IdMixin, utcnow


class Channel(StrEnum):
    WEB = "web"
    PHONE = "phone"
    DESK = "desk"
    COUNTER = "counter"
    API = "api"
    CLI = "cli"
    SYSTEM = "system"


class AuditEntry(IdMixin, Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_office_at", "office_id", "at"),
        Index("ix_audit_entries_entity", "entity", "entity_id"),
    )

    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(80))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id", ondelete="SET NULL"))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(80), default="")
    # What changed, as before/after values; never a resident's personal data.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
