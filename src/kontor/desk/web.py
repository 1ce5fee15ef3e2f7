"""The front desk page: an office's booked visits, searchable, refreshed by htmx every minute.

One URL serves the page and, for htmx (live search, the minute's refresh), the bookings fragment alone.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import can_work_in_office, current_user, ensure, requires_login
from kontor.desk.services import desk_bookings, desk_office
from kontor.hours.services import current_time
from kontor.web.templating import page

Db = NamedDependency[AsyncSession]
QUERY_MAX = 120  # longer than any name or reference


@get("/desk/{slug:str}", name="desk", guards=[requires_login], cache=False, include_in_schema=False)
async def desk_page(
    request: Request[Any, Any, Any], db_session: Db, slug: FromPath[str], q: FromQuery[str | None] = None
) -> Template:
    office = await desk_office(db_session, slug)
    if office is None:
        raise NotFoundException(f"No office {slug!r}.")
    ensure(can_work_in_office(current_user(request), office.id))
    now = current_time(request.app.state)
    bookings = await desk_bookings(db_session, office, (q or "")[:QUERY_MAX], now)
    context = {
        "office": office,
        "bookings": bookings,
        "query": bookings.query,
        "updated_at": now.astimezone(ZoneInfo(office.timezone)),
    }
    # htmx restoring history after a cache miss needs the whole page, not the list alone.
    restoring = request.headers.get("hx-history-restore-request") == "true"
    fragment = None if restoring else "desk/_bookings.html"
    response = page(request, "desk/desk.html", context, fragment=fragment)
    # Names of residents: no browser or proxy cache may keep a copy.
    response.set_header("Cache-Control", "no-store")
    return response


ROUTES: list = [desk_page]
