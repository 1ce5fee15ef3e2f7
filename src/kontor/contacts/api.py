"""The contact-center API: what the telephony or CRM of the contact center does with an agent's token.

Looking a caller up and logging a call take an agent's (or an admin's) bearer token; a call-back is
the office's business, so its staff list and close them. Every operation needs a bearer token (a
browser session is no API credential): 401 without one, 403 for a role or office it does not reach,
404 for what the token may not see, so nothing tells an unknown record from another's. A refused
contact answers 422 with ``{"detail": ..., "extra": {"kind": "invalid", "field": ...}}``. Times are
ISO 8601 in the office's zone. The call-backs are in :mod:`kontor.contacts.callback_api`, the
webhook subscriptions in :mod:`kontor.contacts.webhook_api`; ``ROUTES`` has them all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import JSONBody, QueryParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import can_work_in_office
from kontor.accounts.models import Role, User
from kontor.audit.models import Channel
from kontor.booking.models import Booking
from kontor.booking.references import normalize_reference
from kontor.contacts import schemas
from kontor.contacts import services as contacts
from kontor.contacts.api_access import (
    AGENTS_ONLY,
    PRIVATE,
    TOKEN,
    ContactId,
    Db,
    agent_or_admin,
    agents_token,
    refused,
    staff_of,
)
from kontor.contacts.api_views import caller_booking, names_for
from kontor.contacts.callback_api import ROUTES as CALLBACK_ROUTES
from kontor.contacts.models import Contact
from kontor.contacts.webhook_api import ROUTES as WEBHOOK_ROUTES
from kontor.hours.services import current_time
from kontor.offices.api import NOT_JSON, answers
from kontor.offices.models import Service
from kontor.offices.schemas import FIRST_DAY, LAST_DAY
from kontor.queue.api_access import json_only

_NO_CONTACT = "No contact with this id for this token."
_REFUSED = {
    404: "No office has this slug, no service this code, or no booking this reference (`extra.field`).",
    422: "Refused: `extra.field` names the field (e.g. a summary that is empty or too long).",
}


def _unknown(field: str, what: str) -> NotFoundException:
    return NotFoundException(what, extra={"kind": "not_found", "field": field})


@get(
    "/api/v1/callers",
    name="api_caller",
    summary="Look up a caller",
    description=(
        "Agent or admin bearer token. The caller's bookings (by phone number, or the one booking of a "
        "reference; from 30 days back to any time ahead, upcoming first) and their contacts of the last "
        "90 days (newest first, at most 20). Every lookup is written to the audit log. 422 when "
        "neither `phone` nor `reference` is usable (`extra.field` names the one given)."
    ),
    responses=answers(AGENTS_ONLY, {422: "Give a usable `phone` or `reference`."}),
    **PRIVATE,
)
async def lookup_caller(
    request: Request[Any, Any, Any],
    db_write: Db,
    phone: Annotated[
        str | None, QueryParameter(description="The caller's number, as the telephony gives it.")
    ] = None,
    reference: Annotated[
        str | None, QueryParameter(description="A booking's reference, e.g. ACDE-4779.")
    ] = None,
) -> schemas.Caller:
    user = agent_or_admin(request)
    try:
        record = await contacts.lookup_caller(
            db_write,
            user=user,
            phone=phone or None,
            reference=reference or None,
            channel=Channel.API,
            now=current_time(request.app.state),
        )
    except contacts.ContactError as error:
        raise refused(error) from None
    names = await names_for(request, db_write, record.contacts)
    return schemas.Caller(
        bookings=[caller_booking(booking) for booking in record.bookings],
        contacts=[
            schemas.CallerContact(
                id=contact.id,
                created_at=names.local(contact, contact.created_at),  # type: ignore[arg-type]
                category=contact.category,
                outcome=contact.outcome,
                office=names.office(contact),
                booking=names.booking(contact),
                summary=contact.summary,
            )
            for contact in record.contacts
        ],
    )


async def _linked(
    db: AsyncSession, request: Request[Any, Any, Any], data: schemas.NewContact
) -> dict[str, Any]:
    """The office, service and booking the new contact names, by id; 404 for one that is unknown."""
    linked: dict[str, Any] = {}
    if data.office:
        office = await request.app.state.directory.office(db, data.office)
        if office is None:
            raise _unknown("office", f"No office with slug {data.office!r}.")
        linked["office_id"] = office.id
    if data.service:
        service_id = await db.scalar(select(Service.id).where(Service.code == data.service))
        if service_id is None:
            raise _unknown("service", f"No service with code {data.service!r}.")
        linked["service_id"] = service_id
    if data.booking:
        key = normalize_reference(data.booking)
        booking = await db.scalar(select(Booking).where(Booking.reference == key)) if key else None
        if booking is None:
            raise _unknown("booking", "No booking with this reference.")
        linked["booking"] = booking
    return linked


def _due(data: schemas.NewContact) -> datetime | None:
    due = data.callback_due
    if due is not None and not FIRST_DAY <= due.date() <= LAST_DAY:
        raise HTTPException(
            status_code=422,
            detail=f"'callback_due' must be between {FIRST_DAY} and {LAST_DAY}.",
            extra={"kind": "invalid", "field": "callback_due"},
        )
    return due


@post(
    "/api/v1/contacts",
    name="api_log_contact",
    summary="Log a call",
    description=(
        "Agent or admin bearer token. Records a call as a contact made through the API by the token's "
        "user. `visit_booked` needs a `booking`; `forwarded` and `callback` need an `office`; a "
        "`callback` needs a `phone` and lands in the office's list of call-backs, due at "
        "`callback_due` (default: in 24 hours). A booking fills in the office, service, and (unless "
        "given) phone, language and needs. Errors: 422 refused (`extra.field` names the field), 404 "
        "unknown office, service or booking, 415 a body that is not JSON."
    ),
    guards=[agents_token, json_only],
    status_code=201,
    responses=answers(AGENTS_ONLY, _REFUSED, NOT_JSON),
    **PRIVATE,
)
async def log_contact(
    request: Request[Any, Any, Any], db_write: Db, data: JSONBody[schemas.NewContact]
) -> schemas.ContactCreated:
    user = agent_or_admin(request)
    try:
        contact = await contacts.log_contact(
            db_write,
            agent=user,
            channel=Channel.API,
            category=data.category,
            outcome=data.outcome,
            summary=data.summary,
            **await _linked(db_write, request, data),
            phone=data.phone,
            language=data.language,
            needs=data.needs,
            callback_due_at=_due(data),
            now=current_time(request.app.state),
            settings=request.app.state.settings,
        )
    except contacts.ContactError as error:
        raise refused(error) from None
    names = await names_for(request, db_write, [contact])
    return schemas.ContactCreated(
        id=contact.id,
        category=contact.category,
        outcome=contact.outcome,
        office=names.office(contact),
        booking=names.booking(contact),
        callback_status=contact.callback_status,  # type: ignore[arg-type]
        callback_due=names.local(contact, contact.callback_due_at),
        created_at=names.local(contact, contact.created_at),  # type: ignore[arg-type]
    )


def _may_read(user: User, contact: Contact) -> bool:
    if user.role in {Role.AGENT, Role.ADMIN}:
        return True
    return contact.office_id is not None and can_work_in_office(user, contact.office_id)


@get(
    "/api/v1/contacts/{contact_id:int}",
    name="api_contact",
    summary="One contact",
    description=(
        "Bearer token of an agent or admin (any contact), or of the staff or a manager of the "
        "contact's office. The summary, number and needs are empty once the retention period has "
        "passed. 404 when there is no such contact or the token does not reach it."
    ),
    responses=answers(TOKEN, {404: f"{_NO_CONTACT} Also for staff of another office."}),
    **PRIVATE,
)
async def get_contact(
    request: Request[Any, Any, Any], db_session: Db, contact_id: ContactId
) -> schemas.Contact:
    user = staff_of(request)
    contact = await db_session.get(Contact, contact_id)
    if contact is None or not _may_read(user, contact):
        raise NotFoundException(_NO_CONTACT)
    names = await names_for(request, db_session, [contact])
    return schemas.Contact(
        id=contact.id,
        created_at=names.local(contact, contact.created_at),  # type: ignore[arg-type]
        channel=contact.channel,
        category=contact.category,
        outcome=contact.outcome,
        office=names.office(contact),
        service=names.service(contact),
        booking=names.booking(contact),
        summary=contact.summary,
        phone=contact.phone,
        language=contact.language,
        needs=list(contact.needs or []),
        callback_status=contact.callback_status,  # type: ignore[arg-type]
        callback_due=names.local(contact, contact.callback_due_at),
        callback_done_at=names.local(contact, contact.callback_done_at),
        callback_note=contact.callback_note,
    )


ROUTES: list = [lookup_caller, log_contact, get_contact, *CALLBACK_ROUTES, *WEBHOOK_ROUTES]
