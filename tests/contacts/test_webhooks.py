"""Webhooks: signatures a receiver can check, the addresses allowed, one delivery per subscriber,
deliveries sent (and retried) by the outbox sender, and the events that bookings and call-backs emit."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar.exceptions import NotFoundException
from sqlalchemy import select, text, update

from kontor.accounts.models import User
from kontor.audit.models import AuditEntry, Channel
from kontor.booking.models import Booking
from kontor.booking.notices import tell_resident
from kontor.booking.references import format_reference
from kontor.booking.services import book, cancel, reschedule
from kontor.contacts import webhooks
from kontor.contacts.models import Contact, Webhook
from kontor.contacts.services import log_contact, mark_callback_done
from kontor.contacts.webhooks import (
    EVENT_LABELS,
    WebhookError,
    booking_payload,
    check_url,
    create_webhook,
    delete_webhook,
    emit,
    list_webhooks,
    new_secret,
    sign,
    verify,
)
from kontor.notify.models import OutboxMessage
from kontor.notify.outbox import CHANNEL_LABELS, KIND_LABELS
from kontor.notify.sender import backoff, send_due
from kontor.notify.transports import WebhookTransport, transports_for

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
NINE = datetime(2026, 12, 15, 9, 0, tzinfo=STOCKHOLM)  # Kista's Tuesday appointment hours begin
RECEIVER = "https://crm.example.se/kontor/events"


# -- signing ---------------------------------------------------------------------------------------


def test_signature_known_answer() -> None:
    # RFC 4231, test case 2.
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert sign("Jefe", b"what do ya want for nothing?") == "sha256=" + expected
    body = b'{"data":{},"event":"booking.created"}'
    secret = "whsec_test"
    assert sign(secret, body) == "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_verify_accepts_the_signature_and_rejects_tampering() -> None:
    secret, body = new_secret(), b'{"event":"booking.created","id":"1"}'
    header = sign(secret, body)
    assert verify(secret, body, header)
    for changed_body, changed_header, changed_secret in (
        (body.replace(b"created", b"changed"), header, secret),
        (body, header[:-1] + ("0" if header[-1] != "0" else "1"), secret),
        (body, header.removeprefix("sha256="), secret),
        (body, header.upper(), secret),
        (body, "", secret),
        (body, header + "ä", secret),
        (body, header, new_secret()),
    ):
        assert not verify(changed_secret, changed_body, changed_header)


def test_secrets_are_long_and_unique() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(len(secret) >= 40 and len(secret) <= 100 for secret in secrets)


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://crm.example.se/kontor", True),
        ("  https://crm.example.se:8443/hooks?x=1  ", True),
        ("http://localhost:9000/hook", True),
        ("http://127.0.0.1/hook", True),
        ("http://[::1]:8080/hook", True),
        ("http://crm.example.se/kontor", False),  # plain http leaves the machine
        ("http://127.0.0.1.example.se/hook", False),
        ("ftp://crm.example.se/", False),
        ("https://user:pass@crm.example.se/", False),
        ("https://token@crm.example.se/", False),
        ("https:///no-host", False),
        ("https://crm.example.se:99999/", False),
        ("https://crm.example.se/a b", False),
        ("https://crm.example.se/#fragment", False),
        ("javascript:alert(1)", False),
        ("crm.example.se/kontor", False),
        ("", False),
        ("https://crm.example.se/" + "a" * 180, False),  # over 200 characters
    ],
)
def test_check_url(url: str, accepted: bool) -> None:
    if accepted:
        assert check_url(url) == url.strip()
    else:
        with pytest.raises(WebhookError) as refused:
            check_url(url)
        assert refused.value.field == "url" and refused.value.message


def test_the_outbox_pages_name_webhook_deliveries() -> None:
    assert CHANNEL_LABELS["webhook"] == "Webhook"
    for event, label in EVENT_LABELS.items():
        assert KIND_LABELS[event] == label


# -- subscriptions -----------------------------------------------------------------------------------


async def _user(db: Any, name: str) -> User:
    user = await db.scalar(select(User).where(User.username == name))
    assert user is not None
    return user


async def _subscribe(write_session, owner: str = "agent", **overrides: Any) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    arguments: dict[str, Any] = {
        "name": "CRM",
        "url": RECEIVER,
        "events": ["booking.created", "booking.changed", "booking.cancelled"],
        "now": NOW,
    } | overrides
    async with write_session() as db, db.begin():
        webhook, secret = await create_webhook(db, user=await _user(db, owner), **arguments)
    return webhook.id, secret


async def _deliveries(read_session) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        return list(
            await db.scalars(
                select(OutboxMessage).where(OutboxMessage.channel == "webhook").order_by(OutboxMessage.id)
            )
        )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"url": "http://crm.example.se/"}, "url"),
        ({"events": []}, "events"),
        ({"events": ["booking.created", "booking.eaten"]}, "events"),
    ],
)
async def test_create_webhook_refusals(city, write_session, read_session, overrides, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WebhookError) as refused:
        await _subscribe(write_session, **overrides)
    assert refused.value.field == field
    async with read_session() as db:
        assert await db.scalar(select(Webhook.id)) is None


async def test_subscriptions_are_listed_to_their_owner_and_admins(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    agents, secret = await _subscribe(write_session, events=["callback.done", "booking.created"])
    admins, _ = await _subscribe(write_session, owner="admin", name="Audit")
    async with read_session() as db:
        stored = await db.get(Webhook, agents)
        assert stored is not None
        assert (stored.secret, stored.events, stored.active) == (
            secret,
            ["booking.created", "callback.done"],
            True,
        )
        assert [w.id for w in await list_webhooks(db, await _user(db, "agent"))] == [agents]
        assert [w.id for w in await list_webhooks(db, await _user(db, "admin"))] == [admins, agents]
        assert await list_webhooks(db, await _user(db, "manager")) == []
        entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "webhook.create"))
    assert entry is not None and secret not in json.dumps(entry.changes)


async def test_only_the_owner_or_an_admin_deletes_a_subscription(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    agents, _ = await _subscribe(write_session)
    admins, _ = await _subscribe(write_session, owner="admin")
    for who, webhook_id in (("manager", agents), ("agent", admins), ("agent", 999_999)):
        async with write_session() as db, db.begin():
            with pytest.raises(NotFoundException):
                await delete_webhook(db, await _user(db, who), webhook_id)
    async with write_session() as db, db.begin():
        await emit(db, "booking.created", {"reference": "ACDE-4779"}, now=NOW)
        await delete_webhook(db, await _user(db, "agent"), agents)
        await delete_webhook(db, await _user(db, "admin"), admins)
    async with read_session() as db:
        assert await db.scalar(select(Webhook.id)) is None
        actions = list(await db.scalars(select(AuditEntry.action).where(AuditEntry.entity == "webhook")))
    assert actions.count("webhook.delete") == 2
    assert await _deliveries(read_session) == []  # they go with their subscription


# -- emitting ----------------------------------------------------------------------------------------


async def test_emit_writes_one_signed_delivery_per_subscriber(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    first, first_secret = await _subscribe(write_session)
    second, second_secret = await _subscribe(
        write_session, owner="admin", url="http://127.0.0.1:9000/hook", events=["booking.created"]
    )
    await _subscribe(write_session, events=["callback.requested"])  # another event
    inactive, _ = await _subscribe(write_session)
    async with write_session() as db, db.begin():
        await db.execute(update(Webhook).where(Webhook.id == inactive).values(active=False))
    data = {"reference": "ACDE-4779", "needs": ["interpreter"], "office": "kista"}
    async with write_session() as db, db.begin():
        assert await emit(db, "booking.created", data, now=NOW) == 2
        assert await emit(db, "booking.changed", data, now=NOW) == 1
        assert await emit(db, "callback.done", data, now=NOW) == 0
    created = [m for m in await _deliveries(read_session) if m.kind == "booking.created"]
    assert [(m.webhook_id, m.recipient) for m in created] == [
        (first, RECEIVER),
        (second, "http://127.0.0.1:9000/hook"),
    ]
    for message, secret in zip(created, (first_secret, second_secret), strict=True):
        assert verify(secret, message.body.encode(), message.signature or "")
        assert (message.channel, message.subject, message.language, message.status) == (
            "webhook", "booking.created", "", "pending",
        )  # fmt: skip
        assert message.office_id is None and message.booking_id is None
        assert message.next_attempt_at == NOW
        assert message.body == json.dumps(json.loads(message.body), sort_keys=True, separators=(",", ":"))
        envelope = json.loads(message.body)
        assert envelope["event"] == "booking.created" and envelope["data"] == data
        assert datetime.fromisoformat(envelope["occurred_at"]) == NOW
        assert len(envelope["id"]) == 32


async def test_subscription_changes_show_at_once_here_and_within_seconds_from_elsewhere(
    city, write_session, engine, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    async def emitted() -> int:
        async with write_session() as db, db.begin():
            return await emit(db, "booking.created", {}, now=NOW)

    webhook_id, _ = await _subscribe(write_session)
    assert await emitted() == 1
    async with write_session() as db, db.begin():
        await db.execute(update(Webhook).where(Webhook.id == webhook_id).values(active=False))
    assert await emitted() == 0  # a change committed in this process drops what was kept
    # Another app instance turns it back on: no session here sees it.
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE webhooks SET active = :on"), {"on": True})
    assert await emitted() == 0
    clock = webhooks.time.monotonic() + webhooks.CACHE_SECONDS + 0.1
    monkeypatch.setattr(webhooks.time, "monotonic", lambda: clock)
    assert await emitted() == 1


# -- delivering ----------------------------------------------------------------------------------------


class Receiver:
    """A subscriber's endpoint that checks what arrives, answering with the statuses it is given."""

    def __init__(self, secret: str, statuses: list[int]) -> None:
        self.secret = secret
        self.statuses = statuses
        self.received: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        assert request.method == "POST" and str(request.url) == RECEIVER
        assert request.headers["content-type"] == "application/json"
        assert verify(self.secret, body, request.headers["x-kontor-signature"])
        self.received.append(
            {
                "event": request.headers["x-kontor-event"],
                "delivery": request.headers["x-kontor-delivery"],
                "body": json.loads(body),
            }
        )
        return httpx.Response(self.statuses.pop(0) if self.statuses else 200)


