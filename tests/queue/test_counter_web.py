"""The counter page /counter/{slug}: who may use it, opening a counter, calling and finishing tickets
(plain forms and htmx), two clerks on one ticket, and the alarm that reaches the other staff pages.

The clock is Tuesday 2026-12-15 10:00 in Stockholm: Kista is open (see tests/factories.py).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tests.conftest import run_with_engine
from tests.helpers import logged_in, post_form

from kontor.audit.models import AuditEntry, Channel
from kontor.offices.models import Counter, Office
from kontor.queue.counter import open_shift
from kontor.queue.models import CounterShift, Ticket, TicketEvent, TicketStatus
from kontor.queue.tickets import call_next, issue_ticket

NOW = datetime(2026, 12, 15, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
HTMX = {"HX-Request": "true", "HX-Target": "counter-work"}


@pytest.fixture(autouse=True)
def counter_clock(app) -> None:  # type: ignore[no-untyped-def]
    app.state.clock = lambda: NOW


def _issue(settings, city, service: str = "eservice", when: datetime | None = None, **extra: Any) -> Ticket:  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        ticket, _token = await issue_ticket(
            db,
            office=city.kista,
            service=city.services[service],
            now=when or NOW - timedelta(minutes=30),
            channel=Channel.DESK,
            actor=city.users["staff"],
            **extra,
        )
        return ticket

    return run_with_engine(settings, work)  # type: ignore[return-value]


def _read(settings, work):  # type: ignore[no-untyped-def]
    return run_with_engine(settings, work)


def _ticket(settings, ticket_id: int) -> Ticket:  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        return await db.get(Ticket, ticket_id)

    return _read(settings, work)  # type: ignore[no-any-return]


def _actions(settings, ticket_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        rows = await db.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
        return [(row.action, row.channel, row.actor) for row in rows]

    return _read(settings, work)  # type: ignore[no-any-return]


def _services(city, *codes: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(city.services[code].id) for code in codes]


def _open(client, city, number: int = 1, services=("eservice", "consumer")):  # type: ignore[no-untyped-def]
    response = post_form(
        client, "/counter/kista/shift", {"counter": str(number), "services": _services(city, *services)}
    )
    assert response.status_code == 303, response.text
    return response


def _open_elsewhere(settings, city, number: int, services=("eservice", "consumer")) -> None:  # type: ignore[no-untyped-def]
    """Another clerk's counter, opened through the service."""

    async def work(db):  # type: ignore[no-untyped-def]
        office = await db.get(Office, city.kista.id)
        counter = await db.scalar(
            select(Counter).where(Counter.office_id == office.id, Counter.number == number)
        )
        ids = [city.services[code].id for code in services]
        await open_shift(db, office=office, counter=counter, user=None, service_ids=ids, now=NOW)

    run_with_engine(settings, work)


def _call_elsewhere(settings, city, number: int) -> Ticket | None:  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        office = await db.get(Office, city.kista.id)
        counter = await db.scalar(
            select(Counter).where(Counter.office_id == office.id, Counter.number == number)
        )
        ids = [city.services[code].id for code in ("eservice", "consumer")]
        return await call_next(db, office=office, counter=counter, service_ids=ids, now=NOW, actor="other")

    return run_with_engine(settings, work)  # type: ignore[return-value]


def _current_code(text: str) -> str | None:
    found = re.search(r'class="counter-code">([A-Z]\d+)<', text)
    return found.group(1) if found else None


# -- who may use it ------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get("/counter/kista?counter=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fcounter%2Fkista%3Fcounter%3D1"


