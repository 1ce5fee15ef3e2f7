"""What the counter page shows and the small steps its handlers share: the office and its counters
as the clerk sees them, the counter remembered in the login session, the notices after an action,
and the contexts of the opening form and of the working area (current ticket, with a booked visit's
hand-off from the contact center, and line)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.utils.scope.state import ScopeState
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import User
from kontor.booking.models import Booking
from kontor.desk.services import NEED_LABELS, Handoff, visit_handoffs
from kontor.i18n import N_, _
from kontor.offices.models import Counter, Office, Service
from kontor.queue.counter import current_ticket, shift_of, shifts_today
from kontor.queue.models import CounterShift, Ticket
from kontor.queue.tickets import office_day
from kontor.queue.views import waiting_line, walk_in_services

# The session remembers each office's chosen counter: {"kista": 2}.
SESSION_KEY = "counters"
CODE = re.compile(r"^[A-Z][0-9]{3,6}$")

# What the page says after an action; the redirect carries the key, never free text.
NOTICES: dict[str, tuple[str, str]] = {
    "none-waiting": (N_("No one is waiting."), "info"),
    "taken": (N_("Someone else called this ticket."), "warning"),
    "gone": (N_("This ticket has left your counter: it was finished, moved or cancelled."), "warning"),
    "not-yours": (N_("This ticket is not at your counter."), "warning"),
    "busy": (N_("Finish the current ticket first: served, no-show or transfer."), "warning"),
    "unknown-service": (N_("Choose one of the services this office takes walk-ins for."), "warning"),
    "recalled": (N_("%(code)s was called again."), "info"),
    "served": (N_("%(code)s was marked as served."), "info"),
    "no-show": (N_("%(code)s was marked as a no-show."), "info"),
    "transferred": (N_("%(code)s was transferred and waits again."), "info"),
    "alarm": (N_("The alarm has been raised: the office's other staff pages have been alerted."), "alarm"),
    "no-shift": (N_("Open the counter first: choose it and the services it handles."), "warning"),
}


@dataclass(frozen=True, slots=True)
class Notice:
    text: str
    kind: str  # info, warning, alarm


def notice_for(key: str | None, code: str | None = None) -> Notice | None:
    """The translated notice for a key of NOTICES (an unknown key shows nothing)."""
    if key not in NOTICES:
        return None
    msgid, kind = NOTICES[key]
    shown_code = code if code and CODE.match(code) else "–"
    return Notice(_(msgid, code=shown_code) if "%(code)s" in msgid else _(msgid), kind)


def station_url(slug: str, number: int, **extra: Any) -> str:
    """The counter view's address, with optional ``notice``, ``code``, ``all`` or ``change``."""
    query = {"counter": number, **{key: value for key, value in extra.items() if value}}
    return f"/counter/{slug}?{urlencode(query)}"


async def office_counters(db: AsyncSession, office: Office) -> list[Counter]:
    """The office's active counters, by number."""
    rows = await db.scalars(
        select(Counter)
        .where(Counter.office_id == office.id, Counter.active.is_(True))
        .order_by(Counter.number)
    )
    return list(rows)


def counter_numbered(counters: list[Counter], number: int | None) -> Counter | None:
    return next((counter for counter in counters if counter.number == number), None)


def remembered_counter(request: Request[Any, Any, Any], office: Office) -> int | None:
    chosen = (request.session or {}).get(SESSION_KEY, {})
    number = chosen.get(office.slug) if isinstance(chosen, dict) else None
    return number if isinstance(number, int) else None


def remember_counter(request: Request[Any, Any, Any], office: Office, number: int | None) -> None:
    """Keep (or, with None, forget) the user's counter at ``office`` in the login session."""
    session = dict(request.session or {})
    chosen = dict(session.get(SESSION_KEY) or {})
    if number is None:
        chosen.pop(office.slug, None)
    else:
        chosen[office.slug] = number
    session[SESSION_KEY] = chosen
    request.set_session(session)


def open_today(shift: CounterShift | None, office: Office, now: datetime) -> CounterShift | None:
    """The shift if it was opened today; a shift left open yesterday counts for nothing."""
    return shift if shift is not None and shift.day == office_day(office, now) else None


