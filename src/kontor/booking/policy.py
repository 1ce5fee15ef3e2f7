"""What a booking must satisfy besides a free seat: an offered service and start, and the fairness
limits; and the record of who changed a booking (DESIGN rule 5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from kontor.accounts.models import User
from kontor.audit.history import record_change
from kontor.audit.models import Channel
from kontor.booking.models import Booking, BookingEvent, BookingStatus
from kontor.booking.slots import SlotPolicy, is_bookable_start, slot_policy_kinds
from kontor.booking.visitor import BookingError
from kontor.hours.rules import OfficeHours
from kontor.hours.services import office_hours
from kontor.i18n import N_
from kontor.offices.models import Office, OfficeService, Service
from kontor.settings import Settings


@dataclass(frozen=True, slots=True)
class BookingRules:
    """The city's booking settings: how long a chosen time is held, how long a cancelled seat rests
    before it is offered again, and how many upcoming visits of a service one contact may hold."""

    hold: timedelta = timedelta(minutes=10)
    release_delay: timedelta = timedelta(minutes=5)
    max_active: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> BookingRules:
        return cls(
            hold=timedelta(minutes=settings.hold_minutes),
            release_delay=timedelta(minutes=settings.cancel_release_minutes),
            max_active=settings.max_active_bookings,
        )


def record_event(
    db: AsyncSession,
    booking: Booking,
    action: str,
    *,
    channel: Channel,
    actor: User | str,
    now: datetime,
    changes: dict[str, Any],
) -> None:
    record_change(
        db,
        BookingEvent,
        action,
        channel=channel,
        actor=actor,
        now=now,
        changes=changes,
        booking_id=booking.id,
    )


async def find_offering(
    db: AsyncSession, office_slug: str, service_code: str
) -> tuple[Office, OfficeService]:
    """The active office's offering of the service, in one query; the error says what is missing."""
    offering = await db.scalar(
        select(OfficeService)
        .join(Office, Office.id == OfficeService.office_id)
        .join(Service, Service.id == OfficeService.service_id)
        .where(Office.slug == office_slug, Office.active.is_(True), Service.code == service_code)
        .options(contains_eager(OfficeService.office))
    )
    if offering is None:
        office = await db.scalar(select(Office.id).where(Office.slug == office_slug, Office.active.is_(True)))
        if office is None:
            raise BookingError("not_found", N_("There is no such office."), "office")
        if await db.scalar(select(Service.id).where(Service.code == service_code)) is None:
            raise BookingError("not_found", N_("There is no such service."), "service")
    if offering is None or not offering.is_bookable:
        raise BookingError("not_bookable", N_("This service cannot be booked at this office."), "service")
    return offering.office, offering


async def booking_offering(db: AsyncSession, booking: Booking) -> OfficeService:
    """The offering a booking was made under, if residents may still book it (moving a booking or
    renewing a hold needs it to be)."""
    offering = await db.scalar(
        select(OfficeService).where(
            OfficeService.office_id == booking.office_id, OfficeService.service_id == booking.service_id
        )
    )
    if offering is None or not offering.is_bookable or not booking.office.active:
        raise BookingError("not_bookable", N_("This service cannot be booked at this office."), "service")
    return offering


def hours_window(office: Office, service: Service, now: datetime) -> tuple[date, date]:
    """The dates whose hours decide the service's slots at the office: today to a day past the horizon.
    The slot listing, the search across offices and the booking check all load this same window, so
    they see the same kinds of hours and agree on every slot."""
    today = now.astimezone(ZoneInfo(office.timezone)).date()
    return today, today + timedelta(days=service.horizon_days + 1)


def slot_policy(offering: OfficeService, hours: OfficeHours, *, staff: bool = False) -> SlotPolicy:
    """The service's slot rules at the office as a booker sees them: visit length, notice and horizon
    from the service, the seats (and those kept for the phone) from the office's offering, the kinds
    of hours that hold slots there, and whether staff look (they may book the kept seats)."""
    service = offering.service
    return SlotPolicy(
        duration=timedelta(minutes=service.duration_minutes),
        seats=offering.seats,
        min_notice=timedelta(minutes=service.min_notice_minutes),
        horizon_days=service.horizon_days,
        kinds=slot_policy_kinds(hours),
        phone_seats=offering.phone_seats,
        phone_release=timedelta(hours=offering.phone_release_hours),
        staff=staff,
    )


async def check_start(
    db: AsyncSession, office: Office, offering: OfficeService, start: datetime, now: datetime
) -> None:
    """Raise unless ``start`` is a slot start the office offers for the service now (seats aside)."""
    hours = await office_hours(db, office, *hours_window(office, offering.service, now))
    if not is_bookable_start(hours, slot_policy(offering, hours), start, now):
        raise BookingError("not_bookable", N_("This time cannot be booked. Choose another time."), "start")


def contact_keys(email: str | None, phone: str | None) -> list[str]:
    """How one person is recognised however they typed their contact: the e-mail address in lower
    case, the phone number's digits with a Swedish +46 written as a leading 0."""
    keys = []
    if email:
        keys.append(email.strip().lower())
    if phone:
        digits = "".join(c for c in phone if c.isdigit())
        if phone.strip().startswith("+46") or (digits.startswith("0046")):
            digits = "0" + digits.removeprefix("00").removeprefix("46")
        keys.append(digits)
    return keys


# Bookings that count against the limit: upcoming visits still to take place.
_ACTIVE = (BookingStatus.BOOKED.value, BookingStatus.CHECKED_IN.value)


async def check_limit(
    db: AsyncSession,
    service_id: int,
    keys: list[str],
    now: datetime,
    rules: BookingRules,
    exclude: int | None,
) -> None:
    """Refuse a resident's booking when the same contact already holds ``rules.max_active`` upcoming
    visits of the service (so a few people cannot take a release of times between them)."""
    if not keys:
        return
    if db.get_bind().dialect.name == "postgresql":
        # Bookings of one contact wait for each other until commit, so the count below sees them all
        # (on SQLite, writers take turns anyway). Sorted, so two requests never lock in opposite order.
        for key in sorted(keys):
            await db.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
    query = select(func.count()).where(
        Booking.service_id == service_id,
        Booking.contact_key.in_(keys),
        Booking.status.in_(_ACTIVE),
        Booking.ends_at > now,
    )
    if exclude is not None:
        query = query.where(Booking.id != exclude)
    if (await db.scalar(query) or 0) >= rules.max_active:
        raise BookingError(
            "limit",
            N_(
                "You already have as many upcoming visits for this service as one person can book. "
                "Cancel one of them to book another."
            ),
            "email",
        )
