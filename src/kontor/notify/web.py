"""The outbox page for staff: every message to residents, whether it went out, and what it said.

With the folder transport (demo, tests) this is where messages can be read; nothing is sent by
accident and nothing is lost. Admins see all messages, managers those of their offices.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from kontor.admin.office_pages import MANAGERS, AdminRequest, Db
from kontor.booking.references import format_reference
from kontor.hours.services import current_time
from kontor.notify import outbox
from kontor.web.templating import page


def _labels(request: AdminRequest) -> dict[str, Any]:
    return {
        "status_labels": outbox.STATUS_LABELS,
        "channel_labels": outbox.CHANNEL_LABELS,
        "kind_labels": outbox.KIND_LABELS,
        "timezone": ZoneInfo(request.app.state.settings.default_timezone),
    }


def _page_link(status: str, number: int) -> str:
    return "?" + urlencode({"status": status, "page": number} if status else {"page": number})


@get("/admin/outbox", guards=MANAGERS, name="notify:outbox", cache=False)
async def outbox_list(
    request: AdminRequest,
    db_session: Db,
    status: FromQuery[str] = "",
    page_number: Annotated[int, QueryParameter(name="page", ge=1)] = 1,
) -> Template:
    status = status if status in outbox.STATUS_LABELS else ""
    result = await outbox.outbox_page(db_session, request.user, status, page_number)
    context = {
        "status": status,
        "result": result,
        "newer": _page_link(status, result.page - 1) if result.page > 1 else None,
        "older": _page_link(status, result.page + 1) if result.has_next else None,
        **_labels(request),
    }
    return page(request, "notify/outbox.html", context, fragment="notify/_outbox_results.html")


@get("/admin/outbox/{message_id:int}", guards=MANAGERS, name="notify:message", cache=False)
async def outbox_message(
    request: AdminRequest,
    db_session: Db,
    message_id: FromPath[int],
    retried: FromQuery[str | None] = None,
) -> Template:
    message = await outbox.visible_message(db_session, request.user, message_id)
    reference = await outbox.booking_reference(db_session, message)
    context = {
        "message": message,
        "reference": format_reference(reference) if reference else None,
        "retried": retried,
        **_labels(request),
    }
    return page(request, "notify/message.html", context)


@post("/admin/outbox/{message_id:int}/retry", guards=MANAGERS)
async def send_again(request: AdminRequest, db_write: Db, message_id: FromPath[int]) -> Response[Any]:
    done = await outbox.send_again(db_write, request.user, message_id, current_time(request.app.state))
    return Redirect(f"/admin/outbox/{message_id}?retried={'yes' if done else 'no'}", status_code=303)


ROUTES = [outbox_list, outbox_message, send_again]
