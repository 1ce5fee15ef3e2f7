"""Telling the resident: the messages that go with a change, and the calendar version it makes; and
telling the contact center's systems, through their webhooks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.booking.models import Booking, BookingEvent
from kontor.calendars.booking import visit_calendar, visit_event
from kontor.contacts.models import WebhookEvent
from kontor.contacts.webhooks import booking_payload, emit
from kontor.notify.messages import queue_booking_messages
from kontor.settings import Settings

# The webhook event of each change the resident is told of.
WEBHOOK_EVENTS = {
    "booked": WebhookEvent.BOOKING_CREATED,
    "rescheduled": WebhookEvent.BOOKING_CHANGED,
    "cancelled": WebhookEvent.BOOKING_CANCELLED,
}


async def calendar_sequence(db: AsyncSession, booking: Booking) -> int:
    """The iCalendar SEQUENCE of the visit: one more for every move and for a cancellation, so a
    calendar client replaces the copy it has."""
    changes = await db.scalar(
        select(func.count()).where(
            BookingEvent.booking_id == booking.id, BookingEvent.action.in_(("rescheduled", "cancelled"))
        )
    )
    return int(changes or 0)


async def tell_resident(
    db: AsyncSession, booking: Booking, event: str, *, settings: Settings, token: str | None, now: datetime
) -> None:
    """Queue the messages about ``event`` in the transaction that made the change, and the webhook
    deliveries to the subscribers of its event."""
    if event == "booked":
        sequence = 0  # a new booking has no moves or cancellation yet
    else:
        await db.flush()  # the change's own event row counts towards the sequence
        sequence = await calendar_sequence(db, booking)
    queue_booking_messages(db, booking, event, settings=settings, token=token, now=now, sequence=sequence)
    if event in WEBHOOK_EVENTS:
        await emit(db, WEBHOOK_EVENTS[event], booking_payload(booking), now=now, booking_id=booking.id)


async def booking_calendar(
    db: AsyncSession, booking: Booking, *, settings: Settings, token: str, now: datetime
) -> bytes:
    """The visit as an .ics file, in the language the resident chose for it."""
    event = visit_event(
        booking,
        locale=booking.language,
        public_url=settings.public_url,
        token=token,
        sequence=await calendar_sequence(db, booking),
        stamp=booking.updated_at or now,
    )
    return visit_calendar(event)
