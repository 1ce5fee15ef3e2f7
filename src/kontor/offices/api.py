"""The public offices API: offices with their services and whether they are open, and opening hours.

Public and the same for everyone in one language, so responses may be cached for a minute.

Also what every operation of the JSON API shares: the dates it takes (:func:`parse_date`,
:func:`date_range`) and the description of its errors in the OpenAPI schema (:func:`answers`,
:class:`ApiOperation`), so that the schema lists every status an operation can answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Request, get
from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIHeader, OpenAPIResponse, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.hours.names import day_note
from kontor.hours.rules import DayHours, OfficeHours, hours_for_range, is_open_at
from kontor.hours.services import current_time
from kontor.i18n import current_locale
from kontor.offices import schemas
from kontor.offices.models import Office
from kontor.offices.services import offerings, offers

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 14


def error(description: str) -> ResponseSpec:
    """A documented error answer: kontor's error body (see ``kontor.web.errors``)."""
    return ResponseSpec(schemas.ErrorBody, description=description, generate_examples=False)


# What any operation can answer, whatever it does. 400: a parameter or body that cannot be read,
# or a NUL character anywhere in the query or body. 401: an Authorization header that is not a
# known bearer token (the public operations need none, but refuse a wrong one). 503: public
# requests shed under a rush (admission control), or the database not answering.
_COMMON: dict[int, ResponseSpec] = {
    400: ResponseSpec(
        schemas.BadRequestBody, description="The request could not be read.", generate_examples=False
    ),
    401: error("The bearer token sent is malformed, unknown or revoked."),
    503: error("Too busy, or the database is not answering: try again after `Retry-After` seconds."),
}
# Booking writes without a staff token are rate-limited per client address.
RATE_LIMITED = {429: "Too many booking requests from this address: wait `Retry-After` seconds."}
NO_OFFICE = {404: "No office has this slug."}
NOT_JSON = {415: "The body is not `application/json`."}


def answers(*groups: Mapping[int, str | ResponseSpec]) -> dict[int, ResponseSpec]:
    """The error answers of an operation: those every operation can give, then ``groups`` in order.
    A description alone stands for kontor's error body."""
    found = dict(_COMMON)
    for group in groups:
        found.update({status: error(it) if isinstance(it, str) else it for status, it in group.items()})
    return found


_RETRY_AFTER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.INTEGER, minimum=1),
    description="Seconds to wait before trying again.",
    required=True,
)
_WWW_AUTHENTICATE = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.STRING),
    description="`Bearer`, when the operation needs a token and none was sent.",
)
_HEADERS = {
    "401": {"WWW-Authenticate": _WWW_AUTHENTICATE},
    "429": {"Retry-After": _RETRY_AFTER},
    "503": {"Retry-After": _RETRY_AFTER},
}


@dataclass
class ApiOperation(Operation):
    """An operation of the JSON API, with the headers of its error answers, which a ResponseSpec
    cannot describe: ``Retry-After`` on 429 and 503, ``WWW-Authenticate`` on 401."""

    def __post_init__(self) -> None:
        for status, response in (self.responses or {}).items():
            if status in _HEADERS and isinstance(response, OpenAPIResponse):
                response.headers = {**(response.headers or {}), **_HEADERS[status]}


