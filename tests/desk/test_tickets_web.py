"""Walk-in tickets at the front desk: the buttons, issuing in one tap (plain form and htmx), refusals,
who may issue, the waiting list and taking a ticket back, and the desk's live stream."""

from __future__ import annotations

import re

import pytest
from tests.desk.conftest import DESK_NOW
from tests.desk.queue_support import (
    BEFORE_OPENING,
    CLOSED_MESSAGE,
    HTMX,
    LUNCH,
    OPEN_NOW,
    LiveDesk,
    all_tickets,
)
from tests.helpers import csrf_token, logged_in, post_form

from kontor.audit.models import Channel
from kontor.live.events import ALARM, LiveEvent
from kontor.offices.services import office_by_slug
from kontor.queue.models import TicketStatus
from kontor.queue.tickets import issue_walk_in

SERVICE_BUTTON = re.compile(r'<button type="submit" name="service" value="(\w+)"[^>]*>', re.S)


@pytest.fixture(autouse=True)
def open_clock(app) -> None:  # type: ignore[no-untyped-def]
    app.state.clock = lambda: OPEN_NOW


def _issue(client, slug="kista", htmx=False, **data):  # type: ignore[no-untyped-def]
    form = {"service": "eservice"} | data
    return post_form(client, f"/desk/{slug}/tickets", form, headers=HTMX if htmx else None)


def test_one_button_per_walk_in_service_with_its_line(client):
    logged_in(client, "staff")
    _issue(client)
    text = client.get("/desk/kista").text
    # Kista takes walk-ins for e-services, consumer advice and Finnish; budget advice is booked only.
    assert SERVICE_BUTTON.findall(text) == ["eservice", "consumer", "finnish"]
    walk_in = text.split('id="desk-services"')[1].split("</form>")[0]
    assert "Help with e-services" in walk_in and "Budget and debt advice" not in walk_in
    eservice = walk_in.split('value="eservice"')[1].split("</button>")[0]
    assert '<span class="desk-service-letter" aria-hidden="true">A</span>' in eservice
    assert "1 waiting" in eservice and "wait about 20 minutes" in eservice
    assert "disabled" not in SERVICE_BUTTON.search(text).group(0)  # type: ignore[union-attr]
    assert 'sse-connect="/desk/kista/events"' in text and 'sse-swap="services"' in text
    assert '<script src="/static/js/staff-alarm.js"' in text and 'id="alarm"' in text


def test_the_language_choice_has_the_office_s_languages(client):
    logged_in(client, "staff")
    select = client.get("/desk/kista").text.split('id="desk-language"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\w*)"', select) == ["", "sv", "en", "fi", "ar"]
    assert "Arabic" in select


def test_a_plain_form_issues_and_shows_the_slip(client, fetch):
    logged_in(client, "staff")
    first, second = _issue(client), _issue(client, language="fi", needs_help="1")
    assert first.status_code == second.status_code == 303
    tickets = all_tickets(fetch)
    assert [t.code for t in tickets] == ["A001", "A002"]
    assert [t.channel for t in tickets] == [Channel.DESK.value] * 2
    assert (tickets[0].language, tickets[0].needs_help) == (None, False)
    assert (tickets[1].language, tickets[1].needs_help) == ("fi", True)
    slip = client.get(second.headers["location"])
    assert slip.status_code == 200
    assert "A002" in slip.text and "Back to the desk" in slip.text and 'href="/desk/kista"' in slip.text


def test_htmx_gets_the_ticket_card(client, fetch):
    logged_in(client, "staff")
    _issue(client, service="consumer")
    response = _issue(client, htmx=True, service="consumer")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    card = response.text
    assert "<html" not in card and 'class="ticket-card"' in card
    assert '<p class="ticket-card-code">C002</p>' in card
    assert "Consumer advice" in card and "1 person ahead, about 30 minutes." in card
    assert "<svg" in card and "data-print" in card and "Done" in card
    (token,) = re.findall(r'href="/tickets/([\w-]+)/print\?desk=1"', card)
    assert client.get(f"/tickets/{token}").status_code == 200
    assert [t.code for t in all_tickets(fetch)] == ["C001", "C002"]


def test_the_numbers_are_per_service(client, fetch):
    logged_in(client, "staff")
    for service in ("eservice", "finnish", "eservice"):
        assert _issue(client, service=service).status_code == 303
    assert [t.code for t in all_tickets(fetch)] == ["A001", "F001", "A002"]


@pytest.mark.parametrize(
    ("now", "opens"),
    [(BEFORE_OPENING, "from 09:00"), (LUNCH, "from 13:00")],
)
def test_a_closed_office_issues_nothing(app, client, fetch, now, opens):
    app.state.clock = lambda: now
    logged_in(client, "staff")
    page = client.get("/desk/kista").text
    assert f"The office is closed; tickets can be issued {opens}." in page
    buttons = SERVICE_BUTTON.findall(page)
    assert buttons and all(
        "disabled" in b for b in re.findall(r'<button type="submit" name="service"[^>]*>', page)
    )
    refused = _issue(client, language="en")
    assert refused.status_code == 422
    assert CLOSED_MESSAGE in refused.text and 'role="alert"' in refused.text
    assert '<option value="en" selected>' in refused.text  # the choice is kept
    by_htmx = _issue(client, htmx=True)
    assert by_htmx.status_code == 409
    assert CLOSED_MESSAGE in by_htmx.text and "<html" not in by_htmx.text
    assert all_tickets(fetch) == []


