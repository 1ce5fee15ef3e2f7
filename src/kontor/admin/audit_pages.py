"""The audit log page: filters by office, actor and action; 50 entries a page, newest first."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import get
from litestar.params import FromQuery, QueryParameter
from litestar.response import Template

from kontor.admin.audit_log import AuditQuery, audit_page, known_actions
from kontor.admin.office_pages import MANAGERS, AdminRequest, Db
from kontor.admin.services import offices_for
from kontor.web.templating import page


@get("/admin/audit", guards=MANAGERS, name="admin:audit", cache=False)
async def audit(
    request: AdminRequest,
    db_session: Db,
    office: FromQuery[str] = "",
    actor: FromQuery[str] = "",
    action: FromQuery[str] = "",
    page_number: Annotated[int, QueryParameter(name="page", ge=1)] = 1,
) -> Template:
    wanted = AuditQuery(
        office=office.strip(), actor=actor.strip(), action=action.strip(), page=max(page_number, 1)
    )
    result = await audit_page(db_session, request.user, wanted)
    context = {
        "query": wanted,
        "result": result,
        "offices": await offices_for(db_session, request.user),
        "actions": await known_actions(db_session, request.user),
        "newer": "?" + urlencode(wanted.as_params(result.page - 1)) if result.page > 1 else None,
        "older": "?" + urlencode(wanted.as_params(result.page + 1)) if result.has_next else None,
        "timezone": ZoneInfo(request.app.state.settings.default_timezone),
    }
    return page(request, "admin/audit.html", context, fragment="admin/_audit_results.html")


ROUTES = [audit]
