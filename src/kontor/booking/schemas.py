"""What the booking API reads and returns (msgspec Structs, which also make the OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

Instant = Annotated[
    dt.datetime,
    Meta(
        description="ISO 8601 with offset, in the office's time zone.", examples=["2026-12-15T09:00:00+01:00"]
    ),
]
StatusName = Literal["held", "expired", "booked", "cancelled", "checked_in", "served", "no_show"]
NeedName = Literal["interpreter", "accessibility", "computer_help"]


class Slot(Struct):
    start: Instant
    end: Instant
    seats_left: Annotated[int, Meta(description="Visits that can still be booked at this start.")]


class NewBooking(Struct):
    office: Annotated[str, Meta(description="The office's slug.")]
    service: Annotated[str, Meta(description="The service's code.")]
    start: Annotated[
        dt.datetime,
        Meta(description="A slot's start from the slots API, with its offset; 422 unless in 2000–2199."),
    ]
    name: str
    email: str | None = None
    phone: Annotated[str | None, Meta(description="An e-mail address or a phone number is required.")] = None
    language: Annotated[str, Meta(description="sv, en or fi: the language of messages about the visit.")] = (
        "sv"
    )
    needs: list[str] = msgspec.field(default_factory=list)


class Reschedule(Struct):
    start: Annotated[
        dt.datetime, Meta(description="The new slot's start, with its offset; 422 unless in 2000–2199.")
    ]


class BookingCreated(Struct):
    reference: Annotated[str, Meta(description="As shown to people, e.g. ACDE-4779.")]
    token: Annotated[
        str, Meta(description="Private; send it as X-Booking-Token to read or change the booking.")
    ]
    office: str
    service: str
    start: Instant
    end: Instant
    status: StatusName


class Booking(Struct):
    reference: str
    office: str
    service: str
    start: Instant
    end: Instant
    status: StatusName
    name: str
    email: str | None
    phone: str | None
    language: str
    needs: list[str]


class AvailableSlot(Struct):
    office: Annotated[str, Meta(description="The office's slug.")]
    office_name: str
    district: Annotated[str, Meta(description="The office's district's slug.")]
    start: Instant
    end: Instant
    seats_left: Annotated[int, Meta(description="Visits that can still be booked at this start.")]
