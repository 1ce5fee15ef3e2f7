"""Contacts: logging a call, the case that follows the resident to the office, call-backs, and looking
up a caller's bookings.

A contact is what the office must know about a call (category, a short summary, needs) and nothing
more (DESIGN rule 6); its personal data is blanked after the retention period (contacts.retention).
Every look-up of a person's bookings is written to the audit log, without the number searched for.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from litestar.exceptions import NotFoundException
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import can_work_in_office, ensure
from kontor.accounts.models import User
from kontor.audit import services as audit
from kontor.audit.models import Channel
from kontor.booking.models import Booking, BookingStatus, Need
from kontor.booking.policy import contact_keys
from kontor.booking.references import format_reference, normalize_reference
from kontor.contacts.models import CallbackStatus, Category, Contact, Outcome, WebhookEvent
from kontor.contacts.webhooks import callback_payload, emit
from kontor.i18n import LOCALES, N_
from kontor.live.bus import announce
from kontor.live.events import CALLBACKS
from kontor.offices.models import Office, Service
from kontor.settings import Settings

__all__ = [
    "CATEGORY_LABELS",
    "NOTE_MAX",
    "OUTCOME_LABELS",
    "SUMMARY_MAX",
    "CallerRecord",
    "ContactError",
    "callbacks_done_today",
    "contact_for_booking",
    "handoffs",
    "log_contact",
    "lookup_caller",
    "mark_callback_done",
    "office_callbacks",
    "open_callbacks",
    "phone_key",
    "request_callback_due",
]

SUMMARY_MAX = 1000
NOTE_MAX = 500
PHONE_DIGITS = (6, 20)
# A caller's record: bookings from this far back, contacts from this far back, at most this many.
BOOKINGS_BACK = timedelta(days=30)
CONTACTS_BACK = timedelta(days=90)
CONTACTS_SHOWN = 20
BOOKINGS_SHOWN = 50
_PHONE = re.compile(r"^\+?[0-9 ()-]{6,40}$")
_IN_BATCHES_OF = 500

OUTCOME_LABELS = {
    Outcome.SOLVED.value: N_("Solved on the phone"),
    Outcome.VISIT_BOOKED.value: N_("Visit booked"),
    Outcome.FORWARDED.value: N_("Forwarded to an office"),
    Outcome.CALLBACK.value: N_("Call-back requested"),
}
CATEGORY_LABELS = {
    Category.INFORMATION.value: N_("Information and advice"),
    Category.ESERVICES.value: N_("Help with e-services"),
    Category.FORMS.value: N_("Forms and applications"),
    Category.BENEFITS.value: N_("Benefits and allowances"),
    Category.HOUSING.value: N_("Housing"),
    Category.BUDGET.value: N_("Budget and debt advice"),
    Category.OTHER.value: N_("Other"),
}


class ContactError(Exception):
    """Why a contact could not be logged or changed. ``message`` is an English msgid (callers
    translate); ``kind`` is 'invalid' or 'not_found'; ``field`` names the form field at fault."""

    def __init__(self, kind: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class CallerRecord:
    """What an agent sees of a caller: their bookings (upcoming first) and recent contacts (newest first)."""

    bookings: list[Booking]
    contacts: list[Contact]


def phone_key(phone: str | None) -> str | None:
    """The digits a number is recognised by (as bookings store them), or None when ``phone`` is empty.
    Raises ContactError('invalid', field 'phone') for something that is not a phone number."""
    phone = (phone or "").strip()
    if not phone:
        return None
    key = contact_keys(None, phone)[0]
    if not _PHONE.match(phone) or not PHONE_DIGITS[0] <= len(key) <= PHONE_DIGITS[1]:
        raise ContactError("invalid", N_("Enter a valid phone number, like 070-123 45 67."), "phone")
    return key


def request_callback_due(now: datetime, settings: Settings) -> datetime:
    """When a call-back is due unless the agent chose a time."""
    return now + timedelta(hours=settings.callback_due_hours)


def _choice(value: str, known: Collection[str], message: str, field: str) -> str:
    if value not in known:
        raise ContactError("invalid", message, field)
    return value


def _summary(summary: str) -> str:
    summary = (summary or "").strip()
    if not summary:
        raise ContactError("invalid", N_("Write a short summary of what the call was about."), "summary")
    if len(summary) > SUMMARY_MAX:
        raise ContactError("invalid", N_("The summary can be at most 1000 characters long."), "summary")
    return summary


def _needs(needs: Iterable[str]) -> list[str]:
    chosen = set(needs)
    if not chosen <= {need.value for need in Need}:
        raise ContactError("invalid", N_("Choose needs from the list."), "needs")
    return sorted(chosen)


def _due(callback_due_at: datetime | None, now: datetime, settings: Settings) -> datetime:
    if callback_due_at is None:
        return request_callback_due(now, settings)
    if callback_due_at.tzinfo is None or callback_due_at.utcoffset() is None:
        raise ContactError("invalid", N_("Choose when the office should call back."), "callback_due_at")
    due = callback_due_at.astimezone(UTC)
    if due < now:
        message = N_("The call-back time has passed. Choose a later time.")
        raise ContactError("invalid", message, "callback_due_at")
    return due


async def _office(db: AsyncSession, office_id: int | None) -> Office | None:
    if office_id is None:
        return None
    office = await db.scalar(select(Office).where(Office.id == office_id, Office.active.is_(True)))
    if office is None:
        raise ContactError("not_found", N_("There is no such office."), "office")
    return office


async def _check_service(db: AsyncSession, service_id: int | None) -> None:
    if service_id is not None and await db.scalar(select(Service.id).where(Service.id == service_id)) is None:
        raise ContactError("not_found", N_("There is no such service."), "service")


async def log_contact(
    db: AsyncSession,
    *,
    agent: User | None,
    channel: Channel,
    category: str,
    outcome: str,
    summary: str,
    office_id: int | None = None,
    service_id: int | None = None,
    booking: Booking | None = None,
    phone: str | None = None,
    language: str | None = None,
    needs: Iterable[str] | None = None,
    callback_due_at: datetime | None = None,
    now: datetime,
    settings: Settings,
) -> Contact:
    """Log one call. A booking fills in the office and service, and (unless given) the caller's
    number, language and needs; a call-back is opened in the office's list, due by
    ``callback_due_at`` or :func:`request_callback_due`. ContactError names the field at fault."""
    category = _choice(category, CATEGORY_LABELS, N_("Choose what the call was about."), "category")
    outcome = _choice(outcome, OUTCOME_LABELS, N_("Choose how the call ended."), "outcome")
    summary = _summary(summary)
    if booking is not None:
        office_id, service_id = booking.office_id, booking.service_id
        phone = phone if phone and phone.strip() else booking.phone
        language = language or booking.language
        needs = booking.needs if needs is None else needs
    language = _choice(language or "sv", LOCALES, N_("Choose Swedish, English or Finnish."), "language")
    needs = _needs(needs or ())
    key = phone_key(phone)
    if outcome == Outcome.VISIT_BOOKED and booking is None:
        raise ContactError("invalid", N_("Book the visit first, then log the call."), "booking")
    if outcome in (Outcome.FORWARDED, Outcome.CALLBACK) and office_id is None:
        raise ContactError("invalid", N_("Choose the office that takes over the case."), "office")
    if outcome == Outcome.CALLBACK and key is None:
        raise ContactError("invalid", N_("Enter the number the office should call back."), "phone")
    office = await _office(db, office_id) if booking is None else booking.office
    await _check_service(db, service_id if booking is None else None)
    is_callback = outcome == Outcome.CALLBACK
    contact = Contact(
        agent_id=agent.id if agent is not None else None,
        channel=channel.value,
        category=category,
        outcome=outcome,
        summary=summary,
        office_id=office_id,
        service_id=service_id,
        booking_id=booking.id if booking is not None else None,
        phone=phone.strip() if key is not None and phone else None,
        contact_key=key,
        language=language,
        needs=needs,
        callback_status=CallbackStatus.OPEN.value if is_callback else None,
        callback_due_at=_due(callback_due_at, now, settings) if is_callback else None,
        created_at=now,
        updated_at=now,
    )
    db.add(contact)
    await db.flush()
    changes: dict[str, object] = {"category": category, "outcome": outcome}
    if booking is not None:
        changes["booking"] = format_reference(booking.reference)
    if contact.callback_due_at is not None:
        changes["callback_due_at"] = contact.callback_due_at.isoformat()
    audit.record(
        db,
        actor=agent if agent is not None else channel.value,
        channel=channel,
        action="contact.logged",
        entity="contact",
        entity_id=contact.id,
        office_id=office_id,
        changes=changes,
    )
    if is_callback:
        await emit(db, WebhookEvent.CALLBACK_REQUESTED, callback_payload(contact, office), now=now)
        if contact.office_id is not None:  # always, for a call-back: the office's desk shows it at once
            await announce(db, contact.office_id, CALLBACKS)
    return contact


async def mark_callback_done(
    db: AsyncSession, contact_id: int, *, user: User, note: str = "", channel: Channel, now: datetime
) -> Contact:
    """Mark a call-back done, with an optional note. Marking it done again changes nothing.
    404 when there is no such call-back, 403 unless ``user`` works in its office."""
    contact = await db.scalar(
        select(Contact).where(Contact.id == contact_id, Contact.callback_status.is_not(None))
    )
    if contact is None:
        raise NotFoundException("No such call-back.")
    ensure(contact.office_id is not None and can_work_in_office(user, contact.office_id))
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ContactError("invalid", N_("The note can be at most 500 characters long."), "note")
    # Conditional, so two people marking it at once record one event.
    result = await db.execute(
        update(Contact)
        .where(Contact.id == contact.id, Contact.callback_status == CallbackStatus.OPEN.value)
        .values(
            callback_status=CallbackStatus.DONE.value,
            callback_done_at=now,
            callback_done_by_id=user.id,
            callback_note=note,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    await db.refresh(contact)
    if result.rowcount != 1:
        return contact
    audit.record(
        db,
        actor=user,
        channel=channel,
        action="callback.done",
        entity="contact",
        entity_id=contact.id,
        office_id=contact.office_id,
        changes={"callback_status": {"before": "open", "after": "done"}},
    )
    office = await db.get(Office, contact.office_id) if contact.office_id is not None else None
    await emit(db, WebhookEvent.CALLBACK_DONE, callback_payload(contact, office), now=now)
    if contact.office_id is not None:
        await announce(db, contact.office_id, CALLBACKS)
    return contact


async def open_callbacks(db: AsyncSession, office_id: int) -> list[Contact]:
    """The office's open call-backs, the one due first at the top."""
    return list(
        await db.scalars(
            select(Contact)
            .where(Contact.office_id == office_id, Contact.callback_status == CallbackStatus.OPEN.value)
            .order_by(Contact.callback_due_at, Contact.id)
        )
    )


