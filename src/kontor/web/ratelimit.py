"""A limit on how often one client address may send booking requests: bots and release rushes meet
429 with ``Retry-After`` instead of taking every free time. Staff signed in (agents booking for
callers, the front desk) are not limited. The count lives in each app instance's memory; with
several instances a client gets at most the limit times the number of instances."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig

from kontor.settings import Settings

# Every request that takes, holds, confirms, moves or cancels a seat.
_BOOKING_WRITES = re.compile(
    r"^/(?:api/v1/bookings(?:/[^/]+/(?:cancel|reschedule))?|book/hold|bookings/[^/]+/(?:confirm|cancel|reschedule|forget)"
    r"|waitlist(?:/[^/]+/(?:take|decline|leave))?)$"
)


def is_booking_write(method: str, path: str) -> bool:
    return method == "POST" and _BOOKING_WRITES.match(path) is not None


async def _limited(request: Request[Any, Any, Any]) -> bool:
    return is_booking_write(request.method, request.url.path) and not request.scope.get("user")


def booking_rate_limit(settings: Settings) -> DefineMiddleware | None:
    """The middleware, or None when ``KONTOR_BOOKING_RATE_LIMIT`` is 0."""
    if settings.booking_rate_limit <= 0:
        return None
    return RateLimitConfig(
        rate_limit=("minute", settings.booking_rate_limit),
        check_throttle_handler=_limited,
        store="rate_limit",
    ).middleware
