"""An office's offering (which services, bookable or walk-in, with how many seats, how many of them
kept for phone bookings and until when) and its counters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from litestar.exceptions import NotFoundException
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor import i18n
from kontor.accounts.models import User
from kontor.admin.forms import Form, FormError
from kontor.admin.services import add_unique, lock_office, record_change
from kontor.booking.models import Booking, BookingStatus
from kontor.i18n import _
from kontor.offices.models import Counter, Office, OfficeService, Service

MIN_SEATS, MAX_SEATS = 1, 50
# Seats kept for phone bookings open to everyone this many hours before the slot (at most 30 days).
DEFAULT_RELEASE_HOURS, MAX_RELEASE_HOURS = 48, 720


@dataclass(frozen=True, slots=True)
class Offering:
    """One catalogue service as this office offers it (or not)."""

    service: Service
    offered: bool
    bookable: bool
    walk_in: bool
    seats: int  # visits of the service the office takes in one slot
    phone_seats: int = 0  # of those, kept for staff booking for someone (the contact center's agents)
    phone_release_hours: int = DEFAULT_RELEASE_HOURS  # kept seats open to everyone this long before

    def snapshot(self) -> dict[str, bool | int]:
        return {
            "offered": self.offered,
            "bookable": self.bookable,
            "walk_in": self.walk_in,
            "seats": self.seats,
            "phone_seats": self.phone_seats,
            "phone_release_hours": self.phone_release_hours,
        }


async def catalogue(db: AsyncSession) -> list[Service]:
    return list(await db.scalars(select(Service).order_by(Service.sort_order, Service.code)))


async def _rows(db: AsyncSession, office: Office) -> dict[int, OfficeService]:
    rows = await db.scalars(select(OfficeService).where(OfficeService.office_id == office.id))
    return {row.service_id: row for row in rows}


async def offering(db: AsyncSession, office: Office) -> list[Offering]:
    """The whole catalogue, each service with this office's choices."""
    rows = await _rows(db, office)
    result = []
    for service in await catalogue(db):
        row = rows.get(service.id)
        if row is None:
            result.append(Offering(service, False, service.bookable, service.walk_in, MIN_SEATS))
        else:
            result.append(
                Offering(
                    service,
                    row.active,
                    row.bookable,
                    row.walk_in,
                    row.seats,
                    row.phone_seats,
                    row.phone_release_hours,
                )
            )
    return result


async def save_offering(
    db: AsyncSession, office: Office, form: Form, user: User, *, now: datetime
) -> dict[str, object]:
    """Save the offering form in one go. Booking a service here needs the catalogue to allow it;
    an offered service must be bookable or open to walk-ins here. Seats per slot are 1–50, and no
    fewer than the visits already booked into one coming slot; of them 0 to all can be kept for phone
    bookings, released to online booking 0–720 hours before the slot."""
    rows = await _rows(db, office)
    current = {o.service.id: o for o in await offering(db, office)}
    wanted: dict[int, Offering] = {}
    for service in await catalogue(db):
        offered = form.flag(f"offered_{service.code}")
        # A box the catalogue rules out is not on the form; its stored value is kept as it was.
        before = current[service.id]
        bookable = form.flag(f"bookable_{service.code}") if service.bookable else before.bookable
        walk_in = form.flag(f"walk_in_{service.code}") if service.walk_in else before.walk_in
        seats, phone_seats, release_hours = before.seats, before.phone_seats, before.phone_release_hours
        if service.bookable:  # left empty (or off the form), a number stays as it was
            seats = _seats(form, service, before.seats)
            phone_seats = _phone_seats(form, service, before.phone_seats, seats)
            release_hours = _release_hours(form, service, before.phone_release_hours)
        if offered and not ((bookable and service.bookable) or (walk_in and service.walk_in)):
            form.error(
                f"offered_{service.code}",
                _(
                    "Offer %(service)s for booking, for walk-ins or both.",
                    service=service.name(i18n.current_locale.get()),
                ),
            )
        wanted[service.id] = Offering(service, offered, bookable, walk_in, seats, phone_seats, release_hours)
    form.check()
    for service_id, want in wanted.items():
        if service_id in rows and want.seats < current[service_id].seats:
            await _check_booked_seats(db, form, office, want, now)
    form.check()
    changes: dict[str, object] = {}
    for service_id, want in wanted.items():
        before = current[service_id]
        row = rows.get(service_id)
        if row is None and not want.offered:
            continue
        if row is None:
            row = OfficeService(office_id=office.id, service_id=service_id)
            db.add(row)
        elif before == want:
            continue
        row.active, row.bookable, row.walk_in = want.offered, want.bookable, want.walk_in
        row.seats, row.phone_seats, row.phone_release_hours = (
            want.seats,
            want.phone_seats,
            want.phone_release_hours,
        )
        changes[want.service.code] = {"before": before.snapshot(), "after": want.snapshot()}
    if changes:
        await db.flush()
        record_change(db, user, "offering.update", "office", office.id, office.id, changes)
    return changes


