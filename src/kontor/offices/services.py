"""Offices as the public sees them: active offices with their district and offering, the catalogue.

A city has a dozen or two offices, so the public pages load them all in one query (district and
offering joined in) and filter in Python, rather than paying a round trip per question.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager, joinedload

from kontor.offices.models import District, Office, OfficeService, Service

__all__ = [
    "DistrictGroup",
    "active_offices",
    "group_by_district",
    "offerings",
    "offers",
    "office_by_slug",
    "search_offices",
    "service_catalogue",
    "services_offered",
]


# Built once (the finder and the office page run them on every request); the offering comes joined
# in, so a page costs one round trip for all offices.
_ACTIVE_OFFICES = (
    select(Office)
    .join(Office.district)
    .options(contains_eager(Office.district), joinedload(Office.offerings).joinedload(OfficeService.service))
    .where(Office.active.is_(True))
    .order_by(District.name, Office.name)
)
_OFFICE_BY_SLUG = _ACTIVE_OFFICES.where(Office.slug == bindparam("slug"))


async def active_offices(db: AsyncSession) -> list[Office]:
    """Every active office with its district and offering, by district name then office name."""
    result = await db.scalars(_ACTIVE_OFFICES)
    return list(result.unique())


async def office_by_slug(db: AsyncSession, slug: str) -> Office | None:
    """An active office with its district and offering, or None."""
    result = await db.scalars(_OFFICE_BY_SLUG, {"slug": slug})
    return result.unique().one_or_none()


def offerings(office: Office) -> list[OfficeService]:
    """The services the office offers now, in the catalogue's order."""
    active = [offering for offering in office.offerings if offering.active]
    return sorted(active, key=lambda o: (o.service.sort_order, o.service.code))


def offers(office: Office, service_code: str) -> bool:
    return any(offering.service.code == service_code for offering in offerings(office))


def bookable_offering(office: Office, service_code: str) -> OfficeService | None:
    """The office's offering of the service if residents can book it there now."""
    return next((o for o in office.offerings if o.service.code == service_code and o.is_bookable), None)


def services_offered(offices: Iterable[Office]) -> list[Service]:
    """Services offered by at least one of ``offices``, in the catalogue's order (the finder's filter)."""
    found = {o.service.id: o.service for office in offices for o in offerings(office)}
    return sorted(found.values(), key=lambda s: (s.sort_order, s.code))


def search_offices(offices: Iterable[Office], text: str) -> list[Office]:
    """Offices whose name, district or town contains ``text``, ignoring case."""
    needle = text.strip().casefold()
    if not needle:
        return list(offices)
    return [
        office
        for office in offices
        if any(needle in part.casefold() for part in (office.name, office.district.name, office.city))
    ]


@dataclass(frozen=True, slots=True)
class DistrictGroup:
    district: District
    offices: list[Office]


def group_by_district(offices: Sequence[Office]) -> list[DistrictGroup]:
    """Offices under their district, districts by name, keeping the offices' order within each."""
    groups: dict[int, DistrictGroup] = {}
    for office in offices:
        groups.setdefault(office.district_id, DistrictGroup(office.district, [])).offices.append(office)
    return sorted(groups.values(), key=lambda g: g.district.name.casefold())


async def service_catalogue(db: AsyncSession) -> list[Service]:
    """The city's whole catalogue of services, in its display order."""
    result = await db.scalars(select(Service).order_by(Service.sort_order, Service.code))
    return list(result)
