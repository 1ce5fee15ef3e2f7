"""The waitlist: residents who found no free time, in the order they joined, and the seats offered
to them as seats free up."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kontor.db.base import Base, IdMixin, utcnow
from kontor.offices.models import Office, Service


class WaitlistStatus(StrEnum):
    WAITING = "waiting"  # in line
    OFFERED = "offered"  # a seat is held for the resident until offer_expires_at
    BOOKED = "booked"  # took the offer: offered_booking_id is their booking
    LAPSED = "lapsed"  # let an offer run out; out of the line
    LEFT = "left"  # left the line, or declined an offer
    ENDED = "ended"  # the latest date passed without a seat


ACTIVE_STATUSES = (WaitlistStatus.WAITING.value, WaitlistStatus.OFFERED.value)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class WaitlistEntry(IdMixin, Base):
    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint(_in("status", tuple(WaitlistStatus)), name="status_known"),
        CheckConstraint(_in("language", ("sv", "en", "fi")), name="language_known"),
        CheckConstraint("latest >= earliest", name="dates_ordered"),
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL OR purged_at IS NOT NULL", name="reachable"),
        # First come, first served: the line of one service, in the order residents joined it.
        Index("ix_waitlist_entries_service_status_created", "service_id", "status", "created_at"),
    )

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None: any office that offers the service.
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    # The office-local dates between which (both included) the resident can come.
    earliest: Mapped[date]
    latest: Mapped[date]
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    contact_key: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="sv")
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The private link's token, hashed (DESIGN rule 7).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=WaitlistStatus.WAITING.value)
    # The held booking of the current (or the taken) offer.
    offered_booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    offered_at: Mapped[datetime | None]
    offer_expires_at: Mapped[datetime | None]
    offers: Mapped[int] = mapped_column(default=0)
    # The link in an offer message: minted by the worker for each offer (the entry's own token is
    # kept only hashed), it opens the entry's page as the entry's token does.
    offer_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    finished_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]

    office: Mapped[Office | None] = relationship(lazy="joined")
    service: Mapped[Service] = relationship(lazy="joined")
