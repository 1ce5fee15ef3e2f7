"""Fairness: upcoming visits per contact, and the rate limit of the booking endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient
from tests.conftest import ENGLISH
from tests.factories import AGENT_TOKEN

from kontor.app import create_app
from kontor.booking.policy import contact_keys

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
NINE = datetime(2026, 12, 15, 9, 0, tzinfo=STOCKHOLM)
SLOT = timedelta(minutes=20)


def _book(client, n: int, headers: dict[str, str] | None = None, **contact: str):  # type: ignore[no-untyped-def]
    body = {"office": "kista", "service": "eservice", "start": (NINE + n * SLOT).isoformat(), "name": "Anna"}
    return client.post(
        "/api/v1/bookings", json=body | (contact or {"email": "anna@example.se"}), headers=headers or {}
    )


@pytest.mark.parametrize(
    ("email", "phone", "keys"),
    [
        ("Anna@Example.SE", None, ["anna@example.se"]),
        (None, "070-123 45 67", ["0701234567"]),
        (None, "+46 70 123 45 67", ["0701234567"]),
        (None, "0046701234567", ["0701234567"]),
        ("a@b.se", "08 123", ["a@b.se", "08123"]),
    ],
)
def test_one_person_is_recognised_however_they_write_their_contact(email, phone, keys):
    assert contact_keys(email, phone) == keys


def test_two_upcoming_visits_per_contact_and_service(client):
    client.app.state.clock = lambda: NOW
    assert _book(client, 0).status_code == 201
    assert _book(client, 1, email="ANNA@example.se").status_code == 201
    refused = _book(client, 2, email="anna@example.se")
    assert refused.status_code == 409
    assert refused.json()["extra"] == {"kind": "limit", "field": "email"}
    assert "as many upcoming visits" in refused.json()["detail"]
    # Someone else may book; an agent booking for a caller is not limited.
    assert _book(client, 2, email="bertil@example.se").status_code == 201
    agent = {"Authorization": f"Bearer {AGENT_TOKEN}"}
    assert _book(client, 3, headers=agent, email="anna@example.se").status_code == 201


def test_the_limit_counts_only_visits_still_to_come(client):
    client.app.state.clock = lambda: NOW
    first = _book(client, 0, phone="070-111 22 33").json()
    _book(client, 1, phone="+46 70 111 22 33")
    assert _book(client, 2, phone="0701112233").status_code == 409
    cancel = client.post(
        f"/api/v1/bookings/{first['reference']}/cancel", headers={"X-Booking-Token": first["token"]}
    )
    assert cancel.status_code == 200
    assert _book(client, 2, phone="0701112233").status_code == 201


@pytest.fixture
def limited_client(settings, city) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    app = create_app(replace(settings, booking_rate_limit=3))
    with TestClient(app, base_url="http://testserver.local") as test_client:
        test_client.headers.update(ENGLISH)
        test_client.app.state.clock = lambda: NOW
        yield test_client


def test_the_booking_endpoints_are_rate_limited_with_retry_after(limited_client):
    client = limited_client
    answers = [_book(client, n, email=f"p{n}@example.se").status_code for n in range(3)]
    assert answers == [201, 201, 201]
    refused = _book(client, 3, email="p3@example.se")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "Try again in" in refused.json()["detail"]
    # Reading is not limited, nor are signed-in staff.
    assert client.get("/api/v1/offices/kista/slots", params={"service": "eservice"}).status_code == 200
    agent = {"Authorization": f"Bearer {AGENT_TOKEN}"}
    assert _book(client, 4, headers=agent, email="p4@example.se").status_code == 201
    # People get a page in their language, not JSON.
    page = client.post("/book/hold", data={"service": "eservice"}, headers={"Accept": "text/html"})
    assert page.status_code == 429 and "<html" in page.text and "retry-after" in page.headers
