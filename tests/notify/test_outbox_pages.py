"""The outbox page: who sees which messages, the list and its filter and pages, one message in
full, and sending a failed message again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.conftest import run_with_engine
from tests.helpers import logged_in, post_form
from tests.notify.conftest import NINE
from tests.notify.conftest import NOW as BOOKED_AT

from kontor.audit.models import AuditEntry
from kontor.booking.models import Booking
from kontor.notify.messages import queue_booking_messages
from kontor.notify.models import OutboxMessage
from kontor.offices.models import Office

CLOCK = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(app: Any) -> None:
    app.state.clock = lambda: CLOCK


@pytest.fixture
def fetch(settings: Any) -> Any:
    return lambda work: run_with_engine(settings, work)


def _sms(office: Office, n: int, **values: Any) -> OutboxMessage:
    """A text message of ``office``, the older the larger ``n``."""
    return OutboxMessage(
        channel="sms",
        kind="booked",
        office_id=office.id,
        recipient=f"070-000 00 {n:02d}",
        language="sv",
        body=f"Bokat {n}: Bromma\nrad två",
        created_at=CLOCK - timedelta(hours=3, minutes=n),
        next_attempt_at=CLOCK,
        **values,
    )


@pytest.fixture
def messages(city: Any, settings: Any) -> dict[str, int]:
    """A confirmation of a Kista booking (e-mail, pending), a failed one of Kista, a sent text
    message of Bromma; their ids by name."""

    async def work(db: Any) -> dict[str, int]:
        office = await db.scalar(select(Office).where(Office.slug == "kista"))
        bromma = await db.scalar(select(Office).where(Office.slug == "bromma"))
        booking = Booking(
            reference="ACDE4779",
            token_hash="x" * 64,
            office_id=office.id,
            service_id=city.services["eservice"].id,
            starts_at=NINE.astimezone(UTC),
            ends_at=NINE.astimezone(UTC) + timedelta(minutes=20),
            seat=1,
            name="Anna Andersson",
            email="anna@example.se",
            language="en",
            channel="web",
        )
        db.add(booking)
        await db.flush()
        await db.refresh(booking)
        (confirmation,) = queue_booking_messages(
            db, booking, "booked", settings=settings, token="the-token", now=BOOKED_AT
        )
        failed = OutboxMessage(
            channel="email",
            kind="cancelled",
            office_id=office.id,
            recipient="bertil@example.se",
            language="sv",
            subject="Ditt besök är avbokat",
            body="Hej Bertil",
            status="failed",
            attempts=8,
            last_error="ConnectionError: 550 <address> unavailable",
            created_at=CLOCK - timedelta(hours=2, minutes=30),
            next_attempt_at=CLOCK - timedelta(minutes=5),
        )
        other = _sms(bromma, 1, status="sent", attempts=1, sent_at=CLOCK)
        db.add_all([failed, other])
        await db.flush()
        return {"confirmation": confirmation.id, "failed": failed.id, "bromma": other.id}

    return run_with_engine(settings, work)  # type: ignore[return-value]


def test_anonymous_visitors_are_sent_to_the_login(client, messages) -> None:
    response = client.get("/admin/outbox", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("username", ["staff", "agent"])
def test_staff_and_agents_may_not_read_the_outbox(client, messages, username) -> None:
    logged_in(client, username)
    assert client.get("/admin/outbox").status_code == 403
    assert client.get(f"/admin/outbox/{messages['confirmation']}").status_code == 403
    assert post_form(client, f"/admin/outbox/{messages['failed']}/retry").status_code == 403


def test_an_admin_sees_every_message_newest_first(client, messages) -> None:
    logged_in(client, "admin")
    page = client.get("/admin/outbox")
    assert page.status_code == 200
    text = page.text
    for shown in ("anna@example.se", "bertil@example.se", "070-000 00 01", "Medborgarkontor Bromma"):
        assert shown in text
    # Newest first: the confirmation (booked just now), the failed one, then Bromma's.
    assert text.index("anna@example.se") < text.index("bertil@example.se") < text.index("070-000 00 01")
    assert "Your visit is booked: Help with e-services" in text
    assert "Bokat 1: Bromma" in text and "rad två" not in text  # a text message's first line
    assert "ConnectionError: 550 &lt;address&gt; unavailable" in text
    assert '/admin/outbox"' in client.get("/admin").text


def test_a_manager_sees_only_the_messages_of_their_offices(client, messages) -> None:
    logged_in(client, "manager")
    text = client.get("/admin/outbox").text
    assert "anna@example.se" in text and "bertil@example.se" in text
    assert "070-000 00 01" not in text
    assert client.get(f"/admin/outbox/{messages['bromma']}").status_code == 403
    assert client.get(f"/admin/outbox/{messages['confirmation']}").status_code == 200
    assert client.get("/admin/outbox/999999").status_code == 404
    assert post_form(client, f"/admin/outbox/{messages['bromma']}/retry").status_code == 403
    assert '/admin/outbox"' in client.get("/admin").text


def test_the_list_filters_by_status_and_answers_htmx_with_the_table(client, messages) -> None:
    logged_in(client, "admin")
    failed = client.get("/admin/outbox", params={"status": "failed"}).text
    assert "bertil@example.se" in failed
    assert "anna@example.se" not in failed and "070-000 00 01" not in failed
    fragment = client.get("/admin/outbox", params={"status": "sent"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'id="outbox-results"' in fragment.text
    assert "070-000 00 01" in fragment.text and "bertil@example.se" not in fragment.text
    # An unknown status shows everything rather than failing.
    assert "anna@example.se" in client.get("/admin/outbox", params={"status": "lost"}).text


def test_fifty_messages_a_page(client, city, fetch) -> None:
    async def many(db: Any) -> None:
        bromma = await db.scalar(select(Office).where(Office.slug == "bromma"))
        db.add_all(_sms(bromma, n) for n in range(55))

    fetch(many)
    logged_in(client, "admin")
    first = client.get("/admin/outbox")
    assert first.text.count("<tr>") == 51  # the header and fifty messages
    assert 'href="/admin/outbox?page=2"' in first.text
    second = client.get("/admin/outbox", params={"page": 2})
    assert second.text.count("<tr>") == 6
    assert "070-000 00 54" in second.text  # the oldest
    assert 'href="/admin/outbox?page=1"' in second.text
    assert "?page=3" not in second.text


def test_a_message_in_full(client, messages) -> None:
    logged_in(client, "manager")
    page = client.get(f"/admin/outbox/{messages['confirmation']}")
    assert page.status_code == 200
    for shown in (
        "Hello Anna Andersson,",
        "When: Tuesday, 15 December 2026, 09:00–09:20",
        "ACDE-4779",
        "anna@example.se",
        "BEGIN:VCALENDAR",
        "UID:ACDE4779@kontor",
    ):
        assert shown in page.text, shown
    assert "Send again" not in page.text  # only failed messages


def test_a_failed_message_can_be_sent_again(client, messages, fetch) -> None:
    logged_in(client, "manager")
    page = client.get(f"/admin/outbox/{messages['failed']}")
    assert "Send again" in page.text
    assert client.post(f"/admin/outbox/{messages['failed']}/retry", follow_redirects=False).status_code == 403

    response = post_form(client, f"/admin/outbox/{messages['failed']}/retry")
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/outbox/{messages['failed']}?retried=yes"
    assert "will be sent again" in client.get(response.headers["location"]).text

    async def state(db: Any) -> tuple[Any, ...]:
        message = await db.get(OutboxMessage, messages["failed"])
        entries = list(await db.scalars(select(AuditEntry).where(AuditEntry.action == "outbox.retry")))
        return message.status, message.attempts, message.next_attempt_at, entries

    status, attempts, next_attempt_at, entries = fetch(state)
    assert (status, attempts, next_attempt_at) == ("pending", 0, CLOCK)
    assert [entry.actor for entry in entries] == ["manager"]

    # Sending again what is not failed (now waiting) changes nothing.
    again = post_form(client, f"/admin/outbox/{messages['failed']}/retry")
    assert again.headers["location"].endswith("?retried=no")
    assert len(fetch(state)[3]) == 1
