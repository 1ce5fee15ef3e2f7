"""Server-side sessions for staff logins, stored in the database through ``DatabaseStore``.

Three differences from Litestar's stock server-side backend:

- ``clear_session()`` rotates the id: the old record is deleted and what follows gets a new id. The
  stock backend keeps the id from the request's cookie, so an id planted before login would be
  logged in afterwards (session fixation).
- An empty session is never stored, so an anonymous visitor writes nothing to the database.
- An unchanged session is not written back, so a logged-in request does not write either. The
  session therefore lasts ``max_age`` from login, a working day, however busy the user is.

On SQLite the session store writes in its own transaction, which waits for any write transaction
still open: a handler that changes the session while it holds ``db_write`` commits first.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

SESSION_COOKIE = "kontor_session"
_LOADED = "kontor_session_loaded"


class RotatingSessionBackend(ServerSideSessionBackend):
    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        if session_id := connection.cookies.get(self.config.key):
            store = self.config.get_store_from_app(connection.scope["app"])
            data = await self.get(session_id, store=store)
            if data is not None:
                connection.scope.setdefault("state", {})[_LOADED] = data
                return self.deserialize_data(data)
        return {}

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        store = self.config.get_store_from_app(connection.scope["app"])
        headers = MutableScopeHeaders.from_message(message)
        params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        cookie_id = connection.cookies.get(self.config.key)
        if cookie_id == "null":
            cookie_id = None
        # The middleware put an id in the connection's state; ``clear_session()`` took it away.
        current_id = connection.get_session_id()
        cleared = current_id is None

        if cleared and cookie_id:
            await self.delete(cookie_id, store=store)
        if cleared and hasattr(store, "delete_expired"):
            # Logins and logouts are rare enough to sweep out expired sessions as they happen.
            await store.delete_expired()
        if scope_session is Empty or not scope_session:
            if cookie_id:
                # Emptied without clear_session() (say, the user was deactivated): forget the cookie; the
                # record authenticates no one and expires on its own.
                headers.add(
                    "Set-Cookie",
                    Cookie(value="null", key=self.config.key, expires=0, **params).to_header(header=""),
                )
            return
        data = self.serialize_data(scope_session, connection.scope)
        loaded = connection.scope.get("state", {}).get(_LOADED)
        if not cleared and loaded is not None and data == loaded:
            return
        # Only an id this server handed out and still knows is kept; never one the client made up.
        session_id = (
            current_id if not cleared and loaded is not None and current_id else self.generate_session_id()
        )
        await self.set(session_id=session_id, data=data, store=store)
        headers.add(
            "Set-Cookie", Cookie(value=session_id, key=self.config.key, **params).to_header(header="")
        )


class RotatingSessionConfig(ServerSideSessionConfig):
    """``ServerSideSessionConfig`` with the rotating backend; the same options."""

    _backend_class = RotatingSessionBackend
