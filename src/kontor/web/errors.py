"""Errors: JSON with a ``detail`` for the API, a page in the reader's language for people."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from asyncpg import exceptions as pg_exc
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy import exc as sa_exc

from kontor import i18n
from kontor.i18n import _

log = logging.getLogger("kontor")


def wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/schema", "/healthz", "/readyz")):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("The request could not be understood"), _("Please check what you entered and try again.")),
        401: (_("Please log in"), _("This page is for staff. Log in to continue.")),
        403: (_("Not allowed"), _("Your account does not have access to this page.")),
        404: (_("Page not found"), _("The page may have moved, or the link may be incomplete.")),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
        429: (_("Too many attempts"), _("Please wait a moment and try again.")),
        503: (
            _("Very busy right now"),
            _("Many people are using the service at once. Please try again in a moment."),
        ),
    }


def _retry_after(headers: dict[str, str]) -> None:
    """Litestar's rate limit says when its window resets (RateLimit-Reset); clients and proxies read
    Retry-After."""
    lowered = {key.lower(): value for key, value in headers.items()}
    if "retry-after" not in lowered:
        reset = lowered.get("ratelimit-reset", "60")
        headers["Retry-After"] = str(max(1, int(reset))) if reset.lstrip("-").isdigit() else "60"


def _reader_locale(request: Request[Any, Any, Any]) -> None:
    """Errors raised in a middleware (a rate limit, admission control) are handled outside the
    middleware that set the request's language: set it again from what it left in the scope."""
    locale = request.scope.get("state", {}).get("locale")
    if locale and i18n.current_locale.get() != locale:
        i18n.current_locale.set(locale)


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    _reader_locale(request)
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status == 429:
        _retry_after(headers)
        if exc.detail == "Too Many Requests":
            exc.detail = f"Too many requests. Try again in {headers['Retry-After']} seconds."
    if wants_json(request):
        body: dict[str, Any] = {"status_code": status, "detail": exc.detail}
        if getattr(exc, "extra", None):
            body["extra"] = exc.extra
        return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)
    if isinstance(exc, NotAuthorizedException) and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/login?next={quote(target, safe='')}", status_code=303)
    title, text = _messages().get(status, (_("Something went wrong"), exc.detail))
    return Template(
        template_name="errors/error.html",
        context={"status": status, "title": title, "text": text},
        status_code=status,
        headers=headers,
    )


def _answer(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    page: tuple[str, str],
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """An error the app itself answers: JSON with ``detail`` for the API, else the error page with
    ``page``'s title and text (translated by the caller, after ``_reader_locale``)."""
    if wants_json(request):
        body = {"status_code": status, "detail": detail}
        return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)
    title, text = page
    return Template(
        template_name="errors/error.html",
        context={"status": status, "title": title, "text": text},
        status_code=status,
        headers=headers,
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The path only: query strings and bodies may carry personal data.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    _reader_locale(request)
    page = (_("Something went wrong"), _("The error has been logged. Please try again in a moment."))
    return _answer(request, HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error.", page)


# Seconds a client is asked to wait while the database does not answer (a restart, a failover).
DATABASE_RETRY_AFTER = 5


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached now (down, restarting, pool exhausted),
    rather than that a statement was wrong."""
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        # The driver's own error (asyncpg's "the database system is starting up", say) rides along
        # as the cause of the wrapped one.
        cause: BaseException | None = exc.orig
        while cause is not None:
            if isinstance(cause, _UNREACHABLE) or _UNREACHABLE_SQLSTATE.match(
                getattr(cause, "sqlstate", "") or ""
            ):
                return True
            cause = cause.__cause__
        return False
    return isinstance(exc, _UNREACHABLE)


# Connection exceptions (08) and operator intervention: shutting down, starting up (57P).
_UNREACHABLE_SQLSTATE = re.compile(r"^(?:08|57P)")

# Raised by asyncpg itself (not wrapped by SQLAlchemy) while a connection is being made: the server
# is starting up or shutting down (57P0x), refused or dropped the connection (08xxx).
_UNREACHABLE = (
    ConnectionError,
    TimeoutError,
    sa_exc.TimeoutError,
    pg_exc.PostgresConnectionError,
    pg_exc.OperatorInterventionError,
    pg_exc.InterfaceError,
)


def database_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """503 with ``Retry-After`` while the database is unreachable: clients and the proxy retry, and
    the app recovers by itself once it answers again (the pool checks connections before use)."""
    if out_of_range(exc):
        return out_of_range_handler(request, exc)
    if not database_unreachable(exc):
        return internal_error_handler(request, exc)
    log.warning("database unreachable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    _reader_locale(request)
    page = (
        _("Temporarily unavailable"),
        _("kontor cannot reach its database just now. Please try again in a moment."),
    )
    return _answer(
        request,
        HTTP_503_SERVICE_UNAVAILABLE,
        "The database is not answering. Try again in a moment.",
        page,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
    )


# Exceptions that mean "the database did not answer"; each goes to ``database_error_handler``.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (sa_exc.DBAPIError, *_UNREACHABLE)


def out_of_range(exc: BaseException) -> bool:
    """A value no column or calendar can hold (a year past 9999, a number past 64 bits, text the
    database refuses): the request's fault, not the server's."""
    if isinstance(exc, OverflowError):
        return True
    return isinstance(exc, sa_exc.DataError) or (
        isinstance(exc, sa_exc.DBAPIError) and str(getattr(exc.orig, "sqlstate", "") or "").startswith("22")
    )


def out_of_range_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """422: the safety net under the forms' and the API's own checks. Nothing was written: the
    statement failed, and the request's transaction is rolled back."""
    log.info("value out of range on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    _reader_locale(request)
    return _answer(request, 422, "A value in the request is out of range.", _messages()[400])