def test_transports_for_delivers_webhooks() -> None:
    from kontor.settings import Settings

    assert isinstance(transports_for(Settings())["webhook"], WebhookTransport)


async def _book(db: Any, settings: Any, **overrides: Any) -> tuple[Booking, str]:
    arguments: dict[str, Any] = {
        "office_slug": "kista",
        "service_code": "eservice",
        "start": NINE,
        "name": "Anna Andersson",
        "email": "anna@example.se",
        "phone": "070-123 45 67",
        "channel": Channel.PHONE,
        "actor": await _user(db, "agent"),
        "now": NOW,
    } | overrides
    booking, token = await book(db, **arguments)
    await tell_resident(db, booking, "booked", settings=settings, token=token, now=NOW)
    return booking, token


async def test_a_booking_is_delivered_signed_and_a_failure_retried(
    city, write_session, read_session, settings
) -> None:  # type: ignore[no-untyped-def]
    webhook_id, secret = await _subscribe(write_session)
    async with write_session() as db, db.begin():
        booking, _token = await _book(db, settings)
    receiver = Receiver(secret, [500])
    transports = {"webhook": WebhookTransport(transport=httpx.MockTransport(receiver))}

    assert await send_due(write_session, settings, NOW, transports) == 0
    (message,) = await _deliveries(read_session)
    assert (message.status, message.attempts, message.next_attempt_at) == ("pending", 1, NOW + backoff(1))
    assert "500" in message.last_error and "crm.example.se" not in message.last_error
    assert await send_due(write_session, settings, NOW + backoff(1) - timedelta(seconds=1), transports) == 0
    assert await send_due(write_session, settings, NOW + backoff(1), transports) == 1
    (message,) = await _deliveries(read_session)
    assert (message.status, message.attempts, message.sent_at) == ("sent", 2, NOW + backoff(1))
    assert (message.booking_id, message.office_id, message.webhook_id) == (booking.id, None, webhook_id)

    first, second = receiver.received
    assert first == second  # a retry carries the same body and signature
    assert (first["event"], first["delivery"]) == ("booking.created", str(message.id))
    body = first["body"]
    assert body["event"] == "booking.created"
    assert body["data"] == {
        "reference": format_reference(booking.reference),
        "office": "kista",
        "service": "eservice",
        "start": "2026-12-15T09:00:00+01:00",
        "end": "2026-12-15T09:20:00+01:00",
        "status": "booked",
        "channel": "phone",
        "language": "sv",
        "needs": [],
    }
    for personal in ("Anna", "anna@example.se", "123 45"):
        assert personal not in json.dumps(body)


