"""The agent console, ``/agent``: one screen for a call in progress. It finds the caller's bookings
and contacts, shows the earliest free times of a service across offices with each office's walk-in
wait, hours and notes, books a visit on the caller's behalf (channel phone, made by the agent, the
confirmation by text message) and logs calls that end without a visit. The booking's own page is
:mod:`kontor.contacts.agent_booking_web`.

Each step is a plain GET or POST form; the address carries the console's state (see ConsoleQuery).
A look up of the caller is audited in a transaction of its own (:func:`agent_pages.audit_transaction`).
A refused form rolls its transaction back before the page is drawn again, so nothing of it stays.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.forms import text, texts
from kontor.audit.models import Channel
from kontor.booking import services
from kontor.booking.models import Booking
from kontor.booking.notices import tell_resident
from kontor.booking.policy import BookingRules
from kontor.booking.references import format_reference
from kontor.booking.visitor import BookingError, check_visitor
from kontor.contacts import agent_booking_web, console
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
from kontor.contacts.models import Outcome
from kontor.contacts.services import (
    CATEGORY_LABELS,
    SUMMARY_MAX,
    CallerRecord,
    ContactError,
    log_contact,
    lookup_caller,
)
from kontor.hours.services import current_time
from kontor.i18n import LOCALES, N_, _
from kontor.offices.models import Office, Service
from kontor.web.templating import is_htmx, page

RESULTS = "agent-results"  # the id of the part of the console that the search form swaps
# Where the booking's and the contact's refusals are shown on the console's booking form.
_BOOKING_FIELDS = {"start": "slot", "office": "slot", "service": "slot", "booking": "slot"}
_LOGGED = {
    Outcome.SOLVED.value: N_("Call logged."),
    Outcome.FORWARDED.value: N_("Call logged and handed over to %(office)s."),
    Outcome.CALLBACK.value: N_("Call-back requested from %(office)s."),
}


async def _caller(
    request: Request[Any, Any, Any], query: ConsoleQuery, now: datetime
) -> tuple[CallerRecord | None, dict[str, str]]:
    """The caller's record, looked up (and audited) by the query's number or reference."""
    try:
        async with audit_transaction(request) as db:
            found = await lookup_caller(
                db,
                user=agent(request),
                phone=query.phone or None,
                reference=query.reference or None,
                channel=Channel.PHONE,
                now=now,
            )
    except ContactError as error:
        return None, {error.field or "phone": _(error.message)}
    return found, {}


async def _console(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    query: ConsoleQuery,
    *,
    booking_form: FormState | None = None,
    call_form: FormState | None = None,
    notice: str | None = None,
    results_only: bool = False,
    status_code: int = 200,
) -> Template:
    now = current_time(request.app.state)
    directory = request.app.state.directory
    offices = await directory.offices(db)  # first: loading the directory detaches what the session holds
    context: dict[str, Any] = {
        **labels(),
        "query": query,
        "services": console.services(offices),
        "districts": console.districts(offices),
        "offices": offices,
        "search": await console.search(
            db, directory, offices, query, now, release_delay=release_delay(request)
        ),
        "booking_form": booking_form or FormState({"phone": query.phone, "language": LOCALES[0]}),
        "call_form": call_form or FormState({"phone": query.phone, "office": query.office}),
        "notice": notice,
    }
    if results_only:
        return no_store(page(request, "agent/console.html", context, fragment="agent/_results.html"))
    caller, caller_errors = await _caller(request, query, now) if query.looks_up else (None, {})
    details = (
        await console.office_details(db, directory, offices, query.office, now) if query.office else None
    )
    context |= {
        "caller": caller,
        "caller_errors": caller_errors,
        "office_names": console.office_names(offices),
        "zone": ZoneInfo(request.app.state.settings.default_timezone),
        "details": details,
    }
    return no_store(page(request, "agent/console.html", context, status_code=status_code))


def _logged_notice(logged: str | None, office_name: str | None) -> str | None:
    message = _LOGGED.get(logged or "")
    if message is None:
        return None
    return _(message, office=office_name or _("the office"))


@get("/agent", name="agent:console", guards=AGENTS, cache=False)
async def console_page(
    request: Request[Any, Any, Any],
    db_session: Db,
    phone: FromQuery[str | None] = None,
    reference: FromQuery[str | None] = None,
    service: FromQuery[str | None] = None,
    district: FromQuery[str | None] = None,
    office: FromQuery[str | None] = None,
    logged: FromQuery[str | None] = None,
    at: FromQuery[str | None] = None,
) -> Template:
    query = ConsoleQuery.of(
        phone=phone, reference=reference, service=service, district=district, office=office
    )
    # htmx restoring history after a cache miss needs the whole page, not the results alone.
    restoring = request.headers.get("hx-history-restore-request") == "true"
    results_only = is_htmx(request) and not restoring and request.headers.get("hx-target") == RESULTS
    office_name = None
    if at:
        found = await request.app.state.directory.office(db_session, at[:80])
        office_name = found.name if found is not None else None
    notice = _logged_notice(logged, office_name)
    return await _console(request, db_session, query, notice=notice, results_only=results_only)


# -- booking for the caller -------------------------------------------------------------------------


def _booking_values(form: Any) -> dict[str, Any]:
    return {
        "slot": text(form, "slot", 120),
        "name": text(form, "name", 200),
        "phone": text(form, "phone", 60),
        "email": text(form, "email", 300),
        "language": text(form, "language", 5),
        "needs": texts(form, "needs"),
        "category": text(form, "category", 40),
        "summary": text(form, "summary", SUMMARY_MAX + 100),
    }


def _query_of(form: Any) -> ConsoleQuery:
    """The console's state the form was posted from (its hidden ``console`` field)."""
    return ConsoleQuery.parse(text(form, "console", 600))