def csrf_input(request: Request[Any, Any, Any]) -> str:
    """The hidden CSRF field, for fragments rendered outside a template response (the live stream)."""
    token = ScopeState.from_scope(request.scope).csrf_token
    value = token if isinstance(token, str) else ""
    return f'<input type="hidden" name="_csrf_token" value="{html.escape(value)}" />'


async def work_context(
    db: AsyncSession,
    office: Office,
    counter: Counter,
    shift: CounterShift | None,
    now: datetime,
    *,
    show_all: bool = False,
) -> dict[str, Any]:
    """What the counter's working area shows: its current ticket (and booked visitor, with the contact
    center's hand-off) and the line."""
    services = walk_in_services(office)
    mine = set(shift.service_ids) if shift is not None else {service.id for service in services}
    current = await current_ticket(db, counter, now)
    everyone = await waiting_line(db, office, now)
    own = [entry for entry in everyone if entry.ticket.service_id in mine]
    # Positions count within what is shown: the counter's own services, or all.
    shown = everyone if show_all else own
    visit = await _visit(db, current)
    handoff = await _handoff(db, visit)
    return {
        "office": office,
        "counter": counter,
        "shift": shift,
        "zone": ZoneInfo(office.timezone),
        "current": current,
        "waited": _waited_minutes(current),
        "visit": visit,
        "handoff": handoff,
        "visit_needs": _needs(visit, handoff),
        "transfer_to": [
            service for service in services if current is None or service.id != current.service_id
        ],
        "entries": [(place, entry) for place, entry in enumerate(shown, start=1)],
        "own_count": len(own),
        "all_count": len(everyone),
        "show_all": show_all,
        "need_labels": NEED_LABELS,
    }


def _waited_minutes(ticket: Ticket | None) -> int:
    if ticket is None or ticket.called_at is None:
        return 0
    return max(0, int((ticket.called_at - ticket.issued_at).total_seconds() // 60))


async def _visit(db: AsyncSession, ticket: Ticket | None) -> Booking | None:
    """The booked visit behind a checked-in ticket: the clerk may see its name and needs."""
    if ticket is None or ticket.booking_id is None:
        return None
    return await db.get(Booking, ticket.booking_id)


async def _handoff(db: AsyncSession, visit: Booking | None) -> Handoff | None:
    """What the contact center handed on about the visit, if an agent booked it or logged a call about it."""
    if visit is None:
        return None
    return (await visit_handoffs(db, [visit.id])).get(visit.id)


def _needs(visit: Booking | None, handoff: Handoff | None) -> list[str]:
    """What the visit needs: the booking's, then any more the agent noted."""
    if visit is None:
        return []
    return list(dict.fromkeys([*(visit.needs or ()), *(handoff.needs if handoff is not None else ())]))


async def _staffing(db: AsyncSession, office: Office, now: datetime) -> dict[int, str]:
    """Who sits at which counter today: counter id → the clerk's name."""
    shifts = await shifts_today(db, office, now)
    user_ids = {shift.user_id for shift in shifts if shift.user_id is not None}
    users = (
        {user.id: user for user in await db.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    names: dict[int, str] = {}
    for shift in shifts:
        user = users.get(shift.user_id) if shift.user_id is not None else None
        names[shift.counter_id] = (user.display_name or user.username) if user is not None else _("someone")
    return names


async def setup_context(
    db: AsyncSession,
    office: Office,
    counters: list[Counter],
    now: datetime,
    *,
    chosen: int | None,
    service_ids: set[int] | None = None,
    errors: dict[str, str] | None = None,
    notice: Notice | None = None,
) -> dict[str, Any]:
    """The form that opens a counter: which counter, and which services it calls."""
    services = walk_in_services(office)
    if service_ids is None:
        counter = counter_numbered(counters, chosen)
        shift = open_today(await shift_of(db, counter.id), office, now) if counter is not None else None
        service_ids = set(shift.service_ids) if shift is not None else {service.id for service in services}
    return {
        "office": office,
        "counters": counters,
        "services": services,
        "chosen": chosen,
        "chosen_services": service_ids,
        "staffed": await _staffing(db, office, now),
        "errors": errors or {},
        "notice": notice,
        "shift": None,
    }


def shift_services(office: Office, shift: CounterShift) -> list[Service]:
    """The walk-in services a shift calls, in the catalogue's order."""
    return [service for service in walk_in_services(office) if service.id in set(shift.service_ids)]
