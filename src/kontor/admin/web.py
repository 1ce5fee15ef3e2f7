"""The administration: its index, adding districts and offices; the other pages' routes gathered."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kontor.accounts.auth import requires_role
from kontor.accounts.models import Role
from kontor.admin import audit_pages, catalogue_pages, hours_pages, office_pages
from kontor.admin.forms import Form, FormError
from kontor.admin.office_pages import AdminRequest, Db
from kontor.admin.services import create_district, create_office, is_admin, offices_for
from kontor.offices.models import District
from kontor.web.templating import page

ADMINS = [requires_role(Role.ADMIN)]


async def _index(
    request: AdminRequest,
    db: AsyncSession,
    *,
    failed: str | None = None,
    form: Form | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    added: str | None = None,
) -> Template:
    user = request.user
    context: dict[str, Any] = {
        "is_admin": is_admin(user),
        "failed": failed,
        "errors": errors or {},
        "values": form.values() if form else {},
        "added": added,
    }
    if is_admin(user):
        query = select(District).options(selectinload(District.offices)).order_by(District.name)
        context["districts"] = list(await db.scalars(query))
    else:
        context["offices"] = await offices_for(db, user)
    return page(request, "admin/index.html", context, status_code=status_code)


@get("/admin", guards=office_pages.MANAGERS, name="admin:index", cache=False)
async def index(request: AdminRequest, db_session: Db, added: FromQuery[str | None] = None) -> Template:
    return await _index(request, db_session, added=added)


@post("/admin/districts", guards=ADMINS)
async def add_district(request: AdminRequest, db_write: Db) -> Response[Any]:
    form = Form(await request.form())
    try:
        district = await create_district(db_write, form, request.user)
    except FormError as error:
        return await _index(
            request, db_write, failed="district", form=form, errors=error.errors, status_code=400
        )
    return Redirect(f"/admin?added={district.slug}#district-{district.slug}", status_code=303)


@post("/admin/offices", guards=ADMINS)
async def add_office(request: AdminRequest, db_write: Db) -> Response[Any]:
    form = Form(await request.form())
    settings = request.app.state.settings
    try:
        office = await create_office(db_write, form, request.user, settings.default_timezone)
    except FormError as error:
        return await _index(
            request, db_write, failed="office", form=form, errors=error.errors, status_code=400
        )
    return Redirect(f"/admin/offices/{office.slug}?saved=details#details", status_code=303)


ROUTES: list = [
    index,
    add_district,
    add_office,
    *office_pages.ROUTES,
    *hours_pages.ROUTES,
    *catalogue_pages.ROUTES,
    *audit_pages.ROUTES,
]
