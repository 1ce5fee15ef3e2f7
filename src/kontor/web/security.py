"""Security headers on every response, error pages and unknown addresses included.

The Content-Security-Policy allows only kontor's own scripts, styles and connections: no inline
script, no inline style attribute, no other origin, no framing. Pages comply (htmx is told not to add
its inline indicator styles); a browser test watches for violations. HSTS is sent only where cookies
are Secure, that is where kontor is served over https.
"""

from __future__ import annotations

from litestar.types import Message, Scope

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


def security_headers(https: bool):  # type: ignore[no-untyped-def]
    """A Litestar ``before_send`` hook. Headers a handler set itself (a stricter Referrer-Policy on a
    ticket page) are kept."""
    added = (*_HEADERS, _HSTS) if https else _HEADERS

    async def before_send(message: Message, _scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = list(message.get("headers") or [])
        present = {name.lower() for name, _ in headers}
        headers.extend(header for header in added if header[0] not in present)
        message["headers"] = headers  # type: ignore[typeddict-unknown-key]

    return before_send
