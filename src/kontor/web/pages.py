"""Pages that belong to no area: the accessibility statement, language choice, health."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from litestar import MediaType, Request, Response, get
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from kontor import i18n
from kontor.web.templating import page

# Reviewed whenever the public pages change in a way that affects accessibility.
STATEMENT_DATE = date(2026, 11, 28)


@get("/accessibility", name="accessibility", cache=False)
async def accessibility(request: Request[Any, Any, Any]) -> Template:
    settings = request.app.state.settings
    return page(
        request,
        "pages/accessibility.html",
        {
            "contact_email": settings.contact_email,
            "contact_phone": settings.contact_phone,
            "statement_date": STATEMENT_DATE,
        },
    )


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths: never redirect to another site."""
    if not target:
        return default
    parts = urlsplit(target)
    # Browsers read "/\\host" as "//host"; control characters can hide either.
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target[1:2] in {"/", "\\"}
        or any(ord(ch) < 32 or ch == "\\" for ch in target)
    ):
        return default
    return target


@get("/language/{code:str}", name="language")
async def choose_language(code: FromPath[str], next: FromQuery[str | None] = None) -> Redirect:
    if code not in i18n.LOCALES:
        raise NotFoundException(f"Unknown language {code!r}.")
    target = safe_next(next)
    return Redirect(
        target,
        status_code=303,
        cookies=[
            Cookie(key=i18n.LOCALE_COOKIE, value=code, max_age=365 * 24 * 3600, samesite="lax", path="/")
        ],
    )


@get("/healthz", name="healthz", media_type=MediaType.JSON, opt={"exclude_from_auth": True})
async def healthz(db_session: NamedDependency[AsyncSession]) -> Response[dict[str, str]]:
    try:
        await db_session.execute(text("SELECT 1"))
    except Exception:  # the database is down or unreachable: say so, do not crash
        return Response(
            {"status": "unavailable", "database": "unreachable"}, status_code=HTTP_503_SERVICE_UNAVAILABLE
        )
    return Response({"status": "ok", "database": "ok"})


ROUTES = [accessibility, choose_language, healthz]