async def callbacks_done_today(db: AsyncSession, office: Office, now: datetime) -> list[Contact]:
    """The office's call-backs marked done since midnight at the office, the latest first."""
    zone = ZoneInfo(office.timezone)
    midnight = datetime.combine(now.astimezone(zone).date(), time(), zone).astimezone(UTC)
    return list(
        await db.scalars(
            select(Contact)
            .where(
                Contact.office_id == office.id,
                Contact.callback_status == CallbackStatus.DONE.value,
                Contact.callback_done_at >= midnight,
            )
            .order_by(Contact.callback_done_at.desc(), Contact.id.desc())
        )
    )


async def office_callbacks(
    db: AsyncSession, office: Office, now: datetime
) -> tuple[list[Contact], list[Contact]]:
    """:func:`open_callbacks` and :func:`callbacks_done_today` of ``office`` in one round trip (the
    desk reads both on every refresh), each in its own order."""
    zone = ZoneInfo(office.timezone)
    midnight = datetime.combine(now.astimezone(zone).date(), time(), zone).astimezone(UTC)
    rows = await db.scalars(
        select(Contact).where(
            Contact.office_id == office.id,
            or_(
                Contact.callback_status == CallbackStatus.OPEN.value,
                and_(
                    Contact.callback_status == CallbackStatus.DONE.value,
                    Contact.callback_done_at >= midnight,
                ),
            ),
        )
    )
    found = list(rows)
    waiting = [c for c in found if c.callback_status == CallbackStatus.OPEN.value]
    done = [c for c in found if c.callback_status == CallbackStatus.DONE.value]
    # As the two queries order them (a call-back always has its due time; None only guards old rows).
    waiting.sort(key=lambda c: (c.callback_due_at is None, c.callback_due_at or midnight, c.id))
    done.sort(key=lambda c: (c.callback_done_at or midnight, c.id), reverse=True)
    return waiting, done


