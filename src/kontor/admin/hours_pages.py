"""Posting changes to an office's weekly hours and closures (the page itself is in office_pages)."""

from __future__ import annotations

from typing import Any

from litestar import Response, post
from litestar.params import FromPath

from kontor.admin import hours_editing
from kontor.admin.forms import Form, FormError
from kontor.admin.office_pages import MANAGERS, AdminRequest, Db, apply_form, changed, rejected
from kontor.admin.services import managed_office


@post("/admin/offices/{slug:str}/hours", guards=MANAGERS)
async def add_interval(request: AdminRequest, db_write: Db, slug: FromPath[str]) -> Response[Any]:
    return await apply_form(
        request,
        db_write,
        slug,
        "hours",
        lambda office, form: hours_editing.add_weekly_interval(db_write, office, form, request.user),
    )


@post("/admin/offices/{slug:str}/hours/{interval_id:int}/delete", guards=MANAGERS)
async def remove_interval(
    request: AdminRequest, db_write: Db, slug: FromPath[str], interval_id: FromPath[int]
) -> Response[Any]:
    office = await managed_office(db_write, request.user, slug)
    await hours_editing.remove_weekly_interval(db_write, office, interval_id, request.user)
    return await changed(request, db_write, office, "hours")


@post("/admin/offices/{slug:str}/hours/copy-monday", guards=MANAGERS)
async def copy_monday(request: AdminRequest, db_write: Db, slug: FromPath[str]) -> Response[Any]:
    office = await managed_office(db_write, request.user, slug)
    try:
        await hours_editing.copy_monday(db_write, office, request.user)
    except FormError as error:
        return await rejected(request, db_write, office, "hours", Form({}), error)
    return await changed(request, db_write, office, "hours")


@post("/admin/offices/{slug:str}/closures", guards=MANAGERS)
async def add_closure(request: AdminRequest, db_write: Db, slug: FromPath[str]) -> Response[Any]:
    return await apply_form(
        request,
        db_write,
        slug,
        "closures",
        lambda office, form: hours_editing.add_closure(db_write, office, form, request.user),
    )


@post("/admin/offices/{slug:str}/closures/{closure_id:int}/delete", guards=MANAGERS)
async def remove_closure(
    request: AdminRequest, db_write: Db, slug: FromPath[str], closure_id: FromPath[int]
) -> Response[Any]:
    office = await managed_office(db_write, request.user, slug)
    await hours_editing.remove_closure(db_write, office, closure_id, request.user)
    return await changed(request, db_write, office, "closures")


ROUTES = [add_interval, remove_interval, copy_monday, add_closure, remove_closure]
