"""Checking in booked visits at the front desk: on time (called at the booked time) or late (a walk-in),
refusals, who may do it, and how checked-in visits show in the list."""

from __future__ import annotations

import re

import pytest
from tests.desk.conftest import SCRIPT_NAME, at
from tests.desk.queue_support import HTMX, all_tickets, token_of
from tests.helpers import logged_in, post_form

from kontor.booking.models import Booking, BookingStatus
from kontor.booking.references import format_reference
from kontor.queue.models import TicketKind, TicketStatus

ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(autouse=True)
def desk_clock(app) -> None:  # type: ignore[no-untyped-def]
    app.state.clock = lambda: at(15, 9, 5)


def _path(desk_visits, name, slug="kista"):  # type: ignore[no-untyped-def]
    return f"/desk/{slug}/bookings/{format_reference(desk_visits[name].reference)}/check-in"


def _row(text: str, name: str) -> str:
    return next(row for row in text.split('<tr class="desk-visit">')[1:] if name in row)


def _status(fetch, booking: Booking) -> str:  # type: ignore[no-untyped-def]
    async def read(db):  # type: ignore[no-untyped-def]
        return (await db.get(Booking, booking.id)).status

    return fetch(read)  # type: ignore[no-any-return]


def test_today_s_booked_visits_have_a_check_in_button(client, desk_visits):
    logged_in(client, "staff")
    text = client.get("/desk/kista").text
    today, upcoming = text.split('id="desk-upcoming-title"')
    assert _path(desk_visits, "Åsa Öberg") in _row(today, "Åsa Öberg")
    assert _path(desk_visits, SCRIPT_NAME) in _row(today, ESCAPED_SCRIPT)
    # Checked in already, or a no-show: nothing to do.
    assert "check-in" not in _row(today, "Anna Andersson") and "check-in" not in _row(today, "Cecilia Berg")
    assert "/check-in" not in upcoming


def test_on_time_the_visit_is_called_at_its_booked_time(client, fetch, desk_visits):
    logged_in(client, "staff")
    response = post_form(client, _path(desk_visits, "Åsa Öberg"), headers=HTMX)
    assert response.status_code == 200
    assert response.headers["hx-trigger"] == "desk-bookings-changed"
    card = response.text
    assert '<p class="ticket-card-code">A001</p>' in card
    assert "Called at the booked time, 10:00." in card and "Arrived late" not in card
    assert "Åsa" not in card  # the slip and its card carry no name
    (ticket,) = all_tickets(fetch)
    assert ticket.kind == TicketKind.BOOKING.value and ticket.booking_id == desk_visits["Åsa Öberg"].id
    assert ticket.booked_start == at(15, 10)
    assert ticket.language == "fi"
    assert _status(fetch, desk_visits["Åsa Öberg"]) == BookingStatus.CHECKED_IN.value


def test_late_the_visit_joins_as_a_walk_in(app, client, fetch, desk_visits):
    app.state.clock = lambda: at(15, 9, 31)  # booked 09:20; ten minutes' grace
    logged_in(client, "staff")
    response = post_form(client, _path(desk_visits, SCRIPT_NAME), headers=HTMX)
    assert response.status_code == 200
    assert "Arrived late — joins the queue as a walk-in." in response.text
    assert "Called at the booked time" not in response.text
    (ticket,) = all_tickets(fetch)
    assert ticket.kind == TicketKind.WALK_IN.value and ticket.booked_start is None
    assert ticket.booking_id == desk_visits[SCRIPT_NAME].id


def test_a_plain_form_checks_in_and_shows_the_slip(client, fetch, desk_visits):
    logged_in(client, "staff")
    response = post_form(client, _path(desk_visits, "Åsa Öberg"))
    assert response.status_code == 303
    slip = client.get(f"/tickets/{token_of(response)}/print?desk=1")
    assert "A001" in slip.text and "Called at the booked time, 10:00." in slip.text


def test_a_checked_in_visit_shows_its_ticket(app, client, desk_visits):
    logged_in(client, "staff")
    post_form(client, _path(desk_visits, "Åsa Öberg"))
    row = _row(client.get("/desk/kista").text, "Åsa Öberg")
    assert '<span class="desk-ticket-code">A001</span>' in row and "Waiting" in row
    assert "Checked in" in row and "/check-in" not in row
    fragment = client.get("/desk/kista", params={"q": "Öberg"}, headers={"HX-Request": "true"}).text
    assert "A001" in fragment and "<html" not in fragment


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("David Dahl", "This visit is booked for another day."),
        ("Anna Andersson", "This visit is already checked in."),
        ("Cecilia Berg", "Only a booked visit can be checked in; this one is cancelled or over."),
        ("Gustav Avbokad", "Only a booked visit can be checked in; this one is cancelled or over."),
    ],
)
def test_what_cannot_be_checked_in(client, fetch, desk_visits, name, message):
    logged_in(client, "staff")
    by_htmx = post_form(client, _path(desk_visits, name), headers=HTMX)
    assert by_htmx.status_code == 409 and message in by_htmx.text and "<html" not in by_htmx.text
    by_form = post_form(client, _path(desk_visits, name))
    assert by_form.status_code == 422 and message in by_form.text and 'role="alert"' in by_form.text
    assert all_tickets(fetch) == []


def test_twice_is_refused(client, fetch, desk_visits):
    logged_in(client, "staff")
    assert post_form(client, _path(desk_visits, "Åsa Öberg")).status_code == 303
    again = post_form(client, _path(desk_visits, "Åsa Öberg"), headers=HTMX)
    assert again.status_code == 409 and "already checked in" in again.text
    assert len(all_tickets(fetch)) == 1


def test_unknown_references_and_other_offices_visits(client, fetch, desk_visits):
    logged_in(client, "staff")
    assert post_form(client, "/desk/kista/bookings/ACDE-4779/check-in").status_code == 404
    assert post_form(client, "/desk/kista/bookings/nonsense/check-in").status_code == 404
    # Ingrid booked at Bromma: not Kista's to check in, and Kista's staff may not open Bromma's desk.
    assert post_form(client, _path(desk_visits, "Ingrid Bromma")).status_code == 404
    assert post_form(client, _path(desk_visits, "Ingrid Bromma", slug="bromma")).status_code == 403
    assert all_tickets(fetch) == []


def test_the_reference_may_be_typed_in_any_form(client, fetch, desk_visits):
    logged_in(client, "staff")
    typed = desk_visits["Åsa Öberg"].reference.lower()
    assert post_form(client, f"/desk/kista/bookings/{typed}/check-in").status_code == 303
    assert [t.status for t in all_tickets(fetch)] == [TicketStatus.WAITING.value]


def test_a_name_is_escaped_everywhere_on_the_desk(client, desk_visits):
    logged_in(client, "staff")
    post_form(client, _path(desk_visits, "Åsa Öberg"))
    text = client.get("/desk/kista").text
    assert "<script>alert(1)" not in text
    button = re.search(r'class="desk-checkin">Check in<span class="visually-hidden"> ([^<]*)</span>', text)
    assert button is not None and ESCAPED_SCRIPT in text
    assert any(ESCAPED_SCRIPT in name for name in re.findall(r'visually-hidden"> ([^<]*)</span>', text))
