"""The waiting-room screen /offices/{slug}/display: public, its board of calls and waits, its
languages, no personal data ever, and its live stream (the board, the call announcements).

The clock is Tuesday 2026-12-15 10:00 in Stockholm: Kista is open (see tests/factories.py).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tests.conftest import run_with_engine
from tests.queue.live_pages import EventStream, serving

from kontor.audit.models import Channel
from kontor.booking.models import Booking
from kontor.booking.services import book
from kontor.live.events import LiveEvent
from kontor.offices.models import Counter, Office
from kontor.queue.checkin import check_in
from kontor.queue.counter import open_shift
from kontor.queue.display_web import screen_languages
from kontor.queue.tickets import call_next, issue_ticket

NOW = datetime(2026, 12, 15, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
VISITOR = "Zacharias Hemligsson"
VISITOR_EMAIL = "zacharias.hemlig@example.se"


@pytest.fixture(autouse=True)
def display_clock(app) -> None:  # type: ignore[no-untyped-def]
    app.state.clock = lambda: NOW


def _issue(city, service: str = "eservice", minutes_ago: int = 30):  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        office = await db.get(Office, city.kista.id)
        ticket, _token = await issue_ticket(
            db,
            office=office,
            service=city.services[service],
            now=NOW - timedelta(minutes=minutes_ago),
            channel=Channel.DESK,
            actor="staff",
        )
        return ticket

    return work


def _call(city, number: int, services=("eservice", "consumer")):  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        office = await db.get(Office, city.kista.id)
        counter = await db.scalar(
            select(Counter).where(Counter.office_id == office.id, Counter.number == number)
        )
        await open_shift(
            db,
            office=office,
            counter=counter,
            user=None,
            service_ids=[city.services[c].id for c in services],
            now=NOW,
        )
        return await call_next(
            db,
            office=office,
            counter=counter,
            service_ids=[city.services[c].id for c in services],
            now=NOW,
            actor="x",
        )

    return work


def _checked_in_visitor(city):  # type: ignore[no-untyped-def]
    """A booked visit with a name no screen may show, checked in at the desk."""

    async def work(db):  # type: ignore[no-untyped-def]
        booking, _token = await book(
            db,
            office_slug="kista",
            service_code="eservice",
            start=NOW,
            name=VISITOR,
            email=VISITOR_EMAIL,
            channel=Channel.WEB,
            actor="resident",
            now=NOW - timedelta(days=1),
        )
        booking = await db.get(Booking, booking.id)
        ticket, _token, _late = await check_in(
            db, booking=booking, now=NOW - timedelta(minutes=2), actor="staff"
        )
        return ticket

    return work


def _counts(text: str) -> list[str]:
    return re.findall(r'class="display-num display-count">(\d+)<', text)


def test_the_screen_is_public_and_shows_calls_and_waiting(client, settings, city):
    run_with_engine(settings, _issue(city, minutes_ago=40))
    run_with_engine(settings, _issue(city, minutes_ago=30))
    run_with_engine(settings, _issue(city, "consumer", minutes_ago=20))
    called = run_with_engine(settings, _call(city, 2))
    assert called.code == "A001"
    response = client.get("/offices/kista/display")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    text = response.text
    assert text.lstrip().lower().startswith("<!doctype html>")
    assert '<html lang="sv">' in text and 'class="display-page"' in text
    assert "site-header" not in text and "site-footer" not in text  # a screen of its own
    assert "Medborgarkontor Kista" in text
    newest = re.search(
        r'class="display-call is-newest is-fresh">\s*<td class="display-code">(\w+)</td>\s*'
        r'<td class="display-counter">(\d+)</td>',
        text,
    )
    assert newest is not None and newest.groups() == ("A001", "2")
    # Waiting per walk-in service, in the catalogue's order: e-services 1, consumer advice 1, Finnish 0.
    assert _counts(text) == ["1", "1", "0"]
    assert "Hjälp med e-tjänster" in text and "Konsumentvägledning" in text
    assert "Budget" not in text  # booked visits only, no line
    assert 'sse-connect="/offices/kista/display/events"' in text and 'sse-swap="board"' in text
    assert 'aria-live="assertive"' in text and 'sse-swap="call"' in text
    assert "/static/js/display.js" in text


def test_an_unknown_office_has_no_screen(client):
    assert client.get("/offices/atlantis/display").status_code == 404


@pytest.mark.parametrize(
    ("slug", "languages"),
    [("kista", ["sv", "fi", "en"]), ("bromma", ["sv", "en"]), ("tensta", ["sv"])],
)
def test_the_screen_speaks_swedish_and_the_offices_finnish_and_english(client, city, slug, languages):
    office = getattr(city, slug)
    assert screen_languages(office) == languages
    text = client.get(f"/offices/{slug}/display").text
    for code in ("fi", "en"):
        assert (f'lang="{code}"' in text) == (code in languages)
    if "fi" in languages:
        assert '<span class="ml ml-other" lang="fi">Apua sähköisissä palveluissa</span>' in text


def test_the_screen_never_shows_a_visitors_name(client, settings, city):
    ticket = run_with_engine(settings, _checked_in_visitor(city))
    run_with_engine(settings, _call(city, 1))
    text = client.get("/offices/kista/display").text
    assert ticket.code in text
    for secret in (VISITOR, "Zacharias", "Hemligsson", VISITOR_EMAIL):
        assert secret not in text


async def test_the_live_stream_sends_the_board_and_announces_calls(app, city):
    async with serving(app) as web, EventStream(app, "/offices/kista/display/events") as screen:
        assert screen.status == 200
        assert screen.headers["content-type"].startswith("text/event-stream")
        assert screen.headers["cache-control"] == "no-store"
        name, board = await screen.next_event()
        assert name == "board"  # at once: a screen that reconnects is current again
        assert screen.raw.startswith("retry: ")  # and browsers reconnect by themselves, quickly
        assert 'class="display-calls"' in board and _counts(board) == ["0", "0", "0"]
        async with app.state.write_session_maker() as db, db.begin():
            await _issue(city)(db)
        _name, board = await screen.next_event("board")
        assert _counts(board) == ["1", "0", "0"]
        async with app.state.write_session_maker() as db, db.begin():
            await _call(city, 2)(db)
        name, call = await screen.next_event()
        assert name == "call"  # first, so the chime is not held up by the board
        assert 'data-call="A001"' in call and 'lang="fi"' in call and 'lang="en"' in call
        _name, board = await screen.next_event("board")
        assert "A001" in board and _counts(board) == ["0", "0", "0"]
        assert (await web.get("/offices/kista/display")).status_code == 200


async def test_the_live_stream_carries_no_personal_data_and_no_alarms(app, city):
    async with serving(app), EventStream(app, "/offices/kista/display/events") as screen:
        await screen.next_event("board")
        async with app.state.write_session_maker() as db, db.begin():
            await _checked_in_visitor(city)(db)
        async with app.state.write_session_maker() as db, db.begin():
            await _call(city, 1)(db)
        await screen.next_event("call")
        await screen.next_event("board")
        await app.state.live_bus.publish(LiveEvent(city.kista.id, "alarm", {"counter": 1, "name": "Lucka 1"}))
        async with app.state.write_session_maker() as db, db.begin():
            await _issue(city, "consumer")(db)
        _name, board = await screen.next_event("board")
        assert "C001" not in board and _counts(board)[1] == "1"
        for secret in (VISITOR, "Zacharias", "Hemligsson", VISITOR_EMAIL):
            assert secret not in screen.raw
        assert "alarm" not in screen.raw.lower() and "Lucka 1" not in screen.raw
