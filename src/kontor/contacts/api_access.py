"""Who may use the contact-center API, and the answers its operations share.

Every operation needs a bearer token; looking callers up, logging calls and subscribing to webhooks
take an agent's or an admin's. The call-backs are the office's: its staff work them.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import PathParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import Role, User
from kontor.contacts.services import ContactError
from kontor.i18n import _
from kontor.offices.api import ApiOperation
from kontor.queue.api_access import staff_of

__all__ = [
    "AGENTS_ONLY",
    "PRIVATE",
    "TOKEN",
    "ContactId",
    "Db",
    "agent_or_admin",
    "agents_token",
    "office_staff_token",
    "refused",
    "staff_of",
]

PRIVATE = {
    "cache_control": CacheControlHeader(no_store=True),
    "tags": ["contact center"],
    "operation_class": ApiOperation,
}
TOKEN = {401: "No bearer token was sent, or it is malformed, unknown or revoked."}
AGENTS_ONLY = {**TOKEN, 403: "The token's user is neither an agent nor an administrator."}
# The services name the fields of the console's form; the API's body names one differently.
_FIELDS = {"callback_due_at": "callback_due"}

Db = NamedDependency[AsyncSession]
ContactId = Annotated[int, PathParameter(description="The contact's id.")]


def agent_or_admin(request: Request[Any, Any, Any]) -> User:
    """The user of the request's bearer token, an agent or an admin: 401 without a token, else 403."""
    user = staff_of(request)
    if user.role not in {Role.AGENT, Role.ADMIN}:
        raise PermissionDeniedException("This token's user is neither an agent nor an administrator.")
    return user


def agents_token(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard: an agent's or an admin's bearer token, checked before the body is read, so a
    stranger's malformed body is told 401, not what is wrong with it."""
    agent_or_admin(connection)  # type: ignore[arg-type]


def office_staff_token(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard: a bearer token of office staff, a manager or an admin; agents ask for call-backs but
    the offices make them (403)."""
    user = staff_of(connection)  # type: ignore[arg-type]
    if user.role == Role.AGENT:
        raise PermissionDeniedException("The office makes the call-back: agents cannot mark it done.")


def refused(error: ContactError) -> HTTPException:
    """A contact the services refused: 404 for an unknown office or service, else 422, in the
    reader's language and naming the field."""
    return HTTPException(
        status_code=404 if error.kind == "not_found" else 422,
        detail=_(error.message),
        extra={"kind": error.kind, "field": _FIELDS.get(error.field or "", error.field)},
    )
