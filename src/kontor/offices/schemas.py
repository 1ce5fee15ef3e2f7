"""What the offices API returns (msgspec Structs, which Litestar also turns into the OpenAPI schema),
and what every part of the JSON API shares: the dates it takes and the body of its errors."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

# The dates the API and the booking forms take, both inclusive: wide around any real opening hours
# or visit, and far from the calendar's ends (years 1 and 9999), past which moving a time from one
# zone to another overflows.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)

HoursKindName = Literal["drop_in", "appointment"]
DayStatusName = Literal["regular", "holiday", "closed", "special"]
LocalTime = Annotated[str, Meta(pattern=r"^\d{2}:\d{2}$", examples=["09:00"], description="HH:MM, local")]


class District(Struct):
    slug: str
    name: str


class Address(Struct):
    street: str
    postal_code: str
    city: str


class OfficeService(Struct):
    """A service as this office offers it."""

    code: Annotated[str, Meta(description="The service's code, as used by the booking and slots APIs.")]
    name: Annotated[str, Meta(description="In the request's language (?lang= or Accept-Language).")]
    duration_minutes: int
    bookable: Annotated[bool, Meta(description="Can be booked at this office.")]
    walk_in: Annotated[bool, Meta(description="Served without booking, with a queue ticket.")]


class Office(Struct):
    slug: str
    name: str
    district: District
    address: Address
    phone: str
    email: str
    languages: Annotated[list[str], Meta(description="ISO 639-1 codes of the languages the staff speak.")]
    accessibility: str
    directions: str
    timezone: Annotated[str, Meta(description="IANA time zone of the office, e.g. Europe/Stockholm.")]
    services: list[OfficeService]
    open_now: Annotated[bool, Meta(description="Open at the moment of the request (any kind of hours).")]


class HoursInterval(Struct):
    opens: LocalTime
    closes: LocalTime
    kind: Annotated[HoursKindName, Meta(description="drop_in: walk in; appointment: booked visits only.")]


class DayHours(Struct):
    """One date of an office's opening hours."""

    day: dt.date = msgspec.field(name="date")
    open: bool
    intervals: list[HoursInterval]
    note: Annotated[str | None, Meta(description="The closure's reason or the holiday's name, else null.")]
    status: Annotated[
        DayStatusName,
        Meta(description="regular: weekly hours; holiday; closed: a closure; special: special hours."),
    ]


class ErrorExtra(Struct):
    """What a program needs to react to a refusal; absent when the detail says all."""

    kind: Annotated[
        str | None,
        Meta(
            description=(
                "Why, for programs: e.g. invalid, full, not_bookable, limit, not_found (bookings); "
                "office_closed, not_waiting, unknown_service, refused (queues)."
            )
        ),
    ] = None
    field: Annotated[str | None, Meta(description="The request's field at fault, if one is.")] = None


class ErrorBody(Struct):
    """An error; nothing was changed."""

    status_code: int
    detail: Annotated[str, Meta(description="For people; refusals in the language the request asked for.")]
    extra: ErrorExtra | None = None


class InvalidValue(Struct):
    message: str
    key: Annotated[str | None, Meta(description="The parameter or body field at fault.")] = None
    source: Annotated[str | None, Meta(description="Where it was sent: path, query, header or body.")] = None


class BadRequestBody(Struct):
    """A request that could not be read: a parameter or body of the wrong form, a date outside
    2000-01-01 – 2199-12-31, a NUL character in the query or the body."""

    status_code: int
    detail: str
    extra: Annotated[
        list[InvalidValue] | dict[str, Any] | None, Meta(description="Each value that was wrong, if known.")
    ] = None
