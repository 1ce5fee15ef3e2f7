"""Walk-in tickets, the per-day counters their numbers come from, and the history of every change."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kontor.audit.history import StateChange
from kontor.db.base import Base, IdMixin
from kontor.offices.models import Counter, Office, Service


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVED = "served"
    NO_SHOW = "no_show"
    # Still unserved when the office closed for the day.
    CLOSED = "closed"
    CANCELLED = "cancelled"


class TicketKind(StrEnum):
    WALK_IN = "walk_in"
    # A booked visit checked in at the desk, queued for its booked time.
    BOOKING = "booking"


# The channels a ticket can be issued or changed through.
TICKET_CHANNELS = ("desk", "api", "counter")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Ticket(IdMixin, Base):
    """A place in an office's queue for one service on one day; ``code`` is what the screen shows."""

    __tablename__ = "tickets"
    __table_args__ = (
        # Rule 4: one number per office, service and day, whatever the app instance that issued it. The
        # numbering service stays when a ticket is transferred, so the code on the resident's slip stays.
        UniqueConstraint("office_id", "issued_service_id", "day", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint(_in("status", tuple(TicketStatus)), name="status_known"),
        CheckConstraint(_in("kind", tuple(TicketKind)), name="kind_known"),
        CheckConstraint(_in("channel", TICKET_CHANNELS), name="channel_known"),
        Index("ix_tickets_office_status_issued_at", "office_id", "status", "issued_at"),
    )

    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="RESTRICT"))
    # The service the ticket waits for now; a transfer changes it.
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="RESTRICT"), index=True)
    # The service whose sequence gave the number (and the code's letter).
    issued_service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="RESTRICT"))
    # The office-local date the ticket was issued on; numbers restart with it.
    day: Mapped[date]
    number: Mapped[int]
    code: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=TicketStatus.WAITING.value)
    kind: Mapped[str] = mapped_column(String(20), default=TicketKind.WALK_IN.value)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    # A checked-in booking is called at its booked time; a walk-in (a late booking too) has none.
    booked_start: Mapped[datetime | None]
    # The language the resident wants to be served in, and whether they asked for extra help.
    language: Mapped[str | None] = mapped_column(String(5))
    needs_help: Mapped[bool] = mapped_column(Boolean, default=False)
    # Arrival: when the ticket was issued, or the booking checked in; walk-ins are called in this order.
    issued_at: Mapped[datetime]
    called_at: Mapped[datetime | None]
    # When the clerk marked the resident served (the service's end), and when the ticket left the
    # queue in any way (served, no-show, closed, cancelled).
    served_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id", ondelete="SET NULL"))
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(20))
    # A number the resident left for a text message when their turn is near, when that message was
    # queued, and when the retention purge blanked the number.
    phone: Mapped[str | None] = mapped_column(String(40))
    alerted_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]

    office: Mapped[Office] = relationship(lazy="joined")
    service: Mapped[Service] = relationship(lazy="joined", foreign_keys=[service_id])
    counter: Mapped[Counter | None] = relationship(lazy="joined")


class TicketSequence(Base):
    """The last number given out per office, service and day, raised in the issuing transaction."""

    __tablename__ = "ticket_sequences"
    __table_args__ = (
        PrimaryKeyConstraint("office_id", "service_id", "day"),
        CheckConstraint("last_number >= 1", name="last_number_positive"),
    )

    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    day: Mapped[date]
    last_number: Mapped[int]


class CounterShift(Base):
    """Who sits at a counter now and the services it calls: one row per staffed counter.

    The counter page opens a shift and the clerk's choice of services is kept here, so every
    instance, the API's call-next and the wait estimates (counters serving a service) agree on it.
    """

    __tablename__ = "counter_shifts"

    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    service_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # The office-local date the shift was opened on: yesterday's shifts count for nothing today.
    day: Mapped[date]
    started_at: Mapped[datetime]

    counter: Mapped[Counter] = relationship(lazy="joined")


class TicketEvent(IdMixin, StateChange, Base):
    """One change of a ticket: who made it, through which channel, and when (DESIGN rule 5)."""

    __tablename__ = "ticket_events"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
