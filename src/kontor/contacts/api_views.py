"""How the contact-center API shows contacts: slugs, codes and references instead of ids, and times
in the zone of the contact's office (else the city's)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.booking.models import Booking
from kontor.booking.references import format_reference
from kontor.contacts import schemas
from kontor.contacts.models import Contact
from kontor.offices.models import Office, Service


@dataclass(frozen=True)
class Names:
    """What the answers show for a contact's ids (slugs, codes, references), and its times' zone."""

    offices: dict[int, tuple[str, str]]
    services: dict[int, str]
    references: dict[int, str]
    zone: str

    def office(self, contact: Contact) -> str | None:
        return self.offices[contact.office_id][0] if contact.office_id in self.offices else None

    def service(self, contact: Contact) -> str | None:
        return self.services.get(contact.service_id) if contact.service_id else None

    def booking(self, contact: Contact) -> str | None:
        return self.references.get(contact.booking_id) if contact.booking_id else None

    def local(self, contact: Contact, moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        found = self.offices.get(contact.office_id) if contact.office_id else None
        return moment.astimezone(ZoneInfo(found[1] if found else self.zone))


async def names_for(request: Request[Any, Any, Any], db: AsyncSession, found: Iterable[Contact]) -> Names:
    """The names of what ``found`` refers to, in a query per kind of record (none when none)."""
    found = list(found)
    office_ids = {c.office_id for c in found if c.office_id}
    service_ids = {c.service_id for c in found if c.service_id}
    booking_ids = {c.booking_id for c in found if c.booking_id}
    offices = (
        await db.execute(select(Office.id, Office.slug, Office.timezone).where(Office.id.in_(office_ids)))
        if office_ids
        else []
    )
    services = (
        await db.execute(select(Service.id, Service.code).where(Service.id.in_(service_ids)))
        if service_ids
        else []
    )
    references = (
        await db.execute(select(Booking.id, Booking.reference).where(Booking.id.in_(booking_ids)))
        if booking_ids
        else []
    )
    return Names(
        offices={row.id: (row.slug, row.timezone) for row in offices},
        services={row.id: row.code for row in services},
        references={row.id: format_reference(row.reference) for row in references},
        zone=request.app.state.settings.default_timezone,
    )


def caller_booking(booking: Booking) -> schemas.CallerBooking:
    zone = ZoneInfo(booking.office.timezone)
    return schemas.CallerBooking(
        reference=format_reference(booking.reference),
        office=booking.office.slug,
        service=booking.service.code,
        start=booking.starts_at.astimezone(zone),
        end=booking.ends_at.astimezone(zone),
        status=booking.status,  # type: ignore[arg-type]
        channel=booking.channel,
        name=booking.name,
        needs=list(booking.needs or []),
    )


def callback_out(contact: Contact, names: Names) -> schemas.Callback:
    return schemas.Callback(
        id=contact.id,
        office=names.office(contact),  # type: ignore[arg-type]
        category=contact.category,
        summary=contact.summary,
        phone=contact.phone,
        language=contact.language,
        needs=list(contact.needs or []),
        booking=names.booking(contact),
        status=contact.callback_status,  # type: ignore[arg-type]
        due=names.local(contact, contact.callback_due_at),
        created_at=names.local(contact, contact.created_at),  # type: ignore[arg-type]
        done_at=names.local(contact, contact.callback_done_at),
        note=contact.callback_note,
    )
