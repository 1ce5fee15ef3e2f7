"""Committing a request's database session before its answer leaves, and saying so when it fails.

advanced-alchemy's own hook commits when the handler's answer is a success, but logs a failed
commit at debug level and sends the success anyway: a resident would read "booked" for a booking
the database never kept. Here a failed commit is rolled back and the answer becomes 503 with
``Retry-After`` (JSON ``detail`` for the API, a short page otherwise), so the client knows nothing
was saved and may try again.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
from typing import cast

from advanced_alchemy.extensions.litestar._utils import delete_aa_scope_state, get_aa_scope_state
from advanced_alchemy.extensions.litestar.plugins.init.config.common import SESSION_TERMINUS_ASGI_EVENTS
from litestar.types import BeforeMessageSendHookHandler, Message, Scope
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.i18n import _, current_locale

log = logging.getLogger(__name__)

RETRY_AFTER = 5
_FAILED = "_kontor_commit_failed"  # the scope key holding the replacement body
_API_DETAIL = "The change could not be saved; nothing was stored. Try again in a moment."


def _commits(status: int) -> bool:
    return 200 <= status < 400  # successes and redirects (a form's 303 after a change)


def _replacement(scope: Scope) -> tuple[bytes, bytes]:
    """The body and its media type that say nothing was saved, in the reader's terms."""
    path = scope.get("path", "")
    accept = dict(scope.get("headers", [])).get(b"accept", b"").decode("latin-1")
    if path.startswith("/api/") or ("application/json" in accept and "text/html" not in accept):
        return json.dumps({"detail": _API_DETAIL, "status_code": 503}).encode(), b"application/json"
    title = html.escape(_("Temporarily unavailable"))
    text = html.escape(_("Nothing was saved: kontor could not store the change just now. Please try again."))
    page = (
        f'<!doctype html>\n<html lang="{html.escape(current_locale.get())}">\n<meta charset="utf-8">\n'
        f"<title>{title} – kontor</title>\n<h1>{title}</h1>\n<p>{text}</p>\n"
    )
    return page.encode(), b"text/html; charset=utf-8"


def _fail(message: Message, scope: Scope) -> None:
    body, media_type = _replacement(scope)
    kept = [
        (name, value)
        for name, value in message.get("headers", [])
        if name.lower() not in (b"content-length", b"content-type", b"content-encoding", b"location", b"etag")
    ]
    message["status"] = 503  # type: ignore[typeddict-unknown-key]
    message["headers"] = [  # type: ignore[typeddict-unknown-key]
        *kept,
        (b"content-type", media_type),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(RETRY_AFTER).encode()),
        (b"cache-control", b"no-store"),
    ]
    scope[_FAILED] = body  # type: ignore[literal-required]


def commit_before_send(session_scope_key: str) -> BeforeMessageSendHookHandler:
    """A ``before_send`` hook for one database config: commit its session when the answer is a
    success or a redirect, roll it back otherwise, and close it when the answer ends."""

    async def handler(message: Message, scope: Scope) -> None:
        session = cast("AsyncSession | None", get_aa_scope_state(scope, session_scope_key))
        if session is not None and message["type"] == "http.response.start":
            if _commits(message["status"]) and _FAILED not in scope:
                try:
                    await session.commit()
                except Exception as error:
                    # The type only: a message could carry a resident's details.
                    log.error("commit failed on %s: %s", scope.get("path", ""), type(error).__name__)
                    with contextlib.suppress(Exception):
                        await session.rollback()
                    _fail(message, scope)
            else:
                with contextlib.suppress(Exception):
                    await session.rollback()
        if message["type"] == "http.response.body" and _FAILED in scope:
            message["body"] = cast("bytes", scope[_FAILED])  # type: ignore[literal-required]
            message["more_body"] = False
        if session is not None and message["type"] in SESSION_TERMINUS_ASGI_EVENTS:
            with contextlib.suppress(Exception):
                await session.close()
            delete_aa_scope_state(scope, session_scope_key)

    return handler