async def handoffs(db: AsyncSession, booking_ids: Collection[int]) -> dict[int, Contact]:
    """Per booking, its latest contact with a summary still kept: what the desk and the counter show
    as the contact center's hand-off."""
    ids = sorted(set(booking_ids))
    found: dict[int, Contact] = {}
    for start in range(0, len(ids), _IN_BATCHES_OF):
        rows = await db.scalars(
            select(Contact)
            .where(
                Contact.booking_id.in_(ids[start : start + _IN_BATCHES_OF]),
                Contact.purged_at.is_(None),
                Contact.summary != "",
            )
            .order_by(Contact.created_at, Contact.id)
        )
        for contact in rows:
            assert contact.booking_id is not None
            found[contact.booking_id] = contact  # later ones replace earlier ones
    return found


async def contact_for_booking(db: AsyncSession, booking_id: int) -> Contact | None:
    return (await handoffs(db, [booking_id])).get(booking_id)


def _digits_of(column):  # type: ignore[no-untyped-def]
    """A stored phone number without the separators people type (spaces, dashes, brackets)."""
    for separator in (" ", "-", "(", ")"):
        column = func.replace(column, separator, "")
    return column


def _written_forms(key: str) -> list[str]:
    """How a number with the digits ``key`` may have been typed, once separators are removed."""
    forms = [key]
    if key.startswith("0") and not key.startswith("00"):
        forms += ["+46" + key[1:], "0046" + key[1:]]
    return forms