async def test_network_errors_are_retried(city, write_session, read_session, settings) -> None:  # type: ignore[no-untyped-def]
    await _subscribe(write_session)
    async with write_session() as db, db.begin():
        await _book(db, settings)

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    transports = {"webhook": WebhookTransport(transport=httpx.MockTransport(unreachable))}
    assert await send_due(write_session, settings, NOW, transports) == 0
    (message,) = await _deliveries(read_session)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error.startswith("ConnectError")


async def test_moving_and_cancelling_a_booking_emit_their_events(
    city, write_session, read_session, settings
) -> None:  # type: ignore[no-untyped-def]
    await _subscribe(write_session)
    await _subscribe(write_session, events=["booking.cancelled"])
    later = NINE + timedelta(minutes=20)
    async with write_session() as db, db.begin():
        agent = await _user(db, "agent")
        booking, _token = await _book(db, settings)
        await reschedule(db, booking, later, channel=Channel.PHONE, actor=agent, now=NOW)
        await tell_resident(db, booking, "rescheduled", settings=settings, token=None, now=NOW)
        await cancel(db, booking, channel=Channel.PHONE, actor=agent, now=NOW)
        await tell_resident(db, booking, "cancelled", settings=settings, token=None, now=NOW)
    deliveries = await _deliveries(read_session)
    assert [m.kind for m in deliveries] == [
        "booking.created", "booking.changed", "booking.cancelled", "booking.cancelled",
    ]  # fmt: skip
    changed = json.loads(deliveries[1].body)["data"]
    assert changed["start"] == "2026-12-15T09:20:00+01:00"
    assert json.loads(deliveries[2].body)["data"]["status"] == "cancelled"
    assert {m.booking_id for m in deliveries} == {booking.id}


