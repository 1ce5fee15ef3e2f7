"""The front desk page /desk/{slug}: who may open it, what it lists, searching it, and its htmx parts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update
from tests.desk.conftest import CANCELLED, DESK_NOW, HELD
from tests.helpers import logged_in

from kontor.booking.references import format_reference
from kontor.offices.models import Office

HTMX = {"HX-Request": "true", "HX-Target": "desk-bookings"}


@pytest.fixture(autouse=True)
def desk_clock(app) -> None:  # type: ignore[no-untyped-def]
    app.state.clock = lambda: DESK_NOW


def _positions(text: str, names: list[str]) -> list[int]:
    return [text.index(name) for name in names]


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get("/desk/kista?q=anna", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fdesk%2Fkista%3Fq%3Danna"


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
def test_who_may_open_which_desk(client, username, slug, status):
    logged_in(client, username)
    response = client.get(f"/desk/{slug}")
    assert response.status_code == status
    if status == 403:
        assert "Not allowed" in response.text and "Medborgarkontor" not in response.text


def test_an_inactive_office_has_no_desk(client, fetch):
    async def close(db):
        await db.execute(update(Office).where(Office.slug == "kista").values(active=False))

    fetch(close)
    logged_in(client, "staff")
    assert client.get("/desk/kista").status_code == 404


def test_today_and_upcoming_visits_in_time_order(client, desk_visits):
    logged_in(client, "staff")
    response = client.get("/desk/kista")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    text = response.text
    assert "Medborgarkontor Kista" in text
    assert "Tuesday 15 December" in text  # today, in the office's zone
    today, upcoming = text.split('id="desk-upcoming-title"')
    escaped_script = "&lt;script&gt;alert(1)&lt;/script&gt;"
    todays = ["Anna Andersson", "Cecilia Berg", escaped_script, "Åsa Öberg"]
    assert _positions(today, todays) == sorted(_positions(today, todays))
    assert "Tuesday 22 December" in upcoming and "Tuesday 29 December" in upcoming
    assert upcoming.index("David Dahl") < upcoming.index("Tuesday 29 December") < upcoming.index("Erik Ek")
    for absent in (CANCELLED, HELD, "Ingrid Bromma", "Fredrik Fors"):
        assert absent not in text
    anna = format_reference(desk_visits["Anna Andersson"].reference)
    assert re.search(r"09:00</time>\s*</td>\s*<td><span class=\"desk-reference\">" + anna, today)
    assert "Help with e-services" in today and "Budget and debt advice" in today


def test_each_visit_shows_needs_language_channel_and_status(client, desk_visits):
    logged_in(client, "staff")
    rows = client.get("/desk/kista").text.split('<tr class="desk-visit">')[1:]
    row = {
        name: next(r for r in rows if name in r) for name in ("Anna Andersson", "Cecilia Berg", "Åsa Öberg")
    }
    for text in ("<li>Interpreter</li>", "English", "Online", "Checked in"):
        assert text in row["Anna Andersson"]
    for text in ("<li>Accessibility</li>", "<li>Help with computers</li>", "Swedish", "No-show"):
        assert text in row["Cecilia Berg"]
    for text in ("Finnish", "Phone", "Booked"):
        assert text in row["Åsa Öberg"]
    assert "<li>" not in row["Åsa Öberg"]


def test_the_page_speaks_the_reader_s_language(client, desk_visits):
    logged_in(client, "staff")
    text = client.get("/desk/kista", headers={"Accept-Language": "sv"}).text
    assert "Hjälp med e-tjänster" in text and "tisdag 15 december" in text


def test_a_name_is_escaped(client, desk_visits):
    logged_in(client, "staff")
    for response in (client.get("/desk/kista"), client.get("/desk/kista?q=alert", headers=HTMX)):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
        assert "<script>alert(1)" not in response.text
    searched = client.get("/desk/kista", params={"q": '"><script>alert(2)</script>'})
    assert "<script>alert(2)" not in searched.text and "&lt;script&gt;alert(2)" in searched.text


def test_search_by_reference_in_any_form(client, desk_visits):
    logged_in(client, "staff")
    reference = format_reference(desk_visits["Åsa Öberg"].reference)
    for typed in (reference, reference.lower().replace("-", "")):
        text = client.get("/desk/kista", params={"q": typed}).text
        assert "Åsa Öberg" in text, typed
        assert "Anna Andersson" not in text and "David Dahl" not in text
        assert "No visit in the coming days matches your search." in text


def test_search_by_part_of_the_name(client, desk_visits):
    logged_in(client, "staff")
    text = client.get("/desk/kista", params={"q": "DAHL"}).text
    assert "David Dahl" in text and "Anna Andersson" not in text
    assert "No visit today matches your search." in text
    assert 'value="DAHL"' in text  # the search stays in its field
    assert "Show all visits" in text
    assert "Anna Andersson" not in client.get("/desk/kista", params={"q": "avbokad"}).text
    assert CANCELLED not in client.get("/desk/kista", params={"q": "avbokad"}).text


def test_htmx_gets_the_bookings_fragment_alone(client, desk_visits):
    logged_in(client, "staff")
    fragment = client.get("/desk/kista", params={"q": "anna"}, headers=HTMX)
    assert fragment.status_code == 200
    assert fragment.headers["cache-control"] == "no-store"
    assert "<html" not in fragment.text and 'id="desk-search"' not in fragment.text
    assert "Anna Andersson" in fragment.text and "Cecilia Berg" not in fragment.text
    restore = client.get("/desk/kista", headers=HTMX | {"HX-History-Restore-Request": "true"})
    assert "<html" in restore.text


def test_live_search_and_refresh_are_wired_up(client, desk_visits):
    logged_in(client, "staff")
    text = client.get("/desk/kista", params={"q": "anna"}).text
    search = re.search(r"<input type=\"search\"[^>]*>", text, re.S)
    assert search is not None
    for attribute in (
        'name="q"',
        'hx-get="/desk/kista"',
        'hx-trigger="input changed delay:250ms, search"',
        'hx-target="#desk-bookings"',
        'hx-push-url="true"',
    ):
        assert attribute in search.group(0)
    refresh = re.search(r"<div id=\"desk-bookings\"[^>]*>", text)
    assert refresh is not None
    assert 'hx-trigger="every 60s"' in refresh.group(0) and 'hx-include="#desk-search"' in refresh.group(0)
    assert '<form method="get" action="/desk/kista"' in text  # works without JavaScript
    assert 'id="desk-bookings-section"' in text and 'hx-history="false"' in text


def test_the_staff_home_links_to_the_desks(client):
    logged_in(client, "staff")
    assert 'href="/desk/kista"' in client.get("/staff").text
    logged_in(client, "agent")
    assert "/desk/" not in client.get("/staff").text
