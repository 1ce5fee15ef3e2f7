"""An office's administration page; each section is a fragment that htmx can swap on its own.

Without JavaScript a form posts and is redirected (303) back to its section with "Saved."; with
htmx the answer is the changed section itself, and the preview of the hours when they changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import requires_role
from kontor.accounts.models import Role, User
from kontor.admin import hours_editing, offering
from kontor.admin.forms import Form, FormError
from kontor.admin.services import (
    AGENT_NOTES_MAX,
    COMMON_LANGUAGES,
    districts,
    is_admin,
    managed_office,
    update_details,
)
from kontor.hours.names import day_note
from kontor.hours.services import current_time
from kontor.offices.models import Office
from kontor.web.templating import is_htmx, page

AdminRequest = Request[User, Any, Any]
# The request's database session, injected by name: ``db_session`` to read, ``db_write`` to change.
Db = NamedDependency[AsyncSession]

SECTIONS = ("details", "hours", "closures", "offering", "counters", "preview")
# Sections whose change alters the preview of the coming days.
HOURS_SECTIONS = {"hours", "closures"}
MANAGERS = [requires_role(Role.ADMIN, Role.MANAGER)]


def office_today(request: Request[Any, Any, Any], office: Office) -> date:
    return current_time(request.app.state).astimezone(ZoneInfo(office.timezone)).date()


async def office_context(
    db: AsyncSession, request: AdminRequest, office: Office, *, past: bool = False
) -> dict[str, Any]:
    user = request.user
    today = office_today(request, office)
    return {
        "office": office,
        "is_admin": is_admin(user),
        "district_options": [(d.id, d.name) for d in await districts(db)] if is_admin(user) else [],
        "common_languages": COMMON_LANGUAGES,
        "agent_notes_max": AGENT_NOTES_MAX,
        "weekly": await hours_editing.weekly_hours(db, office),
        "closures": await hours_editing.closures(db, office, today, include_past=past),
        "show_past": past,
        "special_rows": range(hours_editing.SPECIAL_ROWS),
        "offering": await offering.offering(db, office),
        "seat_limits": (offering.MIN_SEATS, offering.MAX_SEATS),
        "release_limits": (0, offering.MAX_RELEASE_HOURS),
        "counters": await offering.counters(db, office),
        "preview": await hours_editing.preview(db, office, today),
        "today": today,
        "day_note": day_note,
        "failed": None,
        "errors": {},
        "values": {},
        "saved": None,
        "oob": False,
    }


def _fragment(section: str | None) -> str | None:
    return f"admin/_{section}.html" if section in SECTIONS else None


async def changed(request: AdminRequest, db: AsyncSession, office: Office, section: str) -> Response[Any]:
    """After a successful change: the section again for htmx, else back to it on the page."""
    if not is_htmx(request):
        return Redirect(f"/admin/offices/{office.slug}?saved={section}#{section}", status_code=303)
    context = await office_context(db, request, office)
    context.update(saved=section, oob=section in HOURS_SECTIONS)
    return page(request, "admin/office.html", context, fragment=_fragment(section))


async def rejected(
    request: AdminRequest,
    db: AsyncSession,
    office: Office,
    section: str,
    form: Form,
    error: FormError,
) -> Template:
    """The section's form again, with what was typed and what is wrong. The services check before
    they write, and a 400 rolls the transaction back, so nothing was saved."""
    context = await office_context(db, request, office)
    context.update(failed=section, errors=error.errors, values=form.values())
    return page(request, "admin/office.html", context, fragment=_fragment(section), status_code=400)


@get("/admin/offices/{slug:str}", guards=MANAGERS, name="admin:office", cache=False)
async def office_page(
    request: AdminRequest,
    db_session: Db,
    slug: FromPath[str],
    section: FromQuery[str | None] = None,
    past: FromQuery[bool] = False,
    saved: FromQuery[str | None] = None,
) -> Template:
    office = await managed_office(db_session, request.user, slug)
    context = await office_context(db_session, request, office, past=past)
    context["saved"] = saved if saved in SECTIONS else None
    return page(request, "admin/office.html", context, fragment=_fragment(section))


async def apply_form(
    request: AdminRequest,
    db: AsyncSession,
    slug: str,
    section: str,
    change: Callable[[Office, Form], Awaitable[object]],
) -> Response[Any]:
    """What every section's form does: find the manager's office, read the form, make the change,
    and answer with the section re-rendered, or with the form and its errors."""
    office = await managed_office(db, request.user, slug)
    form = Form(await request.form())
    try:
        await change(office, form)
    except FormError as error:
        return await rejected(request, db, office, section, form, error)
    return await changed(request, db, office, section)


@post("/admin/offices/{slug:str}/details", guards=MANAGERS)
async def save_details(request: AdminRequest, db_write: Db, slug: FromPath[str]) -> Response[Any]:
    return await apply_form(
        request,
        db_write,
        slug,
        "details",
        lambda office, form: update_details(db_write, office, form, request.user),
    )


@post("/admin/offices/{slug:str}/offering", guards=MANAGERS)
async def save_offering(request: AdminRequest, db_write: Db, slug: FromPath[str]) -> Response[Any]:
    return await apply_form(
        request,
        db_write,
        slug,
        "offering",
        lambda office, form: offering.save_offering(
            db_write, office, form, request.user, now=current_time(request.app.state)
        ),
    )


@post("/admin/offices/{slug:str}/counters", guards=MANAGERS)
async def add_counter(request: AdminRequest, db_write: Db, slug: FromPath[str]) -> Response[Any]:
    return await apply_form(
        request,
        db_write,
        slug,
        "counters",
        lambda office, form: offering.add_counter(db_write, office, form, request.user),
    )


@post("/admin/offices/{slug:str}/counters/{counter_id:int}", guards=MANAGERS)
async def change_counter(
    request: AdminRequest, db_write: Db, slug: FromPath[str], counter_id: FromPath[int]
) -> Response[Any]:
    return await apply_form(
        request,
        db_write,
        slug,
        "counters",
        lambda office, form: offering.change_counter(db_write, office, counter_id, form, request.user),
    )


ROUTES = [office_page, save_details, save_offering, add_counter, change_counter]
