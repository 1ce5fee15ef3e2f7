"""The earliest free slots of a service across every office, for residents who go wherever is soonest.

Each office's hours come from the directory (one load for all offices). The search across offices
scans two weeks at a time for all of them together, with one query of taken seats per fortnight, and
stops once `limit` slots start before the next fortnight does; the list per office scans a week at a
time until the office has given `limit` slots. Residents see the seats kept for the phone only once
they are released; staff (`staff=True`: agents, desk staff, a staff bearer token) see every seat
they may book.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Request, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import QueryParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import bearer_user
from kontor.booking import schemas, services
from kontor.booking.seats import SeatCounts, local_days, seat_counts_at, seat_counts_on
from kontor.booking.slots import Slot, free_slots
from kontor.hours.services import current_time
from kontor.offices.api import MAX_RANGE_DAYS, ApiOperation, answers, parse_date
from kontor.offices.directory import OfficeDirectory
from kontor.offices.models import District, Office, OfficeService, Service
from kontor.offices.services import bookable_offering

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
_SCAN_DAYS = 7
_CHUNK_DAYS = 14

Db = NamedDependency[AsyncSession]


def staff_token(request: Request[Any, Any, Any]) -> bool:
    """Whether the API request comes with a staff user's bearer token (who may book the seats kept
    for the phone). A browser session does not count (:func:`kontor.accounts.auth.bearer_user`)."""
    return bearer_user(request) is not None


def _scan_window(
    office: Office, offering: OfficeService, first: date | None, now: datetime
) -> tuple[date, date]:
    """The local dates to search at the office: from `first` (default: its today) to the horizon,
    at most MAX_RANGE_DAYS; empty (last before first) when `first` lies past the horizon."""
    today = now.astimezone(ZoneInfo(office.timezone)).date()
    first = first or today
    horizon = today + timedelta(days=offering.service.horizon_days)
    return first, min(horizon, first + timedelta(days=MAX_RANGE_DAYS - 1))


async def office_slots(
    db: AsyncSession,
    directory: OfficeDirectory,
    office: Office,
    offering: OfficeService,
    first: date | None,
    limit: int,
    now: datetime,
    release_delay: timedelta,
    taken: SeatCounts | Mapping[datetime, int] | None = None,
    *,
    staff: bool = False,
) -> list[schemas.AvailableSlot]:
    """Up to `limit` of the office's earliest free slots from `first` (default: its today), as a
    resident or (`staff`) a staff member may book them. `taken` is the office's taken seats when the
    caller loaded them for several offices at once."""
    kind = offering.service
    first, last = _scan_window(office, offering, first, now)
    if last < first:
        return []
    hours = await directory.office_hours(db, office, *services.hours_window(office, kind, now))
    policy = services.slot_policy(offering, hours, staff=staff)
    if taken is None:
        taken = await seat_counts_on(
            db, office, offering, first, last, now, release_delay=release_delay, staff=staff
        )
    counts = taken if isinstance(taken, SeatCounts) else SeatCounts(dict(taken))
    found: list[schemas.AvailableSlot] = []
    day = first
    while day <= last and len(found) < limit:
        week_end = min(last, day + timedelta(days=_SCAN_DAYS - 1))
        found += _available(
            office, free_slots(hours, policy, day, week_end, now, counts.taken, taken_public=counts.public)
        )
        day = week_end + timedelta(days=1)
    return found[:limit]


async def earliest_per_office(
    db: AsyncSession,
    directory: OfficeDirectory,
    offerings: list[tuple[Office, OfficeService]],
    first: date | None,
    limit: int,
    now: datetime,
    release_delay: timedelta,
    *,
    staff: bool = False,
) -> list[list[schemas.AvailableSlot]]:
    """:func:`office_slots` of each (office, offering) of one service, with the taken seats of all of
    them loaded in one query instead of one per office."""
    windows = [_scan_window(office, offering, first, now) for office, offering in offerings]
    spans = [local_days(office, *window) for (office, _), window in zip(offerings, windows, strict=True)]
    taken: dict[int, SeatCounts] = {}
    if offerings:
        taken = await seat_counts_at(
            db,
            [offering for _, offering in offerings],
            min(span[0] for span in spans),
            max(span[1] for span in spans),
            now,
            release_delay=release_delay,
            staff=staff,
        )
    return [
        await office_slots(
            db,
            directory,
            office,
            offering,
            first,
            limit,
            now,
            release_delay,
            taken.get(office.id) or SeatCounts(),
            staff=staff,
        )
        for office, offering in offerings
    ]


async def earliest_slots(
    db: AsyncSession,
    directory: OfficeDirectory,
    service_code: str,
    first: date | None,
    limit: int,
    now: datetime,
    district_slug: str | None = None,
    release_delay: timedelta = timedelta(0),
    *,
    staff: bool = False,
) -> list[schemas.AvailableSlot]:
    """The `limit` earliest free slots of the service at every active office that takes bookings for
    it (only the district's offices when given), by start and then office name. With `staff`, the
    seats kept for the phone count as free (what an agent may book).

    Raises NotFoundException for an unknown service or district.
    """
    # The directory first: loading its snapshot detaches everything the session held.
    offices = await directory.offices(db)
    if await db.scalar(select(Service.id).where(Service.code == service_code)) is None:
        raise NotFoundException(f"No service with code {service_code!r}.")
    if district_slug is not None:
        if await db.scalar(select(District.id).where(District.slug == district_slug)) is None:
            raise NotFoundException(f"No district with slug {district_slug!r}.")
        offices = [office for office in offices if office.district.slug == district_slug]
    offered = [
        (office, offering) for office in offices if (offering := bookable_offering(office, service_code))
    ]
    return await _earliest_across(db, directory, offered, first, limit, now, release_delay, staff=staff)


def _by_start(slot: schemas.AvailableSlot) -> tuple[datetime, str]:
    return slot.start.astimezone(UTC), slot.office_name


async def _earliest_across(
    db: AsyncSession,
    directory: OfficeDirectory,
    offered: list[tuple[Office, OfficeService]],
    first: date | None,
    limit: int,
    now: datetime,
    release_delay: timedelta,
    *,
    staff: bool,
) -> list[schemas.AvailableSlot]:
    """The `limit` earliest free slots of the offerings together, scanned :data:`_CHUNK_DAYS` at a
    time for all of them at once (one query of taken seats per chunk): once `limit` slots start
    before the next chunk does, no later chunk can change the answer. A city whose calendars are
    full for weeks costs a few chunks, not the whole horizon of every office."""
    windows = {office.id: _scan_window(office, offering, first, now) for office, offering in offered}
    open_windows = [
        (office, offering) for office, offering in offered if windows[office.id][0] <= windows[office.id][1]
    ]
    if not open_windows:
        return []
    rules = {}
    for office, offering in open_windows:
        hours = await directory.office_hours(
            db, office, *services.hours_window(office, offering.service, now)
        )
        rules[office.id] = (hours, services.slot_policy(offering, hours, staff=staff))
    found: list[schemas.AvailableSlot] = []
    day = min(windows[office.id][0] for office, _ in open_windows)
    end = max(windows[office.id][1] for office, _ in open_windows)
    while day <= end:
        chunk_last = min(end, day + timedelta(days=_CHUNK_DAYS - 1))
        spans = {
            office.id: (max(day, windows[office.id][0]), min(chunk_last, windows[office.id][1]))
            for office, _ in open_windows
        }
        active = [
            (office, offering)
            for office, offering in open_windows
            if spans[office.id][0] <= spans[office.id][1]
        ]
        if active:
            instants = [local_days(office, *spans[office.id]) for office, _ in active]
            counts = await seat_counts_at(
                db,
                [offering for _, offering in active],
                min(span[0] for span in instants),
                max(span[1] for span in instants),
                now,
                release_delay=release_delay,
                staff=staff,
            )
            for office, _offering in active:
                hours, policy = rules[office.id]
                taken = counts.get(office.id) or SeatCounts()
                slots = free_slots(
                    hours, policy, *spans[office.id], now, taken.taken, taken_public=taken.public
                )
                found += _available(office, slots[:limit])  # in start order: later ones cannot make it
        day = chunk_last + timedelta(days=1)
        if len(found) >= limit:
            found.sort(key=_by_start)
            next_chunk = min(local_days(office, day, day)[0] for office, _ in open_windows)
            if found[limit - 1].start.astimezone(UTC) < next_chunk:
                break
    found.sort(key=_by_start)
    return found[:limit]


def _available(office: Office, slots: list[Slot]) -> list[schemas.AvailableSlot]:
    zone = ZoneInfo(office.timezone)
    return [
        schemas.AvailableSlot(
            office=office.slug,
            office_name=office.name,
            district=office.district.slug,
            start=slot.start.astimezone(zone),
            end=slot.end.astimezone(zone),
            seats_left=slot.seats_left,
        )
        for slot in slots
    ]


@get(
    "/api/v1/availability",
    name="api_availability",
    summary="The earliest free slots of a service at any office",
    description=(
        "The `limit` earliest bookable starts of the service from `from` to the end of its booking "
        "horizon, across every office that takes bookings for it (or only a district's offices), "
        "sorted by start and then office name. Seats kept for the contact center count as free only "
        "for a staff bearer token. 404 when the service or the district is unknown; 400 for a `from` "
        "that is not YYYY-MM-DD between 2000-01-01 and 2199-12-31, or a `limit` out of range."
    ),
    responses=answers({404: "No service has this code, or no district has this slug."}),
    cache_control=CacheControlHeader(no_store=True),
    tags=["bookings"],
    operation_class=ApiOperation,
)
async def list_availability(
    request: Request[Any, Any, Any],
    db_session: Db,
    service: Annotated[str, QueryParameter(description="The service's code.")],
    from_: Annotated[
        str | None,
        QueryParameter(name="from", description="First date (YYYY-MM-DD). Default: today.", format="date"),
    ] = None,
    limit: Annotated[
        int, QueryParameter(description="How many slots at most.", ge=1, le=MAX_LIMIT)
    ] = DEFAULT_LIMIT,
    district: Annotated[
        str | None, QueryParameter(description="Only offices of this district (its slug).")
    ] = None,
) -> list[schemas.AvailableSlot]:
    first = parse_date("from", from_)
    now = current_time(request.app.state)
    return await earliest_slots(
        db_session,
        request.app.state.directory,
        service,
        first or now.astimezone(ZoneInfo(request.app.state.settings.default_timezone)).date(),
        limit,
        now,
        district_slug=district or None,
        release_delay=timedelta(minutes=request.app.state.settings.cancel_release_minutes),
        staff=staff_token(request),
    )


ROUTES: list = [list_availability]
