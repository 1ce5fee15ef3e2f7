"""Serving calendar feeds the way calendar clients poll them: an ETag and a Last-Modified that change
on any change (a deleted event included), 304 when nothing changed, and the iCalendar media type.

The ETag is a digest of what the feed shows, so it changes exactly when the body would. The time of
that change is not in the data (a deleted closure leaves no row behind), so each feed's latest ETag
and the moment it was first served are kept in the database's key-value store, shared by every
app instance: the first request that sees a new ETag stamps it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from litestar import Request, Response
from litestar.stores.base import Store

MEDIA_TYPE = "text/calendar"  # Litestar adds "; charset=utf-8" to text types
VERSIONS_STORE = "feed_versions"
# A feed nobody asked for in this long starts again with a fresh Last-Modified.
VERSION_KEPT = timedelta(days=400)


def etag_of(*parts: bytes | str) -> str:
    """A strong ETag (quoted) for the data the parts describe."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return f'"{digest.hexdigest()[:32]}"'


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110's weak comparison: W/"x" matches "x"; "*" matches any current representation."""
    candidates = [tag.strip() for tag in if_none_match.split(",")]
    bare = etag.removeprefix("W/")
    return any(tag == "*" or tag.removeprefix("W/") == bare for tag in candidates)


def _not_modified_since(header: str, modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False  # a malformed date is ignored, as RFC 9110 says
    if since is None or since.tzinfo is None:
        return False
    return modified.replace(microsecond=0) <= since


async def first_served(store: Store, key: str, etag: str, now: datetime) -> datetime:
    """When the feed ``key`` first answered with ``etag``: its Last-Modified. Stamps ``now`` when the
    ETag is new (one write per change of the feed, not per request)."""
    stored = await store.get(key)
    if stored:
        try:
            known = json.loads(stored)
            if known.get("etag") == etag:
                return datetime.fromisoformat(known["at"])
        except (ValueError, KeyError, TypeError):
            pass  # an unreadable entry is replaced below
    await store.set(key, json.dumps({"etag": etag, "at": now.astimezone(UTC).isoformat()}), VERSION_KEPT)
    return now


@dataclass(frozen=True, slots=True)
class FeedAnswer:
    """How a feed is answered: its ETag, the key its version is kept under, the body (built only
    when the client does not already have it), and the headers of both answers."""

    key: str
    etag: str
    build: Callable[[], bytes | Awaitable[bytes]]
    headers: Mapping[str, str]
    filename: str


async def calendar_response(
    request: Request[Any, Any, Any], answer: FeedAnswer, now: datetime
) -> Response[bytes]:
    """200 with the feed, or 304 when the client's copy (by If-None-Match, else If-Modified-Since)
    is current. Works for clients that send no Accept header: the feed has one representation."""
    store = request.app.stores.get(VERSIONS_STORE)
    modified = await first_served(store, answer.key, answer.etag, now)
    headers = {
        **answer.headers,
        "ETag": answer.etag,
        "Last-Modified": _http_date(modified),
    }
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        fresh = _matches(if_none_match, answer.etag)
    else:
        since = request.headers.get("if-modified-since")
        fresh = since is not None and _not_modified_since(since, modified)
    if fresh:
        return Response(b"", status_code=304, headers=headers, media_type=MEDIA_TYPE)
    body = answer.build()
    if not isinstance(body, bytes):
        body = await body
    headers["Content-Disposition"] = f'inline; filename="{answer.filename}"'
    return Response(body, media_type=MEDIA_TYPE, headers=headers)
