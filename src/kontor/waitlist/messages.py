"""What the waitlist tells a resident: that they are in line, and that a seat is free for them for a
short while. An e-mail and/or a text message, in the language they joined in, written to the outbox
in the transaction that made the change, as the booking confirmations are (kontor.notify.messages).

The links go to the entry's private page, ``/waitlist/{token}``: the entry's own token in the
message of joining, and the offer's token (minted for each offer) in an offer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from kontor.booking.models import Booking
from kontor.i18n import N_, _, current_locale, format_date, format_day, format_time, ngettext
from kontor.notify.messages import cut, fit_sms, pending_message
from kontor.notify.models import MessageChannel, OutboxMessage
from kontor.settings import Settings
from kontor.waitlist.models import WaitlistEntry

JOINED = "waitlist_joined"
OFFER = "waitlist_offer"
KIND_LABELS = {JOINED: N_("Joined the waitlist"), OFFER: N_("Waitlist offer")}

__all__ = ["JOINED", "KIND_LABELS", "OFFER", "entry_url", "queue_joined_messages", "queue_offer_messages"]


def entry_url(public_url: str, token: str) -> str:
    """The entry's private page at the address residents reach kontor at."""
    return f"{public_url.rstrip('/')}/waitlist/{quote(token, safe='')}"


@dataclasses.dataclass(frozen=True, slots=True)
class _Line:
    """What the message of joining repeats, already in the resident's language."""

    name: str
    service: str
    where: str
    first: str
    last: str
    link: str
    hold: str


@dataclasses.dataclass(frozen=True, slots=True)
class _Offer:
    """What an offer repeats, already in the resident's language."""

    name: str
    service: str
    office: str
    address: str
    phone: str
    date: str
    day: str
    time: str
    end: str
    deadline: str
    link: str


def _line(entry: WaitlistEntry, settings: Settings, token: str) -> _Line:
    where = entry.office.name if entry.office is not None else _("any office")
    return _Line(
        name=entry.name,
        service=entry.service.name(entry.language),
        where=where,
        first=format_date(entry.earliest, "long"),
        last=format_date(entry.latest, "long"),
        link=entry_url(settings.public_url, token),
        hold=ngettext("%(num)s minute", "%(num)s minutes", settings.waitlist_offer_minutes),
    )


def _offer(entry: WaitlistEntry, booking: Booking, settings: Settings, token: str, now: datetime) -> _Offer:
    office = booking.office
    zone = ZoneInfo(office.timezone)
    start = booking.starts_at.astimezone(zone)
    expires = (booking.hold_expires_at or now).astimezone(zone)
    # "until 14:05" the same day, "until Tuesday 15 December 09:00" when the hold runs past midnight.
    same_day = expires.date() == now.astimezone(zone).date()
    deadline = format_time(expires) if same_day else f"{format_day(expires.date())} {format_time(expires)}"
    return _Offer(
        name=entry.name,
        service=booking.service.name(entry.language),
        office=office.name,
        address=office.address,
        phone=office.phone,
        date=format_date(start.date(), "full"),
        day=format_day(start.date()),
        time=format_time(start),
        end=format_time(booking.ends_at, zone),
        deadline=deadline,
        link=entry_url(settings.public_url, token),
    )


def _joined_email(line: _Line) -> str:
    lines = [_("Hello %(name)s,", name=line.name), ""]
    lines.append(_("You are on the waitlist for %(service)s.", service=line.service))
    lines.append(_("Where: %(place)s", place=line.where))
    lines.append(_("Dates: %(first)s – %(last)s", first=line.first, last=line.last))
    lines.append("")
    lines.append(
        _(
            "When a time becomes free, we offer it to whoever is first in line. We hold it for you for "
            "%(hold)s: take it or decline it through the link in the offer.",
            hold=line.hold,
        )
    )
    lines.append(_("To see your place in line, or to leave the waitlist: %(url)s", url=line.link))
    lines += ["", _("Kind regards,"), _("The citizen offices")]
    return "\n".join(lines) + "\n"


