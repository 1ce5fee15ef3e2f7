"""A walk-in ticket's public pages: ``/tickets/{token}`` (the resident follows it on a phone, live),
``/tickets/{token}/print`` (the 80 mm receipt) and ``/tickets/{token}/events`` (its live updates);
and ``/tickets/{token}/phone`` (``/remove``), where the resident leaves a mobile number for a text
message when their turn is near (:mod:`kontor.queue.alerts`), or takes it away again.

Whoever holds the link sees the ticket, as with the paper slip it is printed on; an unknown token is a
404. The address carries the token, so the pages are never cached and never send it on as a referrer.
The pages show no personal data: a code, a service, an office, a place in line; of a number left for
the text message, only its last two digits, so the resident can tell it is theirs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, ServerSentEvent, ServerSentEventMessage, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.forms import text as form_text
from kontor.audit.models import Channel
from kontor.hours.services import current_time
from kontor.i18n import N_, _, current_locale
from kontor.live.events import LiveEvent
from kontor.live.stream import live_stream, read_session
from kontor.queue.alerts import PhoneError, check_phone, forget_phone, leave_phone
from kontor.queue.errors import QueueError
from kontor.queue.models import Ticket, TicketKind, TicketStatus
from kontor.queue.qr import qr_svg
from kontor.queue.views import TicketView, ticket_by_token, ticket_view
from kontor.web.templating import page, render_fragment

__all__ = ["ROUTES", "alert_context", "ticket_context", "ticket_url"]

Db = NamedDependency[AsyncSession]
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
# What the page confirms after a phone form (``?done=``).
PHONE_NOTICES = {
    "phone-saved": N_("Thank you: we will send you a text message when your turn is near."),
    "phone-removed": N_("Your number is removed. We will not send you a text message."),
}
OFF = N_("This office does not send text messages about the queue.")


def ticket_url(request: Request[Any, Any, Any], token: str) -> str:
    """The ticket page's absolute address for its QR code: at the public address residents reach
    kontor at when it is set, else at the address this request came to."""
    base = request.app.state.settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/tickets/{token}"


def ticket_context(
    request: Request[Any, Any, Any], view: TicketView, token: str, *, with_qr: bool = True
) -> dict[str, Any]:
    """What the ticket's card, slip and page show: the view, times in the office's zone, the QR code
    (left out with ``with_qr=False``, for the live status that does not show it)."""
    ticket = view.ticket
    zone = ZoneInfo(ticket.office.timezone)
    url = ticket_url(request, token)
    return {
        "view": view,
        "ticket": ticket,
        "office": ticket.office,
        "token": token,
        "ticket_url": url,
        "qr": qr_svg(url, label=_("QR code: the link to ticket %(code)s", code=ticket.code))
        if with_qr
        else None,
        "issued_at": ticket.issued_at.astimezone(zone),
        "booked_start": ticket.booked_start.astimezone(zone) if ticket.booked_start else None,
        # A visit checked in after its grace period joins as a walk-in; its ticket keeps the booking.
        "late": ticket.booking_id is not None and ticket.kind == TicketKind.WALK_IN.value,
    }


async def _ticket_or_404(db: AsyncSession, token: str) -> Ticket:
    ticket = await ticket_by_token(db, token)
    if ticket is None:
        raise NotFoundException("No ticket for this link.")
    return ticket


def _private(template: Template) -> Template:
    template.headers.update(PRIVATE_HEADERS)
    return template


def alert_context(
    request: Request[Any, Any, Any],
    ticket: Ticket,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    done: str | None = None,
) -> dict[str, Any]:
    """The ticket page's text-message part: whether to offer it (the office sends them, and the
    ticket still waits or has a number to take away), the number's last two digits, the form's
    errors and values as typed, and the notice of a change just made."""
    ahead = request.app.state.settings.ticket_alert_ahead
    waiting = ticket.status == TicketStatus.WAITING.value and ticket.purged_at is None
    phone = ticket.phone or ""
    return {
        "shown": ahead > 0 and (waiting or bool(phone)),
        "ahead": ahead,
        "can_add": waiting and not phone,
        "phone_end": phone[-2:],
        "alerted": ticket.alerted_at is not None,
        "form_errors": errors or {},
        "form_values": values or {},
        "notice": _(PHONE_NOTICES[done]) if done in PHONE_NOTICES else None,
    }


async def _page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    ticket: Ticket,
    token: str,
    *,
    problem: str | None = None,
    status_code: int = 200,
    **alert: Any,
) -> Template:
    view = await ticket_view(db, ticket, current_time(request.app.state))
    context = ticket_context(request, view, token) | {
        "alert": alert_context(request, ticket, **alert),
        "problem": problem,
    }
    return _private(page(request, "queue/ticket.html", context, status_code=status_code))


@get("/tickets/{token:str}", name="ticket_page", cache=False, include_in_schema=False)
async def ticket_page(
    request: Request[Any, Any, Any], db_session: Db, token: FromPath[str], done: FromQuery[str | None] = None
) -> Template:
    ticket = await _ticket_or_404(db_session, token)
    return await _page(request, db_session, ticket, token, done=done)


@post("/tickets/{token:str}/phone", name="ticket_phone", include_in_schema=False)
async def ticket_phone(request: Request[Any, Any, Any], db_write: Db, token: FromPath[str]) -> Response[Any]:
    """Keep the number the resident typed for the text message; the page again with the form's
    error (422) when it is not a phone number, or the reason (409) when the ticket is done."""
    ticket = await _ticket_or_404(db_write, token)
    typed = form_text(await request.form(), "phone", 60)
    if request.app.state.settings.ticket_alert_ahead <= 0:
        return await _page(request, db_write, ticket, token, problem=_(OFF), status_code=409)
    now = current_time(request.app.state)
    try:
        phone = check_phone(typed)
        language = current_locale.get()
        await leave_phone(
            db_write, ticket, phone, channel=Channel.WEB, actor="resident", now=now, language=language
        )
    except PhoneError as error:
        errors, values = {"phone": _(error.message)}, {"phone": typed}
        return await _page(request, db_write, ticket, token, errors=errors, values=values, status_code=422)
    except QueueError as error:
        await db_write.refresh(ticket)
        return await _page(request, db_write, ticket, token, problem=_(error.message), status_code=409)
    return _private_redirect(f"/tickets/{token}?done=phone-saved")


@post("/tickets/{token:str}/phone/remove", name="ticket_phone_remove", include_in_schema=False)
async def ticket_phone_remove(
    request: Request[Any, Any, Any], db_write: Db, token: FromPath[str]
) -> Response[Any]:
    """Take the number away, whatever the ticket's state; done already is done too."""
    ticket = await _ticket_or_404(db_write, token)
    await forget_phone(
        db_write, ticket, channel=Channel.WEB, actor="resident", now=current_time(request.app.state)
    )
    return _private_redirect(f"/tickets/{token}?done=phone-removed")


