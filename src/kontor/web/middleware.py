"""Per-request locale, chosen before anything renders."""

from __future__ import annotations

from http.cookies import SimpleCookie

from litestar.types import ASGIApp, Receive, Scope, Send

from kontor import i18n


def locale_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"}:
            headers = dict(scope.get("headers") or [])
            cookie_header = headers.get(b"cookie", b"").decode("latin-1")
            cookie = None
            if cookie_header:
                jar: SimpleCookie = SimpleCookie()
                try:
                    jar.load(cookie_header)
                except Exception:  # a malformed cookie header must not break the page
                    jar = SimpleCookie()
                if i18n.LOCALE_COOKIE in jar:
                    cookie = jar[i18n.LOCALE_COOKIE].value
            query = _query_lang(scope.get("query_string", b""))
            locale = i18n.negotiate(cookie, headers.get(b"accept-language", b"").decode("latin-1"), query)
            token = i18n.current_locale.set(locale)
            scope.setdefault("state", {})["locale"] = locale
            try:
                await app(scope, receive, send)
            finally:
                i18n.current_locale.reset(token)
        else:
            await app(scope, receive, send)

    return middleware


def _query_lang(query_string: bytes) -> str | None:
    for part in query_string.split(b"&"):
        if part.startswith(b"lang="):
            return part[5:].decode("latin-1")
    return None
