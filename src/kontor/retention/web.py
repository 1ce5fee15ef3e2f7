"""The retention page for administrators: how long personal data is kept (and which environment
variables say so), what the last purge did, what is due now, and a button that purges at once."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import requires_role
from kontor.accounts.models import Role
from kontor.admin.office_pages import AdminRequest, Db
from kontor.audit.models import Channel
from kontor.hours.services import current_time
from kontor.i18n import N_, _
from kontor.retention import purge
from kontor.web.templating import page
from kontor.worker.models import WorkerJob

log = logging.getLogger(__name__)

ADMINS = [requires_role(Role.ADMIN)]
# The settings shown, in the order shown, with what each means.
SETTINGS = (
    (
        "retention_days",
        N_("Days after a visit that the personal data of bookings, tickets and messages is kept"),
    ),
    ("contact_retention_days", N_("Days that a contact center contact's summary and number are kept")),
    ("reminder_hours", N_("Hours before a visit that the reminder is sent (0: no reminders)")),
    ("waitlist_offer_minutes", N_("Minutes that a seat offered from the waitlist is held")),
)
_OUTCOMES = {"done", "failed"}


async def _page(
    request: AdminRequest,
    db: AsyncSession,
    *,
    purged: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    settings = request.app.state.settings
    job = await db.get(WorkerJob, purge.JOB_NAME)
    context = {
        "settings_rows": [
            (label, getattr(settings, name), f"KONTOR_{name.upper()}") for name, label in SETTINGS
        ],
        "last": job if job is not None and job.last_finished_at is not None else None,
        "due": await purge.due_counts(db, settings, current_time(request.app.state)),
        "kind_labels": purge.KIND_LABELS,
        "purged": purged if purged in _OUTCOMES else None,
        "error": error,
        "tz": ZoneInfo(settings.default_timezone),
    }
    return page(request, "admin/retention.html", context, status_code=status_code)


@get("/admin/retention", guards=ADMINS, name="admin:retention", cache=False)
async def retention_page(request: AdminRequest, db_session: Db, purged: FromQuery[str] = "") -> Template:
    return await _page(request, db_session, purged=purged)


@post("/admin/retention/purge", guards=ADMINS)
async def purge_now(request: AdminRequest, db_session: Db) -> Response[Any]:
    """Run the purge in this request, with transactions of its own (as the worker would), and note the
    run in the worker's row of the job, so the page shows it as the last purge. What it deletes is
    gone for good, so the form asks for a tick first."""
    form = await request.form()
    if form.get("confirm") != "yes":
        error = _("Tick the box to confirm that the personal data due now may be deleted.")
        return await _page(request, db_session, error=error, status_code=422)
    state = request.app.state
    started = current_time(state)
    try:
        counts = await purge.purge_personal_data(
            state.write_session_maker, state.settings, started, actor=request.user, channel=Channel.WEB
        )
    except Exception as error:  # the page says it failed; its type is noted, as the worker notes it
        log.warning("retention: a purge started by user %s failed: %s", request.user.id, type(error).__name__)
        await purge.record_run(
            state.write_session_maker, purge.JOB_NAME, current_time(state), {}, started_at=started,
            error=type(error).__name__,
        )  # fmt: skip
        return Redirect("/admin/retention?purged=failed", status_code=303)
    await purge.record_run(
        state.write_session_maker, purge.JOB_NAME, current_time(state), counts, started_at=started
    )
    return Redirect("/admin/retention?purged=done", status_code=303)


ROUTES = [retention_page, purge_now]
