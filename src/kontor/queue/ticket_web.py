"""A walk-in ticket's public pages: ``/tickets/{token}`` (the resident follows it on a phone, live),
``/tickets/{token}/print`` (the 80 mm receipt) and ``/tickets/{token}/events`` (its live updates).

Whoever holds the link sees the ticket, as with the paper slip it is printed on; an unknown token is a
404. The address carries the token, so the pages are never cached and never send it on as a referrer.
The pages show no personal data: a code, a service, an office, a place in line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.hours.services import current_time
from kontor.i18n import _
from kontor.live.events import LiveEvent
from kontor.live.stream import live_stream, read_session
from kontor.queue.models import Ticket, TicketKind
from kontor.queue.qr import qr_svg
from kontor.queue.views import TicketView, ticket_by_token, ticket_view
from kontor.web.templating import page, render_fragment

__all__ = ["ROUTES", "ticket_context", "ticket_url"]

Db = NamedDependency[AsyncSession]
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


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


@get("/tickets/{token:str}", name="ticket_page", cache=False, include_in_schema=False)
async def ticket_page(request: Request[Any, Any, Any], db_session: Db, token: FromPath[str]) -> Template:
    ticket = await _ticket_or_404(db_session, token)
    view = await ticket_view(db_session, ticket, current_time(request.app.state))
    return _private(page(request, "queue/ticket.html", ticket_context(request, view, token)))


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


ROUTES: list = [ticket_page, ticket_print, ticket_events]
