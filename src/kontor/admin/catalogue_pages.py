"""The service catalogue pages (admins only): the list with an add form, and an edit page."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import requires_role
from kontor.accounts.models import Role
from kontor.admin.catalogue import (
    DEFAULT_HORIZON_DAYS,
    DEFAULT_NOTICE_MINUTES,
    HORIZON_LIMITS,
    MAX_MINUTES,
    MIN_MINUTES,
    NOTICE_LIMITS,
    create_service,
    service_by_code,
    update_service,
)
from kontor.admin.forms import Form, FormError
from kontor.admin.offering import catalogue
from kontor.admin.office_pages import AdminRequest, Db
from kontor.offices.models import Service
from kontor.web.templating import page

ADMINS = [requires_role(Role.ADMIN)]
# The allowed range of each number on the service form, for its hints and min/max attributes.
LIMITS = {
    "limits": (MIN_MINUTES, MAX_MINUTES),
    "notice_limits": NOTICE_LIMITS,
    "horizon_limits": HORIZON_LIMITS,
}
NEW_SERVICE = {
    "duration_minutes": "20",
    "bookable": "on",
    "walk_in": "on",
    "min_notice_minutes": str(DEFAULT_NOTICE_MINUTES),
    "horizon_days": str(DEFAULT_HORIZON_DAYS),
}


async def _list(
    request: AdminRequest,
    db: AsyncSession,
    *,
    form: Form | None = None,
    errors: dict[str, str] | None = None,
    saved: FromQuery[str | None] = None,
    status_code: int = 200,
) -> Template:
    context = {
        "services": await catalogue(db),
        "errors": errors or {},
        "values": form.values() if form else NEW_SERVICE,
        "saved": saved,
        **LIMITS,
    }
    return page(request, "admin/services.html", context, status_code=status_code)


def _edit(
    request: AdminRequest,
    service: Service,
    *,
    form: Form | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    values = form.values() if form else _values_of(service)
    context = {
        "service": service,
        "errors": errors or {},
        "values": values,
        **LIMITS,
    }
    return page(request, "admin/service_edit.html", context, status_code=status_code)


def _values_of(service: Service) -> dict[str, str]:
    fields = ("letter", "name_sv", "name_en", "name_fi", "description_sv", "description_en", "description_fi")
    values = {field: getattr(service, field) for field in fields}
    numbers = ("duration_minutes", "sort_order", "min_notice_minutes", "horizon_days")
    values.update({field: str(getattr(service, field)) for field in numbers})
    values.update({flag: "on" for flag in ("bookable", "walk_in") if getattr(service, flag)})
    return values


@get("/admin/services", guards=ADMINS, name="admin:services", cache=False)
async def services_page(
    request: AdminRequest, db_session: Db, saved: FromQuery[str | None] = None
) -> Template:
    return await _list(request, db_session, saved=saved)


@post("/admin/services", guards=ADMINS)
async def add_service(request: AdminRequest, db_write: Db) -> Response[Any]:
    form = Form(await request.form())
    try:
        service = await create_service(db_write, form, request.user)
    except FormError as error:
        return await _list(request, db_write, form=form, errors=error.errors, status_code=400)
    return Redirect(f"/admin/services?saved={service.code}#service-{service.code}", status_code=303)


@get("/admin/services/{code:str}", guards=ADMINS, name="admin:service", cache=False)
async def edit_page(request: AdminRequest, db_session: Db, code: FromPath[str]) -> Template:
    return _edit(request, await service_by_code(db_session, code))


@post("/admin/services/{code:str}", guards=ADMINS)
async def save_service(request: AdminRequest, db_write: Db, code: FromPath[str]) -> Response[Any]:
    service = await service_by_code(db_write, code)
    form = Form(await request.form())
    try:
        await update_service(db_write, service, form, request.user)
    except FormError as error:
        return _edit(request, service, form=form, errors=error.errors, status_code=400)
    return Redirect(f"/admin/services?saved={service.code}#service-{service.code}", status_code=303)


ROUTES = [services_page, add_service, edit_page, save_service]
