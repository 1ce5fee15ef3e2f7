"""Pages that belong to no area: the accessibility statement, language choice, health."""

from __future__ import annotations

import functools
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
from kontor.live.bus import live_bus
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


@get("/readyz", name="readyz", media_type=MediaType.JSON, cache=False, opt={"exclude_from_auth": True})
async def readyz(request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]) -> Response[Any]:
    """Whether this instance should get traffic: the database answers, its schema is the one this
    code expects, and (on PostgreSQL) live updates from other instances reach it. A proxy or
    orchestrator sends requests elsewhere while any check fails; /healthz only says the process lives."""
    checks: dict[str, str] = {}
    try:
        revision = await db_session.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception:  # the database is down, unreachable or not migrated: not ready, not a crash
        checks["database"] = "unreachable"
    else:
        checks["database"] = "ok"
        checks["schema"] = "ok" if revision == schema_head() else "not migrated"
    listening = getattr(live_bus(request.app.state), "listening", None)
    if listening is not None:
        checks["live_updates"] = "ok" if listening else "reconnecting"
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "not ready", **checks}
    return Response(body, status_code=200 if ready else HTTP_503_SERVICE_UNAVAILABLE)


@functools.cache
def schema_head() -> str | None:
    """The newest migration this code ships (read once from the migration scripts)."""
    from alembic.script import ScriptDirectory

    from kontor.db.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


ROUTES = [accessibility, choose_language]
HEALTH_ROUTES = [healthz, readyz]