def test_closed_today_names_the_next_opening_day(app, client):
    app.state.clock = lambda: DESK_NOW.replace(day=19, hour=11)  # a Saturday
    logged_in(client, "staff")
    assert "tickets can be issued from Monday 21 December at 09:00" in client.get("/desk/kista").text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"service": "budget"}, "This office does not take walk-ins for that service today."),
        ({"service": "no-such"}, "This office does not take walk-ins for that service today."),
        ({"service": ""}, "This office does not take walk-ins for that service today."),
        ({"language": "xx"}, "Choose a language from the list, or none."),
    ],
)
def test_bad_input_is_refused_with_a_message(client, fetch, form, message):
    logged_in(client, "staff")
    response = _issue(client, **form)
    assert response.status_code == 422
    assert message in response.text
    assert all_tickets(fetch) == []


@pytest.mark.parametrize(("username", "status"), [("staff", 403), ("agent", 403), ("bromma_manager", 403)])
def test_only_the_office_s_staff_issue(client, fetch, username, status):
    logged_in(client, username)
    slug = "bromma" if username == "staff" else "kista"
    assert _issue(client, slug=slug).status_code == status
    assert all_tickets(fetch) == []


def test_anonymous_visitors_cannot_issue(client, fetch):
    assert client.get("/desk/kista/events", follow_redirects=False).headers["location"].startswith("/login")
    response = client.post(
        "/desk/kista/tickets",
        data={"service": "eservice", "_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert all_tickets(fetch) == []


def test_a_form_without_csrf_token_is_refused(client, fetch):
    logged_in(client, "staff")
    response = client.post("/desk/kista/tickets", data={"service": "eservice"}, follow_redirects=False)
    assert response.status_code == 403
    assert all_tickets(fetch) == []


def test_the_waiting_list_and_taking_a_ticket_back(client, fetch):
    logged_in(client, "staff")
    _issue(client)
    _issue(client, service="finnish", needs_help="1", language="fi")
    waiting = client.get("/desk/kista").text.split('id="desk-waiting"')[1].split("</section>")[0]
    assert waiting.index("A001") < waiting.index("F001")
    assert "2 tickets waiting" in waiting and "Needs help" in waiting and "Finnish" in waiting
    assert "0 min" in waiting
    first, second = all_tickets(fetch)
    cancelled = post_form(client, f"/desk/kista/tickets/{first.id}/cancel")
    assert cancelled.status_code == 303 and cancelled.headers["location"] == "/desk/kista"
    fragment = post_form(client, f"/desk/kista/tickets/{second.id}/cancel", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Nobody is waiting." in fragment.text
    assert [t.status for t in all_tickets(fetch)] == [TicketStatus.CANCELLED.value] * 2
    again = post_form(client, f"/desk/kista/tickets/{first.id}/cancel", headers={"HX-Request": "true"})
    assert again.status_code == 409 and "no longer waiting" in again.text
    assert post_form(client, f"/desk/kista/tickets/{first.id}/cancel").status_code == 422


def test_a_ticket_of_another_office_cannot_be_taken_back(client, fetch):
    logged_in(client, "admin")
    _issue(client, slug="bromma")
    (ticket,) = all_tickets(fetch)
    assert post_form(client, f"/desk/kista/tickets/{ticket.id}/cancel").status_code == 404
    assert all_tickets(fetch)[0].status == TicketStatus.WAITING.value


async def test_the_desk_follows_the_queue_live(settings, city, client):
    logged_in(client, "staff")
    async with LiveDesk(settings) as desk:
        desk.app.state.clock = lambda: OPEN_NOW
        async with desk.stream("/desk/kista/events", client) as sse:
            assert sse.status == 200 and sse.headers["cache-control"] == "no-store"
            body = await sse.read_until("event: waiting")
            assert "event: services" in body and "Nobody is waiting." in body
            async with desk.write_session() as db, db.begin():
                await issue_walk_in(
                    db,
                    office=await office_by_slug(db, "kista"),
                    service_code="eservice",
                    now=OPEN_NOW,
                    channel=Channel.DESK,
                    actor="test",
                )
            body = await sse.read_until("event: bookings")
            assert "1 waiting" in body, body
            assert "A001" in body
            await desk.app.state.live_bus.publish(LiveEvent(city.kista.id, ALARM, {"counter": 2}))
            body = await sse.read_until("Alarm at counter 2")
            assert "event: alarm" in body and 'role="alert"' in body


async def test_the_live_stream_is_for_the_office_s_staff(settings, city, client):
    logged_in(client, "staff")
    async with LiveDesk(settings) as desk:
        async with desk.stream("/desk/bromma/events", client) as sse:
            assert sse.status == 403
        async with desk.stream("/desk/kista/events") as sse:
            assert sse.status == 303
