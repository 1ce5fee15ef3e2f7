"""Call-backs through the API: an agent asks for one, the office lists it and marks it done (issue 6)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from tests.api.contact_center import (
    ADMIN,
    AGENT,
    NOW,
    PHONE,
    STAFF,
    TOKENS,
    add_staff_tokens,
    log_callback,
    log_contact,
    rows,
)

from kontor.audit.models import AuditEntry
from kontor.contacts.models import Contact
from kontor.contacts.webhooks import verify
from kontor.notify.models import OutboxMessage

KISTA = "/api/v1/offices/kista/callbacks"


def _done(client, contact_id: int, headers=STAFF, **body: object):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/callbacks/{contact_id}/done", json=body or None, headers=headers)


@pytest.fixture
def api(client, settings):  # type: ignore[no-untyped-def]
    add_staff_tokens(settings)
    client.app.state.clock = lambda: NOW
    return client


def test_a_callback_logged_by_api_is_listed_and_done_by_the_office(api, settings):
    requested = log_callback(api, needs=["accessibility"], language="en")
    assert requested["callback_status"] == "open"
    assert requested["callback_due"] == "2026-12-15T08:00:00+01:00"  # a day later by default

    listed = api.get(KISTA, headers=STAFF)
    assert listed.status_code == 200, listed.text
    assert "no-store" in listed.headers["cache-control"]
    (callback,) = listed.json()
    assert callback == {
        "id": requested["id"],
        "office": "kista",
        "category": "benefits",
        "summary": "Wants help with an application for housing allowance.",
        "phone": PHONE,
        "language": "en",
        "needs": ["accessibility"],
        "booking": None,
        "status": "open",
        "due": "2026-12-15T08:00:00+01:00",
        "created_at": "2026-12-14T08:00:00+01:00",
        "done_at": None,
        "note": "",
    }
    assert api.get(KISTA, params={"status": "done"}, headers=STAFF).json() == []

    api.app.state.clock = lambda: NOW.replace(hour=10)
    done = _done(api, requested["id"], note="Called back; booked a visit.")
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["note"]) == ("done", "Called back; booked a visit.")
    assert body["done_at"] == "2026-12-14T10:00:00+01:00"
    assert api.get(KISTA, headers=STAFF).json() == []
    assert [c["id"] for c in api.get(KISTA, params={"status": "done"}, headers=STAFF).json()] == [body["id"]]
    (entry,) = rows(settings, select(AuditEntry).where(AuditEntry.action == "callback.done"))
    assert (entry.channel, entry.actor) == ("api", "staff")


def test_done_twice_changes_nothing(api, settings):
    requested = log_callback(api)
    first = _done(api, requested["id"], note="Reached them.")
    api.app.state.clock = lambda: NOW.replace(hour=11)
    again = _done(api, requested["id"], headers=ADMIN, note="Something else.")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert len(rows(settings, select(AuditEntry).where(AuditEntry.action == "callback.done"))) == 1


def test_done_without_a_body(api):
    requested = log_callback(api)
    response = api.post(f"/api/v1/callbacks/{requested['id']}/done", headers=STAFF)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["note"]) == ("done", "")


def test_the_office_lists_only_its_own_callbacks_due_first(api):
    later = log_callback(api, callback_due="2026-12-16T13:00:00+01:00")
    sooner = log_callback(api, callback_due="2026-12-14T15:30:00+01:00")
    log_callback(api, office="bromma")
    listed = api.get(KISTA, headers=STAFF).json()
    assert [c["id"] for c in listed] == [sooner["id"], later["id"]]
    assert listed[0]["due"] == "2026-12-14T15:30:00+01:00"


# Each table is run in one test: one city and app for all its rows keeps the suite fast.
LISTERS = [(None, 401), ("staff", 200), ("bromma_manager", 403), ("agent", 200), ("admin", 200)]


def test_who_may_list_an_offices_callbacks(api):
    log_callback(api)
    for who, status in LISTERS:
        response = api.get(KISTA, headers=TOKENS[who] if who else {})
        assert response.status_code == status, (who, response.text)
        if status == 200:
            assert len(response.json()) == 1


def test_listing_refusals(api):
    assert api.get("/api/v1/offices/atlantis/callbacks", headers=AGENT).status_code == 404
    assert api.get(KISTA, params={"status": "maybe"}, headers=AGENT).status_code == 400


CLOSERS = [
    (None, 401),
    ("agent", 403),  # the office calls back, not the contact center
    ("bromma_manager", 403),
    ("staff", 200),
    ("admin", 200),
]


def test_who_may_mark_a_callback_done(api, settings):
    expected = {}
    for who, status in CLOSERS:
        requested = log_callback(api)
        response = _done(api, requested["id"], headers=TOKENS[who] if who else {})
        assert response.status_code == status, (who, response.text)
        expected[requested["id"]] = "done" if status == 200 else "open"
    assert {c.id: c.callback_status for c in rows(settings, select(Contact))} == expected


def test_marking_refusals(api, settings):
    solved = log_contact(api).json()
    assert _done(api, solved["id"]).status_code == 404  # a call with no call-back
    assert _done(api, 999).status_code == 404
    requested = log_callback(api)
    too_long = _done(api, requested["id"], note="x" * 501)
    assert too_long.status_code == 422
    assert too_long.json()["extra"]["field"] == "note"
    as_form = api.post(
        f"/api/v1/callbacks/{requested['id']}/done",
        content=b"note=x",
        headers=STAFF | {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert as_form.status_code == 415
    assert rows(settings, select(Contact.callback_status).where(Contact.id == requested["id"])) == ["open"]


def test_subscribers_hear_of_callbacks_requested_and_done(api, settings):
    created = api.post(
        "/api/v1/webhooks",
        json={
            "name": "CRM",
            "url": "https://crm.example.se/kontor",
            "events": ["callback.requested", "callback.done"],
        },
        headers=AGENT,
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    requested = log_callback(api)
    assert _done(api, requested["id"]).status_code == 200

    deliveries = rows(
        settings, select(OutboxMessage).where(OutboxMessage.channel == "webhook").order_by(OutboxMessage.id)
    )
    assert [d.kind for d in deliveries] == ["callback.requested", "callback.done"]
    for delivery in deliveries:
        assert verify(secret, delivery.body.encode(), delivery.signature)
        data = json.loads(delivery.body)["data"]
        assert (data["contact"], data["office"], data["phone"]) == (requested["id"], "kista", PHONE)
