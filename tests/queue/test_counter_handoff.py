"""The contact center's hand-off at the counter: when a clerk calls a visit an agent booked, the current
ticket shows the agent's summary, the call's category and what the visit needs, before the person is
called in; a visit without a hand-off shows none. The visit is checked in through the front desk.

The clock is Tuesday 2026-12-15 in Stockholm; Kista takes bookings 09:00–12:00 (tests/factories.py).
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tests.conftest import run_with_engine
from tests.helpers import logged_in, post_form

from kontor.accounts.models import User
from kontor.audit.models import Channel
from kontor.booking.models import Booking
from kontor.booking.references import format_reference
from kontor.booking.services import book
from kontor.contacts.services import log_contact

STOCKHOLM = ZoneInfo("Europe/Stockholm")
BOOKED_AT = datetime(2026, 12, 14, 15, 0, tzinfo=STOCKHOLM)
ARRIVED = datetime(2026, 12, 15, 9, 55, tzinfo=STOCKHOLM)
CALLED = datetime(2026, 12, 15, 10, 0, tzinfo=STOCKHOLM)
SUMMARY = "Wants help with the housing allowance form.\nHas the landlord's letter with her."
HTMX = {"HX-Request": "true", "HX-Target": "counter-work"}


@pytest.fixture(autouse=True)
def counter_clock(app) -> None:  # type: ignore[no-untyped-def]
    app.state.clock = lambda: ARRIVED


def _book(settings, city, name: str, *, summary: str | None, needs=("interpreter",), noted=None) -> Booking:  # type: ignore[no-untyped-def]
    """A visit at 10:00 booked by the agent on the phone, with the call logged when ``summary`` is given;
    ``noted``: the needs the agent wrote down (by default the booking's)."""

    async def work(db):  # type: ignore[no-untyped-def]
        agent = await db.scalar(select(User).where(User.username == "agent"))
        booking, _token = await book(
            db,
            office_slug="kista",
            service_code="eservice",
            start=CALLED,
            name=name,
            phone="070-123 45 67",
            needs=list(needs),
            channel=Channel.PHONE,
            actor=agent,
            now=BOOKED_AT,
        )
        if summary is not None:
            await log_contact(
                db,
                agent=agent,
                channel=Channel.PHONE,
                outcome="visit_booked",
                booking=booking,
                now=BOOKED_AT,
                settings=settings,
                category="housing",
                summary=summary,
                needs=None if noted is None else list(noted),
            )
        return booking

    return run_with_engine(settings, work)  # type: ignore[return-value]


def _call_in(app, client, booking: Booking) -> str:  # type: ignore[no-untyped-def]
    """Check the visit in at the desk, open counter 1 and call the next ticket: the counter's page then."""
    logged_in(client, "staff")
    app.state.clock = lambda: ARRIVED
    reference = format_reference(booking.reference)
    assert post_form(client, f"/desk/kista/bookings/{reference}/check-in").status_code == 303
    app.state.clock = lambda: CALLED
    response = post_form(client, "/counter/kista/shift", {"counter": "1", "services": _walk_in_ids(client)})
    assert response.status_code == 303, response.text
    called = post_form(client, "/counter/kista/next", {"counter": "1"})
    assert called.status_code == 303
    return client.get(called.headers["location"]).text


def _walk_in_ids(client) -> list[str]:  # type: ignore[no-untyped-def]
    """Every service the opening form offers."""
    return re.findall(r'name="services" value="(\d+)"', client.get("/counter/kista?counter=1&change=1").text)


def _handoff(text: str) -> str:
    found = re.search(r'<section class="counter-handoff".*?</section>', text, re.S)
    assert found is not None, "no hand-off on the counter's current ticket"
    return found.group(0)


def test_the_counter_shows_the_agents_summary_category_and_needs(app, client, settings, city):
    booking = _book(settings, city, "Vera Väntesson", summary=SUMMARY)
    text = _call_in(app, client, booking)
    assert re.search(r'class="counter-code">A\d{3}<', text)
    handoff = _handoff(text)
    assert "From the contact center" in handoff and "Housing" in handoff
    # Escaped text with its line break kept (CSS white-space: pre-line shows it).
    assert SUMMARY.replace("'", "&#39;") in handoff
    assert "Interpreter" in handoff
    assert "Vera Väntesson" in text


def test_needs_the_agent_noted_join_the_bookings(app, client, settings, city):
    lift, computers = ("accessibility",), ("computer_help",)
    booking = _book(settings, city, "Ulla Utökad", summary="Needs the lift.", needs=lift, noted=computers)
    text = _call_in(app, client, booking)
    handoff = _handoff(text)
    assert "Accessibility" in handoff and "Help with computers" in handoff


def test_a_visit_without_a_hand_off_shows_none(app, client, settings, city):
    booking = _book(settings, city, "Walter Webb", summary=None)
    text = _call_in(app, client, booking)
    assert "Walter Webb" in text and "Interpreter" in text  # the booking's needs, as before
    assert "counter-handoff" not in text and "From the contact center" not in text


def test_the_summary_is_escaped(app, client, settings, city):
    booking = _book(settings, city, "Sara Skript", summary="<script>alert(1)</script> about rent")
    text = _call_in(app, client, booking)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; about rent" in _handoff(text)
    assert "<script>alert(1)" not in text


def test_htmx_working_area_carries_the_hand_off(app, client, settings, city):
    booking = _book(settings, city, "Hilda Htmx", summary=SUMMARY)
    text = _call_in(app, client, booking)
    ticket_id = re.search(r"/counter/kista/tickets/(\d+)/recall", text).group(1)  # type: ignore[union-attr]
    response = post_form(client, f"/counter/kista/tickets/{ticket_id}/recall", {"counter": "1"}, headers=HTMX)
    assert response.status_code == 200
    assert "From the contact center" in _handoff(response.text)
