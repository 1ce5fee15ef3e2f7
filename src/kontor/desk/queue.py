"""What the front desk shows of the walk-in queue: a button per walk-in service with its line, the
tickets waiting now (a checked-in visit's with the contact center's hand-off), and the tickets of
today's checked-in visits.

Reads only; the writes (issuing, checking in, cancelling) are the queue package's services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.booking.models import Booking
from kontor.booking.references import format_reference, normalize_reference
from kontor.desk.services import Handoff, visit_handoffs
from kontor.hours.services import office_hours, open_status, status_window
from kontor.i18n import LOCALES
from kontor.offices.models import Office, Service
from kontor.queue.models import Ticket
from kontor.queue.tickets import office_day, waiting_in_order
from kontor.queue.views import (
    LineEntry,
    QueueSnapshot,
    ServiceLine,
    queue_snapshot,
    waiting_line,
    walk_in_services,
)

__all__ = [
    "DeskQueue",
    "WalkInButton",
    "booking_at_office",
    "desk_queue",
    "ticket_languages",
    "visit_tickets",
]


@dataclass(frozen=True, slots=True)
class WalkInButton:
    """One walk-in service as the desk's button shows it: how many wait and how long a newcomer waits."""

    service: Service
    line: ServiceLine | None


@dataclass(frozen=True, slots=True)
class DeskQueue:
    """The desk's walk-in part: the buttons, whether tickets can be issued now, and who waits."""

    buttons: list[WalkInButton]
    is_open: bool
    # When closed: the next opening, in the office's zone, and whether that is today.
    opens_at: datetime | None
    opens_today: bool
    waiting: list[LineEntry]
    # The contact center's hand-offs of the waiting visits, by booking id.
    handoffs: dict[int, Handoff] = field(default_factory=dict)

    @property
    def can_issue(self) -> bool:
        return self.is_open and bool(self.buttons)


async def desk_queue(db: AsyncSession, office: Office, now: datetime) -> DeskQueue:
    """The walk-in buttons and today's waiting line of ``office`` (its offerings loaded)."""
    # Read once, used thrice: the hours decide both the board and the next opening, the order of
    # those waiting both the board's lines and the list (each round trip counts in a booking rush).
    hours = await office_hours(db, office, *status_window(now))
    order = await waiting_in_order(db, office, now)
    snapshot: QueueSnapshot = await queue_snapshot(db, office, now, line=order, hours=hours)
    lines = {line.service.id: line for line in snapshot.lines}
    buttons = [WalkInButton(service, lines.get(service.id)) for service in walk_in_services(office)]
    opens_at = None if snapshot.is_open else open_status(hours, now).opens_at
    zone = ZoneInfo(office.timezone)
    waiting = await waiting_line(db, office, now, line=order)
    visits = [entry.ticket.booking_id for entry in waiting if entry.ticket.booking_id is not None]
    return DeskQueue(
        buttons=buttons,
        is_open=snapshot.is_open,
        opens_at=opens_at,
        opens_today=opens_at is not None and opens_at.date() == now.astimezone(zone).date(),
        waiting=waiting,
        handoffs=await visit_handoffs(db, visits),
    )


def ticket_languages(office: Office) -> list[str]:
    """The languages a resident can ask to be served in at the desk: the UI's three, then the office's
    others (Arabic, Somali …) in the office's order."""
    # At most five characters: what a ticket stores (codes like "ar", "so", "pt-BR").
    extra = [code for code in office.languages or () if code not in LOCALES and len(code) <= 5]
    return [*LOCALES, *dict.fromkeys(extra)]


async def visit_tickets(db: AsyncSession, office: Office, now: datetime) -> dict[str, Ticket]:
    """Today's tickets of checked-in visits at ``office``, by the visit's reference as shown ("ACDE-4779")."""
    rows = await db.execute(
        select(Booking.reference, Ticket)
        .join(Ticket, Ticket.booking_id == Booking.id)
        .where(Ticket.office_id == office.id, Ticket.day == office_day(office, now))
        .order_by(Ticket.id)
    )
    # A later ticket of the same visit (none today, but cheap to be sure) wins.
    return {format_reference(reference): ticket for reference, ticket in rows.unique()}


async def booking_at_office(db: AsyncSession, office: Office, reference: str) -> Booking | None:
    """The booking ``reference`` (as typed or shown) made at ``office``, or None."""
    stored = normalize_reference(reference)
    if stored is None:
        return None
    return await db.scalar(select(Booking).where(Booking.reference == stored, Booking.office_id == office.id))