def _seats(form: Form, service: Service, current: int) -> int:
    field = f"seats_{service.code}"
    typed = form.integer(field, low=MIN_SEATS, high=MAX_SEATS, default=current)
    if typed is None:  # the table has a seats field per service: say which one is wrong
        form.errors[field] = _(
            "Seats for %(service)s: enter a whole number from %(low)s to %(high)s.",
            service=service.name(i18n.current_locale.get()),
            low=MIN_SEATS,
            high=MAX_SEATS,
        )
        return current
    return typed


def _phone_seats(form: Form, service: Service, current: int, seats: int) -> int:
    """Seats kept for phone bookings: none up to all of the slot's seats (also when the seats per slot
    go down below what was kept before)."""
    field = f"phone_seats_{service.code}"
    typed = form.integer(field, low=0, high=seats, default=current)
    if typed is None or typed > seats:
        form.errors[field] = _(
            "%(service)s has %(seats)s seats per slot: keep from 0 to %(seats)s of them for phone bookings.",
            service=service.name(i18n.current_locale.get()),
            seats=seats,
        )
        return current
    return typed


def _release_hours(form: Form, service: Service, current: int) -> int:
    field = f"phone_release_hours_{service.code}"
    typed = form.integer(field, low=0, high=MAX_RELEASE_HOURS, default=current)
    if typed is None:
        form.errors[field] = _(
            "Release of the phone seats for %(service)s: enter a whole number of hours from 0 to %(high)s.",
            service=service.name(i18n.current_locale.get()),
            high=MAX_RELEASE_HOURS,
        )
        return current
    return typed


async def _check_booked_seats(
    db: AsyncSession, form: Form, office: Office, want: Offering, now: datetime
) -> None:
    """Fewer seats must still fit the visits already booked: a booking keeps its seat number, and a
    slot never holds more bookings than its seats (DESIGN rule 3)."""
    needed = await db.scalar(
        select(func.max(Booking.seat)).where(
            Booking.office_id == office.id,
            Booking.service_id == want.service.id,
            Booking.ends_at > now,
            Booking.status != BookingStatus.CANCELLED.value,
            or_(
                Booking.status != BookingStatus.HELD.value,
                Booking.hold_expires_at.is_(None),
                Booking.hold_expires_at > now,
            ),
        )
    )
    if needed is not None and needed > want.seats:
        form.error(
            f"seats_{want.service.code}",
            _(
                "Visits already booked for %(service)s use %(seats)s seats in one slot. Keep at least "
                "%(seats)s seats, or move those visits first.",
                service=want.service.name(i18n.current_locale.get()),
                seats=needed,
            ),
        )


async def counters(db: AsyncSession, office: Office) -> list[Counter]:
    return list(
        await db.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.number))
    )


async def add_counter(db: AsyncSession, office: Office, form: Form, user: User) -> Counter:
    """A new counter numbered one above the highest so far (numbers are never reused)."""
    name = form.text("name", max_length=80)
    form.check()
    await lock_office(db, office)
    highest = await db.scalar(select(func.max(Counter.number)).where(Counter.office_id == office.id))
    counter = Counter(office_id=office.id, number=(highest or 0) + 1, name=name)
    await add_unique(db, counter, "name", lambda: _("Someone added a counter at the same moment. Try again."))
    record_change(
        db, user, "counter.add", "counter", counter.id, office.id, {"number": counter.number, "name": name}
    )
    return counter


async def _counter(db: AsyncSession, office: Office, counter_id: int) -> Counter:
    counter = await db.get(Counter, counter_id)
    if counter is None or counter.office_id != office.id:
        raise NotFoundException("No such counter at this office.")
    return counter


async def change_counter(
    db: AsyncSession, office: Office, counter_id: int, form: Form, user: User
) -> Counter:
    """Rename, deactivate or reactivate a counter, as the form's ``action`` says."""
    counter = await _counter(db, office, counter_id)
    action = form.choice(
        "action", {"rename": "rename", "deactivate": "deactivate", "reactivate": "reactivate"}
    )
    if action is None:
        raise FormError(form.errors)
    if action == "rename":
        name = form.text("name", max_length=80)
        if form.errors:
            raise FormError({f"name_{counter.id}": form.errors["name"]})
        change = {"name": {"before": counter.name, "after": name}}
        counter.name = name
    else:
        active = action == "reactivate"
        change = {"active": {"before": counter.active, "after": active}}
        counter.active = active
    await db.flush()
    record_change(
        db, user, f"counter.{action}", "counter", counter.id, office.id, {"number": counter.number, **change}
    )
    return counter