def _offer_email(offer: _Offer) -> str:
    lines = [_("Hello %(name)s,", name=offer.name), ""]
    lines.append(_("A time has become free for you from the waitlist."))
    lines.append("")
    lines.append(_("What: %(service)s", service=offer.service))
    where = ", ".join(part for part in (offer.office, offer.address) if part)
    lines.append(_("Where: %(place)s", place=where))
    lines.append(_("When: %(date)s, %(start)s–%(end)s", date=offer.date, start=offer.time, end=offer.end))
    lines.append("")
    lines.append(_("We hold this time for you until %(deadline)s.", deadline=offer.deadline))
    lines.append(_("Take the time or decline it here: %(url)s", url=offer.link))
    lines.append(
        _("If you do not take it by then, it goes to the next person in line and you leave the waitlist.")
    )
    if offer.phone:
        lines.append(_("Questions? Call the office: %(phone)s", phone=offer.phone))
    lines += ["", _("Kind regards,"), offer.office]
    return "\n".join(lines) + "\n"


def _joined_sms(line: _Line) -> str:
    return fit_sms(
        lambda shorten: " ".join(
            [
                _(
                    "Waitlist: %(service)s, %(place)s, %(first)s–%(last)s. We send you a text message "
                    "when a time is free.",
                    service=shorten(line.service),
                    place=shorten(line.where),
                    first=line.first,
                    last=line.last,
                ),
                _("Your place, or leave: %(url)s", url=line.link),
            ]
        )
    )


def _offer_sms(offer: _Offer) -> str:
    when = f"{offer.day} {offer.time}"
    return fit_sms(
        lambda shorten: " ".join(
            [
                _(
                    "A time is free for you: %(service)s, %(office)s, %(when)s. Held until %(deadline)s.",
                    service=shorten(offer.service),
                    office=shorten(offer.office),
                    when=when,
                    deadline=offer.deadline,
                ),
                _("Take it or decline: %(url)s", url=offer.link),
            ]
        )
    )


def _queue(
    db: AsyncSession,
    entry: WaitlistEntry,
    kind: str,
    now: datetime,
    *,
    subject: Callable[[], str],
    email: Callable[[], str],
    sms: Callable[[], str],
    office_id: int | None,
    offered: Booking | None,
) -> list[OutboxMessage]:
    """One message for each way to reach the resident, written in the entry's language."""
    reset = current_locale.set(entry.language)
    try:
        messages: list[OutboxMessage] = []
        about = {"office_id": office_id, "language": entry.language}
        if entry.email:
            messages.append(
                pending_message(
                    offered,
                    kind,
                    MessageChannel.EMAIL,
                    entry.email,
                    now,
                    subject=cut(subject(), 200),
                    body=email(),
                    **about,
                )
            )
        if entry.phone:
            messages.append(
                pending_message(offered, kind, MessageChannel.SMS, entry.phone, now, body=sms(), **about)
            )
    finally:
        current_locale.reset(reset)
    db.add_all(messages)
    return messages


def queue_joined_messages(
    db: AsyncSession, entry: WaitlistEntry, *, settings: Settings, token: str, now: datetime
) -> list[OutboxMessage]:
    """Add to ``db`` the messages telling the resident they joined the line, with the link to their
    entry (``token``: the entry's own). The office's managers see them; "any office" only admins."""
    reset = current_locale.set(entry.language)
    try:
        line = _line(entry, settings, token)
    finally:
        current_locale.reset(reset)
    return _queue(
        db,
        entry,
        JOINED,
        now,
        subject=lambda: _("You are on the waitlist: %(service)s", service=line.service),
        email=lambda: _joined_email(line),
        sms=lambda: _joined_sms(line),
        office_id=entry.office_id,
        offered=None,
    )


def queue_offer_messages(
    db: AsyncSession,
    entry: WaitlistEntry,
    booking: Booking,
    *,
    settings: Settings,
    token: str,
    now: datetime,
) -> list[OutboxMessage]:
    """Add to ``db`` the messages offering ``booking`` (the held seat) to the resident until its hold
    runs out, with the link of the offer (``token``), to the offered office's outbox."""
    reset = current_locale.set(entry.language)
    try:
        offer = _offer(entry, booking, settings, token, now)
    finally:
        current_locale.reset(reset)
    return _queue(
        db,
        entry,
        OFFER,
        now,
        subject=lambda: _(
            "A time is free for you: %(service)s, %(date)s", service=offer.service, date=offer.date
        ),
        email=lambda: _offer_email(offer),
        sms=lambda: _offer_sms(offer),
        office_id=booking.office_id,
        offered=booking,
    )
