"""Logging in and out, and the staff home page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts import services, throttle
from kontor.accounts.auth import SESSION_USER_KEY, current_user, requires_login
from kontor.accounts.forms import raw, role_names, text
from kontor.accounts.models import Role
from kontor.audit.models import Channel
from kontor.i18n import _, ngettext
from kontor.web.pages import safe_next
from kontor.web.templating import page

STAFF_HOME = "/staff"


def _login_page(
    request: Request[Any, Any, Any],
    *,
    username: str = "",
    next_path: str = "",
    error: str = "",
    throttled: bool = False,
    status_code: int = 200,
) -> Template:
    context = {"username": username, "next": next_path, "error": error, "throttled": throttled}
    return page(request, "accounts/login.html", context, status_code=status_code)


def _next_path(target: str | None) -> str:
    """Where to go after logging in: a local path or nowhere. Browsers read a backslash as a slash,
    so "/\\host" would leave the site."""
    target = safe_next(target, "")
    return "" if "\\" in target or any(ord(c) < 32 for c in target) else target


def _client_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


@get("/login", name="login", cache=False)
async def login_form(request: Request[Any, Any, Any], next: FromQuery[str | None] = None) -> Response[Any]:
    if current_user(request) is not None:
        return Redirect(_next_path(next) or STAFF_HOME, status_code=303)
    return _login_page(request, next_path=_next_path(next))


@post("/login", name="login.submit")
async def login(request: Request[Any, Any, Any], db_write: NamedDependency[AsyncSession]) -> Response[Any]:
    form = await request.form()
    username = services.normalise_username(text(form, "username", 200))
    password = raw(form, "password")
    next_path = _next_path(text(form, "next", 2000))
    if not username or not password:
        error = _("Enter your username and password.")
        return _login_page(request, username=username, next_path=next_path, error=error, status_code=400)

    settings = request.app.state.settings
    address = _client_address(request)
    refusal = await throttle.refusal(db_write, username=username, address=address, settings=settings)
    if refusal is not None:
        error = ngettext(
            "Too many attempts. Try again in %(num)d minute.",
            "Too many attempts. Try again in %(num)d minutes.",
            refusal.minutes,
        )
        response = _login_page(
            request, username=username, next_path=next_path, error=error, throttled=True, status_code=429
        )
        response.set_header("Retry-After", str(refusal.retry_after))
        return response

    user = await services.authenticate(db_write, username, password)
    if user is None:
        await throttle.record_failure(db_write, username=username, address=address, settings=settings)
        # Error responses roll the request's transaction back; the failure has to count regardless.
        await db_write.commit()
        error = _("Wrong username or password.")
        return _login_page(request, username=username, next_path=next_path, error=error, status_code=400)

    await throttle.clear_failures(db_write, username=username)
    await services.record_login(db_write, user, password, channel=Channel.WEB)
    # Committed now: on SQLite the session store's own write would wait for this transaction.
    await db_write.commit()
    # A fresh session (and session id) for the logged-in user: nothing from before login carries over.
    request.clear_session()
    request.set_session({SESSION_USER_KEY: user.id})
    return Redirect(next_path or STAFF_HOME, status_code=303)


@post("/logout", name="logout")
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    request.clear_session()
    return Redirect("/", status_code=303)


@get(STAFF_HOME, name="staff.home", guards=[requires_login], cache=False)
async def staff_home(request: Request[Any, Any, Any]) -> Template:
    user = current_user(request)
    assert user is not None  # the guard saw to it
    context = {
        "user": user,
        "offices": user.offices,
        "is_admin": user.role == Role.ADMIN,
        "manages": user.role in {Role.ADMIN, Role.MANAGER},
        "role_names": role_names(),
    }
    return page(request, "accounts/staff_home.html", context)


ROUTES = [login_form, login, logout, staff_home]
