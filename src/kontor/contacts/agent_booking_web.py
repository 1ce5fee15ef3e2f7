"""A booking as the agent sees it, ``/agent/bookings/{reference}``: the visit, the office's hand-off
summary, the read-back script after booking, and moving or cancelling the visit once the caller has
read the reference out. Every view is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.forms import text
from kontor.audit.models import Channel
from kontor.audit.services import record
from kontor.booking import services
from kontor.booking.models import Booking, BookingStatus
from kontor.booking.notices import tell_resident
from kontor.booking.policy import BookingRules
from kontor.booking.references import format_reference
from kontor.booking.visitor import BookingError
from kontor.contacts.agent_booking import agent_booking, find_booking, read_back, reference_matches
from kontor.contacts.agent_pages import (
    AGENTS,
    Db,
    FormState,
    agent,
    audit_transaction,
    labels,
    no_store,
    release_delay,
    see_other,
)
from kontor.contacts.console import ConsoleQuery
from kontor.hours.services import current_time
from kontor.i18n import N_, _
from kontor.web.templating import page

_DONE = {
    "rescheduled": N_("The visit has a new time. A text message about it is on its way."),
    "cancelled": N_("The visit is cancelled. A text message about it is on its way."),
}


async def _booking_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    reference: str,
    *,
    booked: bool = False,
    done: str | None = None,
    problem: str | None = None,
    forms: dict[str, FormState] | None = None,
    status_code: int = 200,
) -> Template:
    now = current_time(request.app.state)
    view = await agent_booking(
        db, request.app.state.directory, reference, now, release_delay=release_delay(request)
    )
    if view is None:
        raise NotFoundException("No booking with this reference.")
    async with audit_transaction(request) as audit_db:
        record(
            audit_db,
            actor=agent(request),
            channel=Channel.PHONE,
            action="booking.viewed",
            entity="booking",
            entity_id=view.reference,
            office_id=view.booking.office_id,
        )
    booking = view.booking
    context = {
        **labels(),
        "view": view,
        "booking": booking,
        "read_back": read_back(booking) if booking.status == BookingStatus.BOOKED else None,
        "booked": booked,
        "done": _(_DONE[done]) if done in _DONE else None,
        "problem": problem,
        "forms": forms or {},
        # Back to the caller: all their bookings by their number, else this one by its reference.
        "console_url": ConsoleQuery.of(
            phone=booking.phone, reference=None if booking.phone else view.reference
        ).url(),
    }
    return no_store(page(request, "agent/booking.html", context, status_code=status_code))


@get("/agent/bookings/{reference:str}", name="agent:booking", guards=AGENTS, cache=False)
async def booking_page(
    request: Request[Any, Any, Any],
    db_session: Db,
    reference: FromPath[str],
    booked: FromQuery[str | None] = None,
    done: FromQuery[str | None] = None,
) -> Template:
    return await _booking_page(request, db_session, reference, booked=booked == "1", done=done)


async def _verified(
    request: Request[Any, Any, Any], db: AsyncSession, reference: str
) -> tuple[Booking, FormState]:
    """The booking and the posted form; ``errors`` says whether the reference the caller read out
    matches."""
    booking = await find_booking(db, reference)
    if booking is None:
        raise NotFoundException("No booking with this reference.")
    form = await request.form()
    state = FormState({"verify": text(form, "verify", 40), "start": text(form, "start", 60)})
    if not reference_matches(booking, state.values["verify"]):
        state.errors["verify"] = _(
            "This is not the booking's reference. Ask the caller to read it out again."
        )
    return booking, state


async def _refused(
    request: Request[Any, Any, Any],
    db_write: AsyncSession,
    db_session: AsyncSession,
    reference: str,
    form_name: str,
    state: FormState,
    *,
    problem: str | None = None,
    status_code: int = 422,
) -> Template:
    await db_write.rollback()
    return await _booking_page(
        request, db_session, reference, problem=problem, forms={form_name: state}, status_code=status_code
    )


@post("/agent/bookings/{reference:str}/cancel", name="agent:cancel", guards=AGENTS)
async def cancel_for_caller(
    request: Request[Any, Any, Any], db_write: Db, db_session: Db, reference: FromPath[str]
) -> Response[Any]:
    booking, state = await _verified(request, db_write, reference)
    if state.errors:
        return await _refused(request, db_write, db_session, reference, "cancel", state)
    now = current_time(request.app.state)
    was_booked = booking.status == BookingStatus.BOOKED
    try:
        await services.cancel(db_write, booking, channel=Channel.PHONE, actor=agent(request), now=now)
    except BookingError as error:
        return await _refused(
            request,
            db_write,
            db_session,
            reference,
            "cancel",
            state,
            problem=_(error.message),
            status_code=409,
        )
    if was_booked:
        settings = request.app.state.settings
        await tell_resident(db_write, booking, "cancelled", settings=settings, token=None, now=now)
    return see_other(f"/agent/bookings/{format_reference(booking.reference)}?done=cancelled")


@post("/agent/bookings/{reference:str}/reschedule", name="agent:reschedule", guards=AGENTS)
async def reschedule_for_caller(
    request: Request[Any, Any, Any], db_write: Db, db_session: Db, reference: FromPath[str]
) -> Response[Any]:
    booking, state = await _verified(request, db_write, reference)
    try:
        start = datetime.fromisoformat(state.values["start"])
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        state.errors["start"] = _("Choose one of the free times.")
    if state.errors:
        return await _refused(request, db_write, db_session, reference, "reschedule", state)
    assert start is not None
    now = current_time(request.app.state)
    settings = request.app.state.settings
    before = booking.starts_at
    try:
        await services.reschedule(
            db_write,
            booking,
            start,
            channel=Channel.PHONE,
            actor=agent(request),
            now=now,
            rules=BookingRules.from_settings(settings),
        )
    except BookingError as error:
        status = 422 if error.kind == "invalid" else 409
        state.errors["start"] = _(error.message)
        return await _refused(
            request, db_write, db_session, reference, "reschedule", state, status_code=status
        )
    if booking.starts_at != before:
        await tell_resident(db_write, booking, "rescheduled", settings=settings, token=None, now=now)
    return see_other(f"/agent/bookings/{format_reference(booking.reference)}?done=rescheduled")


ROUTES: list = [
    booking_page,
    cancel_for_caller,
    reschedule_for_caller,
]
