"""The confirmations a resident gets when a visit is booked, moved or cancelled: an e-mail with the
visit as a calendar file, or a short text message, in the language the resident booked in; and the
reminder the worker sends a while before the visit (:mod:`kontor.worker.reminders`).

They are written to the outbox in the caller's transaction, so a message exists exactly when the
change it tells of was committed; the sender delivers them afterwards.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from kontor.booking.models import Booking, Need
from kontor.booking.references import format_reference
from kontor.calendars.booking import calendar_url, manage_url, visit_calendar, visit_event
from kontor.i18n import N_, _, current_locale, format_date, format_day, format_time
from kontor.notify.models import MessageChannel, MessageStatus, OutboxMessage
from kontor.settings import Settings

EVENTS = ("booked", "rescheduled", "cancelled")
REMINDER = "reminder"
SMS_LIMIT = 300

NEED_LABELS = {
    Need.INTERPRETER.value: N_("an interpreter"),
    Need.ACCESSIBILITY.value: N_("accessibility (for example step-free access)"),
    Need.COMPUTER_HELP.value: N_("help with a computer"),
}

_SUBJECTS = {
    "booked": N_("Your visit is booked: %(service)s, %(date)s"),
    "rescheduled": N_("Your visit has been moved: %(service)s, %(date)s"),
    "cancelled": N_("Your visit is cancelled: %(service)s, %(date)s"),
    REMINDER: N_("Reminder of your visit: %(service)s, %(date)s"),
}
_NEWS = {
    "booked": N_("Your visit is booked."),
    "rescheduled": N_("Your visit has been moved to a new time."),
    "cancelled": N_("Your visit has been cancelled."),
    REMINDER: N_("This is a reminder of your visit."),
}
_SMS = {
    "booked": N_("Booked: %(service)s, %(office)s, %(when)s. Reference %(reference)s."),
    "rescheduled": N_("Moved: %(service)s, %(office)s, now %(when)s. Reference %(reference)s."),
    "cancelled": N_("Cancelled: %(service)s, %(office)s, %(when)s. Reference %(reference)s."),
    REMINDER: N_("Reminder: %(service)s, %(office)s, %(when)s. Reference %(reference)s."),
}
# A seat given back in time can go to someone on the waiting list.
_CANNOT_COME = N_("If you cannot come, please cancel, so that someone else can have the time.")


@dataclasses.dataclass(frozen=True, slots=True)
class _Visit:
    """The facts every message repeats, already in the resident's language."""

    name: str
    service: str
    office: str
    address: str
    phone: str
    date: str
    day: str
    time: str
    end: str
    reference: str
    needs: str
    manage: str | None
    ics: str | None
    book: str


def _visit(booking: Booking, settings: Settings, token: str | None) -> _Visit:
    office = booking.office
    zone = ZoneInfo(office.timezone)
    local_start = booking.starts_at.astimezone(zone)
    public_url = settings.public_url.rstrip("/")
    return _Visit(
        name=booking.name,
        service=booking.service.name(booking.language),
        office=office.name,
        address=office.address,
        phone=office.phone,
        date=format_date(local_start.date(), "full"),
        day=format_day(local_start.date()),
        time=format_time(booking.starts_at, zone),
        end=format_time(booking.ends_at, zone),
        reference=format_reference(booking.reference),
        needs=", ".join(_(NEED_LABELS[need]) for need in booking.needs if need in NEED_LABELS),
        manage=manage_url(public_url, booking.reference, token) if token else None,
        ics=calendar_url(public_url, booking.reference, token) if token else None,
        book=f"{public_url}/book",
    )


def _email_body(event: str, visit: _Visit) -> str:
    lines = [_("Hello %(name)s,", name=visit.name), "", _(_NEWS[event]), ""]
    lines.append(_("What: %(service)s", service=visit.service))
    where = ", ".join(part for part in (visit.office, visit.address) if part)
    lines.append(_("Where: %(place)s", place=where))
    lines.append(_("When: %(date)s, %(start)s–%(end)s", date=visit.date, start=visit.time, end=visit.end))
    lines.append(_("Booking reference: %(reference)s", reference=visit.reference))
    if visit.needs and event != "cancelled":
        lines.append(_("You told us you need %(needs)s.", needs=visit.needs))
    lines.append("")
    if event == "cancelled":
        lines.append(_("To book a new visit: %(url)s", url=visit.book))
    elif visit.manage:
        if event == REMINDER:
            lines.append(_(_CANNOT_COME))
        lines.append(_("To see, change or cancel your visit: %(url)s", url=visit.manage))
        if visit.ics:
            lines.append(_("Add the visit to your calendar: %(url)s", url=visit.ics))
    else:
        lines.append(_("To change or cancel your visit, use the link in your confirmation."))
    if visit.phone:
        lines.append(_("Questions? Call the office: %(phone)s", phone=visit.phone))
    lines += ["", _("Welcome!") if event != "cancelled" else _("Kind regards,"), visit.office]
    return "\n".join(lines) + "\n"


