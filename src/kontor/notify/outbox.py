"""The outbox for staff: which messages a user may see, a page of them, one in full, sending again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from litestar.exceptions import NotFoundException
from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import ensure
from kontor.accounts.models import Role, User
from kontor.admin.services import record_change
from kontor.booking.models import Booking
from kontor.contacts.webhooks import EVENT_LABELS
from kontor.i18n import N_
from kontor.notify.models import MessageStatus, OutboxMessage
from kontor.offices.models import Office
from kontor.queue.alerts import KIND_LABELS as TICKET_ALERT_KINDS
from kontor.waitlist.messages import KIND_LABELS as WAITLIST_KINDS

PAGE_SIZE = 50

STATUS_LABELS = {
    MessageStatus.PENDING.value: N_("Waiting"),
    MessageStatus.SENDING.value: N_("Sending"),
    MessageStatus.SENT.value: N_("Sent"),
    MessageStatus.FAILED.value: N_("Failed"),
}
CHANNEL_LABELS = {"email": N_("E-mail"), "sms": N_("Text message"), "webhook": N_("Webhook")}
KIND_LABELS = {
    "booked": N_("Booked"),
    "rescheduled": N_("Moved"),
    "cancelled": N_("Cancelled"),
    "reminder": N_("Reminder"),
    **EVENT_LABELS,
    **WAITLIST_KINDS,
    **TICKET_ALERT_KINDS,
}


@dataclass(frozen=True, slots=True)
class OutboxPage:
    messages: list[tuple[OutboxMessage, Office | None]]
    page: int
    has_next: bool


def _may_see_all(user: User) -> bool:
    return user.role == Role.ADMIN


def _visible(query: Select, user: User) -> Select:
    """Admins see every message; managers those of their offices."""
    if _may_see_all(user):
        return query
    return query.where(OutboxMessage.office_id.in_(user.office_ids))


async def outbox_page(db: AsyncSession, user: User, status: str, page: int) -> OutboxPage:
    """One page of the messages ``user`` may see, newest first, of one status or all (``""``)."""
    query = _visible(
        select(OutboxMessage, Office).outerjoin(Office, Office.id == OutboxMessage.office_id), user
    )
    if status:
        query = query.where(OutboxMessage.status == status)
    page = max(page, 1)
    # One row more than a page tells whether there is an older page, without counting.
    query = query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    rows = list(await db.execute(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return OutboxPage(
        messages=[(message, office) for message, office in rows[:PAGE_SIZE]],
        page=page,
        has_next=len(rows) > PAGE_SIZE,
    )


async def visible_message(db: AsyncSession, user: User, message_id: int) -> OutboxMessage:
    """The message if ``user`` may see it: 404 when there is none, 403 when it is another office's."""
    message = await db.get(OutboxMessage, message_id)
    if message is None:
        raise NotFoundException("No such message.")
    ensure(_may_see_all(user) or (message.office_id is not None and message.office_id in user.office_ids))
    return message


async def booking_reference(db: AsyncSession, message: OutboxMessage) -> str | None:
    if message.booking_id is None:
        return None
    return await db.scalar(select(Booking.reference).where(Booking.id == message.booking_id))


async def send_again(db: AsyncSession, user: User, message_id: int, now: datetime) -> bool:
    """Put a failed message back in the queue for another full round of tries; False when it had not
    failed (it is waiting, being sent or sent already)."""
    message = await visible_message(db, user, message_id)
    result = await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == MessageStatus.FAILED.value)
        .values(status=MessageStatus.PENDING.value, attempts=0, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    record_change(db, user, "outbox.retry", "outbox_message", message.id, message.office_id, {})
    return True
