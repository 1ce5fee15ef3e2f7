"""The walk-in's text message when their turn is near, and the number it goes to.

A resident may leave a mobile number on their ticket's page, or give it at the front desk. When
``settings.ticket_alert_ahead`` or fewer people are ahead of the ticket in its line (the counters'
own order, :func:`kontor.queue.rules.position_in_line`), the worker queues one text message to it
and marks the ticket (``alerted_at``) in the same transaction: however many workers look at once,
one takes the ticket (``SKIP LOCKED`` on PostgreSQL, one writer at a time on SQLite) and the others
skip it. A ticket is texted once, whatever becomes of its number afterwards, so a ticket's link
cannot be used to send text messages to anyone else's phone over and over.

The message names the office and the code, never the resident, and links to the office's public
waiting-room screen: the ticket's own link is kept only hashed and cannot be repeated.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from kontor.accounts.models import User
from kontor.audit.history import record_change
from kontor.audit.models import Channel
from kontor.contacts.services import ContactError, phone_key
from kontor.db.engine import WRITE_OPTION
from kontor.i18n import DEFAULT_LOCALE, LOCALES, N_, _, current_locale, ngettext
from kontor.notify.messages import cut, pending_message
from kontor.notify.models import MessageChannel
from kontor.offices.models import Office
from kontor.queue.errors import QueueError
from kontor.queue.models import Ticket, TicketEvent, TicketStatus
from kontor.queue.rules import position_in_line
from kontor.queue.tickets import claim, office_day, record_ticket_change, waiting_in_order
from kontor.settings import Settings

__all__ = [
    "KIND",
    "KIND_LABELS",
    "SMS_LENGTH",
    "PhoneError",
    "TicketDone",
    "alert_text",
    "check_phone",
    "forget_phone",
    "leave_phone",
    "queue_ticket_alerts",
]

log = logging.getLogger(__name__)

KIND = "ticket_alert"
KIND_LABELS = {KIND: N_("Your turn is near")}
# One text message; longer ones are split and cost more. The texts keep to the GSM alphabet
# (Swedish and Finnish letters are in it, a dash like "—" is not and would halve the length).
SMS_LENGTH = 160
_WAITING = TicketStatus.WAITING.value


class PhoneError(QueueError):
    """A number that is not a phone number; ``message`` is the form's error (an English msgid)."""

    message = N_("Enter a valid phone number, like 070-123 45 67.")


class TicketDone(QueueError):
    """The ticket no longer waits in today's queue: no number is taken for it."""

    message = N_("This ticket is not in today's queue any more.")


def check_phone(text: str) -> str:
    """The number typed, checked by the rule the booking form and the agent console apply
    (:func:`kontor.contacts.services.phone_key`), and written the one way it is stored: digits only,
    with a ``+`` before the country code of an international number ("070-123 45 67" is
    "0701234567", "+46 (0)70-123 45 67" and "0046701234567" are "+46701234567"). PhoneError otherwise."""
    try:
        key = phone_key(text)
    except ContactError as error:
        raise PhoneError(error.message) from None
    if key is None:
        raise PhoneError(N_("Enter your mobile number."))
    typed = text.strip().replace("(0)", "")
    digits = "".join(c for c in typed if c.isascii() and c.isdigit())
    if typed.startswith("+"):
        return f"+{digits}"
    if digits.startswith("00"):
        return f"+{digits[2:]}"
    return digits


async def leave_phone(
    db: AsyncSession,
    ticket: Ticket,
    phone: str,
    *,
    channel: Channel,
    actor: User | str,
    now: datetime,
    language: str | None = None,
) -> Ticket:
    """Keep ``phone`` (from :func:`check_phone`) on a ticket waiting today, for its text message; the
    ticket as stored now. ``language``, the page's, becomes the ticket's when it has none, so the
    message comes in the language the number was left in. TicketDone when it was called, finished
    or is of another day meanwhile."""
    if ticket.day != office_day(ticket.office, now) or ticket.purged_at is not None:
        raise TicketDone()
    if ticket.phone == phone and ticket.status == _WAITING:  # sent twice: kept already
        return ticket
    change = "changed" if ticket.phone else "added"
    values: dict[str, str] = {"phone": phone}
    if ticket.language is None and language:
        values["language"] = language
    fresh = await claim(db, ticket.id, [_WAITING], **values)
    if fresh is None:
        raise TicketDone()
    # That the number changed, never the number itself (DESIGN rule 6).
    record_ticket_change(
        db, fresh, f"phone_{change}", channel=channel, actor=actor, now=now, changes={"phone": change}
    )
    return fresh