def _sms_body(event: str, visit: _Visit) -> str:
    """At most SMS_LIMIT characters: long service and office names give way before the links do."""

    def compose(shorten: Callable[[str], str]) -> str:
        when = f"{visit.day} {visit.time}"
        # A reminder is read on the way there: it says where, not only which office.
        place = ", ".join(part for part in (visit.office, visit.address) if part) if event == REMINDER else ""
        headline = _(
            _SMS[event],
            service=shorten(visit.service),
            office=shorten(place or visit.office),
            when=when,
            reference=visit.reference,
        )
        parts = [headline]
        if event != "cancelled" and visit.manage:
            parts.append(_("Change or cancel: %(url)s", url=visit.manage))
        elif event != "cancelled":
            parts.append(_("To change or cancel, use the link in your confirmation."))
        if visit.phone:
            parts.append(_("Office phone: %(phone)s", phone=visit.phone))
        return " ".join(parts)

    return fit_sms(compose)


def fit_sms(compose: Callable[[Callable[[str], str]], str], limit: int = SMS_LIMIT) -> str:
    """The text ``compose`` writes, at most ``limit`` characters: ``compose`` passes the names it
    may shorten (service, office) through the function it is given, and they give way, ever
    shorter, before the links and references do."""
    for width in (None, 40, 24, 12):
        text = compose(lambda name, width=width: cut(name, width))
        if len(text) <= limit:
            return text
    return cut(text, limit)


def cut(text: str, width: int | None) -> str:
    """``text`` cut to ``width`` characters with an ellipsis (None: as it is)."""
    if width is None or len(text) <= width:
        return text
    return text[: width - 1].rstrip() + "…"


def queue_booking_messages(
    db: AsyncSession,
    booking: Booking,
    event: str,
    *,
    settings: Settings,
    token: str | None,
    now: datetime,
    sequence: int = 0,
) -> list[OutboxMessage]:
    """Add to ``db`` one message for each way to reach the resident (e-mail, text message) telling
    of ``event`` ("booked", "rescheduled" or "cancelled"), in the booking's language. ``token`` is
    the booking's private token when the caller has it (just booked): only then do the messages
    carry the link to manage the booking. ``sequence`` orders the calendar file's versions."""
    if event not in EVENTS:
        raise ValueError(f"unknown booking event {event!r}; expected one of {EVENTS}")
    return _queue(db, booking, event, settings=settings, token=token, now=now, sequence=sequence)


def queue_reminder_messages(
    db: AsyncSession, booking: Booking, *, settings: Settings, token: str, now: datetime
) -> list[OutboxMessage]:
    """Add to ``db`` the reminder of a coming visit (kind "reminder"), one message for each way to
    reach the resident, in the booking's language: what, where, when, the reference, the needs, and
    the link to manage the booking with ``token``, the reminder's own token. No calendar file: the
    visit is in the resident's calendar since the confirmation, and a second copy could duplicate it."""
    return _queue(db, booking, REMINDER, settings=settings, token=token, now=now, sequence=None)


def _queue(
    db: AsyncSession,
    booking: Booking,
    event: str,
    *,
    settings: Settings,
    token: str | None,
    now: datetime,
    sequence: int | None,
) -> list[OutboxMessage]:
    """The messages of ``event``; e-mails carry the visit as a calendar file unless ``sequence`` is None."""
    reset = current_locale.set(booking.language)
    try:
        visit = _visit(booking, settings, token)
        messages: list[OutboxMessage] = []
        if booking.email:
            calendar: str | None = None
            if sequence is not None:
                event_file = visit_event(
                    booking,
                    locale=booking.language,
                    public_url=settings.public_url,
                    token=token,
                    sequence=sequence,
                    stamp=now,
                )
                event_file = dataclasses.replace(event_file, cancelled=event == "cancelled")
                calendar = visit_calendar(event_file).decode()
            subject = _(_SUBJECTS[event], service=visit.service, date=visit.date)
            messages.append(
                pending_message(
                    booking,
                    event,
                    MessageChannel.EMAIL,
                    booking.email,
                    now,
                    subject=cut(subject, 200),
                    body=_email_body(event, visit),
                    calendar=calendar,
                )
            )
        if booking.phone:
            messages.append(
                pending_message(
                    booking, event, MessageChannel.SMS, booking.phone, now, body=_sms_body(event, visit)
                )
            )
    finally:
        current_locale.reset(reset)
    db.add_all(messages)
    return messages


def pending_message(
    about: Booking | None,
    kind: str,
    channel: MessageChannel,
    recipient: str,
    now: datetime,
    *,
    body: str,
    subject: str = "",
    calendar: str | None = None,
    language: str | None = None,
    office_id: int | None = None,
) -> OutboxMessage:
    """A message to ``recipient``, due at ``now`` and not yet tried. It is about ``about`` (its office
    and language unless given) or, without a booking, about ``office_id`` in ``language``."""
    if about is None and language is None:
        raise ValueError("a message about no booking needs its language")
    return OutboxMessage(
        created_at=now,
        channel=channel.value,
        kind=kind,
        booking_id=about.id if about is not None else None,
        office_id=office_id if office_id is not None or about is None else about.office_id,
        recipient=recipient,
        language=language or about.language,  # type: ignore[union-attr]
        subject=subject,
        body=body,
        calendar=calendar,
        status=MessageStatus.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        last_error="",
    )
