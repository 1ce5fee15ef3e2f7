"""Who may use the queue API's writes, and how the API says no.

Issuing and calling take a staff bearer token of the office: its staff and managers, or an admin.
Contact-center agents book visits but do not run queues. A browser session is no API token: the
pages have their own CSRF-protected forms. Refusals are JSON ``{"detail", "extra": {"kind", ...}}``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from kontor.accounts.auth import bearer_user, can_work_in_office
from kontor.accounts.models import User
from kontor.i18n import _
from kontor.offices.models import Office
from kontor.queue.errors import NotWaiting, OfficeClosed, QueueError, UnknownService

__all__ = ["ensure_works_at", "invalid", "json_only", "refused", "staff_of"]

# Status and machine-readable kind per refusal; any other QueueError is a 409 "refused".
_REFUSALS: dict[type[QueueError], tuple[int, str]] = {
    UnknownService: (422, "unknown_service"),
    OfficeClosed: (409, "office_closed"),
    NotWaiting: (409, "not_waiting"),
}
_BEARER = {"WWW-Authenticate": "Bearer"}


def json_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard: a body, when there is one, must be JSON, which a cross-site form cannot send (DESIGN
    rule 8); else 415."""
    headers = connection.headers
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    if media_type != "application/json" and (media_type or has_body):
        raise HTTPException(status_code=415, detail="Send the body as application/json.")


def staff_of(request: Request[Any, Any, Any]) -> User:
    """The user of the request's bearer token; 401 without one."""
    user = bearer_user(request)
    if user is None:
        raise NotAuthorizedException(
            "Send a staff bearer token: 'Authorization: Bearer <token>'.", headers=_BEARER
        )
    return user


def ensure_works_at(user: User, office: Office) -> None:
    """403 unless ``user`` runs the queue of ``office``."""
    if not can_work_in_office(user, office.id):
        raise PermissionDeniedException("This token's user does not run the queue of this office.")


def refused(error: QueueError) -> HTTPException:
    """The answer to a queue action that cannot be done, in the reader's language."""
    status, kind = next(
        (found for cls, found in _REFUSALS.items() if isinstance(error, cls)), (409, "refused")
    )
    return HTTPException(status_code=status, detail=_(error.message), extra={"kind": kind})


def invalid(field: str, message: str) -> HTTPException:
    """422 for a well-formed request the office cannot take (a service or language it lacks)."""
    return HTTPException(status_code=422, detail=message, extra={"kind": "invalid", "field": field})
