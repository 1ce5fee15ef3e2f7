"""Contacts (one logged call each), and the webhook subscriptions of the contact center's systems."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kontor.db.base import Base, IdMixin, Timestamped


class Outcome(StrEnum):
    """How a call ended."""

    SOLVED = "solved"  # answered on the phone
    VISIT_BOOKED = "visit_booked"  # an in-person visit was booked
    FORWARDED = "forwarded"  # handed to an office, which takes it from there
    CALLBACK = "callback"  # the office calls the resident back


class Category(StrEnum):
    """What a call was about, broadly; the statistics count contacts by it."""

    INFORMATION = "information"
    ESERVICES = "eservices"
    FORMS = "forms"
    BENEFITS = "benefits"
    HOUSING = "housing"
    BUDGET = "budget"
    OTHER = "other"


class CallbackStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(value.value) for value in values)})"


class Contact(IdMixin, Timestamped, Base):
    """One call to the contact center: what it was about, how it ended, and what the office must know.

    The summary, the caller's number and the needs are personal data: an agent writes only what the
    visit needs (DESIGN rule 6), and they are blanked after the retention period (``purged_at``).
    """

    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint(_in("outcome", Outcome), name="outcome_known"),
        CheckConstraint(
            "callback_status IS NULL OR " + _in("callback_status", CallbackStatus),
            name="callback_status_known",
        ),
        CheckConstraint(
            "(outcome = 'callback') = (callback_status IS NOT NULL)", name="callback_status_iff_callback"
        ),
        Index("ix_contacts_office_callback", "office_id", "callback_status", "callback_due_at"),
        Index("ix_contacts_contact_key_created_at", "contact_key", "created_at"),
    )

    # Who took the call (an agent); through which channel it was logged: phone (the console) or api.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(20), default="phone")
    category: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(String(1000), default="")
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id", ondelete="SET NULL"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    # The caller's number as given, and its digits (as booking.policy.contact_keys makes them) for lookups.
    phone: Mapped[str | None] = mapped_column(String(40))
    contact_key: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5), default="sv")
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A call-back request: open until the office marks it done, due by callback_due_at.
    callback_status: Mapped[str | None] = mapped_column(String(10))
    callback_due_at: Mapped[datetime | None]
    callback_done_at: Mapped[datetime | None]
    callback_done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    callback_note: Mapped[str] = mapped_column(String(500), default="")
    # When the personal data (summary, phone, needs, notes) was blanked after the retention period.
    purged_at: Mapped[datetime | None]


class WebhookEvent(StrEnum):
    BOOKING_CREATED = "booking.created"
    BOOKING_CHANGED = "booking.changed"
    BOOKING_CANCELLED = "booking.cancelled"
    CALLBACK_REQUESTED = "callback.requested"
    CALLBACK_DONE = "callback.done"


class Webhook(IdMixin, Timestamped, Base):
    """A subscription: POST these events to ``url``, signed with HMAC-SHA256 under ``secret``.

    The secret must be kept as it is (a receiver verifies with the same one); it is shown to its
    owner once, when the subscription is made, and never again.
    """

    __tablename__ = "webhooks"

    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
