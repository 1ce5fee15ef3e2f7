"""The office's call-backs at the front desk: the contact center's requests to call a resident back,
listed on ``/desk/{slug}`` and marked done there by the office's staff.

``GET /desk/{slug}/callbacks`` is the section alone, for its refresh every minute with htmx.
``POST /desk/{slug}/callbacks/{contact_id}/done`` marks one done: a plain form is sent back to the desk
(303), htmx gets the section in place. A call-back of another office is not found (404), so an id says
nothing about other offices; one done already stays as it was, with a calm notice.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import current_user, requires_login
from kontor.accounts.forms import text as form_text
from kontor.audit.models import Channel
from kontor.contacts.models import CallbackStatus
from kontor.contacts.services import ContactError, mark_callback_done
from kontor.desk.services import callback_state
from kontor.desk.web import callbacks_context, desk_context, no_store
from kontor.hours.services import current_time
from kontor.i18n import _
from kontor.offices.access import staff_office
from kontor.offices.models import Office
from kontor.web.templating import is_htmx, page

Db = NamedDependency[AsyncSession]
_GUARDS = [requires_login]
# Longer than the note may be, so that an over-long note is refused rather than cut short.
NOTE_READ = 2000


@get(
    "/desk/{slug:str}/callbacks",
    name="desk_callbacks",
    guards=_GUARDS,
    cache=False,
    include_in_schema=False,
)
async def callbacks_section(
    request: Request[Any, Any, Any], db_session: Db, slug: FromPath[str]
) -> Response[Any]:
    office = await staff_office(request, db_session, slug)
    if not is_htmx(request):
        return Redirect(f"/desk/{office.slug}", status_code=303)
    context = await callbacks_context(db_session, office, current_time(request.app.state))
    return no_store(Template("desk/_callbacks.html", context=context))


@post(
    "/desk/{slug:str}/callbacks/{contact_id:int}/done",
    name="desk_callback_done",
    guards=_GUARDS,
    include_in_schema=False,
)
async def mark_done(
    request: Request[Any, Any, Any], db_write: Db, slug: FromPath[str], contact_id: FromPath[int]
) -> Response[Any]:
    office = await staff_office(request, db_write, slug)
    state = await callback_state(db_write, office, contact_id)
    if state is None:
        raise NotFoundException("No such call-back at this office.")
    note = form_text(await request.form(), "note", NOTE_READ)
    now = current_time(request.app.state)
    key = "already-done"
    if state != CallbackStatus.DONE.value:
        try:
            await mark_callback_done(
                db_write,
                contact_id,
                user=current_user(request),  # type: ignore[arg-type]
                note=note,
                channel=Channel.DESK,
                now=now,
            )
        except ContactError as error:
            if error.kind == "not_found":
                raise NotFoundException("No such call-back at this office.") from error
            return await _refused(request, db_write, office, contact_id, _(error.message), note)
        key = "done"
    if not is_htmx(request):
        return Redirect(f"/desk/{office.slug}?callback={key}", status_code=303)
    context = await callbacks_context(db_write, office, now, notice=key, oob=True)
    return no_store(Template("desk/_callbacks.html", context=context))


async def _refused(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    office: Office,
    contact_id: int,
    problem: str,
    note: str,
) -> Template:
    """Why the call-back was not marked done, beside its form: in the section (htmx) or on the desk page."""
    state = {"problem": problem, "problem_id": contact_id, "note": note}
    now = current_time(request.app.state)
    if is_htmx(request):
        context = await callbacks_context(db, office, now, **state)
        return no_store(Template("desk/_callbacks.html", context=context, status_code=422))
    context = await desk_context(db, office, now, callback_state=state)
    return no_store(page(request, "desk/desk.html", context, status_code=422))


ROUTES: list = [callbacks_section, mark_done]
