"""The agent console, ``/agent``: who may open it, the screen pop with the caller's bookings and
contacts (audited), the search across offices with walk-in waits and notes, logging a call without a
visit, and the page in Swedish. Booking for a caller is in test_agent_booking.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from kontor.accounts.models import User
from kontor.audit.models import Channel
from kontor.contacts.console import ConsoleQuery, mask_email
from kontor.contacts.models import Contact
from kontor.contacts.services import log_contact
from kontor.offices.models import Counter, Office, OfficeService, Service
from tests.conftest import run_with_engine
from tests.contacts.agent_support import (
    CALLER,
    KISTA_NINE,
    NOW,
    SEARCH,
    STOCKHOLM,
    audit_entries,
    book_for,
    counts,
    offered_slots,
    pin_clock,
    rows,
    set_notes,
    text_of,
    walk_ins,
)
from tests.helpers import logged_in, post_form

NOTES = 'Handles housing questions.\nArabic on Tuesdays. <script>alert("x")</script>'


# -- who may use it ---------------------------------------------------------------------------------


def test_only_agents_and_admins_open_the_console(client):
    pin_clock(client)
    anonymous = client.get("/agent?phone=0701234567", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Fagent%3Fphone%3D0701234567"
    for username, status in (("staff", 403), ("manager", 403), ("agent", 200), ("admin", 200)):
        client.cookies.clear()
        assert logged_in(client, username).get("/agent").status_code == status, username


def test_office_staff_cannot_post_to_the_console(client, settings):
    logged_in(pin_clock(client), "staff")
    before = counts(settings)
    for path in ("/agent/bookings", "/agent/contacts"):
        response = post_form(client, path, {"category": "other", "outcome": "solved", "summary": "x"})
        assert response.status_code == 403
    assert counts(settings) == before


def test_every_console_answer_is_kept_out_of_caches(client, settings):
    reference = book_for(settings)
    logged_in(pin_clock(client), "agent")
    pages = [
        client.get(f"/agent?phone={CALLER}&service=eservice"),
        client.get(f"/agent/bookings/{reference}"),
    ]
    logged = post_form(
        client, "/agent/contacts", {"category": "other", "outcome": "solved", "summary": "Hours"}
    )
    assert logged.status_code == 303
    assert [answer.headers["cache-control"] for answer in (*pages, logged)] == ["no-store"] * 3


def test_the_staff_home_leads_agents_and_admins_to_the_console(client):
    for username, shown in (("agent", True), ("admin", True), ("staff", False)):
        client.cookies.clear()
        html = logged_in(client, username).get("/staff").text
        assert ('href="/agent"' in html) is shown, username


# -- the caller -------------------------------------------------------------------------------------


def _log_earlier_call(settings, **values):  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        agent = await db.scalar(select(User).where(User.username == "agent"))
        kista = await db.scalar(select(Office.id).where(Office.slug == "kista"))
        contact = await log_contact(
            db, agent=agent, channel=Channel.PHONE, category="housing",
            outcome="callback", summary="Asked about rent arrears", office_id=kista, phone=CALLER,
            now=NOW - timedelta(days=3), settings=settings, **values,
        )  # fmt: skip
        return contact.id

    return run_with_engine(settings, work)


def test_a_screen_pop_shows_the_callers_bookings_and_contacts(client, settings):
    reference = book_for(settings, email="anna@example.se")
    other = book_for(
        settings, phone="070-999 99 99", name="Someone Else", start=KISTA_NINE + timedelta(minutes=20)
    )
    _log_earlier_call(settings)
    logged_in(pin_clock(client), "agent")
    page = client.get("/agent", params={"phone": "+46701234567"})
    assert page.status_code == 200
    text = text_of(page.text)
    assert f'href="/agent/bookings/{reference}"' in page.text
    assert "Tuesday 15 December 09:00 · Help with e-services · Medborgarkontor Kista" in text
    assert "Booked by: Online · a…@example.se" in text and "anna@example.se" not in page.text
    assert "Housing · Call-back requested · Medborgarkontor Kista" in text
    assert "Asked about rent arrears" in text
    # Only the caller's own data.
    assert other not in page.text and "Someone Else" not in page.text


def test_every_lookup_is_audited_without_the_number(client, settings):
    reference = book_for(settings)
    contact_id = _log_earlier_call(settings)
    logged_in(pin_clock(client), "agent")
    client.get("/agent", params={"phone": CALLER})
    client.get("/agent", params={"reference": reference.lower()})
    entries = audit_entries(settings, "caller.lookup")
    assert [entry.changes["searched_by"] for entry in entries] == [["phone"], ["reference"]]
    assert entries[0].changes["references"] == [reference] and entries[0].changes["contacts"] == [contact_id]
    assert all(entry.actor == "agent" and entry.channel == "phone" for entry in entries)
    for entry in entries:
        assert "1234567" not in str(entry.changes) and "123 45 67" not in str(entry.changes)


def test_a_caller_without_bookings_or_contacts_is_told_so(client, settings):
    logged_in(pin_clock(client), "agent")
    text = text_of(client.get("/agent", params={"phone": "08-555 123 45"}).text)
    assert "No bookings found for this caller." in text
    assert "No contacts in the last 90 days." in text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"phone": "call me"}, "Enter a valid phone number, like 070-123 45 67."),
        ({"reference": "NOT-A-REF"}, "Enter a booking reference like ACDE-4779."),
    ],
)
def test_a_lookup_that_cannot_be_made_says_why_and_leaves_no_audit(client, settings, params, message):
    logged_in(pin_clock(client), "agent")
    page = client.get("/agent", params=params)
    assert page.status_code == 200
    assert message in page.text and 'aria-invalid="true"' in page.text
    assert audit_entries(settings, "caller.lookup") == []


# -- the search across offices ----------------------------------------------------------------------


def test_the_search_lists_the_earliest_times_across_offices_in_start_order(client):
    logged_in(pin_clock(client), "agent")
    slots = offered_slots(client.get(SEARCH).text)
    assert len(slots) == 12
    starts = [start.astimezone(UTC) for _office, start in slots]
    assert starts == sorted(starts)
    # Two hours' notice: from 12:40 today, at Bromma and Tensta side by side (by office name).
    assert slots[:2] == [
        ("bromma", NOW.replace(hour=12, minute=40)),
        ("tensta", NOW.replace(hour=12, minute=40)),
    ]
    assert {office for office, _start in slots} == {"bromma", "tensta"}


def test_near_a_district_only_its_offices_are_searched(client):
    logged_in(pin_clock(client), "agent")
    page = client.get(SEARCH + "&district=bromma")
    assert {office for office, _start in offered_slots(page.text)} == {"bromma"}
    assert "Medborgarkontor Kista" not in text_of(page.text).split("Offices with")[1]


def test_each_office_shows_its_walk_in_wait_hours_and_notes(client, settings):
    walk_ins(settings, "kista", 2)
    set_notes(settings, "kista", NOTES)
    logged_in(pin_clock(client), "agent")
    page = client.get(SEARCH)
    text = text_of(page.text)
    # Two ahead, 20 minutes each, no counter staffed yet (counted as one).
    assert "Walk in now: about 40 minutes at Medborgarkontor Kista (2 waiting)" in text
    assert "Walk in now: less than a minute at Medborgarkontor Tensta (0 waiting)" in text
    assert "Today: 09:00–12:00, 13:00–17:00" in text and "Open now, until 12:00" in text
    # The notes as text: line breaks kept (pre-line), markup escaped.
    assert (
        "Handles housing questions.\nArabic on Tuesdays. &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
        in page.text
    )
    assert "<script>alert" not in page.text
    assert "Swedish, English, Finnish, Arabic" in text and "Hiss och hörslinga." in text


def test_an_office_closed_for_lunch_or_without_walk_in_for_the_service_says_so(client):
    logged_in(pin_clock(client, NOW.replace(hour=12, minute=30)), "agent")
    text = text_of(client.get(SEARCH).text)
    assert "Walk-in at Medborgarkontor Kista: closed now." in text
    assert "Walk in now: less than a minute at Medborgarkontor Bromma" in text
    text = text_of(client.get("/agent?service=budget").text)
    assert "No walk-in for this service at Medborgarkontor Bromma." in text


def _keep_all_seats_for_the_phone(settings, office: str) -> None:  # type: ignore[no-untyped-def]
    async def work(db) -> None:  # type: ignore[no-untyped-def]
        office_id = select(Office.id).where(Office.slug == office).scalar_subquery()
        service_id = select(Service.id).where(Service.code == "eservice").scalar_subquery()
        await db.execute(
            update(OfficeService)
            .where(OfficeService.office_id == office_id, OfficeService.service_id == service_id)
            .values(phone_seats=1, phone_release_hours=0)  # kept until the slot begins
        )

    run_with_engine(settings, work)


def test_agents_see_the_seats_kept_for_the_phone(client, settings):
    _keep_all_seats_for_the_phone(settings, "tensta")
    pin_clock(client)
    public = client.get("/api/v1/availability", params={"service": "eservice", "limit": 12}).json()
    assert "tensta" not in {slot["office"] for slot in public}
    logged_in(client, "agent")
    assert ("tensta", NOW.replace(hour=12, minute=40)) in offered_slots(client.get(SEARCH).text)


def test_htmx_gets_the_results_alone_and_no_lookup(client, settings):
    logged_in(pin_clock(client), "agent")
    headers = {"HX-Request": "true", "HX-Target": "agent-results"}
    response = client.get(SEARCH + "&district=bromma&phone=" + CALLER, headers=headers)
    assert response.status_code == 200
    assert (
        "<h1>" not in response.text
        and "Earliest free times for Help with e-services near Bromma" in response.text
    )
    assert audit_entries(settings, "caller.lookup") == []
    # The whole page marks the results as a live region for the swap.
    assert 'id="agent-results" aria-live="polite"' in client.get(SEARCH).text


def test_an_offices_details_open_on_the_console(client, settings):
    set_notes(settings, "tensta", "Somali interpreter on site.")
    logged_in(pin_clock(client), "agent")
    page = client.get("/agent", params={"office": "tensta", "phone": CALLER})
    section = text_of(page.text.split('id="office-details"')[1])
    assert "Medborgarkontor Tensta" in section and "Somali interpreter on site." in section
    assert "Help with e-services: less than a minute" in section and "Directions" in section


# -- a call without a visit -------------------------------------------------------------------------


def _call(**values: str) -> dict[str, str]:
    return {
        "category": "benefits",
        "outcome": "solved",
        "summary": "Explained the housing allowance.",
    } | values


def test_a_call_back_lands_in_the_offices_list(client, settings):
    from kontor.contacts.services import open_callbacks

    logged_in(pin_clock(client), "agent")
    form = _call(outcome="callback", office="kista", phone=CALLER, callback_due_at="2026-12-15T09:30")
    response = post_form(client, "/agent/contacts", form | {"console": "service=eservice"})
    assert response.status_code == 303
    assert response.headers["location"] == "/agent?phone=070-123+45+67&logged=callback&at=kista"
    assert "Call-back requested from Medborgarkontor Kista." in client.get(response.headers["location"]).text

    async def work(db):  # type: ignore[no-untyped-def]
        kista = await db.scalar(select(Office.id).where(Office.slug == "kista"))
        return await open_callbacks(db, kista)

    (callback,) = run_with_engine(settings, work)
    assert callback.phone == CALLER and callback.summary == "Explained the housing allowance."
    assert callback.callback_due_at.astimezone(STOCKHOLM) == datetime(2026, 12, 15, 9, 30, tzinfo=STOCKHOLM)
    assert callback.channel == "phone" and callback.service_id is not None


def test_a_call_solved_on_the_phone_is_logged(client, settings):
    logged_in(pin_clock(client), "agent")
    response = post_form(client, "/agent/contacts", _call(phone=CALLER))
    assert client.get(response.headers["location"]).text.count("Call logged.") == 1
    (contact,) = rows(settings, Contact)
    assert (contact.outcome, contact.category, contact.office_id, contact.callback_status) == (
        "solved", "benefits", None, None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"summary": "  "}, "summary", "Write a short summary of what the call was about."),
        ({"outcome": "visit_booked"}, "outcome", "Choose how the call ended."),
        ({"outcome": "callback", "phone": CALLER}, "office", "Choose the office that takes over the case."),
        ({"outcome": "callback", "office": "kista"}, "phone",
         "Enter the number the office should call back."),
        ({"outcome": "callback", "office": "kista", "phone": CALLER, "callback_due_at": "2026-12-14T09:00"},
         "callback_due_at", "The call-back time has passed. Choose a later time."),
        ({"outcome": "forwarded", "office": "atlantis"}, "office", "There is no such office."),
    ],
)  # fmt: skip
def test_a_refused_call_log_says_why_and_writes_nothing(client, settings, changes, field, message):
    logged_in(pin_clock(client), "agent")
    before = counts(settings)
    response = post_form(client, "/agent/contacts", _call(**changes))
    assert response.status_code == 422
    assert re.search(rf'id="call-{field}-error">{re.escape(message)}<', response.text), response.text
    assert counts(settings) == before
    assert audit_entries(settings, "contact.logged") == []


# -- languages and pure parts -----------------------------------------------------------------------


def test_the_console_speaks_swedish(client, settings):
    reference = book_for(settings)
    logged_in(pin_clock(client), "agent")
    swedish = {"Accept-Language": "sv"}
    page = client.get(f"{SEARCH}&phone={CALLER}", headers=swedish)
    assert page.status_code == 200
    assert '<html lang="sv">' in page.text
    text = text_of(page.text)
    assert "Hjälp med e-tjänster" in text and "måndag 14 december" in text and "Öppet nu" in text
    booking = client.get(f"/agent/bookings/{reference}", headers=swedish)
    assert booking.status_code == 200 and "tisdag 15 december" in text_of(booking.text)


@given(st.emails())
def test_a_masked_address_shows_one_letter_and_the_domain(email):
    local, _at, domain = email.partition("@")
    masked = mask_email(email)
    assert masked == f"{local[0]}…@{domain}"
    assert local[1:] == "" or local not in masked.split("@")[0]


@given(
    st.builds(
        ConsoleQuery,
        phone=st.text(max_size=40).map(str.strip),
        reference=st.text(max_size=20).map(str.strip),
        service=st.text(max_size=40).map(str.strip),
    )
)
def test_the_consoles_state_survives_a_round_trip_through_its_forms(query):
    assert ConsoleQuery.parse(query.query_string) == query


def test_the_searchs_walk_in_lines_agree_with_each_offices_queue_board(settings, city):
    """The search reads every office's walk-in line at once; the figures are those of the board."""
    from kontor.contacts.console import walk_in_lines
    from kontor.offices.directory import OfficeDirectory
    from kontor.offices.services import active_offices
    from kontor.queue.models import CounterShift, Ticket
    from kontor.queue.tickets import issue_ticket, office_day
    from kontor.queue.views import queue_snapshot

    service = city.services["eservice"]

    async def work(db):  # type: ignore[no-untyped-def]
        offices = {office.slug: office for office in await active_offices(db)}
        kista, tensta = offices["kista"], offices["tensta"]
        served = []
        for minutes in (12, 15, 25, 40):  # served earlier today, each taking this long
            ticket, _token = await issue_ticket(
                db,
                office=kista,
                service=service,
                now=NOW - timedelta(hours=1),
                channel=Channel.DESK,
                actor="desk",
            )
            served.append((ticket.id, minutes))
        for ticket_id, minutes in served:
            called = NOW - timedelta(minutes=50)
            await db.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id)
                .values(status="served", called_at=called, served_at=called + timedelta(minutes=minutes))
            )
        for office, count in ((kista, 3), (tensta, 1)):
            for _ in range(count):
                await issue_ticket(
                    db, office=office, service=service, now=NOW, channel=Channel.DESK, actor="desk"
                )
        counter = await db.scalar(select(Counter).where(Counter.office_id == kista.id, Counter.number == 1))
        db.add(
            CounterShift(
                counter_id=counter.id, office_id=kista.id, service_ids=[service.id],
                day=office_day(kista, NOW), started_at=NOW,
            )
        )  # fmt: skip
        await db.flush()
        found = await walk_in_lines(db, OfficeDirectory(), list(offices.values()), service, NOW)
        boards = {office.id: await queue_snapshot(db, office, NOW) for office in offices.values()}
        return found, boards

    found, boards = run_with_engine(settings, work)
    assert set(found) == set(boards)
    for office_id, board in boards.items():
        (line,) = [line for line in board.lines if line.service.id == service.id]
        assert (found[office_id].is_open, found[office_id].waiting, found[office_id].wait) == (
            board.is_open, line.waiting, line.wait,
        )  # fmt: skip
    kista = found[city.kista.id]
    assert kista.waiting == 3 and kista.wait.typical == 3 * 20  # median of 12, 15, 25, 40 minutes: 20
