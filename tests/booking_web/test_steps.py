"""The three steps of /book as pages: with and without htmx, in English and Swedish."""

from __future__ import annotations

import re
from datetime import date

from kontor.booking.listing import month_weeks
from tests.booking_web.flow_support import (
    KISTA,
    NINE,
    book_by_api,
    pin_clock,
    set_seats,
    set_service,
    text_of,
    time_buttons,
)

SV = {"Accept-Language": "sv"}
HTMX = {"HX-Request": "true"}


def _title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match
    return text_of(match.group(1))


def _current_step(html: str) -> str:
    match = re.search(r'<li aria-current="step"[^>]*>(.*?)</li>', html, re.S)
    assert match, "no current step"
    return text_of(match.group(1))


# --- step 1: the service -------------------------------------------------------------------------


def test_step_one_lists_the_bookable_services(client):
    booking_client = pin_clock(client)
    response = booking_client.get("/book")
    assert response.status_code == 200
    html = response.text
    assert html.count("<h1") == 1 and ">Choose a service</h1>" in html
    assert _title(html).startswith("Choose a service – Book a visit")
    assert _current_step(html) == "1 Step 1 of 5: Service"
    for code, name in (("eservice", "Help with e-services"), ("budget", "Budget and debt advice")):
        assert f'<a href="/book?service={code}">{name}</a>' in html
    assert "service=consumer" not in html  # walk-in only, everywhere
    assert "A visit takes about 45 minutes." in text_of(html)
    assert "no-store" in response.headers["cache-control"]


def test_an_unknown_service_shows_the_list_with_a_message(client):
    booking_client = pin_clock(client)
    response = booking_client.get("/book", params={"service": "tarot"})
    assert response.status_code == 404
    assert 'role="alert"' in response.text
    assert "This service cannot be booked online." in response.text
    assert '<a href="/book?service=eservice">' in response.text
    consumer = booking_client.get("/book", params={"service": "consumer", "office": "kista"})
    assert consumer.status_code == 404 and "cannot be booked online" in consumer.text


# --- step 2: the place ---------------------------------------------------------------------------


def test_step_two_shows_the_earliest_time_and_each_office(client):
    booking_client = pin_clock(client)
    response = booking_client.get("/book", params={"service": "eservice"})
    assert response.status_code == 200
    html = response.text
    assert html.count("<h1") == 1 and _title(html).startswith("Choose an office")
    assert _current_step(html).endswith("Place")
    earliest = re.search(r'<section class="panel booking-earliest".*?</section>', html, re.S)
    assert earliest
    # Bromma and Tensta open at 08:00 and 10:00 on Monday; two hours' notice makes 10:00 the first.
    assert "Monday 14 December 10:00" in text_of(earliest.group(0))
    assert "Medborgarkontor Bromma" in earliest.group(0)  # a tie goes to the first name
    assert 'name="start" value="2026-12-14T10:00:00+01:00"' in earliest.group(0)
    assert 'action="/book/hold"' in earliest.group(0)
    cards = text_of(html)
    kista = "Medborgarkontor Kista Kistagången 1, 164 40 Kista (Rinkeby-Kista)"
    assert f"{kista} Earliest: Tuesday 15 December 09:00" in cards
    assert 'href="/book?service=eservice&amp;office=tensta"' in html
    assert '<option value="bromma">Bromma</option>' in html


