"""Administration of API tokens (admins only): a new token is shown once, on the page that creates it."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts import services
from kontor.accounts.auth import current_user, requires_role
from kontor.accounts.forms import Errors, error_for, text, whole_number
from kontor.accounts.models import ApiToken, Role, User
from kontor.accounts.services import AccountError
from kontor.audit.models import Channel
from kontor.i18n import N_, _
from kontor.web.templating import page


async def _tokens_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    *,
    name: str = "",
    user_id: str = "",
    errors: Errors | None = None,
    status_code: int = 200,
) -> Template:
    context = {
        "tokens": await services.list_api_tokens(db),
        "users": list(await db.scalars(select(User).where(User.active).order_by(User.username))),
        "name": name,
        "user_id": user_id,
        "errors": errors or {},
        "tz": ZoneInfo(request.app.state.settings.default_timezone),
    }
    return page(request, "accounts/tokens.html", context, status_code=status_code)


@get("/admin/tokens", name="admin.tokens", guards=[requires_role(Role.ADMIN)], cache=False)
async def tokens(request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]) -> Template:
    return await _tokens_page(request, db_session)


async def _token_owner(db: AsyncSession, user_id: str) -> User:
    number = whole_number(user_id)
    owner = await db.get(User, number) if number is not None else None
    if owner is None or not owner.active:
        raise AccountError(N_("Choose an active user for the token."), field="user")
    return owner


@post("/admin/tokens", name="admin.tokens.create", guards=[requires_role(Role.ADMIN)])
async def create_token(request: Request[Any, Any, Any], db_write: NamedDependency[AsyncSession]) -> Template:
    form = await request.form()
    name, user_id = text(form, "name", 200), text(form, "user", 20)
    try:
        owner = await _token_owner(db_write, user_id)
        api_token, token = await services.create_api_token(
            db_write, name=name, user=owner, actor=current_user(request) or "", channel=Channel.WEB
        )
    except AccountError as exc:
        errors = error_for(exc, "name")
        return await _tokens_page(
            request, db_write, name=name, user_id=user_id, errors=errors, status_code=400
        )
    response = page(
        request,
        "accounts/token_created.html",
        {"api_token": api_token, "token": token, "owner": owner},
        status_code=201,
    )
    # The token is on this page and nowhere else: no cache may keep a copy.
    response.set_header("Cache-Control", "no-store")
    return response


@post("/admin/tokens/{token_id:int}/revoke", name="admin.tokens.revoke", guards=[requires_role(Role.ADMIN)])
async def revoke_token(
    request: Request[Any, Any, Any], db_write: NamedDependency[AsyncSession], token_id: FromPath[int]
) -> Response[Any]:
    api_token = await db_write.get(ApiToken, token_id)
    if api_token is None:
        raise NotFoundException(_("There is no such token."))
    await services.revoke_api_token(
        db_write, api_token, actor=current_user(request) or "", channel=Channel.WEB
    )
    if request.headers.get("hx-request") == "true":
        tz = ZoneInfo(request.app.state.settings.default_timezone)
        return page(
            request, "accounts/_token_row.html", {"api_token": api_token, "tz": tz, "revoked_now": True}
        )
    return Redirect("/admin/tokens", status_code=303)


ROUTES = [tokens, create_token, revoke_token]