@dataclass
class OptionalBodyOperation(ApiOperation):
    """An operation whose JSON body may be left out (Litestar marks every body as required)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.request_body, RequestBody):
            self.request_body.required = False


_PUBLIC = {
    "cache_control": CacheControlHeader(public=True, max_age=60),
    # Names and notes follow the reader's language, chosen by header, cookie or ?lang=.
    "response_headers": [
        ResponseHeader(name="Vary", value="Accept-Language, Cookie", documentation_only=False)
    ],
    "tags": ["offices"],
    "operation_class": ApiOperation,
}

Db = NamedDependency[AsyncSession]
Slug = Annotated[str, PathParameter(description="The office's slug, as in /offices/{slug}.")]


def _office_out(office: Office, hours: OfficeHours, now: datetime) -> schemas.Office:
    locale = current_locale.get()
    return schemas.Office(
        slug=office.slug,
        name=office.name,
        district=schemas.District(slug=office.district.slug, name=office.district.name),
        address=schemas.Address(street=office.street, postal_code=office.postal_code, city=office.city),
        phone=office.phone,
        email=office.email,
        languages=list(office.languages or []),
        accessibility=office.accessibility,
        directions=office.directions,
        timezone=office.timezone,
        services=[
            schemas.OfficeService(
                code=o.service.code,
                name=o.service.name(locale),
                duration_minutes=o.service.duration_minutes,
                bookable=o.is_bookable,
                walk_in=o.is_walk_in,
            )
            for o in offerings(office)
        ],
        open_now=is_open_at(hours, now),
    )


def _around(now: datetime) -> tuple[date, date]:
    # Closures that can decide "open now" in any zone: the local date is within a day of the UTC
    # date, and an interval near midnight can belong to the neighbouring date.
    utc_day = now.astimezone(UTC).date()
    return utc_day - timedelta(days=2), utc_day + timedelta(days=2)


@get(
    "/api/v1/offices",
    name="api_offices",
    summary="List the offices",
    description="Every active office with its district, address, services and whether it is open now.",
    responses=answers(),
    **_PUBLIC,
)
async def list_offices(
    request: Request[Any, Any, Any],
    db_session: Db,
    service: Annotated[
        str | None, QueryParameter(description="Only offices that offer this service (its code).")
    ] = None,
) -> list[schemas.Office]:
    now = current_time(request.app.state)
    directory = request.app.state.directory
    offices = await directory.offices(db_session)
    if service:
        offices = [office for office in offices if offers(office, service)]
    hours = await directory.hours(db_session, *_around(now))
    return [_office_out(office, hours[office.id], now) for office in offices]


async def office_or_404(request: Request[Any, Any, Any], db: AsyncSession, slug: str) -> Office:
    office = await request.app.state.directory.office(db, slug)
    if office is None:
        raise NotFoundException(f"No office with slug {slug!r}.")
    return office


@get(
    "/api/v1/offices/{slug:str}",
    name="api_office",
    summary="One office",
    description="The office's district, address, services and whether it is open now.",
    responses=answers(NO_OFFICE),
    **_PUBLIC,
)
async def get_office(request: Request[Any, Any, Any], db_session: Db, slug: Slug) -> schemas.Office:
    now = current_time(request.app.state)
    office = await office_or_404(request, db_session, slug)
    hours = (await request.app.state.directory.hours(db_session, *_around(now)))[office.id]
    return _office_out(office, hours, now)


def parse_date(name: str, value: str | None) -> date | None:
    """A date parameter (empty: not given); 400 unless YYYY-MM-DD between FIRST_DAY and LAST_DAY."""
    if value is None or value == "":
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationException(f"'{name}' must be a date in the form YYYY-MM-DD, got {value!r}.") from None
    if not schemas.FIRST_DAY <= day <= schemas.LAST_DAY:
        raise ValidationException(
            f"'{name}' must be between {schemas.FIRST_DAY} and {schemas.LAST_DAY}, got {value!r}."
        )
    return day


def date_range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """A requested range of dates, both inclusive: from ``today`` and two weeks long unless given;
    a reversed range or one longer than MAX_RANGE_DAYS is a 400."""
    first = first or today
    last = last or first + timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if last < first:
        raise ValidationException(f"'from' ({first}) is after 'to' ({last}).")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValidationException(f"The range is longer than {MAX_RANGE_DAYS} days; ask for a shorter one.")
    return first, last


def _day_out(day: DayHours) -> schemas.DayHours:
    return schemas.DayHours(
        day=day.day,
        open=day.is_open,
        intervals=[
            schemas.HoursInterval(
                opens=i.opens.strftime("%H:%M"), closes=i.closes.strftime("%H:%M"), kind=i.kind
            )
            for i in day.intervals
        ],
        note=day_note(day.note, day.holiday),
        status=day.status,
    )


@get(
    "/api/v1/offices/{slug:str}/hours",
    name="api_office_hours",
    summary="An office's opening hours by date",
    description=(
        "One entry per date from `from` to `to` (both inclusive, at most 366 days), closed days "
        "included. Times are local to the office's time zone. Holidays are closed unless the "
        "office has entered special hours. 400 for a date that is not YYYY-MM-DD between 2000-01-01 "
        "and 2199-12-31, a reversed range or one longer than 366 days."
    ),
    responses=answers(NO_OFFICE),
    **_PUBLIC,
)
async def get_office_hours(
    request: Request[Any, Any, Any],
    db_session: Db,
    slug: Slug,
    from_: Annotated[
        str | None,
        QueryParameter(
            name="from",
            description="First date (YYYY-MM-DD), inclusive. Default: today in the office's time zone.",
            format="date",
        ),
    ] = None,
    to: Annotated[
        str | None,
        QueryParameter(
            description="Last date (YYYY-MM-DD), inclusive. Default: 13 days after `from`.",
            format="date",
        ),
    ] = None,
) -> list[schemas.DayHours]:
    first, last = parse_date("from", from_), parse_date("to", to)
    office = await office_or_404(request, db_session, slug)
    today = current_time(request.app.state).astimezone(ZoneInfo(office.timezone)).date()
    first, last = date_range(first, last, today)
    hours = await request.app.state.directory.office_hours(db_session, office, first, last)
    return [_day_out(day) for day in hours_for_range(hours, first, last)]


ROUTES: list = [list_offices, get_office, get_office_hours]
