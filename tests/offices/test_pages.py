"""The office finder, the office page and the accessibility statement, with a fixed clock.

The test city (tests/factories.py): Rinkeby-Kista has Kista and Tensta, Bromma has Bromma.
Pages are read in English, whose msgids are the texts, so the assertions survive translation work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.engine import Engine

STOCKHOLM = ZoneInfo("Europe/Stockholm")
EN = {"Accept-Language": "en"}


def set_clock(client, text: str) -> None:  # type: ignore[no-untyped-def]
    moment = datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)
    client.app.state.clock = lambda: moment


def text_of(html: str) -> str:
    """The visible text, whitespace collapsed, for assertions on sentences."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" ,", ",").strip()


def card(html: str, slug: str) -> str:
    """The text of one office's card in the finder."""
    match = re.search(rf'<li class="panel office-card">\s*<h3><a href="/offices/{slug}">.*?</li>', html, re.S)
    assert match, f"no card for {slug}"
    return text_of(match.group(0))


def section(html: str, heading_id: str) -> str:
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, f"no section {heading_id}"
    return match.group(0)


@contextmanager
def count_selects(client) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """The page's own queries; the session store's (kv_store) belong to the middleware."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "kv_store" not in statement:
            statements.append(statement)

    # On the Engine class: the app's engine is created inside the app, out of the test's reach.
    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", record)


# --- the finder ------------------------------------------------------------------------------------


def test_finder_groups_offices_by_district(client):
    set_clock(client, "2026-12-01T10:00")
    response = client.get("/", headers=EN)
    assert response.status_code == 200
    html = response.text
    assert html.count("<h1") == 1
    bromma, north = section(html, "district-bromma"), section(html, "district-rinkeby-kista")
    assert ">Bromma</h2>" in bromma and ">Rinkeby-Kista</h2>" in north
    assert "Medborgarkontor Bromma" in bromma and "Medborgarkontor Kista" not in bromma
    assert "Medborgarkontor Kista" in north and "Medborgarkontor Tensta" in north
    assert html.index("district-bromma") < html.index("district-rinkeby-kista")  # by name
    assert 'href="/offices/kista"' in html
    assert "Kistagången 1, 164 40 Kista" in card(html, "kista")
    assert "3 offices" in text_of(html)


def test_finder_and_office_page_use_few_queries(client):
    set_clock(client, "2026-12-01T10:00")
    client.get("/")  # warm up: the first request may load what is cached later
    with count_selects(client) as statements:
        assert client.get("/").status_code == 200
    assert len(statements) <= 3, statements
    with count_selects(client) as statements:
        assert client.get("/offices/kista").status_code == 200
    assert len(statements) <= 3, statements


def test_service_filter_without_javascript(client):
    set_clock(client, "2026-12-01T10:00")
    html = client.get("/?service=budget", headers=EN).text
    assert "<html" in html
    assert "Medborgarkontor Kista" in html and "Medborgarkontor Bromma" in html
    assert "Medborgarkontor Tensta" not in html
    assert '<option value="budget" selected>Budget and debt advice</option>' in html
    assert "2 offices match" in text_of(html)


def test_service_filter_with_htmx_returns_the_list_only(client):
    set_clock(client, "2026-12-01T10:00")
    response = client.get("/?service=consumer", headers={**EN, "HX-Request": "true"})
    html = response.text
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html
    assert "Medborgarkontor Kista" in html and "Medborgarkontor Tensta" in html
    assert "Medborgarkontor Bromma" not in html
    assert 'id="office-count" hx-swap-oob="innerHTML"' in html
    assert "HX-Request" in response.headers["vary"]


def test_history_restore_gets_the_whole_page(client):
    headers = {**EN, "HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in client.get("/?service=consumer", headers=headers).text


def test_finder_form_lists_services_in_the_readers_language(client):
    html = client.get("/", headers={"Accept-Language": "fi"}).text
    assert '<option value="finnish">Palvelua suomeksi</option>' in html
    assert '<label for="office-service">' in html and '<label for="office-search">' in html


def test_search_by_office_or_district_name(client):
    html = client.get("/?q=tensta", headers=EN).text
    assert "Medborgarkontor Tensta" in html and "Medborgarkontor Kista" not in html
    html = client.get("/?q=RINKEBY", headers=EN).text
    assert "Medborgarkontor Tensta" in html and "Medborgarkontor Kista" in html
    assert "Medborgarkontor Bromma" not in html


def test_no_match_says_so(client):
    html = client.get("/?q=nowhere-at-all", headers=EN).text
    assert "No office matches your search." in html
    assert "0 offices match" in text_of(html)


def test_unknown_service_shows_every_office(client):
    html = client.get("/?service=no-such-service", headers=EN).text
    assert all(f"Medborgarkontor {name}" in html for name in ("Kista", "Tensta", "Bromma"))


# One client for all cases: the clock moves, the database stays.
FINDER_STATUSES = [
    ("2026-12-01T10:00", "kista", "Open now, until 12:00"),
    ("2026-12-01T10:00", "bromma", "Open now, until 16:00"),
    ("2026-12-01T12:30", "kista", "Closed — opens today at 13:00"),
    ("2026-12-01T18:00", "kista", "Closed — opens tomorrow at 09:00"),
    ("2026-12-04T18:00", "tensta", "Closed — opens Monday at 10:00"),
    ("2026-06-19T10:00", "kista", "Closed today (Midsummer Eve) — opens Monday at 09:00"),
    # Inventering until the 30th, then nyårsafton, nyårsdagen and a weekend.
    ("2026-12-29T10:00", "bromma", "Closed today (Inventering) — opens Monday at 08:00"),
    ("2026-12-23T18:00", "bromma", "Closed — opens Monday 4 January at 08:00"),
]


def test_open_status_on_the_finder(client):
    for moment, slug, expected in FINDER_STATUSES:
        set_clock(client, moment)
        text = card(client.get("/", headers=EN).text, slug)
        assert expected in text, (moment, slug, text)


def test_holiday_name_in_swedish(client):
    set_clock(client, "2026-06-19T10:00")
    html = client.get("/", headers={"Accept-Language": "sv"}).text
    assert "Midsommarafton" in card(html, "kista")


# --- the office page -------------------------------------------------------------------------------


def test_office_page_shows_this_week_and_next(client):
    set_clock(client, "2026-12-01T10:00")
    response = client.get("/offices/kista", headers=EN)
    assert response.status_code == 200
    html = response.text
    assert html.count("<h1") == 1 and "<h1>Medborgarkontor Kista</h1>" in html
    page = text_of(html)
    assert "This week (week 49)" in page and "Next week (week 50)" in page
    assert "Monday 30 November" in page and "Sunday 13 December" in page
    assert "Monday 14 December" not in page
    today = re.search(r'<tr class="today" aria-current="date">.*?</tr>', html, re.S)
    assert today and "Tuesday 1 December" in today.group(0)
    assert "By appointment only: 09:00–12:00" in text_of(today.group(0))
    assert "09:00–12:00, 13:00–17:00, 17:00–19:00" in page  # Wednesday evening
    assert html.count('aria-current="date"') == 1
    assert "Open now, until 12:00" in page


def test_office_page_facts_and_services(client):
    set_clock(client, "2026-12-01T10:00")
    html = client.get("/offices/kista", headers=EN).text
    page = text_of(html)
    assert "Kistagången 1, 164 40 Kista" in page
    assert 'href="tel:08-0000001"' in html and 'href="mailto:kista@example.org"' in html
    assert all(name in page for name in ("Swedish", "English", "Finnish", "Arabic"))
    assert "Hiss och hörslinga." in page
    services = text_of(section(html, "services-heading"))
    assert "Budget and debt advice Can be booked" in services
    assert "Consumer advice Walk in without booking" in services


def test_office_page_summer_hours(client):
    set_clock(client, "2026-07-06T09:30")
    html = client.get("/offices/kista", headers=EN).text
    hours = text_of(section(html, "hours-heading"))
    assert "Tuesday 7 July 10:00–15:00" in hours
    assert "Friday 17 July 10:00–15:00" in hours
    assert "13:00–17:00" not in hours
    assert "Closed — opens today at 10:00" in text_of(html)


def test_office_page_lists_deviations(client):
    set_clock(client, "2026-12-01T10:00")
    html = client.get("/offices/bromma", headers=EN).text
    changes = text_of(section(html, "changes-heading"))
    assert "Thursday 24 December: closed (Christmas Eve)" in changes
    assert "Monday 28 December – Wednesday 30 December: closed (Inventering)" in changes
    assert "Boxing Day" not in changes  # a Saturday: closed anyway
    assert "Wednesday 6 January: closed (Epiphany)" in changes


def test_office_page_marks_closed_days_with_the_reason(client):
    set_clock(client, "2026-12-29T10:00")
    html = client.get("/offices/bromma", headers=EN).text
    row = re.search(r'<tr class="today closed-day" aria-current="date">.*?</tr>', html, re.S)
    assert row and "Closed Inventering" in text_of(row.group(0))
    assert "Thursday 31 December (today)" not in text_of(html)
    assert "Closed New Year&#39;s Eve" in text_of(html) or "Closed New Year's Eve" in text_of(html)


def test_unknown_office_is_404(client):
    response = client.get("/offices/atlantis", headers=EN)
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_finnish_page(client):
    set_clock(client, "2026-12-01T10:00")
    html = client.get("/offices/kista", headers={"Accept-Language": "fi"}).text
    assert '<html lang="fi">' in html
    assert "maanantai" in html and "tiistai" in html


# --- the accessibility statement -------------------------------------------------------------------


def test_accessibility_statement(client):
    response = client.get("/accessibility", headers=EN)
    assert response.status_code == 200
    html = response.text
    page = text_of(html)
    assert html.count("<h1") == 1
    assert "WCAG" in page and "2.1" in page
    assert 'href="https://www.digg.se/tdosanmalan"' in html
    assert "Agency for Digital Government" in page
    assert "within 5 working days" in page
    assert "mailto:" in html and "tel:" in html
    assert "axe-core" in page
    assert "PDF" in page
    assert "This statement was prepared on" in page
