"""Webhooks: the contact center's own systems subscribe to events (a booking made, moved or cancelled;
a call-back asked for or done) and get each one as a signed POST.

An event becomes one outbox delivery per subscriber, written in the transaction that made the change,
and sent by the outbox sender with its retries (notify.transports.WebhookTransport). The body is
compact, key-sorted JSON; ``X-Kontor-Signature`` is ``sha256=`` and the hex HMAC-SHA256 of the body
under the subscription's secret, made once, so every retry carries the same one.

Events are emitted inside booking writes, so the active subscriptions are kept per process and
database: dropped as soon as a change to a webhook commits here, and re-read after at most
:data:`CACHE_SECONDS` for changes another app instance made.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from litestar.exceptions import NotFoundException
from sqlalchemy import case, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import Role, User
from kontor.audit import services as audit
from kontor.audit.models import Channel
from kontor.booking.models import Booking
from kontor.booking.references import format_reference
from kontor.contacts.models import Contact, Webhook, WebhookEvent
from kontor.db.changes import CommitCounter
from kontor.i18n import N_
from kontor.notify.models import MessageChannel, MessageStatus, OutboxMessage
from kontor.offices.models import Office

__all__ = [
    "CACHE_SECONDS",
    "EVENT_LABELS",
    "NAME_MAX",
    "URL_MAX",
    "WebhookError",
    "body_for",
    "booking_payload",
    "callback_payload",
    "check_url",
    "create_webhook",
    "delete_webhook",
    "emit",
    "list_webhooks",
    "new_secret",
    "sign",
    "verify",
]

EVENT_LABELS = {
    WebhookEvent.BOOKING_CREATED.value: N_("Booking created"),
    WebhookEvent.BOOKING_CHANGED.value: N_("Booking changed"),
    WebhookEvent.BOOKING_CANCELLED.value: N_("Booking cancelled"),
    WebhookEvent.CALLBACK_REQUESTED.value: N_("Call-back requested"),
    WebhookEvent.CALLBACK_DONE.value: N_("Call-back done"),
}
URL_MAX = 200
NAME_MAX = 120
CACHE_SECONDS = 3.0
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class WebhookError(Exception):
    """Why a subscription could not be made: ``message`` is an English msgid, ``field`` the form field."""

    def __init__(self, message: str, field: str | None = None, kind: str = "invalid") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.field = field


# -- signing ---------------------------------------------------------------------------------------


def new_secret() -> str:
    """A signing secret of 256 random bits."""
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret``, compared in constant time."""
    return hmac.compare_digest(sign(secret, body).encode(), (header or "").encode("utf-8", "replace"))


def check_url(url: str) -> str:
    """The address to deliver to, trimmed: https, or http to this machine's loopback (a receiver
    next to kontor); no user name or password in it. WebhookError(field 'url') otherwise."""
    url = (url or "").strip()
    if not url:
        raise WebhookError(N_("Enter the address to send the events to."), "url")
    if len(url) > URL_MAX:
        raise WebhookError(N_("The address can be at most 200 characters long."), "url")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise WebhookError(N_("Enter a web address like https://crm.example.se/kontor."), "url")
    try:
        parts = urlsplit(url)
        _port = parts.port  # raises for a port that is not a number in range
        host = parts.hostname
    except ValueError:
        raise WebhookError(N_("Enter a web address like https://crm.example.se/kontor."), "url") from None
    if parts.scheme not in ("https", "http") or not host:
        raise WebhookError(N_("Enter a web address like https://crm.example.se/kontor."), "url")
    if parts.username is not None or parts.password is not None:
        raise WebhookError(N_("The address must not contain a user name or password."), "url")
    if parts.fragment:
        raise WebhookError(N_("Enter a web address like https://crm.example.se/kontor."), "url")
    if parts.scheme == "http" and host not in _LOOPBACK:
        raise WebhookError(N_("Use an https address; plain http is allowed only to localhost."), "url")
    return url


# -- payloads ----------------------------------------------------------------------------------------


def _local_iso(at: datetime | None, office: Office | None) -> str | None:
    if at is None:
        return None
    zone = ZoneInfo(office.timezone) if office is not None else UTC
    return at.astimezone(zone).isoformat()


def booking_payload(booking: Booking) -> dict[str, Any]:
    """What a subscriber learns of a booking: where, when, what and how, not who."""
    return {
        "reference": format_reference(booking.reference),
        "office": booking.office.slug,
        "service": booking.service.code,
        "start": _local_iso(booking.starts_at, booking.office),
        "end": _local_iso(booking.ends_at, booking.office),
        "status": booking.status,
        "channel": booking.channel,
        "language": booking.language,
        "needs": list(booking.needs or []),
    }


def callback_payload(contact: Contact, office: Office | None) -> dict[str, Any]:
    """A call-back: which office calls whom back about what, and by when."""
    return {
        "contact": contact.id,
        "office": office.slug if office is not None else None,
        "category": contact.category,
        "due": _local_iso(contact.callback_due_at, office),
        "status": contact.callback_status,
        "phone": contact.phone,
    }


def body_for(event: str, data: dict[str, Any], now: datetime, event_id: str | None = None) -> bytes:
    """The JSON body of an event: compact and key-sorted, so the same event gives the same bytes."""
    envelope = {
        "id": event_id or uuid.uuid4().hex,
        "event": str(event),
        "occurred_at": now.isoformat(),
        "data": data,
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), default=str).encode()


# -- the subscriptions, kept per process -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Subscription:
    id: int
    secret: str
    events: frozenset[str]


