"""What the offices API returns (msgspec Structs, which Litestar also turns into the OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

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
