"""Bookings of a visit, and the history of every change made to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kontor.audit.history import StateChange
from kontor.db.base import Base, IdMixin, Timestamped
from kontor.offices.models import Office, Service


class BookingStatus(StrEnum):
    HELD = "held"
    # A hold that ran out before the resident confirmed; it keeps the row (and the reference the
    # resident's page points to) but no longer a seat.
    EXPIRED = "expired"
    BOOKED = "booked"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    SERVED = "served"
    NO_SHOW = "no_show"


class Need(StrEnum):
    """What a visitor may tell the office in advance; nothing more (DESIGN rule 6)."""

    INTERPRETER = "interpreter"
    ACCESSIBILITY = "accessibility"
    COMPUTER_HELP = "computer_help"


# The channels a booking can be made through (the audit log's channel also knows cli and system).
BOOKING_CHANNELS = ("web", "phone", "desk", "counter", "api")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


# Every booking that is neither cancelled nor an expired hold holds its seat, and a seat of a slot has
# one holder at most: this index is what keeps a slot from holding more bookings than its seats
# (DESIGN rule 3).
SEATLESS = (BookingStatus.CANCELLED.value, BookingStatus.EXPIRED.value)
HOLDS_SEAT = text("status NOT IN ('cancelled', 'expired')")
SEAT_KEY = ("office_id", "service_id", "starts_at", "seat")


class Booking(IdMixin, Timestamped, Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("seat >= 1", name="seat_positive"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(_in("status", tuple(BookingStatus)), name="status_known"),
        CheckConstraint(_in("channel", BOOKING_CHANNELS), name="channel_known"),
        CheckConstraint(_in("language", ("sv", "en", "fi")), name="language_known"),
        Index(
            "ux_bookings_seat",
            *SEAT_KEY,
            unique=True,
            sqlite_where=HOLDS_SEAT,
            postgresql_where=HOLDS_SEAT,
        ),
        Index("ix_bookings_office_starts_at", "office_id", "starts_at"),
        # The search across offices reads one service's slots over a few weeks at every office.
        Index("ix_bookings_service_starts_at", "service_id", "starts_at"),
        # The limit of upcoming visits per person counts one contact's bookings of one service: with
        # both columns the planner never prefers scanning the whole service.
        Index("ix_bookings_contact_key_service", "contact_key", "service_id"),
        # An agent's calendar feed: the visits that agent booked, by time.
        Index("ix_bookings_created_by_starts_at", "created_by_id", "starts_at"),
    )

    # Stored without the dash: "ACDE4779" is shown as "ACDE-4779" (see booking.references).
    reference: Mapped[str] = mapped_column(String(8), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="RESTRICT"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    seat: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default=BookingStatus.BOOKED.value)
    hold_expires_at: Mapped[datetime | None]
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    # The e-mail address (lower case) or the phone number's digits: how the limit on active bookings
    # per person recognises the same person however they typed it.
    contact_key: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="sv")
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel: Mapped[str] = mapped_column(String(20))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None]
    # When the worker queued the reminder (once per booking; a reschedule clears it), and when the
    # personal data was blanked, by the retention purge or at the resident's request.
    reminded_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]
    # The reminder carries a manage link of its own (the booking's token is kept only hashed, so the
    # worker cannot repeat it): its hash opens the booking as the booking's token does.
    reminder_token_hash: Mapped[str | None] = mapped_column(String(64))

    office: Mapped[Office] = relationship(lazy="joined")
    service: Mapped[Service] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:
        """Still to come or under way: booked, held, or checked in."""
        return self.status in {BookingStatus.HELD, BookingStatus.BOOKED, BookingStatus.CHECKED_IN}


class BookingEvent(IdMixin, StateChange, Base):
    """One change of a booking: who made it, through which channel, and when (DESIGN rule 5)."""

    __tablename__ = "booking_events"

    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