_LISTED = (BookingStatus.HELD.value, BookingStatus.EXPIRED.value)


async def _bookings_by_phone(db: AsyncSession, key: str, now: datetime) -> list[Booking]:
    # A booking with an e-mail address is known by it; its number (if any) is then matched as typed.
    by_number = and_(Booking.email.is_not(None), _digits_of(Booking.phone).in_(_written_forms(key)))
    return list(
        await db.scalars(
            select(Booking)
            .where(
                or_(Booking.contact_key == key, by_number),
                Booking.status.not_in(_LISTED),
                Booking.starts_at >= now - BOOKINGS_BACK,
            )
            .order_by(Booking.starts_at)
            .limit(BOOKINGS_SHOWN)
        )
    )


async def _booking_by_reference(db: AsyncSession, reference: str) -> Booking | None:
    return await db.scalar(
        select(Booking).where(Booking.reference == reference, Booking.status.not_in(_LISTED))
    )


def _upcoming_first(bookings: Iterable[Booking], now: datetime) -> list[Booking]:
    unique = {booking.id: booking for booking in bookings}.values()
    upcoming = sorted((b for b in unique if b.ends_at > now), key=lambda b: (b.starts_at, b.id))
    past = sorted((b for b in unique if b.ends_at <= now), key=lambda b: (b.starts_at, b.id), reverse=True)
    return upcoming + past


async def _recent_contacts(
    db: AsyncSession, key: str | None, booking_ids: list[int], now: datetime
) -> list[Contact]:
    matches = []
    if key is not None:
        matches.append(Contact.contact_key == key)
    if booking_ids:
        matches.append(Contact.booking_id.in_(booking_ids))
    if not matches:
        return []
    return list(
        await db.scalars(
            select(Contact)
            .where(or_(*matches), Contact.created_at >= now - CONTACTS_BACK, Contact.purged_at.is_(None))
            .order_by(Contact.created_at.desc(), Contact.id.desc())
            .limit(CONTACTS_SHOWN)
        )
    )


async def lookup_caller(
    db: AsyncSession,
    *,
    user: User,
    phone: str | None = None,
    reference: str | None = None,
    channel: Channel,
    now: datetime,
) -> CallerRecord:
    """The caller's bookings and recent contacts, by their phone number, a booking reference, or both.
    Every look-up is written to the audit log: how it was made and what it showed, not the number."""
    searched_by: list[str] = []
    bookings: list[Booking] = []
    key = phone_key(phone)
    if key is not None:
        searched_by.append("phone")
        bookings += await _bookings_by_phone(db, key, now)
    if reference and reference.strip():
        stored = normalize_reference(reference)
        if stored is None:
            raise ContactError("invalid", N_("Enter a booking reference like ACDE-4779."), "reference")
        searched_by.append("reference")
        found = await _booking_by_reference(db, stored)
        if found is not None:
            bookings.append(found)
    if not searched_by:
        raise ContactError("invalid", N_("Enter the caller's phone number or a booking reference."), "phone")
    bookings = _upcoming_first(bookings, now)
    contacts = await _recent_contacts(db, key, [booking.id for booking in bookings], now)
    audit.record(
        db,
        actor=user,
        channel=channel,
        action="caller.lookup",
        entity="caller",
        changes={
            "searched_by": searched_by,
            "references": [format_reference(booking.reference) for booking in bookings],
            "contacts": [contact.id for contact in contacts],
        },
    )
    return CallerRecord(bookings=bookings, contacts=contacts)