def _check_before_booking(values: dict[str, Any]) -> dict[str, str]:
    """Every error the form shows at once, found before anything is written."""
    errors: dict[str, str] = {}
    if console.parse_slot(values["slot"]) is None:
        errors["slot"] = _("Choose one of the free times.")
    try:
        check_visitor(values["name"], values["email"], values["phone"], values["language"], values["needs"])
    except BookingError as error:
        # Neither a number nor an address: the number is what the text message needs.
        name = "phone" if error.field == "email" and not values["email"] else error.field or "name"
        errors[name] = _(error.message)
    if values["category"] not in CATEGORY_LABELS:
        errors["category"] = _("Choose what the call was about.")
    if not values["summary"]:
        errors["summary"] = _("Write a short summary of what the call was about.")
    elif len(values["summary"]) > SUMMARY_MAX:
        errors["summary"] = _("The summary can be at most 1000 characters long.")
    return errors


async def _book(
    request: Request[Any, Any, Any], db: AsyncSession, query: ConsoleQuery, values: dict[str, Any]
) -> Booking:
    """Book, log the call with the booking, and queue the confirmation: one transaction."""
    settings = request.app.state.settings
    user = agent(request)
    now = current_time(request.app.state)
    chosen = console.parse_slot(values["slot"])
    assert chosen is not None  # checked before
    office_slug, start = chosen
    booking, token = await services.book(
        db,
        office_slug=office_slug,
        service_code=query.service,
        start=start,
        name=values["name"],
        email=values["email"] or None,
        phone=values["phone"] or None,
        language=values["language"],
        needs=values["needs"],
        channel=Channel.PHONE,
        actor=user,
        now=now,
        rules=BookingRules.from_settings(settings),
    )
    await log_contact(
        db,
        agent=user,
        channel=Channel.PHONE,
        category=values["category"],
        outcome=Outcome.VISIT_BOOKED.value,
        summary=values["summary"],
        booking=booking,
        now=now,
        settings=settings,
    )
    await tell_resident(db, booking, "booked", settings=settings, token=token, now=now)
    return booking


