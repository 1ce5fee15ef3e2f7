"""Every model, imported once, so the metadata (and Alembic) sees the whole schema."""

from kontor.accounts.models import ApiToken, LoginAttempt, Role, User, office_memberships
from kontor.audit.models import AuditEntry, Channel
from kontor.booking.models import Booking, BookingEvent
from kontor.calendars.models import CalendarFeed
from kontor.contacts.models import Contact, Webhook
from kontor.db.base import Base
from kontor.db.store import StoredValue
from kontor.hours.models import Closure, ClosureInterval, WeeklyHours
from kontor.notify.models import OutboxMessage
from kontor.offices.models import Counter, District, Office, OfficeService, Service
from kontor.queue.models import Ticket, TicketEvent, TicketSequence
from kontor.waitlist.models import WaitlistEntry
from kontor.worker.models import WorkerJob

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "Booking",
    "BookingEvent",
    "CalendarFeed",
    "Channel",
    "Closure",
    "ClosureInterval",
    "Contact",
    "Counter",
    "District",
    "LoginAttempt",
    "Office",
    "OfficeService",
    "OutboxMessage",
    "Role",
    "Service",
    "StoredValue",
    "Ticket",
    "TicketEvent",
    "TicketSequence",
    "User",
    "WaitlistEntry",
    "Webhook",
    "WeeklyHours",
    "WorkerJob",
    "office_memberships",
]
