"""A walk-in ticket's public pages: the resident's page in every state, the 80 mm slip, the QR code to
the page, privacy headers, unknown links, and the page's live updates."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update
from tests.conftest import ENGLISH, run_with_engine
from tests.desk.conftest import at
from tests.desk.queue_support import OPEN_NOW, LiveDesk

from kontor.app import create_app
from kontor.audit.models import Channel
from kontor.offices.models import Counter
from kontor.offices.services import office_by_slug
from kontor.queue.models import Ticket, TicketKind
from kontor.queue.qr import qr_svg
from kontor.queue.tickets import call_next, issue_ticket, issue_walk_in
from kontor.settings import resource_dir

Work = Callable[[Any], Awaitable[Any]]


@pytest.fixture(autouse=True)
def open_clock(app) -> None:  # type: ignore[no-untyped-def]
    app.state.clock = lambda: OPEN_NOW


@pytest.fixture
def run(settings) -> Callable[[Work], Any]:  # type: ignore[no-untyped-def]
    return lambda work: run_with_engine(settings, work)


def _issue(run, service="eservice", now=OPEN_NOW, **extra) -> str:  # type: ignore[no-untyped-def]
    """A walk-in ticket issued at Kista's desk; its token."""

    async def work(db):  # type: ignore[no-untyped-def]
        office = await office_by_slug(db, "kista")
        _ticket, token = await issue_walk_in(
            db, office=office, service_code=service, now=now, channel=Channel.DESK, actor="desk", **extra
        )
        return token

    return run(work)  # type: ignore[no-any-return]


async def _call(db) -> Ticket | None:  # type: ignore[no-untyped-def]
    office = await office_by_slug(db, "kista")
    counter = await db.scalar(select(Counter).where(Counter.office_id == office.id, Counter.number == 1))
    services = [offering.service.id for offering in office.offerings]
    return await call_next(
        db, office=office, counter=counter, service_ids=services, now=OPEN_NOW, actor="clerk"
    )


def _status(text: str) -> str:
    found = re.search(r'<div id="ticket-status"[^>]*>(.*?)</div>', text, re.S)
    assert found is not None
    return " ".join(found.group(1).split())


def test_a_waiting_ticket_in_words(client, run):
    first, second = _issue(run), _issue(run)
    response = client.get(f"/tickets/{first}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    text = response.text
    assert re.search(r'<h1 id="ticket-title">.*A001</span></h1>', text, re.S)
    assert "Help with e-services" in text and "Medborgarkontor Kista" in text
    assert "Waiting — you are next." in _status(text)
    assert "Waiting — 1 person ahead of you, about 20 minutes." in _status(
        client.get(f"/tickets/{second}").text
    )
    assert 'aria-live="polite"' in text
    assert f'sse-connect="/tickets/{first}/events"' in text and 'sse-swap="status"' in text
    assert f'<a class="ticket-refresh" href="/tickets/{first}">Refresh</a>' in text  # without JavaScript
    assert "Issued at 09:30." in text


def test_a_called_ticket_sends_the_resident_to_the_counter(client, run):
    token = _issue(run)
    assert run(_call) is not None
    status = _status(client.get(f"/tickets/{token}").text)
    assert "Go to counter 1 now!" in status and "(Lucka 1)" in status


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("served", "Served — thank you for your visit."),
        ("no_show", "Not served: you were called but did not come to the counter."),
        ("closed", "Closed: the office closed for the day before your turn."),
        ("cancelled", "Cancelled: this ticket is no longer in the queue."),
    ],
)
def test_a_finished_ticket_says_how_it_ended(client, run, status, words):
    token = _issue(run)

    async def finish(db):  # type: ignore[no-untyped-def]
        await db.execute(update(Ticket).values(status=status, finished_at=OPEN_NOW))

    run(finish)
    text = client.get(f"/tickets/{token}").text
    assert words in _status(text) and "Waiting" not in _status(text)


def test_yesterday_s_ticket_is_not_in_today_s_queue(app, client, run):
    token = _issue(run)
    app.state.clock = lambda: OPEN_NOW + timedelta(days=1)
    assert "This ticket is not in today's queue any more." in _status(client.get(f"/tickets/{token}").text)