async def forget_phone(
    db: AsyncSession, ticket: Ticket, *, channel: Channel, actor: User | str, now: datetime
) -> bool:
    """Blank the ticket's number, whatever the ticket's state; False when it had none."""
    result = await db.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.phone.is_not(None))
        .values(phone=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(ticket, "phone", None)
    changes = {"phone": "removed"}
    record_ticket_change(db, ticket, "phone_removed", channel=channel, actor=actor, now=now, changes=changes)
    return True


def alert_text(office: str, code: str, ahead: int, link: str | None) -> str:
    """The message in the current locale, within SMS_LENGTH where it can be: the link goes first,
    then a long office name is shortened."""

    def compose(name: str, with_link: bool) -> str:
        if ahead <= 0:
            text = _(
                "%(office)s: ticket %(code)s, you are next. Please come back to the waiting room.",
                office=name,
                code=code,
            )
        else:
            text = ngettext(
                "%(office)s: ticket %(code)s, %(num)s person ahead of you. "
                "Please come back to the waiting room.",
                "%(office)s: ticket %(code)s, %(num)s people ahead of you. "
                "Please come back to the waiting room.",
                ahead,
                office=name,
                code=code,
            )
        if with_link and link:
            text += " " + _("Follow the calls: %(url)s", url=link)
        return text

    text = ""
    for width, with_link in ((None, True), (None, False), (24, False), (12, False)):
        text = compose(cut(office, width), with_link)
        if len(text) <= SMS_LENGTH:
            return text
    return text


@dataclass(frozen=True, slots=True)
class _Due:
    """A ticket to text: what the message needs, and how many are ahead of it."""

    id: int
    office: Office
    code: str
    phone: str
    language: str | None
    ahead: int


def _candidates(now: datetime, ids: Sequence[int] | None = None) -> Select:
    """Waiting tickets with a number and no message yet, of the days that can be today somewhere."""
    utc_day: date = now.astimezone(UTC).date()
    query = select(Ticket.id, Ticket.office_id, Ticket.code, Ticket.phone, Ticket.language).where(
        Ticket.status == _WAITING,
        Ticket.phone.is_not(None),
        Ticket.alerted_at.is_(None),
        Ticket.purged_at.is_(None),
        Ticket.day.between(utc_day - timedelta(days=1), utc_day + timedelta(days=1)),
    )
    if ids is not None:
        query = query.where(Ticket.id.in_(list(ids)))
    return query.order_by(Ticket.id)


async def _due(db: AsyncSession, ahead_at_most: int, now: datetime, query: Select) -> list[_Due]:
    """Those of the tickets ``query`` selects that have ``ahead_at_most`` or fewer ahead of them now."""
    by_office: dict[int, list[tuple[int, str, str, str | None]]] = defaultdict(list)
    for ticket_id, office_id, code, phone, language in await db.execute(query):
        by_office[office_id].append((ticket_id, code, phone, language))
    due: list[_Due] = []
    for office_id, tickets in by_office.items():
        office = await db.get(Office, office_id)
        if office is None:
            continue
        # Today's line of the office; a ticket of another day is not in it and is never texted.
        line = await waiting_in_order(db, office, now)
        entries = {entry.id: entry for entry in line}
        for ticket_id, code, phone, language in tickets:
            entry = entries.get(ticket_id)
            if entry is None:
                continue
            ahead = position_in_line(line, entry, now) - 1
            if ahead <= ahead_at_most:
                due.append(_Due(ticket_id, office, code, phone, language, ahead))
    return due


async def queue_ticket_alerts(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> int:
    """The worker's step: queue the text message of every ticket whose turn is near; how many.

    The line is read first without a writer's lock (on SQLite the database has one writer, and
    this runs every few seconds); only when some ticket is due are those tickets locked, their
    places read again (someone may have been checked in ahead meanwhile) and their messages queued.
    """
    ahead_at_most = settings.ticket_alert_ahead
    if ahead_at_most <= 0:
        return 0
    async with session_maker() as db:
        await db.connection(execution_options={WRITE_OPTION: False})
        found = await _due(db, ahead_at_most, now, _candidates(now))
    if not found:
        return 0
    queued = 0
    async with session_maker() as db, db.begin():
        await db.connection(execution_options={WRITE_OPTION: True})
        locked = _candidates(now, [item.id for item in found]).with_for_update(skip_locked=True)
        for item in await _due(db, ahead_at_most, now, locked):
            queued += await _alert(db, item, settings, now)
    if queued:
        log.info("ticket alerts: %s queued", queued)
    return queued


async def _alert(db: AsyncSession, item: _Due, settings: Settings, now: datetime) -> int:
    """Mark the ticket texted and queue its message; 0 when another worker got there first."""
    marked = await db.execute(
        update(Ticket)
        .where(Ticket.id == item.id, Ticket.alerted_at.is_(None), Ticket.phone.is_not(None))
        .values(alerted_at=now)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        return 0
    language = _language(item.language, settings)
    link = f"{settings.public_url.rstrip('/')}/offices/{item.office.slug}/display"
    reset = current_locale.set(language)
    try:
        body = alert_text(item.office.name, item.code, item.ahead, link)
    finally:
        current_locale.reset(reset)
    db.add(
        pending_message(
            None,
            KIND,
            MessageChannel.SMS,
            item.phone,
            now,
            body=body,
            language=language,
            office_id=item.office.id,
        )
    )
    record_change(
        db, TicketEvent, "alerted", channel=Channel.SYSTEM, actor="system", now=now,
        changes={"ahead": item.ahead}, ticket_id=item.id,
    )  # fmt: skip
    return 1


def _language(wanted: str | None, settings: Settings) -> str:
    """The ticket's language when kontor writes in it, else the installation's default."""
    if wanted in LOCALES:
        return wanted  # type: ignore[return-value]
    return settings.default_language if settings.default_language in LOCALES else DEFAULT_LOCALE