def _private_redirect(path: str) -> Redirect:
    redirect = Redirect(path, status_code=303)
    redirect.headers.update(PRIVATE_HEADERS)
    return redirect


@get("/tickets/{token:str}/print", name="ticket_print", cache=False, include_in_schema=False)
async def ticket_print(
    request: Request[Any, Any, Any], db_session: Db, token: FromPath[str], desk: FromQuery[int | None] = None
) -> Template:
    ticket = await _ticket_or_404(db_session, token)
    view = await ticket_view(db_session, ticket, current_time(request.app.state))
    context = ticket_context(request, view, token) | {"from_desk": desk == 1}
    return _private(page(request, "queue/ticket_print.html", context))


@get("/tickets/{token:str}/events", name="ticket_events", cache=False, include_in_schema=False)
async def ticket_events(
    request: Request[Any, Any, Any], db_session: Db, token: FromPath[str]
) -> ServerSentEvent:
    ticket = await _ticket_or_404(db_session, token)
    ticket_id, office_id = ticket.id, ticket.office_id
    shown: list[str] = []  # the status last sent: an unchanged one is not sent again

    async def render(_event: LiveEvent | None) -> list[ServerSentEventMessage]:
        async with read_session(request.app.state) as db:
            current = await db.get(Ticket, ticket_id)
            if current is None:  # purged: nothing left to follow
                return []
            now: datetime = current_time(request.app.state)
            view = await ticket_view(db, current, now)
            html = render_fragment(
                request, "queue/_ticket_status.html", ticket_context(request, view, token, with_qr=False)
            )
        if shown and shown[-1] == html:
            return []
        shown[:] = [html]
        return [ServerSentEventMessage(data=html, event="status")]

    response = live_stream(request, office_id, render)
    response.headers.update(PRIVATE_HEADERS)
    return response


ROUTES: list = [ticket_page, ticket_print, ticket_events, ticket_phone, ticket_phone_remove]