def test_a_checked_in_visit_waits_for_its_booked_time(client, run):
    async def work(db):  # type: ignore[no-untyped-def]
        office = await office_by_slug(db, "kista")
        service = next(o.service for o in office.offerings if o.service.code == "eservice")
        _ticket, token = await issue_ticket(
            db,
            office=office,
            service=service,
            now=OPEN_NOW,
            channel=Channel.DESK,
            actor="desk",
            kind=TicketKind.BOOKING,
            booked_start=at(15, 10),
        )
        return token

    text = client.get(f"/tickets/{run(work)}").text
    assert "Checked in — you will be called at your booked time, 10:00." in _status(text)


@pytest.mark.parametrize("suffix", ["", "/print", "/events"])
@pytest.mark.parametrize("token", ["no-such-token", "x" * 300])
def test_an_unknown_link_is_not_found(client, run, suffix, token):
    _issue(run)
    response = client.get(f"/tickets/{token}{suffix}")
    assert response.status_code == 404
    assert "A001" not in response.text


def test_the_slip_fits_a_receipt(client, run):
    token = _issue(run, service="finnish")
    response = client.get(f"/tickets/{token}/print")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    text = response.text
    assert "Medborgarkontor Kista" in text and "F001" in text and "Service in Finnish" in text
    assert "Issued 15/12/2026 at 09:30" in text and "You are next." in text
    assert "Follow your place in line on your phone" in text
    assert "Back to the desk" not in text and "data-print" not in text and 'class="site-header"' not in text
    desk = client.get(f"/tickets/{token}/print", params={"desk": 1}).text
    assert 'href="/desk/kista">Back to the desk</a>' in desk and "data-print" in desk
    css = (resource_dir("static") / "css" / "desk.css").read_text()
    assert "@page { size: 80mm 140mm; margin: 0; }" in css
    assert '<link rel="stylesheet" href="/static/css/desk.css">' in text


def test_the_qr_code_links_to_the_ticket_page(client, run, settings):
    token = _issue(run)
    url = f"{settings.public_url.rstrip('/')}/tickets/{token}"
    expected = qr_svg(url, label="QR code: the link to ticket A001")
    for path in (f"/tickets/{token}/print", f"/tickets/{token}/print?desk=1"):
        assert str(expected) in client.get(path).text
    assert '<svg role="img"' in expected and "<title>QR code: the link to ticket A001</title>" in expected
    other = qr_svg(
        f"{settings.public_url.rstrip('/')}/tickets/{token}x", label="QR code: the link to ticket A001"
    )
    assert str(other) != str(expected)


def test_without_a_public_address_the_qr_code_uses_the_request_s(settings, city, run):
    token = _issue(run)
    app = create_app(dataclasses.replace(settings, public_url=""))
    app.state.clock = lambda: OPEN_NOW
    with TestClient(app, base_url="http://kontor.example") as other:
        other.headers.update(ENGLISH)
        text = other.get(f"/tickets/{token}/print").text
    expected = qr_svg(f"http://kontor.example/tickets/{token}", label="QR code: the link to ticket A001")
    assert str(expected) in text


async def test_the_page_follows_the_ticket_live(settings, city):
    async with LiveDesk(settings) as site:
        site.app.state.clock = lambda: OPEN_NOW
        async with site.write_session() as db, db.begin():
            office = await office_by_slug(db, "kista")
            _ticket, token = await issue_walk_in(
                db, office=office, service_code="eservice", now=OPEN_NOW, channel=Channel.DESK, actor="desk"
            )
        async with site.stream(f"/tickets/{token}/events") as sse:
            assert sse.status == 200
            assert sse.headers["cache-control"] == "no-store"
            assert sse.headers["referrer-policy"] == "no-referrer"
            await sse.read_until("Waiting — you are next.")
            async with site.write_session() as db, db.begin():
                assert await _call(db) is not None
            body = await sse.read_until("Go to counter 1 now!")
            assert body.count("event: status") == 2
            # Another ticket's change leaves this one's status as it was: nothing is sent again.
            async with site.write_session() as db, db.begin():
                office = await office_by_slug(db, "kista")
                await issue_walk_in(
                    db,
                    office=office,
                    service_code="consumer",
                    now=OPEN_NOW,
                    channel=Channel.DESK,
                    actor="desk",
                )
            with contextlib.suppress(TimeoutError):
                await sse.read_until("never sent", within=0.5)
            assert sse.body.count("event: status") == 2