async def test_nothing_is_emitted_without_subscribers(city, write_session, read_session, settings) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        booking, _token = await _book(db, settings)
        assert booking_payload(booking)["reference"] == format_reference(booking.reference)
    assert await _deliveries(read_session) == []


async def test_call_backs_emit_requested_and_done(city, write_session, read_session, settings) -> None:  # type: ignore[no-untyped-def]
    _, secret = await _subscribe(write_session, events=["callback.requested", "callback.done"])
    due = NOW + timedelta(hours=4)
    async with write_session() as db, db.begin():
        kista_id = city.kista.id
        contact = await log_contact(
            db, agent=await _user(db, "agent"), channel=Channel.PHONE, category="housing", outcome="callback",
            summary="Questions about the housing allowance.", office_id=kista_id, phone="070-123 45 67",
            callback_due_at=due, now=NOW, settings=settings,
        )  # fmt: skip
    async with write_session() as db, db.begin():
        staff = await _user(db, "staff")
        await mark_callback_done(db, contact.id, user=staff, channel=Channel.DESK, now=due)
        await mark_callback_done(db, contact.id, user=staff, channel=Channel.DESK, now=due)  # no second event
    requested, done = await _deliveries(read_session)
    assert (requested.kind, done.kind) == ("callback.requested", "callback.done")
    assert all(verify(secret, m.body.encode(), m.signature or "") for m in (requested, done))
    assert json.loads(requested.body)["data"] == {
        "contact": contact.id,
        "office": "kista",
        "category": "housing",
        "due": "2026-12-14T12:00:00+01:00",
        "status": "open",
        "phone": "070-123 45 67",
    }
    assert json.loads(done.body)["data"]["status"] == "done"
    assert "housing allowance" not in requested.body
    async with read_session() as db:
        assert (await db.get(Contact, contact.id)).callback_status == "done"  # type: ignore[union-attr]
