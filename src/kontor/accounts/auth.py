"""Who is asking: a staff session or an API bearer token, and guards by role and office."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from kontor.accounts.models import ApiToken, Role, User
from kontor.accounts.security import hash_token, token_matches
from kontor.db.base import utcnow
from kontor.db.write_queue import staff_transaction

SESSION_USER_KEY = "user_id"
API_PREFIX = "kontor_"


class KontorAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """Anonymous requests pass with ``user = None``; handlers that need someone use the guards."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        if header:
            scheme, _sep, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise NotAuthorizedException("Use 'Authorization: Bearer <token>'.")
            user = await _user_for_token(connection, token.strip())
            if user is None:
                raise NotAuthorizedException("The bearer token is unknown or revoked.")
            return AuthenticationResult(user=user, auth="token")
        if "session" not in connection.scope or not connection.scope.get("session"):
            return AuthenticationResult(user=None, auth=None)
        user_id = connection.session.get(SESSION_USER_KEY)
        if not isinstance(user_id, int):
            return AuthenticationResult(user=None, auth=None)
        session_maker = connection.app.state.session_maker
        async with session_maker() as db:
            # With its offices in the same round trip (every signed-in page pays for this one).
            user = await db.get(User, user_id, options=[joinedload(User.offices)])
        if user is None or not user.active:
            connection.scope["session"] = {}
            return AuthenticationResult(user=None, auth=None)
        return AuthenticationResult(user=user, auth="session")


async def _user_for_token(connection: ASGIConnection[Any, Any, Any, Any], token: str) -> User | None:
    digest = hash_token(token)
    async with connection.app.state.session_maker() as db:
        api_token = await db.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        if (
            api_token is None
            or api_token.revoked_at is not None
            or not token_matches(token, api_token.token_hash)
        ):
            return None
        user = api_token.user
        _ = user.offices
        stale = api_token.last_used_at is None or utcnow() - api_token.last_used_at > timedelta(minutes=10)
        token_id = api_token.id
    if not user.active:
        return None
    if stale:  # a write at most every ten minutes per token, not on every request
        # On SQLite in the app's write line, as staff, rather than in SQLite's busy handler.
        async with staff_transaction(connection.app.state) as db:
            await db.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))
    return user


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    return connection.scope.get("user")


def bearer_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The staff user of the request's bearer token. A browser session is no API credential: the
    pages have their own CSRF-protected forms, and a session must not turn a cross-site request into
    a staff one (DESIGN rule 8)."""
    return current_user(connection) if connection.scope.get("auth") == "token" else None


def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if current_user(connection) is None:
        raise NotAuthorizedException("Log in to continue.")


def requires_role(*roles: Role):  # type: ignore[no-untyped-def]
    """A guard: the user is logged in and has one of ``roles``."""
    allowed = {Role(role) for role in roles}

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user is None:
            raise NotAuthorizedException("Log in to continue.")
        if Role(user.role) not in allowed:
            raise PermissionDeniedException("Your role does not allow this.")

    return guard


def can_manage_office(user: User | None, office_id: int) -> bool:
    """Admins manage every office; managers only their own."""
    if user is None:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.MANAGER and office_id in user.office_ids


def can_work_in_office(user: User | None, office_id: int) -> bool:
    """Front desk and counters: the office's own staff and managers, and admins."""
    if user is None:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role in {Role.MANAGER, Role.STAFF} and office_id in user.office_ids


def ensure(allowed: bool) -> None:
    if not allowed:
        raise PermissionDeniedException("You do not have access to this office.")
