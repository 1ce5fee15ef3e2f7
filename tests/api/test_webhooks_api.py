"""Webhook subscriptions through the API, and the signed deliveries a booking makes (issue 6, part 5)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from tests.api.contact_center import (
    ADMIN,
    AGENT,
    NOW,
    TOKENS,
    add_staff_tokens,
    book_for_caller,
    rows,
)

from kontor.audit.models import AuditEntry
from kontor.contacts.models import Webhook
from kontor.contacts.webhooks import verify
from kontor.notify.models import OutboxMessage

HOOKS = "/api/v1/webhooks"
URL = "https://crm.example.se/kontor"


def _subscribe(client, headers=AGENT, **change: object):  # type: ignore[no-untyped-def]
    body = {"name": "CRM", "url": URL, "events": ["booking.created"]} | change
    return client.post(HOOKS, json=body, headers=headers)


@pytest.fixture
def api(client, settings):  # type: ignore[no-untyped-def]
    add_staff_tokens(settings)
    client.app.state.clock = lambda: NOW
    return client


def test_subscribe_with_the_secret_shown_once(api, settings):
    response = _subscribe(api, events=["booking.cancelled", "booking.created"])
    assert response.status_code == 201, response.text
    assert "no-store" in response.headers["cache-control"]
    created = response.json()
    assert (created["name"], created["url"], created["active"]) == ("CRM", URL, True)
    assert sorted(created["events"]) == ["booking.cancelled", "booking.created"]
    assert len(created["secret"]) >= 32
    (row,) = rows(settings, select(Webhook))
    assert (row.id, row.secret) == (created["id"], created["secret"])

    listed = api.get(HOOKS, headers=AGENT)
    assert listed.status_code == 200
    assert [hook["id"] for hook in listed.json()] == [created["id"]]
    assert "secret" not in listed.json()[0]
    assert created["secret"] not in listed.text
    (entry,) = rows(settings, select(AuditEntry).where(AuditEntry.action == "webhook.create"))
    assert (entry.channel, entry.actor) == ("api", "agent")
    assert created["secret"] not in json.dumps(entry.changes)


def test_agents_see_their_own_and_admins_all(api):
    mine = _subscribe(api).json()
    theirs = _subscribe(api, headers=ADMIN, name="Statistics").json()
    assert [hook["id"] for hook in api.get(HOOKS, headers=AGENT).json()] == [mine["id"]]
    assert sorted(hook["id"] for hook in api.get(HOOKS, headers=ADMIN).json()) == [mine["id"], theirs["id"]]


def test_delete_own_or_as_admin_and_others_are_404(api, settings):
    mine = _subscribe(api).json()
    theirs = _subscribe(api, headers=ADMIN, name="Statistics").json()
    refused = api.delete(f"{HOOKS}/{theirs['id']}", headers=AGENT)
    assert refused.status_code == 404 and refused.json()["detail"]
    deleted = api.delete(f"{HOOKS}/{mine['id']}", headers=AGENT)
    assert deleted.status_code == 204 and deleted.content == b""
    assert api.delete(f"{HOOKS}/{mine['id']}", headers=AGENT).status_code == 404  # gone
    assert api.delete(f"{HOOKS}/{theirs['id']}", headers=ADMIN).status_code == 204
    assert api.delete(f"{HOOKS}/999", headers=ADMIN).status_code == 404
    assert rows(settings, select(Webhook)) == []


# Each table is run in one test: one city and app for all its rows keeps the suite fast.
REFUSED = [
    ({"url": "http://crm.example.se/kontor"}, "url"),  # plain http only to this machine
    ({"url": "https://user:secret@crm.example.se/"}, "url"),
    ({"url": "crm.example.se"}, "url"),
    ({"url": "https://crm.example.se/" + "x" * 200}, "url"),
    ({"events": ["booking.exploded"]}, "events"),
    ({"events": []}, "events"),
    ({"name": "  "}, "name"),
    ({"name": "x" * 121}, "name"),
]


def test_refused_subscriptions(api, settings):
    for change, field in REFUSED:
        response = _subscribe(api, **change)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["extra"]["field"] == field and response.json()["detail"], change
    assert rows(settings, select(Webhook)) == []


def test_http_to_localhost_is_allowed(api):
    assert _subscribe(api, url="http://127.0.0.1:8080/hook").status_code == 201


MANAGERS = [(None, 401), ("staff", 403), ("bromma_manager", 403), ("agent", 200), ("admin", 200)]


def test_who_may_manage_webhooks(api):
    for who, status in MANAGERS:
        headers = TOKENS[who] if who else {}
        assert api.get(HOOKS, headers=headers).status_code == status, who
        assert _subscribe(api, headers=headers).status_code == (201 if status == 200 else status), who
        hook = _subscribe(api).json()
        deleted = api.delete(f"{HOOKS}/{hook['id']}", headers=headers)
        assert deleted.status_code == (204 if status == 200 else status), who


def test_a_body_must_be_json(api):
    response = api.post(HOOKS, content=b"name=CRM", headers=AGENT | {"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_a_booking_made_by_the_agent_is_delivered_signed(api, settings):
    secret = _subscribe(api).json()["secret"]
    _subscribe(api, name="Cancellations only", events=["booking.cancelled"])
    booked = book_for_caller(api)

    (delivery,) = rows(settings, select(OutboxMessage).where(OutboxMessage.channel == "webhook"))
    assert (delivery.kind, delivery.recipient, delivery.status) == ("booking.created", URL, "pending")
    assert verify(secret, delivery.body.encode(), delivery.signature)
    assert not verify("whsec_someone-else", delivery.body.encode(), delivery.signature)
    assert not verify(secret, delivery.body.encode() + b" ", delivery.signature)
    body = json.loads(delivery.body)
    assert body["event"] == "booking.created"
    assert body["data"]["reference"] == booked["reference"]
    assert (body["data"]["office"], body["data"]["channel"]) == ("kista", "phone")
    assert "Anna" not in delivery.body and "123 45 67" not in delivery.body  # no personal data
