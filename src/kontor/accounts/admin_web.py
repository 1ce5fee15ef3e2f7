"""Administration of staff users (admins only); the API token pages come from ``token_web``."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts import services, token_web
from kontor.accounts.auth import current_user, requires_role
from kontor.accounts.forms import Errors, UserForm, error_for, new_password, new_user_errors, role_names
from kontor.accounts.models import Role, User
from kontor.accounts.services import AccountError
from kontor.audit.models import Channel
from kontor.i18n import _
from kontor.offices.models import Office
from kontor.web.templating import page

ADMIN_ONLY = [requires_role(Role.ADMIN)]


async def all_offices(db: AsyncSession) -> list[Office]:
    return list(await db.scalars(select(Office).order_by(Office.name)))


def timezone(request: Request[Any, Any, Any]) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.default_timezone)


async def _user_or_404(db: AsyncSession, user_id: FromPath[int]) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise NotFoundException(_("There is no such user."))
    return user


@get("/admin/users", name="admin.users", guards=ADMIN_ONLY, cache=False)
async def users(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    role: FromQuery[str | None] = None,
    office: FromQuery[str | None] = None,
) -> Template:
    role = role if role in {r.value for r in Role} else None
    offices = await all_offices(db_session)
    office = office if office in {o.slug for o in offices} else None
    context = {
        "users": await services.list_users(db_session, role=role, office_slug=office),
        "offices": offices,
        "role_names": role_names(),
        "filter_role": role or "",
        "filter_office": office or "",
        "tz": timezone(request),
    }
    return page(request, "accounts/users.html", context, fragment="accounts/_users_table.html")


async def _new_user_page(
    request: Request[Any, Any, Any], db: AsyncSession, form: UserForm, errors: Errors, status_code: int = 200
) -> Template:
    context = {"form": form, "errors": errors, "offices": await all_offices(db), "role_names": role_names()}
    return page(request, "accounts/user_new.html", context, status_code=status_code)


@get("/admin/users/new", name="admin.users.new", guards=ADMIN_ONLY, cache=False)
async def new_user_form(
    request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
) -> Template:
    return await _new_user_page(request, db_session, UserForm(), {})


@post("/admin/users/new", name="admin.users.create", guards=ADMIN_ONLY)
async def create_user(
    request: Request[Any, Any, Any], db_write: NamedDependency[AsyncSession]
) -> Response[Any]:
    data = await request.form()
    form = UserForm.from_form(data)
    if errors := new_user_errors(form, data):
        return await _new_user_page(request, db_write, form, errors, status_code=400)
    try:
        password = new_password(data)
        user = await services.create_user(
            db_write,
            username=form.username,
            role=form.role,
            password=password,
            office_slugs=form.offices,
            display_name=form.display_name,
            actor=_actor(request),
            channel=Channel.WEB,
        )
    except AccountError as exc:
        return await _new_user_page(request, db_write, form, error_for(exc, "username"), status_code=400)
    return Redirect(f"/admin/users/{user.id}?done=created", status_code=303)


def _actor(request: Request[Any, Any, Any]) -> User:
    actor = current_user(request)
    assert actor is not None  # the guard saw to it
    return actor


async def _edit_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    user: User,
    *,
    form: UserForm | None = None,
    errors: Errors | None = None,
    password_errors: Errors | None = None,
    done: str = "",
    status_code: int = 200,
) -> Template:
    notices = {
        "created": _("The user was created."),
        "saved": _("The changes were saved."),
        "password": _("The new password was set."),
    }
    context = {
        "user": user,
        "form": form or UserForm.from_user(user),
        "errors": errors or {},
        "password_errors": password_errors or {},
        "notice": notices.get(done, ""),
        "offices": await all_offices(db),
        "role_names": role_names(),
        "is_self": user.id == _actor(request).id,
        "tz": timezone(request),
    }
    return page(request, "accounts/user_edit.html", context, status_code=status_code)


@get("/admin/users/{user_id:int}", name="admin.users.edit", guards=ADMIN_ONLY, cache=False)
async def edit_user_form(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    user_id: FromPath[int],
    done: FromQuery[str] = "",
) -> Template:
    user = await _user_or_404(db_session, user_id)
    return await _edit_page(request, db_session, user, done=done)


@post("/admin/users/{user_id:int}", name="admin.users.update", guards=ADMIN_ONLY)
async def update_user(
    request: Request[Any, Any, Any], db_write: NamedDependency[AsyncSession], user_id: FromPath[int]
) -> Response[Any]:
    user = await _user_or_404(db_write, user_id)
    form = UserForm.from_form(await request.form())
    form.username = user.username  # not editable: it is how people log in and how the audit log names them
    try:
        await services.update_user(
            db_write,
            user,
            display_name=form.display_name,
            role=form.role,
            office_slugs=form.offices,
            active=form.active,
            actor=_actor(request),
            channel=Channel.WEB,
        )
    except AccountError as exc:
        errors = error_for(exc, "display_name")
        return await _edit_page(request, db_write, user, form=form, errors=errors, status_code=400)
    return Redirect(f"/admin/users/{user.id}?done=saved", status_code=303)


@post("/admin/users/{user_id:int}/password", name="admin.users.password", guards=ADMIN_ONLY)
async def set_password(
    request: Request[Any, Any, Any], db_write: NamedDependency[AsyncSession], user_id: FromPath[int]
) -> Response[Any]:
    user = await _user_or_404(db_write, user_id)
    try:
        password = new_password(await request.form())
        await services.set_password(db_write, user, password, actor=_actor(request), channel=Channel.WEB)
    except AccountError as exc:
        errors = error_for(exc, "password")
        return await _edit_page(request, db_write, user, password_errors=errors, status_code=400)
    return Redirect(f"/admin/users/{user.id}?done=password", status_code=303)


ROUTES = [users, new_user_form, create_user, edit_user_form, update_user, set_password, *token_web.ROUTES]
