"""Staff calendar feeds: a private, revocable address from which a calendar client reads visits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kontor.accounts.models import User
from kontor.db.base import Base, IdMixin, utcnow
from kontor.offices.models import Counter, Office


class CalendarFeed(IdMixin, Base):
    """One subscription a staff user made: an office's visits, a counter's (its office's visits under
    the counter's name) or an agent's own bookings. Only the SHA-256 of its token is stored."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (
        CheckConstraint("kind IN ('office', 'counter', 'agent')", name="kind_known"),
        # An agent's feed spans the city; the others belong to one office, a counter feed to one counter.
        CheckConstraint("(kind = 'agent') = (office_id IS NULL)", name="office_iff_not_agent"),
        CheckConstraint("(kind = 'counter') = (counter_id IS NOT NULL)", name="counter_iff_counter"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id", ondelete="CASCADE"))
    # The services shown; empty for all of them.
    service_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    label: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")
    office: Mapped[Office | None] = relationship(lazy="joined")
    counter: Mapped[Counter | None] = relationship(lazy="joined")
