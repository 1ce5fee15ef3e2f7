"""Call-backs through the API: an office's list, and marking one done.

A call-back is the office's to make: its staff and managers (and admins) list and close them; agents
may see an office's list, as the console shows it, but not close its call-backs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Request, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import JSONBody, QueryParameter

from kontor.accounts.auth import can_work_in_office
from kontor.accounts.models import Role
from kontor.audit.models import Channel
from kontor.contacts import schemas
from kontor.contacts import services as contacts
from kontor.contacts.api_access import PRIVATE, TOKEN, ContactId, Db, office_staff_token, refused, staff_of
from kontor.contacts.api_views import callback_out, names_for
from kontor.hours.services import current_time
from kontor.offices.api import NO_OFFICE, NOT_JSON, OptionalBodyOperation, Slug, answers, office_or_404
from kontor.queue.api_access import json_only


@get(
    "/api/v1/offices/{slug:str}/callbacks",
    name="api_office_callbacks",
    summary="An office's call-backs",
    description=(
        "Bearer token of the office's staff or manager, an agent or an admin. `open`: the call-backs "
        "the office still owes, the one due first first; `done`: those marked done today (the "
        "office's local date)."
    ),
    responses=answers(
        TOKEN, {403: "The token's user neither works at this office nor is an agent or admin."}, NO_OFFICE
    ),
    **PRIVATE,
)
async def office_callbacks(
    request: Request[Any, Any, Any],
    db_session: Db,
    slug: Slug,
    status: Annotated[
        Literal["open", "done"], QueryParameter(description="`open` (default) or `done` today.")
    ] = "open",
) -> list[schemas.Callback]:
    user = staff_of(request)
    office = await office_or_404(request, db_session, slug)
    if user.role != Role.AGENT and not can_work_in_office(user, office.id):
        raise PermissionDeniedException("This token's user does not work at this office.")
    if status == "open":
        found = await contacts.open_callbacks(db_session, office.id)
    else:
        found = await contacts.callbacks_done_today(db_session, office, current_time(request.app.state))
    names = await names_for(request, db_session, found)
    return [callback_out(contact, names) for contact in found]


@post(
    "/api/v1/callbacks/{contact_id:int}/done",
    name="api_callback_done",
    summary="Mark a call-back done",
    description=(
        "Bearer token of the office's staff or manager, or an admin (agents: 403, the office calls "
        'back). The body, `{"note": ...}`, is optional. Marking it done again changes nothing and '
        "answers the call-back as it is. 404 when there is no such call-back."
    ),
    guards=[office_staff_token, json_only],
    status_code=200,
    responses=answers(
        TOKEN,
        {
            403: "The token's user does not work at the call-back's office.",
            404: "No call-back with this id.",
            422: "A note longer than 500 characters (`extra.field` is `note`).",
        },
        NOT_JSON,
    ),
    **(PRIVATE | {"operation_class": OptionalBodyOperation}),
)
async def callback_done(
    request: Request[Any, Any, Any],
    db_write: Db,
    contact_id: ContactId,
    data: JSONBody[schemas.CallbackDone | None] = None,
) -> schemas.Callback:
    user = staff_of(request)
    try:
        contact = await contacts.mark_callback_done(
            db_write,
            contact_id,
            user=user,
            note=data.note if data else "",
            channel=Channel.API,
            now=current_time(request.app.state),
        )
    except contacts.ContactError as error:
        raise refused(error) from None
    return callback_out(contact, await names_for(request, db_write, [contact]))


ROUTES: list = [office_callbacks, callback_done]