@post("/agent/bookings", name="agent:book", guards=AGENTS)
async def book_for_caller(request: Request[Any, Any, Any], db_write: Db, db_session: Db) -> Response[Any]:
    form = await request.form()
    values = _booking_values(form)
    query = _query_of(form)
    status = 422
    errors = _check_before_booking(values)
    if not errors:
        try:
            booking = await _book(request, db_write, query, values)
        except BookingError as error:
            status = 422 if error.kind in ("invalid", "not_found") else 409
            errors = {_BOOKING_FIELDS.get(error.field or "start", error.field or "slot"): _(error.message)}
        except ContactError as error:
            errors = {
                _BOOKING_FIELDS.get(error.field or "summary", error.field or "summary"): _(error.message)
            }
        else:
            return see_other(f"/agent/bookings/{format_reference(booking.reference)}?booked=1")
    await db_write.rollback()  # nothing of a refused booking stays
    booking_form = FormState(values, errors)
    return await _console(request, db_session, query, booking_form=booking_form, status_code=status)


# -- a call without a visit -------------------------------------------------------------------------


def _call_values(form: Any) -> dict[str, Any]:
    return {
        "category": text(form, "category", 40),
        "outcome": text(form, "outcome", 20),
        "office": text(form, "office", 80),
        "phone": text(form, "phone", 60),
        "callback_due_at": text(form, "callback_due_at", 40),
        "summary": text(form, "summary", SUMMARY_MAX + 100),
    }


def _due(value: str, zone: str) -> datetime | None:
    """A ``datetime-local`` value, read in the office's zone."""
    try:
        due = datetime.fromisoformat(value)
    except ValueError:
        raise ContactError(
            "invalid", N_("Choose when the office should call back."), "callback_due_at"
        ) from None
    return due if due.tzinfo is not None else due.replace(tzinfo=ZoneInfo(zone))


async def _log_call(
    request: Request[Any, Any, Any], db: AsyncSession, query: ConsoleQuery, values: dict[str, Any]
) -> Office | None:
    settings = request.app.state.settings
    if values["outcome"] not in console.CALL_OUTCOMES:
        raise ContactError("invalid", N_("Choose how the call ended."), "outcome")
    office = None
    if values["office"]:
        office = await db.scalar(
            select(Office).where(Office.slug == values["office"], Office.active.is_(True))
        )
        if office is None:
            raise ContactError("not_found", N_("There is no such office."), "office")
    due = None
    if values["callback_due_at"] and values["outcome"] == Outcome.CALLBACK:
        due = _due(values["callback_due_at"], office.timezone if office else settings.default_timezone)
    service_id = (
        await db.scalar(select(Service.id).where(Service.code == query.service)) if query.service else None
    )
    await log_contact(
        db,
        agent=agent(request),
        channel=Channel.PHONE,
        category=values["category"],
        outcome=values["outcome"],
        summary=values["summary"],
        office_id=office.id if office else None,
        service_id=service_id,
        phone=values["phone"] or None,
        callback_due_at=due,
        now=current_time(request.app.state),
        settings=settings,
    )
    return office


@post("/agent/contacts", name="agent:log_call", guards=AGENTS)
async def log_call(request: Request[Any, Any, Any], db_write: Db, db_session: Db) -> Response[Any]:
    form = await request.form()
    values = _call_values(form)
    query = _query_of(form)
    try:
        office = await _log_call(request, db_write, query, values)
    except ContactError as error:
        await db_write.rollback()
        call_form = FormState(values, {error.field or "summary": _(error.message)})
        return await _console(request, db_session, query, call_form=call_form, status_code=422)
    changes = {"logged": values["outcome"]} | ({"at": office.slug} if office else {})
    return see_other(ConsoleQuery(phone=values["phone"] or query.phone).url(**changes))


ROUTES: list = [console_page, book_for_caller, log_call, *agent_booking_web.ROUTES]