_WEBHOOKS = CommitCounter(Webhook)
# Per database URL: (the counter's value when read, when read, the active subscriptions).
_cache: dict[str, tuple[int, float, tuple[_Subscription, ...]]] = {}


def forget_subscriptions() -> None:
    """Drop what this process keeps (tests that change webhooks behind the ORM's back)."""
    _cache.clear()


async def _subscriptions(db: AsyncSession) -> tuple[_Subscription, ...]:
    database = str(db.get_bind().url)
    kept = _cache.get(database)
    if kept is not None and kept[0] == _WEBHOOKS.value and time.monotonic() - kept[1] <= CACHE_SECONDS:
        return kept[2]
    generation = _WEBHOOKS.value  # read first: a change committed meanwhile makes the entry stale
    rows = await db.execute(
        select(Webhook.id, Webhook.secret, Webhook.events)
        .where(Webhook.active.is_(True))
        .order_by(Webhook.id)
    )
    found = tuple(_Subscription(id, secret, frozenset(events or ())) for id, secret, events in rows)
    _cache[database] = (generation, time.monotonic(), found)
    return found


_OUTBOX = OutboxMessage.__table__
_HOOKS = Webhook.__table__


async def emit(
    db: AsyncSession, event: str, data: dict[str, Any], *, now: datetime, booking_id: int | None = None
) -> int:
    """Queue one delivery of ``event`` per active subscriber; how many were queued."""
    event = str(event)
    subscribers = [s for s in await _subscriptions(db) if event in s.events]
    if not subscribers:
        return 0
    body = body_for(event, data, now)
    signatures = {s.id: sign(s.secret, body) for s in subscribers}
    # The rows come from the webhooks table itself, so a subscription deleted by another app instance
    # since it was kept here is simply left out instead of failing the change that emitted the event.
    values = {
        "created_at": literal(now, _OUTBOX.c.created_at.type),
        "channel": literal(MessageChannel.WEBHOOK.value),
        "kind": literal(event),
        "booking_id": literal(booking_id, _OUTBOX.c.booking_id.type),
        "office_id": literal(None, _OUTBOX.c.office_id.type),
        "recipient": _HOOKS.c.url,
        "language": literal(""),
        "subject": literal(event),
        "body": literal(body.decode(), _OUTBOX.c.body.type),
        "status": literal(MessageStatus.PENDING.value),
        "attempts": literal(0),
        "next_attempt_at": literal(now, _OUTBOX.c.next_attempt_at.type),
        "last_error": literal(""),
        "webhook_id": _HOOKS.c.id,
        "signature": case(signatures, value=_HOOKS.c.id),
    }
    rows = select(*(expression.label(name) for name, expression in values.items())).where(
        _HOOKS.c.id.in_(signatures), _HOOKS.c.active.is_(True)
    )
    result = await db.execute(insert(_OUTBOX).from_select(list(values), rows))
    return max(result.rowcount or 0, 0)


# -- managing subscriptions --------------------------------------------------------------------------


def _events(events: Iterable[str]) -> list[str]:
    chosen = {str(event) for event in events}
    if not chosen:
        raise WebhookError(N_("Choose at least one event."), "events")
    if not chosen <= set(EVENT_LABELS):
        raise WebhookError(N_("Choose events from the list."), "events")
    return [event for event in EVENT_LABELS if event in chosen]


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise WebhookError(N_("Enter a name for the subscription."), "name")
    if len(name) > NAME_MAX:
        raise WebhookError(N_("The name can be at most 120 characters long."), "name")
    return name


async def create_webhook(
    db: AsyncSession,
    *,
    user: User,
    name: str,
    url: str,
    events: Iterable[str],
    now: datetime,
    channel: Channel = Channel.WEB,
) -> tuple[Webhook, str]:
    """Subscribe ``url`` to ``events``; the subscription and its secret, which is shown only now."""
    name = _name(name)
    url = check_url(url)
    chosen = _events(events)
    secret = new_secret()
    webhook = Webhook(
        name=name, url=url, secret=secret, events=chosen, user_id=user.id, active=True,
        created_at=now, updated_at=now,
    )  # fmt: skip
    db.add(webhook)
    await db.flush()
    audit.record(
        db,
        actor=user,
        channel=channel,
        action="webhook.create",
        entity="webhook",
        entity_id=webhook.id,
        changes={"name": name, "url": url, "events": chosen},
    )
    return webhook, secret


async def list_webhooks(db: AsyncSession, user: User) -> list[Webhook]:
    """Every subscription for an admin; a user's own otherwise."""
    query = select(Webhook).order_by(Webhook.name, Webhook.id)
    if user.role != Role.ADMIN:
        query = query.where(Webhook.user_id == user.id)
    return list(await db.scalars(query))


async def delete_webhook(
    db: AsyncSession, user: User, webhook_id: int, *, channel: Channel = Channel.WEB
) -> None:
    """End a subscription, with its deliveries; only its owner or an admin may (404 for anyone else,
    who need not learn it exists)."""
    webhook = await db.get(Webhook, webhook_id)
    if webhook is None or (user.role != Role.ADMIN and webhook.user_id != user.id):
        raise NotFoundException("No such webhook.")
    audit.record(
        db,
        actor=user,
        channel=channel,
        action="webhook.delete",
        entity="webhook",
        entity_id=webhook.id,
        changes={"name": webhook.name, "url": webhook.url},
    )
    await db.delete(webhook)
    await db.flush()
