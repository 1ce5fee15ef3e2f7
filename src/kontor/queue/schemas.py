"""What the queue API reads and returns (msgspec Structs, which also make the OpenAPI schema).

The public answers (a ticket by its token, an office's queue) carry no personal data: a ticket's
code, service and place, never a name, a language or a need.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import Meta, Struct

Instant = Annotated[
    dt.datetime,
    Meta(
        description="ISO 8601 with offset, in the office's time zone.", examples=["2026-12-14T10:05:00+01:00"]
    ),
]
Code = Annotated[
    str, Meta(description="The ticket's code: service letter and the day's number.", examples=["A007"])
]
StatusName = Literal["waiting", "called", "served", "no_show", "closed", "cancelled"]
KindName = Annotated[
    Literal["walk_in", "booking"], Meta(description="`booking`: a booked visit checked in at the desk.")
]
WaitMinutes = Annotated[
    int | None, Meta(description="The typical wait in whole minutes; null once the ticket no longer waits.")
]


class EstimatedWait(Struct):
    low: Annotated[int, Meta(ge=0, description="Whole minutes, at the shortest.")]
    high: Annotated[int, Meta(ge=0, description="Whole minutes, at the longest.")]


class NewTicket(Struct):
    service: Annotated[str, Meta(min_length=1, max_length=40, description="The service's code.")]
    language: (
        Annotated[
            str,
            Meta(
                min_length=2,
                max_length=5,
                description="The language the resident wants to be served in; one the office lists.",
            ),
        ]
        | None
    ) = None
    needs_help: Annotated[bool, Meta(description="The resident asked for extra help.")] = False


class TicketIssued(Struct):
    code: Code
    token: Annotated[str, Meta(description="Private: the ticket page's key. Known only from this answer.")]
    url: Annotated[str, Meta(description="The ticket page, where the resident follows the ticket live.")]
    office: Annotated[str, Meta(description="The office's slug.")]
    service: Annotated[str, Meta(description="The service's code.")]
    status: StatusName
    position: Annotated[int | None, Meta(description="1-based place in the service's line.")]
    estimated_wait_minutes: WaitMinutes
    estimated_wait: EstimatedWait | None
    issued_at: Instant


class Ticket(Struct):
    code: Code
    status: StatusName
    office: Annotated[str, Meta(description="The office's slug.")]
    office_name: str
    service: Annotated[str, Meta(description="The service's code (after a transfer, the new one).")]
    service_name: Annotated[str, Meta(description="In the reader's language.")]
    position: Annotated[int | None, Meta(description="1-based place in the line; null unless waiting.")]
    estimated_wait_minutes: WaitMinutes
    estimated_wait: EstimatedWait | None
    counter: Annotated[int | None, Meta(description="The counter's number; null until called.")]
    issued_at: Instant
    called_at: Instant | None


class NextCall(Struct):
    services: (
        Annotated[
            list[Annotated[str, Meta(max_length=40)]],
            Meta(
                max_length=50,
                description="Codes of the services to call from. Default: the counter's shift, else all.",
            ),
        ]
        | None
    ) = None


class CalledTicket(Struct):
    code: Code
    service: Annotated[str, Meta(description="The service's code.")]
    counter: Annotated[int, Meta(description="The counter's number within the office.")]
    called_at: Instant
    kind: KindName
    booked_start: Annotated[dt.datetime | None, Meta(description="A checked-in booking's time.")]


class ServiceLine(Struct):
    code: str
    name: Annotated[str, Meta(description="In the reader's language.")]
    waiting: Annotated[int, Meta(ge=0, description="Tickets waiting for it now.")]
    counters: Annotated[int, Meta(ge=0, description="Counters serving it now.")]
    estimated_wait_minutes: Annotated[int, Meta(description="Typical wait for someone arriving now.")]
    estimated_wait: EstimatedWait


class NowServing(Struct):
    code: Code
    counter: Annotated[int, Meta(description="The counter's number within the office.")]
    called_at: Instant


class Queue(Struct):
    office: Annotated[str, Meta(description="The office's slug.")]
    open: Annotated[bool, Meta(description="Whether tickets are issued now.")]
    services: list[ServiceLine]
    now_serving: Annotated[
        list[NowServing],
        Meta(description="Tickets at a counter now (called, not yet finished), latest call first."),
    ]
