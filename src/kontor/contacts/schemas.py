"""What the contact-center API reads and returns (msgspec Structs, which also make the OpenAPI schema).

Categories, outcomes and events are plain strings here, checked by the services, so that an unknown
one is a 422 naming the field, as for the forms, rather than a 400 about the body's shape.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import Meta, Struct

from kontor.booking.models import Need
from kontor.booking.schemas import Instant, StatusName
from kontor.contacts.models import Category, Outcome, WebhookEvent


def _one_of(values: type[Category | Outcome | WebhookEvent | Need]) -> str:
    return ", ".join(f"`{value.value}`" for value in values)


CategoryName = Annotated[str, Meta(description=f"What the call was about: {_one_of(Category)}.")]
OutcomeName = Annotated[str, Meta(description=f"How the call ended: {_one_of(Outcome)}.")]
CallbackStatusName = Literal["open", "done"]
OfficeSlug = Annotated[str, Meta(description="The office's slug.")]
Reference = Annotated[str, Meta(description="A booking's reference, as shown: ACDE-4779.")]
ContactId = Annotated[int, Meta(description="The contact's id.")]
EventName = Annotated[str, Meta(description=f"One of {_one_of(WebhookEvent)}.")]


class CallerBooking(Struct):
    reference: Reference
    office: OfficeSlug
    service: Annotated[str, Meta(description="The service's code.")]
    start: Instant
    end: Instant
    status: StatusName
    channel: Annotated[str, Meta(description="How it was booked: web, phone, desk, counter or api.")]
    name: str
    needs: list[str]


class CallerContact(Struct):
    id: ContactId
    created_at: Instant
    category: CategoryName
    outcome: OutcomeName
    office: OfficeSlug | None
    booking: Annotated[Reference | None, Meta(description="The linked booking's reference.")]
    summary: Annotated[str, Meta(description="Empty once the retention period has passed.")]


class Caller(Struct):
    """What the contact center may know of a caller: their bookings and recent calls."""

    bookings: Annotated[
        list[CallerBooking],
        Meta(description="From 30 days back to any time ahead, upcoming first; no holds."),
    ]
    contacts: Annotated[list[CallerContact], Meta(description="The last 90 days, newest first, at most 20.")]


class NewContact(Struct):
    category: CategoryName
    outcome: OutcomeName
    summary: Annotated[
        str, Meta(description="What the office must know; only what the visit needs. 1–1000 characters.")
    ]
    office: Annotated[
        str | None,
        Meta(
            description="The office's slug; required for `forwarded` and `callback`. Default: the booking's."
        ),
    ] = None
    service: Annotated[str | None, Meta(description="The service's code.")] = None
    booking: Annotated[
        str | None, Meta(description="A booking's reference; required for `visit_booked`.")
    ] = None
    phone: Annotated[
        str | None, Meta(description="The caller's number; required for `callback`. Default: the booking's.")
    ] = None
    language: Annotated[
        str | None, Meta(description="sv, en or fi: the caller's language. Default: the booking's, else sv.")
    ] = None
    needs: (
        Annotated[
            list[str], Meta(description=f"What the visit needs: {_one_of(Need)}. Default: the booking's.")
        ]
        | None
    ) = None
    callback_due: (
        Annotated[
            dt.datetime,
            Meta(
                tz=True,
                description="When the office should call back, with its offset. Default: in 24 hours.",
            ),
        ]
        | None
    ) = None


class ContactCreated(Struct):
    id: ContactId
    category: CategoryName
    outcome: OutcomeName
    office: OfficeSlug | None
    booking: Annotated[Reference | None, Meta(description="The linked booking's reference.")]
    callback_status: Annotated[CallbackStatusName | None, Meta(description="`open` for a call-back.")]
    callback_due: Instant | None
    created_at: Instant


class Contact(Struct):
    id: ContactId
    created_at: Instant
    channel: Annotated[str, Meta(description="How it was logged: `phone` (the console) or `api`.")]
    category: CategoryName
    outcome: OutcomeName
    office: OfficeSlug | None
    service: Annotated[str | None, Meta(description="The service's code.")]
    booking: Annotated[Reference | None, Meta(description="The linked booking's reference.")]
    summary: Annotated[str, Meta(description="Empty once the retention period has passed.")]
    phone: str | None
    language: str
    needs: list[str]
    callback_status: CallbackStatusName | None
    callback_due: Instant | None
    callback_done_at: Instant | None
    callback_note: str


class Callback(Struct):
    """A call-back the office owes a caller."""

    id: ContactId
    office: OfficeSlug
    category: CategoryName
    summary: str
    phone: Annotated[str | None, Meta(description="The number to call back.")]
    language: str
    needs: list[str]
    booking: Annotated[Reference | None, Meta(description="The linked booking's reference.")]
    status: CallbackStatusName
    due: Instant | None
    created_at: Instant
    done_at: Instant | None
    note: Annotated[str, Meta(description="What the office noted when it called back.")]


class CallbackDone(Struct):
    note: Annotated[str, Meta(description="What came of the call-back; at most 500 characters.")] = ""


class NewWebhook(Struct):
    name: Annotated[str, Meta(description="For people: which system receives the events. 1–120 characters.")]
    url: Annotated[
        str,
        Meta(
            description=(
                "Where to POST the events: https (plain http only to localhost), no user name or "
                "password, at most 200 characters."
            )
        ),
    ]
    events: Annotated[list[EventName], Meta(description="The events to receive: one or more.")]


class Webhook(Struct):
    id: Annotated[int, Meta(description="The subscription's id.")]
    name: str
    url: str
    events: list[str]
    active: bool
    created_at: Annotated[dt.datetime, Meta(description="ISO 8601, UTC.")]


class WebhookCreated(Webhook):
    secret: Annotated[
        str,
        Meta(
            description=(
                "Verifies the deliveries' `X-Kontor-Signature`. Shown in this answer only: keep it now."
            )
        ),
    ]