def test_an_anonymous_post_is_refused(client):
    response = post_form(client, "/counter/kista/next", {"counter": "1"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("username", "slug", "status"),
    [
        ("staff", "kista", 200),
        ("manager", "kista", 200),
        ("admin", "bromma", 200),
        ("staff", "bromma", 403),
        ("bromma_manager", "kista", 403),
        ("agent", "kista", 403),
        ("staff", "atlantis", 404),
    ],
)
def test_who_may_open_which_counter_page(client, username, slug, status):
    logged_in(client, username)
    assert client.get(f"/counter/{slug}").status_code == status


def test_another_offices_staff_cannot_act_here(client, settings, city):
    ticket = _issue(settings, city)
    logged_in(client, "bromma_manager")
    for path in ("/counter/kista/shift", "/counter/kista/next", f"/counter/kista/tickets/{ticket.id}/call"):
        assert post_form(client, path, {"counter": "1"}).status_code == 403
    assert post_form(client, "/counter/kista/alarm", {"counter": "1"}).status_code == 403
    assert _ticket(settings, ticket.id).status == TicketStatus.WAITING.value


# -- opening a counter ---------------------------------------------------------------------------


def test_without_a_shift_the_clerk_picks_a_counter_and_services(client, settings, city):
    _open_elsewhere(settings, city, 2)
    logged_in(client, "staff")
    text = client.get("/counter/kista").text
    assert "Open a counter" in text
    assert 'name="counter" value="1"' in text and 'name="counter" value="2"' in text
    assert "Open now: someone" in text  # counter 2 is taken by a clerk not named
    for code in ("eservice", "consumer", "finnish"):  # the walk-in services, checked by default
        assert f'name="services" value="{city.services[code].id}" checked' in text
    assert f'name="services" value="{city.services["budget"].id}"' not in text  # booked visits only


def test_opening_a_counter_remembers_it(client, settings, city):
    logged_in(client, "staff")
    response = _open(client, city, 2, services=("consumer",))
    assert response.headers["location"] == "/counter/kista?counter=2"

    async def shift(db):  # type: ignore[no-untyped-def]
        return await db.scalar(select(CounterShift).where(CounterShift.office_id == city.kista.id))

    stored = _read(settings, shift)
    assert stored.service_ids == [city.services["consumer"].id]
    assert stored.user_id == city.users["staff"].id
    text = client.get("/counter/kista").text  # no counter in the address: the session knows it
    assert "Counter 2" in text and "Call next" in text and "Consumer advice" in text
    assert 'sse-connect="/counter/kista/events?counter=2"' in text
    assert "/static/js/staff-alarm.js" in text


def test_opening_needs_a_counter_and_a_service(client, settings, city):
    logged_in(client, "staff")
    response = post_form(
        client, "/counter/kista/shift", {"counter": "7", "services": _services(city, "budget")}
    )
    assert response.status_code == 422
    assert "Choose your counter." in response.text
    assert "Choose at least one service for the counter to call." in response.text

    async def shifts(db):  # type: ignore[no-untyped-def]
        return list(await db.scalars(select(CounterShift)))

    assert _read(settings, shifts) == []


def test_closing_the_counter(client, settings, city):
    logged_in(client, "staff")
    _open(client, city, 1)
    response = post_form(client, "/counter/kista/close", {"counter": "1"})
    assert response.status_code == 303
    assert "Open a counter" in client.get("/counter/kista").text

    async def shifts(db):  # type: ignore[no-untyped-def]
        return list(await db.scalars(select(CounterShift)))

    assert _read(settings, shifts) == []


def test_an_action_without_an_open_counter_asks_to_open_it(client, settings, city):
    logged_in(client, "staff")
    response = post_form(client, "/counter/kista/next", {"counter": "1"})
    assert response.status_code == 303
    assert response.headers["location"] == "/counter/kista?counter=1&notice=no-shift"
    assert "Open the counter first" in client.get(response.headers["location"]).text


# -- working through the line --------------------------------------------------------------------


def test_call_next_calls_the_ticket_that_waited_longest(client, settings, city):
    first = _issue(settings, city, when=NOW - timedelta(minutes=40))
    _issue(settings, city, "consumer", when=NOW - timedelta(minutes=30))
    _issue(settings, city, "finnish", when=NOW - timedelta(minutes=50))  # not one of the counter's services
    logged_in(client, "staff")
    _open(client, city, 1)
    response = post_form(client, "/counter/kista/next", {"counter": "1"})
    assert response.status_code == 303
    assert response.headers["location"] == "/counter/kista?counter=1"
    text = client.get(response.headers["location"]).text
    assert _current_code(text) == first.code == "A001"
    assert "Waited" in text and "40 minutes" in text
    for button in ("Served", "Recall", "No-show", "Transfer"):
        assert f">{button}</button>" in text
    called = _ticket(settings, first.id)
    assert called.status == TicketStatus.CALLED.value
    assert called.counter_id is not None and called.called_at is not None
    assert called.called_by_id == city.users["staff"].id
    assert _actions(settings, first.id) == [("issued", "desk", "staff"), ("called", "counter", "staff")]
    # The line shows the others, by arrival; the Finnish service is not this counter's.
    assert "C001" in text and "F001" not in text
    assert "F001" in client.get("/counter/kista?counter=1&all=1").text


def test_call_next_with_no_one_waiting_says_so(client, settings, city):
    logged_in(client, "staff")
    _open(client, city, 1)
    response = post_form(client, "/counter/kista/next", {"counter": "1"})
    assert response.headers["location"] == "/counter/kista?counter=1&notice=none-waiting"
    text = client.get(response.headers["location"]).text
    assert "No one is waiting." in text and _current_code(text) is None


def test_the_current_ticket_is_finished_before_the_next_is_called(client, settings, city):
    first = _issue(settings, city, when=NOW - timedelta(minutes=40))
    second = _issue(settings, city, when=NOW - timedelta(minutes=30))
    logged_in(client, "staff")
    _open(client, city, 1)
    post_form(client, "/counter/kista/next", {"counter": "1"})
    response = post_form(client, "/counter/kista/next", {"counter": "1"})
    assert response.headers["location"].endswith("notice=busy")
    assert "Finish the current ticket first" in client.get(response.headers["location"]).text
    assert _ticket(settings, first.id).status == TicketStatus.CALLED.value
    assert _ticket(settings, second.id).status == TicketStatus.WAITING.value


@pytest.mark.parametrize(
    ("action", "status", "event", "notice"),
    [
        ("served", TicketStatus.SERVED, "served", "A001 was marked as served."),
        ("no-show", TicketStatus.NO_SHOW, "no_show", "A001 was marked as a no-show."),
    ],
)
def test_finishing_the_current_ticket(client, settings, city, action, status, event, notice):
    ticket = _issue(settings, city)
    logged_in(client, "staff")
    _open(client, city, 1)
    post_form(client, "/counter/kista/next", {"counter": "1"})
    response = post_form(client, f"/counter/kista/tickets/{ticket.id}/{action}", {"counter": "1"})
    assert response.status_code == 303
    text = client.get(response.headers["location"]).text
    assert notice in text and _current_code(text) is None and "Call next" in text
    stored = _ticket(settings, ticket.id)
    assert stored.status == status.value and stored.finished_at is not None
    assert (stored.served_at is not None) == (status is TicketStatus.SERVED)
    assert [row[0] for row in _actions(settings, ticket.id)] == ["issued", "called", event]


def test_recall_announces_the_ticket_again(client, settings, city):
    ticket = _issue(settings, city)
    logged_in(client, "staff")
    _open(client, city, 1)
    post_form(client, "/counter/kista/next", {"counter": "1"})
    response = post_form(client, f"/counter/kista/tickets/{ticket.id}/recall", {"counter": "1"})
    text = client.get(response.headers["location"]).text
    assert "A001 was called again." in text and _current_code(text) == "A001"
    assert _ticket(settings, ticket.id).status == TicketStatus.CALLED.value
    assert [row[0] for row in _actions(settings, ticket.id)] == ["issued", "called", "recalled"]


def test_transfer_sends_the_ticket_back_to_wait_for_another_service(client, settings, city):
    ticket = _issue(settings, city, when=NOW - timedelta(minutes=40))
    later = _issue(settings, city, "finnish", when=NOW - timedelta(minutes=5))
    logged_in(client, "staff")
    _open(client, city, 1)
    post_form(client, "/counter/kista/next", {"counter": "1"})
    response = post_form(
        client, f"/counter/kista/tickets/{ticket.id}/transfer", {"counter": "1", "service": "finnish"}
    )
    text = client.get(response.headers["location"]).text
    assert "A001 was transferred and waits again." in text
    stored = _ticket(settings, ticket.id)
    assert stored.status == TicketStatus.WAITING.value
    assert stored.service_id == city.services["finnish"].id and stored.code == "A001"
    assert stored.counter_id is None
    assert [row[0] for row in _actions(settings, ticket.id)] == ["issued", "called", "transferred"]
    # It keeps its place by arrival: ahead of the Finnish ticket issued after it.
    everyone = client.get("/counter/kista?counter=1&all=1").text
    assert everyone.index(">A001<") < everyone.index(f">{later.code}<")


def test_transfer_to_a_service_without_walk_ins_is_refused(client, settings, city):
    ticket = _issue(settings, city)
    logged_in(client, "staff")
    _open(client, city, 1)
    post_form(client, "/counter/kista/next", {"counter": "1"})
    response = post_form(
        client, f"/counter/kista/tickets/{ticket.id}/transfer", {"counter": "1", "service": "budget"}
    )
    assert response.headers["location"].endswith("notice=unknown-service")
    assert _ticket(settings, ticket.id).status == TicketStatus.CALLED.value


def test_calling_a_particular_ticket_out_of_turn(client, settings, city):
    _issue(settings, city, when=NOW - timedelta(minutes=40))
    wanted = _issue(settings, city, "consumer", when=NOW - timedelta(minutes=10))
    logged_in(client, "staff")
    _open(client, city, 1)
    response = post_form(client, f"/counter/kista/tickets/{wanted.id}/call", {"counter": "1"})
    assert response.headers["location"] == "/counter/kista?counter=1"
    assert _current_code(client.get(response.headers["location"]).text) == "C001"
    stored = _ticket(settings, wanted.id)
    assert stored.status == TicketStatus.CALLED.value
    assert [row[0] for row in _actions(settings, wanted.id)] == ["issued", "called"]


def test_a_ticket_someone_else_called_first_is_a_message_not_an_error(client, settings, city):
    ticket = _issue(settings, city)
    logged_in(client, "staff")
    _open(client, city, 1)
    _open_elsewhere(settings, city, 2)
    assert _call_elsewhere(settings, city, 2).id == ticket.id
    response = post_form(client, f"/counter/kista/tickets/{ticket.id}/call", {"counter": "1"})
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert "Someone else called this ticket." in page.text
    # And the other counter's ticket cannot be finished from here.
    response = post_form(client, f"/counter/kista/tickets/{ticket.id}/served", {"counter": "1"})
    assert response.headers["location"].endswith("notice=not-yours")
    assert _ticket(settings, ticket.id).status == TicketStatus.CALLED.value


def test_an_unknown_ticket_is_a_message(client, settings, city):
    logged_in(client, "staff")
    _open(client, city, 1)
    response = post_form(client, "/counter/kista/tickets/999999/served", {"counter": "1"})
    assert response.headers["location"].endswith("notice=gone")


def test_a_checked_in_visitors_name_and_needs_show_to_the_clerk(client, settings, city):
    from kontor.booking.models import Booking
    from kontor.booking.services import book
    from kontor.queue.checkin import check_in

    async def work(db):  # type: ignore[no-untyped-def]
        booking, _token = await book(
            db,
            office_slug="kista",
            service_code="eservice",
            start=NOW,
            name="Vera Väntesson",
            email="vera@example.se",
            needs=["interpreter"],
            channel=Channel.WEB,
            actor="resident",
            now=NOW - timedelta(days=1),
        )
        booking = await db.get(Booking, booking.id)
        ticket, _token, late = await check_in(
            db, booking=booking, now=NOW - timedelta(minutes=5), actor=city.users["staff"]
        )
        assert not late
        return ticket

    ticket = run_with_engine(settings, work)
    logged_in(client, "staff")
    _open(client, city, 1)
    line = client.get("/counter/kista?counter=1").text
    assert ticket.code in line and "Vera Väntesson" not in line  # the line lists codes only
    text = client.get(post_form(client, "/counter/kista/next", {"counter": "1"}).headers["location"]).text
    assert _current_code(text) == ticket.code
    assert "Vera Väntesson" in text and "Interpreter" in text and "Booked time" in text
    assert client.get("/counter/kista?counter=1").headers["cache-control"] == "no-store"


# -- htmx ----------------------------------------------------------------------------------------


def test_htmx_gets_the_working_area_with_the_notice(client, settings, city):
    ticket = _issue(settings, city)
    logged_in(client, "staff")
    _open(client, city, 1)
    response = post_form(client, "/counter/kista/next", {"counter": "1"}, headers=HTMX)
    assert response.status_code == 200
    text = response.text
    assert "<html" not in text and 'id="counter-current"' in text and 'id="counter-line"' in text
    assert _current_code(text) == ticket.code
    assert 'id="current-title" class="counter-current-title" tabindex="-1" autofocus' in text
    response = post_form(client, f"/counter/kista/tickets/{ticket.id}/served", {"counter": "1"}, headers=HTMX)
    assert 'hx-swap-oob="innerHTML"' in response.text and "A001 was marked as served." in response.text
    assert 'id="counter-next" class="counter-primary" autofocus' in response.text
    response = post_form(client, f"/counter/kista/tickets/{ticket.id}/call", {"counter": "1"}, headers=HTMX)
    assert response.status_code == 200 and "Someone else called this ticket." in response.text


def test_htmx_without_an_open_counter_navigates_to_the_form(client, city):
    logged_in(client, "staff")
    response = post_form(client, "/counter/kista/next", {"counter": "2"}, headers=HTMX)
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/counter/kista?counter=2&notice=no-shift"


# -- the alarm -----------------------------------------------------------------------------------


def test_the_alarm_is_written_to_the_audit_log(client, settings, city):
    logged_in(client, "staff")
    _open(client, city, 2)
    response = post_form(client, "/counter/kista/alarm", {"counter": "2"})
    assert response.status_code == 303
    assert response.headers["location"] == "/counter/kista?counter=2&notice=alarm"
    assert (
        "the office&#39;s other staff pages have been alerted"
        in client.get(response.headers["location"]).text
    )

    async def entries(db):  # type: ignore[no-untyped-def]
        return list(await db.scalars(select(AuditEntry).where(AuditEntry.action == "alarm")))

    [entry] = _read(settings, entries)
    assert entry.office_id == city.kista.id and entry.actor_id == city.users["staff"].id
    assert entry.changes["counter"] == 2
    response = post_form(client, "/counter/kista/alarm", {"counter": "2"}, headers=HTMX)
    assert (
        response.status_code == 200 and "have been alerted" in response.text and "<html" not in response.text
    )


def test_the_alarm_needs_no_open_counter(client, settings, city):
    logged_in(client, "staff")
    response = post_form(client, "/counter/kista/alarm", {})
    assert response.status_code == 303


# -- live: the stream of the counter page and the alarm ------------------------------------------


async def _in_app(app, work):  # type: ignore[no-untyped-def]
    """``await work(db)`` in a write transaction of the app itself, so its live bus hears the commit."""
    async with app.state.write_session_maker() as db, db.begin():
        return await work(db)


async def _open_counter_2(app, city) -> None:  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        office = await db.get(Office, city.kista.id)
        counter = await db.scalar(select(Counter).where(Counter.office_id == office.id, Counter.number == 2))
        await open_shift(
            db, office=office, counter=counter, user=None, service_ids=[city.services["eservice"].id], now=NOW
        )

    await _in_app(app, work)


async def test_the_alarm_reaches_the_other_counters_but_not_the_one_that_raised_it(app, city):
    from tests.queue.live_pages import EventStream, log_in, serving
    from tests.queue.live_pages import post_form as post

    async with serving(app) as web:
        await log_in(web, "staff")
        opened = await post(
            web, "/counter/kista/shift", {"counter": "1", "services": _services(city, "eservice")}
        )
        assert opened.status_code == 303
        await _open_counter_2(app, city)
        async with (
            EventStream(app, "/counter/kista/events?counter=2", web) as other,
            EventStream(app, "/counter/kista/events?counter=1", web) as mine,
            app.state.live_bus.subscribe(city.kista.id) as events,
        ):
            assert other.status == 200 and other.headers["content-type"].startswith("text/event-stream")
            _name, line = await other.next_event("line")
            assert "No one is waiting." in line
            await mine.next_event("line")
            response = await post(web, "/counter/kista/alarm", {"counter": "1"})
            assert response.status_code == 303
            alarm = await _next_of_kind(events, "alarm")
            assert alarm.data == {"counter": 1, "name": "Lucka 1"}
            _name, banner = await other.next_event("alarm", within=1.0)
            assert (
                'role="alert"' in banner and "Alarm at counter 1 (Lucka 1)" in banner and "Silence" in banner
            )
            # The raising counter's page hears nothing of it; a later change still arrives there.
            await _in_app(app, _issue_in(city))
            _name, line = await mine.next_event("line")
            assert "A001" in line
            assert "event: alarm" not in mine.raw


async def test_the_counter_stream_follows_the_line_and_calls_to_its_counter(app, city):
    from tests.queue.live_pages import EventStream, log_in, serving

    async with serving(app) as web:
        await log_in(web, "staff")
        await _open_counter_2(app, city)
        async with EventStream(app, "/counter/kista/events?counter=2", web) as stream:
            await stream.next_event("line")
            _name, current = await stream.next_event("current")
            assert "Call next" in current and "autofocus" not in current  # a live update takes no focus
            await _in_app(app, _issue_in(city))
            _name, line = await stream.next_event("line")
            # The Call button's form carries the user's CSRF token, so it works without htmx too.
            assert "A001" in line and f'name="_csrf_token" value="{web.cookies["kontor_csrf"]}"' in line
            # The API (or anything else) calls the ticket to counter 2: the page shows it.
            await _in_app(app, _call_in(city, 2))
            _name, current = await stream.next_event("current")
            assert "A001" in current and "Served" in current


async def test_the_counter_stream_is_for_the_offices_staff(app, city):
    from tests.queue.live_pages import EventStream, log_in, serving

    async with serving(app) as web:
        async with EventStream(app, "/counter/kista/events?counter=1", web) as anonymous:
            assert anonymous.status in (303, 401)
        await log_in(web, "bromma_manager")
        async with EventStream(app, "/counter/kista/events?counter=1", web) as stranger:
            assert stranger.status == 403


def _issue_in(city):  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        office = await db.get(Office, city.kista.id)
        service = city.services["eservice"]
        ticket, _token = await issue_ticket(
            db, office=office, service=service, now=NOW, channel=Channel.DESK, actor="staff"
        )
        return ticket

    return work


def _call_in(city, number: int):  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        office = await db.get(Office, city.kista.id)
        counter = await db.scalar(
            select(Counter).where(Counter.office_id == office.id, Counter.number == number)
        )
        ids = [city.services["eservice"].id]
        return await call_next(db, office=office, counter=counter, service_ids=ids, now=NOW, actor="api")

    return work


async def _next_of_kind(events, kind: str):  # type: ignore[no-untyped-def]
    import asyncio

    async with asyncio.timeout(3.0):
        while True:
            event = await anext(events)
            if event.kind == kind:
                return event
