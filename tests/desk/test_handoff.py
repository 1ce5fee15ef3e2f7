"""The contact center's hand-off on the front desk: a visit an agent booked shows the agent's summary and
the call's category on its row (today's and the coming days'), and on its ticket in the waiting line
once checked in; the hand-offs of the whole list come in one query.

The desk's clock is Tuesday 2026-12-15 09:05 in Stockholm (see tests/desk/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from tests.desk.conftest import BOOKED_AT, at
from tests.desk.queue_support import HTMX as CHECK_IN_HTMX
from tests.helpers import logged_in, post_form

from kontor.accounts.models import User
from kontor.audit.models import Channel
from kontor.booking.models import Booking
from kontor.booking.references import format_reference
from kontor.booking.services import book
from kontor.contacts.services import log_contact
from kontor.settings import Settings

DESK_CLOCK = at(15, 9, 5)
LIST_HTMX = {"HX-Request": "true", "HX-Target": "desk-bookings"}
SUMMARY = "Applies for housing allowance.\nBring last year's tax decision."
SCRIPT_SUMMARY = "<script>alert('hand-off')</script> asks about debts"
ESCAPED_SCRIPT = "&lt;script&gt;alert(&#39;hand-off&#39;)&lt;/script&gt;"
ESCAPED_SUMMARY = SUMMARY.replace("'", "&#39;")


@pytest.fixture(autouse=True)
def desk_clock(app) -> None:  # type: ignore[no-untyped-def]
    app.state.clock = lambda: DESK_CLOCK


_numbers = iter(range(10**6))


async def book_by_agent(db: Any, name: str, start: datetime, *, needs: tuple[str, ...] = ()) -> Booking:
    """A visit at Kista booked on the phone by the contact center's agent (a number of its own each)."""
    agent = await db.scalar(select(User).where(User.username == "agent"))
    booking, _token = await book(
        db,
        office_slug="kista",
        service_code="eservice",
        start=start,
        name=name,
        phone=f"070-{next(_numbers):03d} 11 22",
        needs=list(needs),
        channel=Channel.PHONE,
        actor=agent,
        now=BOOKED_AT,
    )
    return booking


async def hand_off(
    db: Any, settings: Settings, booking: Booking, summary: str, category: str = "housing", minutes: int = 0
) -> None:
    """The agent's call logged as a contact that booked the visit."""
    agent = await db.scalar(select(User).where(User.username == "agent"))
    await log_contact(
        db,
        agent=agent,
        channel=Channel.PHONE,
        category=category,
        outcome="visit_booked",
        summary=summary,
        booking=booking,
        now=BOOKED_AT + timedelta(minutes=minutes),
        settings=settings,
    )


@pytest.fixture
def visits(settings, city, fetch) -> dict[str, Booking]:  # type: ignore[no-untyped-def]
    """Three visits at Kista: two booked by an agent with a hand-off (today, next week), one without."""

    async def seed(db):  # type: ignore[no-untyped-def]
        made = {
            "Agnes Ring": await book_by_agent(db, "Agnes Ring", at(15, 9), needs=("interpreter",)),
            "Bertil Utan": await book_by_agent(db, "Bertil Utan", at(15, 9, 20)),
            "Cilla Senare": await book_by_agent(db, "Cilla Senare", at(22, 9)),
        }
        await hand_off(db, settings, made["Agnes Ring"], "An earlier call, replaced by the later one.")
        await hand_off(db, settings, made["Agnes Ring"], SUMMARY, minutes=5)
        await hand_off(db, settings, made["Cilla Senare"], SCRIPT_SUMMARY, category="budget")
        return made

    return fetch(seed)  # type: ignore[no-any-return]


def _group(text: str, name: str) -> str:
    """The body of the visits table that holds ``name``'s row and its hand-off."""
    groups = text.split('<tbody class="desk-visit-group">')[1:]
    return next(group.split("</tbody>")[0] for group in groups if name in group)


def test_a_visit_booked_by_an_agent_shows_the_hand_off_on_its_row(client, visits):
    logged_in(client, "staff")
    text = client.get("/desk/kista").text
    agnes = _group(text, "Agnes Ring")
    assert "From the contact center" in agnes and "Housing" in agnes
    # The latest contact of the visit, with its line break kept (shown with white-space: pre-line).
    assert f'<p class="handoff-summary">{ESCAPED_SUMMARY}</p>' in agnes
    assert "An earlier call" not in text
    assert "Interpreter" in agnes


def test_a_visit_without_a_hand_off_shows_none(client, visits):
    logged_in(client, "staff")
    bertil = _group(client.get("/desk/kista").text, "Bertil Utan")
    assert "desk-handoff" not in bertil and "From the contact center" not in bertil


def test_the_coming_days_show_hand_offs_too_escaped(client, visits):
    logged_in(client, "staff")
    text = client.get("/desk/kista").text
    upcoming = text.split('id="desk-upcoming-title"')[1]
    cilla = _group(upcoming, "Cilla Senare")
    assert "From the contact center" in cilla and "Budget and debt advice" in cilla
    assert ESCAPED_SCRIPT in cilla
    assert "<script>alert" not in text


def test_the_list_alone_for_htmx_carries_the_hand_offs(client, visits):
    logged_in(client, "staff")
    response = client.get("/desk/kista", headers=LIST_HTMX)
    assert "<h1" not in response.text
    assert "Bring last year" in _group(response.text, "Agnes Ring")


def test_a_checked_in_visit_waits_with_its_hand_off(client, visits):
    logged_in(client, "staff")
    reference = format_reference(visits["Agnes Ring"].reference)
    response = post_form(client, f"/desk/kista/bookings/{reference}/check-in", headers=CHECK_IN_HTMX)
    assert response.status_code == 200
    text = client.get("/desk/kista").text
    waiting = text.split('id="desk-waiting"')[1].split('id="desk-callbacks-section"')[0]
    assert "A001" in waiting and "From the contact center" in waiting and "Bring last year" in waiting


@contextmanager
def handoff_queries() -> Iterator[list[str]]:
    """The statements that read the hand-offs of bookings, while the block runs."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany):  # type: ignore[no-untyped-def]
        if "FROM contacts" in statement and "contacts.booking_id IN" in statement:
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


@pytest.mark.parametrize("headers", [{}, LIST_HTMX], ids=["page", "list"])
def test_the_hand_offs_of_many_visits_come_in_one_query(client, settings, fetch, headers):
    starts = [at(15, 9), at(15, 9, 20), at(15, 9, 40), at(15, 10), at(22, 9), at(22, 9, 20), at(29, 11)]

    async def seed(db):  # type: ignore[no-untyped-def]
        for number, start in enumerate(starts):
            booking = await book_by_agent(db, f"Besökare {number}", start)
            await hand_off(db, settings, booking, f"Case number {number}.")

    fetch(seed)
    logged_in(client, "staff")
    with handoff_queries() as queries:
        text = client.get("/desk/kista", headers=headers).text
    assert all(f"Case number {number}." in text for number in range(len(starts)))
    assert len(queries) == 1
