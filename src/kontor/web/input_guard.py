"""Input no page or API of kontor can take, refused before any handler sees it.

- A NUL character, in the query string or the body (form fields, JSON, multipart): no text kontor
  keeps may contain one, and PostgreSQL refuses to store it. 400.
- A number in the path (an id, a counter) beyond the database's 32-bit integers: no such record can
  exist. 404.
"""

from __future__ import annotations

import re
from typing import Any

from litestar.exceptions import HTTPException, NotFoundException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

# A NUL as sent: percent-encoded in query strings and forms, escaped in JSON, raw in anything.
_ENCODED_NUL = re.compile(rb"\x00|%00")
_JSON_NUL = re.compile(rb"\x00|\\u0000", re.IGNORECASE)
_RAW_NUL = re.compile(rb"\x00")
INT_LIMIT = 2**31 - 1


class BadInput(HTTPException):
    status_code = 400


def _refuse_nul() -> BadInput:
    return BadInput(detail="The request contains a NUL character, which no field accepts.")


def input_guard(app: ASGIApp) -> ASGIApp:
    """Litestar middleware."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        for value in (scope.get("path_params") or {}).values():
            if isinstance(value, int) and not -INT_LIMIT <= value <= INT_LIMIT:
                raise NotFoundException("No such record.")
        if _ENCODED_NUL.search(scope.get("query_string", b"")):
            raise _refuse_nul()
        if scope["method"] in {"GET", "HEAD", "OPTIONS"}:
            await app(scope, receive, send)
            return
        nul = _body_nul(scope)
        messages: list[Message] = []
        # Across message boundaries: keep the tail that could start an escape sequence.
        tail = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunk = tail + message.get("body", b"")
            if nul.search(chunk):
                raise _refuse_nul()
            tail = chunk[-5:]
            if not message.get("more_body", False):
                break
        await app(scope, _replay(messages, receive), send)

    return middleware


def _body_nul(scope: Scope) -> re.Pattern[bytes]:
    content_type = b""
    for name, value in scope.get("headers") or []:
        if name == b"content-type":
            content_type = value.split(b";", 1)[0].strip().lower()
    if content_type == b"application/x-www-form-urlencoded":
        return _ENCODED_NUL
    if content_type.endswith(b"json"):
        return _JSON_NUL
    return _RAW_NUL


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Any:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
