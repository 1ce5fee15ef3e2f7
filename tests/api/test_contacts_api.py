"""The contact-center API: looking a caller up, logging a call, reading a contact (issue 6, part 5)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from tests.api.contact_center import (
    ADMIN,
    AGENT,
    NOW,
    PHONE,
    TOKENS,
    add_staff_tokens,
    book_for_caller,
    log_contact,
    rows,
)

from kontor.accounts.models import User
from kontor.audit.models import AuditEntry
from kontor.booking.models import Booking
from kontor.contacts.models import Contact


@pytest.fixture
def api(client, settings):  # type: ignore[no-untyped-def]
    add_staff_tokens(settings)
    client.app.state.clock = lambda: NOW
    return client


# --- looking a caller up ---------------------------------------------------------------------------


def test_lookup_by_phone_shows_bookings_and_contacts_and_is_audited(api, settings):
    booked = book_for_caller(api, needs=["interpreter"])
    logged = log_contact(
        api, outcome="visit_booked", booking=booked["reference"], summary="Needs BankID help."
    )
    assert logged.status_code == 201, logged.text

    response = api.get("/api/v1/callers", params={"phone": "0701234567"}, headers=AGENT)
    assert response.status_code == 200, response.text
    assert "no-store" in response.headers["cache-control"]
    caller = response.json()
    assert caller["bookings"] == [
        {
            "reference": booked["reference"],
            "office": "kista",
            "service": "eservice",
            "start": "2026-12-15T09:00:00+01:00",
            "end": "2026-12-15T09:20:00+01:00",
            "status": "booked",
            "channel": "phone",
            "name": "Anna Andersson",
            "needs": ["interpreter"],
        }
    ]
    assert caller["contacts"] == [
        {
            "id": logged.json()["id"],
            "created_at": "2026-12-14T08:00:00+01:00",
            "category": "information",
            "outcome": "visit_booked",
            "office": "kista",
            "booking": booked["reference"],
            "summary": "Needs BankID help.",
        }
    ]

    (entry,) = rows(settings, select(AuditEntry).where(AuditEntry.action == "caller.lookup"))
    agent = rows(settings, select(User.id).where(User.username == "agent"))[0]
    assert (entry.actor_id, entry.channel, entry.entity) == (agent, "api", "caller")
    assert entry.changes["searched_by"] == ["phone"]
    assert entry.changes["references"] == [booked["reference"]]
    assert "1234567" not in json.dumps(entry.changes)  # the number searched for is not kept


def test_lookup_by_reference_in_any_spelling(api):
    booked = book_for_caller(api)
    typed = booked["reference"].replace("-", " ").lower()
    response = api.get("/api/v1/callers", params={"reference": typed}, headers=ADMIN)
    assert response.status_code == 200, response.text
    assert [b["reference"] for b in response.json()["bookings"]] == [booked["reference"]]


def test_lookup_of_an_unknown_number_finds_nothing_but_is_still_audited(api, settings):
    response = api.get("/api/v1/callers", params={"phone": "08-555 123 45"}, headers=AGENT)
    assert response.status_code == 200
    assert response.json() == {"bookings": [], "contacts": []}
    assert len(rows(settings, select(AuditEntry).where(AuditEntry.action == "caller.lookup"))) == 1


# Each table is run in one test: one city and app for all its rows keeps the suite fast.
UNUSABLE_LOOKUPS = [
    ({}, "phone"),
    ({"phone": "", "reference": ""}, "phone"),
    ({"phone": "call me"}, "phone"),
    ({"reference": "NOT-A-REF!"}, "reference"),
]


def test_lookup_needs_a_usable_number_or_reference(api, settings):
    for params, field in UNUSABLE_LOOKUPS:
        response = api.get("/api/v1/callers", params=params, headers=AGENT)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["extra"] == {"kind": "invalid", "field": field}, params
        assert response.json()["detail"]
    assert rows(settings, select(AuditEntry).where(AuditEntry.action == "caller.lookup")) == []


# Who may use the agents' operations: status per token (None: no token at all).
AGENTS_AND_ADMINS = [(None, 401), ("staff", 403), ("bromma_manager", 403), ("agent", 200), ("admin", 200)]


def test_who_may_look_callers_up(api):
    for who, status in AGENTS_AND_ADMINS:
        headers = TOKENS[who] if who else {}
        response = api.get("/api/v1/callers", params={"phone": PHONE}, headers=headers)
        assert response.status_code == status, (who, response.text)
        if status == 401:
            assert response.headers["www-authenticate"] == "Bearer"


def test_a_browser_session_is_no_api_credential(api):
    from tests.helpers import login

    login(api, "agent")
    assert api.get("/api/v1/callers", params={"phone": PHONE}).status_code == 401


# --- logging a call --------------------------------------------------------------------------------


def test_log_a_solved_call(api, settings):
    response = log_contact(api, category="eservices", summary="  Explained the e-service.  ", language="en")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body == {
        "id": body["id"],
        "category": "eservices",
        "outcome": "solved",
        "office": None,
        "booking": None,
        "callback_status": None,
        "callback_due": None,
        "created_at": "2026-12-14T08:00:00+01:00",
    }
    (contact,) = rows(settings, select(Contact))
    agent = rows(settings, select(User.id).where(User.username == "agent"))[0]
    assert (contact.channel, contact.agent_id, contact.summary) == ("api", agent, "Explained the e-service.")
    assert (contact.language, contact.office_id) == ("en", None)


def test_a_contact_with_a_booking_reference_links_it(api, settings):
    booked = book_for_caller(api, needs=["interpreter"], language="fi")
    typed = booked["reference"].replace("-", "").lower()
    response = log_contact(api, outcome="visit_booked", booking=typed, summary="Needs help with BankID.")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["booking"], body["office"]) == (booked["reference"], "kista")

    shown = api.get(f"/api/v1/contacts/{body['id']}", headers=AGENT).json()
    assert shown["booking"] == booked["reference"] and shown["service"] == "eservice"
    # What the caller did not say again comes from the booking.
    assert (shown["phone"], shown["language"], shown["needs"]) == (PHONE, "fi", ["interpreter"])
    assert shown["summary"] == "Needs help with BankID." and shown["channel"] == "api"
    (contact,) = rows(settings, select(Contact))
    booking_id = rows(settings, select(Booking.id))[0]
    assert contact.booking_id == booking_id


REFUSED = [
    ({"summary": "   "}, 422, "summary"),
    ({"summary": "x" * 1001}, 422, "summary"),
    ({"category": "weather"}, 422, "category"),
    ({"outcome": "hung_up"}, 422, "outcome"),
    ({"outcome": "visit_booked"}, 422, "booking"),
    ({"outcome": "forwarded"}, 422, "office"),
    ({"outcome": "callback", "office": "kista"}, 422, "phone"),
    ({"outcome": "callback", "office": "kista", "phone": "12"}, 422, "phone"),
    (
        {
            "outcome": "callback",
            "office": "kista",
            "phone": PHONE,
            "callback_due": "2026-12-13T08:00:00+01:00",
        },
        422,
        "callback_due",
    ),
    ({"needs": ["a pony"]}, 422, "needs"),
    ({"language": "de"}, 422, "language"),
    ({"phone": "0" * 60}, 422, "phone"),
    ({"language": "x" * 500}, 422, "language"),
    (
        {
            "outcome": "callback",
            "office": "kista",
            "phone": PHONE,
            "callback_due": "9999-12-31T23:59:59-12:00",
        },
        422,
        "callback_due",
    ),
    ({"office": "atlantis"}, 404, "office"),
    ({"service": "x" * 5000}, 404, "service"),
    ({"service": "tarot"}, 404, "service"),
    ({"booking": "ACDE-4779"}, 404, "booking"),
    ({"booking": "no such thing"}, 404, "booking"),
]


def test_refused_contacts_name_the_field_and_write_nothing(api, settings):
    for change, status, field in REFUSED:
        response = log_contact(api, **change)
        assert response.status_code == status, (change, response.text)
        assert response.json()["extra"]["field"] == field, change
        assert response.json()["detail"]
    assert rows(settings, select(Contact)) == []


def test_a_refusal_in_the_readers_language(api):
    english = log_contact(api, summary="")
    swedish = log_contact(api, headers=AGENT | {"Accept-Language": "sv"}, summary="")
    assert english.json()["detail"] == "Write a short summary of what the call was about."
    assert swedish.status_code == 422 and swedish.json()["detail"]


def test_a_body_must_be_json(api, settings):
    response = api.post(
        "/api/v1/contacts",
        content=b"category=information&outcome=solved&summary=x",
        headers=AGENT | {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert rows(settings, select(Contact)) == []


def test_who_may_log_calls(api, settings):
    for who, status in AGENTS_AND_ADMINS:
        response = log_contact(api, headers=TOKENS[who] if who else {})
        assert response.status_code == (201 if status == 200 else status), (who, response.text)
    assert len(rows(settings, select(Contact))) == 2


# --- reading a contact -----------------------------------------------------------------------------


READERS = [
    ("agent", "kista", 200),
    ("admin", "kista", 200),
    ("staff", "kista", 200),  # Kista's own clerk
    ("bromma_manager", "kista", 404),  # another office's: nothing is told
    ("bromma_manager", "bromma", 200),
    ("staff", None, 404),  # a call no office took over
    (None, "kista", 401),
]


def test_who_may_read_a_contact(api):
    for who, office, status in READERS:
        change = {"outcome": "forwarded", "office": office} if office else {}
        created = log_contact(api, summary="Forwarded: needs a meeting about debts.", **change)
        assert created.status_code == 201, created.text
        response = api.get(f"/api/v1/contacts/{created.json()['id']}", headers=TOKENS[who] if who else {})
        assert response.status_code == status, (who, office, response.text)
        if status == 200:
            assert response.json()["summary"] == "Forwarded: needs a meeting about debts."
            assert response.json()["office"] == office
        if status == 404:
            assert response.json()["detail"] == "No contact with this id for this token."


def test_an_unknown_contact_is_404(api):
    assert api.get("/api/v1/contacts/999", headers=AGENT).status_code == 404


# --- the schema --------------------------------------------------------------------------------


def test_the_schema_describes_the_contact_center_operations(api):
    document = api.get("/schema/openapi.json").json()
    operations = {
        (method.upper(), path): operation
        for path, found in document["paths"].items()
        for method, operation in found.items()
    }
    expected = {
        ("GET", "/api/v1/callers"): {"401", "403", "422"},
        ("POST", "/api/v1/contacts"): {"401", "403", "404", "415", "422"},
        ("GET", "/api/v1/contacts/{contact_id}"): {"401", "404"},
        ("GET", "/api/v1/offices/{slug}/callbacks"): {"401", "403", "404"},
        ("POST", "/api/v1/callbacks/{contact_id}/done"): {"401", "403", "404", "415", "422"},
        ("GET", "/api/v1/webhooks"): {"401", "403"},
        ("POST", "/api/v1/webhooks"): {"401", "403", "415", "422"},
        ("DELETE", "/api/v1/webhooks/{webhook_id}"): {"401", "403", "404"},
    }
    for key, errors in expected.items():
        assert key in operations, key
        operation = operations[key]
        assert operation["tags"] == ["contact center"]
        assert errors <= set(operation["responses"]), key
        assert operation["responses"]["401"]["headers"]["WWW-Authenticate"]
    assert "X-Kontor-Signature" in operations[("POST", "/api/v1/webhooks")]["description"]
