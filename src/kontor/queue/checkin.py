"""Checking in a booked visit at the front desk, and the visit's end when its ticket finishes.

A visit checked in on time gets a ticket of kind booking that counters call at the booked time,
ahead of walk-ins (:func:`kontor.queue.rules.queue_order`); one checked in later than the grace
period joins as an ordinary walk-in (:func:`kontor.queue.rules.is_late`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import User
from kontor.audit.models import Channel
from kontor.booking.models import Booking, BookingStatus
from kontor.booking.policy import record_event
from kontor.i18n import N_
from kontor.queue.errors import CheckInRefused
from kontor.queue.models import Ticket, TicketKind, TicketStatus
from kontor.queue.rules import DEFAULT_GRACE, is_late
from kontor.queue.tickets import issue_ticket, office_day

__all__ = ["check_in", "finish_booking", "ticket_of_booking"]

# What a booked visit becomes when its ticket ends.
_BOOKING_END = {
    TicketStatus.SERVED: BookingStatus.SERVED,
    TicketStatus.NO_SHOW: BookingStatus.NO_SHOW,
}


async def ticket_of_booking(db: AsyncSession, booking_id: int) -> Ticket | None:
    """The ticket a checked-in visit got, if any."""
    return await db.scalar(
        select(Ticket).where(Ticket.booking_id == booking_id).order_by(Ticket.id.desc()).limit(1)
    )


async def check_in(
    db: AsyncSession,
    *,
    booking: Booking,
    now: datetime,
    actor: User | str,
    channel: Channel = Channel.DESK,
    grace: timedelta = DEFAULT_GRACE,
) -> tuple[Ticket, str, bool]:
    """Check in a booked visit of today: the booking becomes checked in and gets a ticket.

    Returns the ticket, its token and whether the visitor came late (and so joined as a walk-in).
    Only a booked visit of the office's today can be checked in; anything else raises
    :class:`CheckInRefused` with the reason.
    """
    office = booking.office
    if booking.status == BookingStatus.CHECKED_IN.value:
        raise CheckInRefused(N_("This visit is already checked in."))
    if booking.status != BookingStatus.BOOKED.value:
        raise CheckInRefused(N_("Only a booked visit can be checked in; this one is cancelled or over."))
    if booking.starts_at.astimezone(ZoneInfo(office.timezone)).date() != office_day(office, now):
        raise CheckInRefused(N_("This visit is booked for another day."))
    # The status changes only if no one else checked the visit in a moment ago.
    changed = await db.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == BookingStatus.BOOKED.value)
        .values(status=BookingStatus.CHECKED_IN.value)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise CheckInRefused(N_("This visit is already checked in."))
    booking.status = BookingStatus.CHECKED_IN.value
    late = is_late(booking.starts_at, now, grace)
    ticket, token = await issue_ticket(
        db,
        office=office,
        service=booking.service,
        now=now,
        channel=channel,
        actor=actor,
        language=booking.language,
        needs_help=bool(booking.needs),
        kind=TicketKind.WALK_IN if late else TicketKind.BOOKING,
        booking_id=booking.id,
        booked_start=None if late else booking.starts_at,
    )
    changes = {
        "status": [BookingStatus.BOOKED.value, BookingStatus.CHECKED_IN.value],
        "ticket": ticket.code,
        "late": late,
    }
    record_event(db, booking, "checked_in", channel=channel, actor=actor, now=now, changes=changes)
    await db.flush()
    return ticket, token, late


async def finish_booking(
    db: AsyncSession,
    ticket: Ticket,
    status: TicketStatus,
    *,
    now: datetime,
    actor: User | str,
    channel: Channel,
) -> None:
    """Mark the checked-in visit behind ``ticket`` served or no-show, as its ticket ended."""
    ending = _BOOKING_END.get(status)
    booking = await db.get(Booking, ticket.booking_id) if ticket.booking_id is not None else None
    if ending is None or booking is None or booking.status != BookingStatus.CHECKED_IN.value:
        return
    booking.status = ending.value
    changes = {"status": [BookingStatus.CHECKED_IN.value, ending.value], "ticket": ticket.code}
    record_event(db, booking, ending.value, channel=channel, actor=actor, now=now, changes=changes)