def test_district_filter_without_and_with_htmx(client):
    booking_client = pin_clock(client)
    params = {"service": "eservice", "district": "rinkeby-kista"}
    page = booking_client.get("/book", params=params)
    assert page.status_code == 200 and "<html" in page.text
    assert '<option value="rinkeby-kista" selected>' in page.text
    fragment = booking_client.get("/book", params=params, headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<h1" not in fragment.text
    assert "Earliest free time in Rinkeby-Kista" in fragment.text
    assert "office=kista" in fragment.text and "office=tensta" in fragment.text
    assert "office=bromma" not in fragment.text
    assert "Medborgarkontor Tensta" in fragment.text  # Tensta opens 10:00 on Monday: the earliest here


def test_an_office_with_no_free_times_says_so(client, settings):
    booking_client = pin_clock(client)
    assert "Earliest: Tuesday 15 December 09:00" in text_of(booking_client.get("/book?service=finnish").text)
    # Two days' notice and a horizon of three: Kista's next appointment hours (Tuesday) are out of reach.
    set_service(settings, "finnish", min_notice_minutes=2 * 24 * 60, horizon_days=3)
    html = booking_client.get("/book", params={"service": "finnish"}).text
    assert "Earliest:" not in html and "Book this time" not in html
    assert text_of(html).count("No free times in the next 3 days.") == 2  # the earliest, and Kista's card
    calendar = booking_client.get("/book", params={"service": "finnish", "office": "kista"}).text
    assert "No free times this month" in calendar and not time_buttons(calendar)
    assert 'id="month-next"' not in calendar  # the horizon ends this month


# --- step 3: the time ----------------------------------------------------------------------------


def test_step_three_calendar_and_times(client):
    booking_client = pin_clock(client)
    response = booking_client.get(KISTA)
    assert response.status_code == 200
    html = response.text
    assert html.count("<h1") == 1 and _title(html).startswith("Choose a time")
    assert _current_step(html).endswith("Time")
    assert "<caption>December 2026</caption>" in html
    headers = re.findall(r'<th scope="col">.*?class="visually-hidden">(\w+)</span></th>', html)
    assert headers[0] == "Monday" and headers[-1] == "Sunday"
    assert 'aria-label="Tuesday 15 December, 9 free times" aria-current="true">15</a>' in html
    assert 'aria-label="Tuesday 22 December, 9 free times">22</a>' in html
    assert '<span class="calendar-day no-times">16</span>' in html  # Wednesday: no appointment hours
    assert re.search(
        r'<td class="today" aria-current="date">\s*<span class="calendar-day no-times">14</span>', html
    )
    # The first day with free times is chosen: its times as buttons of a form that holds one.
    assert time_buttons(html)[:2] == [NINE, "2026-12-15T09:20:00+01:00"] and len(time_buttons(html)) == 9
    form = re.search(r'<form method="post" action="/book/hold".*?</form>', html, re.S)
    assert form and 'name="_csrf_token"' in form.group(0)
    assert '<input type="hidden" name="service" value="eservice">' in form.group(0)
    assert '<input type="hidden" name="office" value="kista">' in form.group(0)
    assert "Help with e-services at Medborgarkontor Kista" in text_of(html)
    assert '<a href="/book?service=eservice">Change office</a>' in html
    # No earlier month than this one; the horizon (60 days) reaches into February.
    assert (
        'id="month-previous"' not in html
        and 'href="/book?service=eservice&amp;office=kista&amp;month=2027-01"' in html
    )


def test_choosing_a_day_without_and_with_htmx(client):
    booking_client = pin_clock(client)
    params = {"service": "eservice", "office": "kista", "month": "2026-12", "day": "2026-12-22"}
    page = booking_client.get("/book", params=params)
    assert page.status_code == 200 and "<html" in page.text
    assert time_buttons(page.text)[0] == "2026-12-22T09:00:00+01:00"
    assert "Free times on Tuesday 22 December" in page.text
    fragment = booking_client.get("/book", params=params, headers=HTMX)
    assert fragment.status_code == 200
    html = fragment.text
    assert "<html" not in html and "<h1" not in html and "booking-steps" not in html
    assert (
        '<p id="booking-times-status" hx-swap-oob="innerHTML">Tuesday 22 December: 9 free times</p>' in html
    )
    assert "<caption>December 2026</caption>" in html
    assert time_buttons(html)[0] == "2026-12-22T09:00:00+01:00"
    assert 'hx-get="/book?service=eservice&amp;office=kista&amp;month=2026-12&amp;day=2026-12-15"' in html
    # htmx restoring a page after a history cache miss gets the whole page.
    restore = booking_client.get(
        "/book", params=params, headers=HTMX | {"HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.text


def test_months_stay_between_today_and_the_horizon(client):
    booking_client = pin_clock(client)
    january = booking_client.get(KISTA + "&month=2027-01").text
    assert "<caption>January 2027</caption>" in january
    assert 'id="month-previous"' in january and 'id="month-next"' in january
    assert time_buttons(january)[0] == "2027-01-05T09:00:00+01:00"
    before = booking_client.get(KISTA + "&month=2026-10").text
    assert "<caption>December 2026</caption>" in before
    after = booking_client.get(KISTA + "&month=2027-05").text
    assert "<caption>February 2027</caption>" in after and 'id="month-next"' not in after
    # Tuesday 16 February 2027 is past the 60 days; the 9th is the last Tuesday offered.
    assert 'aria-label="Tuesday 9 February, 9 free times"' in after and "day=2027-02-16" not in after
    garbage = booking_client.get(KISTA + "&month=soon&day=tomorrow")
    assert garbage.status_code == 200 and "<caption>December 2026</caption>" in garbage.text


def test_a_day_without_free_times(client):
    booking_client = pin_clock(client)
    html = booking_client.get(KISTA + "&day=2026-12-16").text
    assert "Free times on Wednesday 16 December" in html
    assert "There are no free times left on this day." in html and not time_buttons(html)


def test_few_seats_left_are_shown(client, settings):
    booking_client = pin_clock(client)
    set_seats(settings, "kista", "eservice", 3)
    book_by_api(booking_client)
    html = booking_client.get(KISTA).text
    nine = re.search(rf'value="{re.escape(NINE)}">(.*?)</button>', html, re.S)
    assert nine and text_of(nine.group(1)) == "09:00 2 left"
    nine_twenty = re.search(r'value="2026-12-15T09:20:00\+01:00">(.*?)</button>', html, re.S)
    assert nine_twenty and text_of(nine_twenty.group(1)) == "09:20"


def test_a_full_day_moves_the_default_to_the_next_free_day(client, settings):
    booking_client = pin_clock(client)
    html = booking_client.get("/book", params={"service": "eservice", "office": "bromma"}).text
    assert time_buttons(html)[0] == "2026-12-14T10:00:00+01:00"
    assert "2026-12-28" not in "".join(time_buttons(booking_client.get(
        "/book", params={"service": "eservice", "office": "bromma", "day": "2026-12-28"}).text))  # fmt: skip


def test_an_office_that_does_not_take_the_booking(client):
    booking_client = pin_clock(client)
    for params in ({"office": "atlantis"}, {"office": "tensta", "service": "budget"}):
        response = booking_client.get("/book", params={"service": "eservice"} | params)
        assert response.status_code == 404
        assert "This office does not take bookings for this service." in response.text
        service = params.get("service", "eservice")
        assert f'href="/book?service={service}">Choose an office</a>' in response.text


def test_step_three_in_swedish(client):
    booking_client = pin_clock(client)
    response = booking_client.get(KISTA, headers=SV)
    assert response.status_code == 200
    html = response.text
    assert '<html lang="sv">' in html
    assert "<caption>December 2026</caption>" in html
    assert "Hjälp med e-tjänster" in html and "Help with e-services" not in html
    assert 'aria-label="tisdag 15 december,' in html
    assert re.search(r'class="visually-hidden">måndag</span>', html)
    booking_client.cookies.set("kontor_lang", "sv")
    cookie = booking_client.get("/book")
    assert '<html lang="sv">' in cookie.text and "Budget- och skuldrådgivning" in cookie.text


def test_the_office_page_links_to_booking(client):
    booking_client = pin_clock(client)
    html = booking_client.get("/offices/kista").text
    for code in ("eservice", "budget", "finnish"):
        assert f'href="/book?service={code}&amp;office=kista"' in html
    assert "service=consumer" not in html  # walk-in only
    link = re.search(r'<a class="button" href="/book\?service=eservice&amp;office=kista">(.*?)</a>', html)
    assert link and text_of(link.group(1)) == "Book a visit : Help with e-services"


def test_month_weeks_start_on_monday_and_blank_other_months():
    weeks = month_weeks(date(2026, 12, 1))
    assert weeks[0] == [None, *(date(2026, 12, d) for d in range(1, 7))]
    assert weeks[-1] == [
        date(2026, 12, 28),
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2026, 12, 31),
        None,
        None,
        None,
    ]
    assert all(len(week) == 7 for week in weeks) and len(month_weeks(date(2021, 2, 1))) == 4
