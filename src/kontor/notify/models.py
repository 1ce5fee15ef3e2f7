"""The outbox: messages to residents, written in the same transaction as the change they tell of,
and sent afterwards by the sender, so a booking never waits for (or is lost with) a mail server."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kontor.db.base import Base, IdMixin, utcnow


class MessageChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"  # a signed POST to a subscriber of the contact center (contacts.webhooks)


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry; shown to staff


class OutboxMessage(IdMixin, Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'sms', 'webhook')", name="channel_known"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status_known"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(10))
    # What the message is about: "booked", "rescheduled", "cancelled" (later also reminders).
    kind: Mapped[str] = mapped_column(String(40))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id", ondelete="SET NULL"), index=True)
    recipient: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    # An iCalendar attachment (the visit), e-mail only.
    calendar: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=MessageStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(500), default="")
    # Webhook deliveries: the subscription, and the body's HMAC-SHA256 under its secret (made when
    # the event happened, so every retry carries the same signature).
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    signature: Mapped[str | None] = mapped_column(String(100))
