"""The walk-in's text message when their turn is near: which tickets get one (a table of queues), once
only, also when counters call in between and when several workers look at once; the text itself; the
number left on the ticket's page or given at the front desk.

The clock is Tuesday 2026-12-15 in Stockholm: Kista is open (see tests/factories.py and
tests/queue/steps.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from tests.conftest import run_with_engine
from tests.desk.queue_support import HTMX, OPEN_NOW, LiveDesk, all_tickets
from tests.helpers import logged_in, post_form
from tests.queue.steps import NOW, call, counter, issue, stored, ticket_events

from kontor.audit.models import Channel
from kontor.db.engine import create_engine, writer
from kontor.i18n import current_locale
from kontor.notify.models import OutboxMessage
from kontor.offices.services import office_by_slug
from kontor.queue.alerts import (
    KIND,
    KIND_LABELS,
    SMS_LENGTH,
    PhoneError,
    alert_text,
    check_phone,
    queue_ticket_alerts,
)
from kontor.queue.models import Ticket, TicketEvent, TicketStatus
from kontor.queue.tickets import issue_ticket, issue_walk_in

DISPLAY = "http://127.0.0.1:8000/offices/kista/display"


def _phone(place: int) -> str:
    """A number of its own for the ticket at ``place`` (1-based), as it is stored."""
    return f"07012345{place:02d}"


def _with(settings, ahead: int):  # type: ignore[no-untyped-def]
    return dataclasses.replace(settings, ticket_alert_ahead=ahead)


async def _messages(read_session) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        query = select(OutboxMessage).where(OutboxMessage.kind == KIND).order_by(OutboxMessage.id)
        return list(await db.scalars(query))


# -- which tickets are texted -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class T:
    """A ticket of the table: issued a minute after the one before it (yesterday, if so marked)."""

    service: str = "eservice"
    phone: bool = True
    alerted: bool = False
    status: str = TicketStatus.WAITING.value
    yesterday: bool = False
    purged: bool = False


W, NO_PHONE, TEXTED, CONSUMER = T(), T(phone=False), T(alerted=True), T("consumer")
YESTERDAY, PURGED = T(yesterday=True), T(purged=True)
CALLED, SERVED = T(status="called"), T(status="served")
NO_SHOW, CANCELLED, CLOSED = T(status="no_show"), T(status="cancelled"), T(status="closed")
QUEUES = [
    # (what the queue shows, its tickets in the order issued, ticket_alert_ahead, the places texted)
    ("six waiting, three ahead at most", [W] * 6, 3, {1, 2, 3, 4}),
    ("one ahead at most", [W] * 6, 1, {1, 2}),
    ("fewer waiting than the limit", [W] * 2, 10, {1, 2}),
    ("turned off", [W] * 6, 0, set()),
    ("only tickets with a number", [NO_PHONE, W, NO_PHONE, NO_PHONE, W, W], 3, {2}),
    ("texted once only", [TEXTED, W, TEXTED, W, W, W], 3, {2, 4}),
    ("called and served left the line", [CALLED, SERVED, W, W, W, W, W], 3, {3, 4, 5, 6}),
    ("finished tickets", [NO_SHOW, CANCELLED, CLOSED, W], 3, {4}),
    ("yesterday's ticket neither counts nor is texted", [YESTERDAY, W, W, W], 1, {2, 3}),
    ("each service its own line", [CONSUMER, CONSUMER, CONSUMER, W, CONSUMER, W], 1, {1, 2, 4, 6}),
    ("a purged ticket", [PURGED, W, W], 3, {2, 3}),
]


async def _queue(write_session, city, tickets: list[T]) -> list[int]:  # type: ignore[no-untyped-def]
    """Issue ``tickets`` at Kista's desk and set them up as the table says; their ids in order."""
    ids = []
    async with write_session() as db, db.begin():
        for place, spec in enumerate(tickets, start=1):
            when = NOW - timedelta(minutes=len(tickets) - place) - timedelta(days=int(spec.yesterday))
            ticket, _token = await issue_ticket(
                db, office=city.kista, service=city.services[spec.service], now=when,
                channel=Channel.DESK, actor="desk",
            )  # fmt: skip
            values: dict[str, Any] = {"status": spec.status}
            if spec.phone:
                values["phone"] = _phone(place)
            if spec.alerted:
                values["alerted_at"] = NOW - timedelta(hours=1)
            if spec.purged:
                values["purged_at"] = NOW - timedelta(hours=1)
            await db.execute(update(Ticket).where(Ticket.id == ticket.id).values(**values))
            ids.append(ticket.id)
    return ids


@pytest.mark.parametrize(
    ("tickets", "ahead", "texted"), [case[1:] for case in QUEUES], ids=[c[0] for c in QUEUES]
)
async def test_the_tickets_near_their_turn_get_one_text_each(
    city, settings, write_session, read_session, tickets, ahead, texted
):  # type: ignore[no-untyped-def]
    ids = await _queue(write_session, city, tickets)
    queued = await queue_ticket_alerts(write_session, _with(settings, ahead), NOW)

    assert queued == len(texted)
    messages = await _messages(read_session)
    assert sorted(m.recipient for m in messages) == sorted(_phone(place) for place in texted)
    for message in messages:
        assert (message.channel, message.office_id, message.booking_id) == ("sms", city.kista.id, None)
        assert (message.status, message.language, message.next_attempt_at) == ("pending", "sv", NOW)
    for place, ticket_id in enumerate(ids, start=1):
        ticket = await stored(read_session, ticket_id)
        if place in texted:
            assert ticket.alerted_at == NOW
            assert ticket.code in next(m.body for m in messages if m.recipient == _phone(place))
            (event,) = [e for e in await ticket_events(read_session, ticket_id) if e.action == "alerted"]
            assert (event.channel, event.actor, event.at) == ("system", "system", NOW)
        else:
            assert ticket.alerted_at != NOW
    # The next round finds nothing new: each ticket is texted once.
    assert await queue_ticket_alerts(write_session, _with(settings, ahead), NOW + timedelta(seconds=5)) == 0
    assert len(await _messages(read_session)) == len(texted)


async def test_calls_at_a_counter_bring_a_ticket_into_range_and_it_is_texted_once(
    city, settings, write_session, read_session
):  # type: ignore[no-untyped-def]
    tickets = [await issue(write_session, city, now=NOW - timedelta(minutes=10 - n)) for n in range(5)]
    last = tickets[-1]
    async with write_session() as db, db.begin():
        await db.execute(update(Ticket).where(Ticket.id == last.id).values(phone=_phone(5)))
    desk = await counter(read_session, city)
    two_ahead = _with(settings, 2)

    rounds = []
    for minute in range(5):
        at = NOW + timedelta(minutes=minute)
        rounds.append(await queue_ticket_alerts(write_session, two_ahead, at))
        called = await call(write_session, city, desk, now=at)
        assert called is not None and called.id == tickets[minute].id
    # Four ahead, three, then two: texted; one and none: already texted.
    assert rounds == [0, 0, 1, 0, 0]
    (message,) = await _messages(read_session)
    assert (
        message.recipient == _phone(5) and "A005, 2 personer före dig." in message.body
    )  # Swedish: the office default
    actions = [event.action for event in await ticket_events(read_session, last.id)]
    assert actions == ["issued", "alerted", "called"]


WORKERS = 4
ROUNDS = 3


async def test_workers_racing_send_one_text_per_ticket(city, settings, write_session, read_session):  # type: ignore[no-untyped-def]
    engines = [create_engine(settings) for _ in range(WORKERS)]
    makers = [async_sessionmaker(writer(engine), expire_on_commit=False) for engine in engines]
    everyone = _with(settings, 50)
    try:
        for round_ in range(ROUNDS):
            await _queue(write_session, city, [W] * 6)
            at = NOW + timedelta(seconds=round_)
            counts = await asyncio.gather(*(queue_ticket_alerts(maker, everyone, at) for maker in makers))
            assert sum(counts) == 6, counts
    finally:
        for engine in engines:
            await engine.dispose()
    messages = await _messages(read_session)
    assert len(messages) == 6 * ROUNDS
    async with read_session() as db:
        tickets = list((await db.scalars(select(Ticket))).unique())
        alerted = list(await db.scalars(select(TicketEvent.ticket_id).where(TicketEvent.action == "alerted")))
    assert all(ticket.alerted_at is not None for ticket in tickets)
    assert sorted(alerted) == sorted(ticket.id for ticket in tickets)  # one "alerted" each


@pytest.mark.parametrize(("language", "written_in"), [(None, "sv"), ("en", "en"), ("fi", "fi"), ("ar", "sv")])
async def test_the_text_is_in_the_ticket_s_language_or_the_default(
    city, settings, write_session, read_session, language, written_in
):  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        ticket, _token = await issue_ticket(
            db, office=city.kista, service=city.services["eservice"], now=NOW,
            channel=Channel.DESK, actor="desk", language=language,
        )  # fmt: skip
        ticket.phone = "+46701234567"
    assert await queue_ticket_alerts(write_session, settings, NOW) == 1
    (message,) = await _messages(read_session)
    assert (message.language, message.recipient) == (written_in, "+46701234567")
    assert "A001" in message.body and len(message.body) <= SMS_LENGTH
    if written_in == "en":
        assert message.body == (
            "Medborgarkontor Kista: ticket A001, you are next. Please come back to the waiting room. "
            f"Follow the calls: {DISPLAY}"
        )


# -- the text ---------------------------------------------------------------------------------------


@pytest.fixture
def english():  # type: ignore[no-untyped-def]
    token = current_locale.set("en")
    yield
    current_locale.reset(token)


@pytest.mark.parametrize(
    ("ahead", "words"),
    [
        (0, "ticket A012, you are next."),
        (1, "ticket A012, 1 person ahead of you."),
        (3, "ticket A012, 3 people ahead of you."),
    ],
)
def test_the_text_says_how_many_are_ahead(english, ahead, words):  # type: ignore[no-untyped-def]
    text = alert_text("Kista", "A012", ahead, DISPLAY)
    assert text.startswith(f"Kista: {words} Please come back to the waiting room.")
    assert text.endswith(f"Follow the calls: {DISPLAY}")
    assert text.isascii()  # the GSM alphabet: no dash that would halve a text message's length


def test_a_long_name_gives_up_the_link_first_then_shortens(english):  # type: ignore[no-untyped-def]
    name = "Medborgarkontor Rinkeby-Kista med Husby, Akalla och Hjulsta"
    without_link = alert_text(name, "A012", 3, "https://" + "x" * 80)
    assert without_link.startswith(name) and "Follow the calls" not in without_link
    shortened = alert_text(name * 3, "A1000", 12, "https://" + "x" * 80)
    assert shortened.startswith(name[:23] + "…: ticket A1000") and len(shortened) <= SMS_LENGTH


@given(
    office=st.text(min_size=1, max_size=200),
    code=st.from_regex(r"[A-Z][0-9]{3,4}", fullmatch=True),
    ahead=st.integers(0, 99),
    link=st.one_of(st.none(), st.text(max_size=120)),
)
def test_every_text_fits_one_message_and_names_the_ticket(office, code, ahead, link):  # type: ignore[no-untyped-def]
    token = current_locale.set("en")
    try:
        text = alert_text(office, code, ahead, link)
    finally:
        current_locale.reset(token)
    assert len(text) <= SMS_LENGTH and f"ticket {code}," in text


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("070-123 45 67", "0701234567"),
        ("  0701234567 ", "0701234567"),
        ("+46 70 123 45 67", "+46701234567"),
        ("+46 (0)70-123 45 67", "+46701234567"),
        ("0046 70 123 45 67", "+46701234567"),
        ("+358 40 123 4567", "+358401234567"),
        ("(08) 123 456", "08123456"),
    ],
)
def test_a_number_is_kept_in_one_spelling(typed, kept):  # type: ignore[no-untyped-def]
    assert check_phone(typed) == kept


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter your mobile number."),
        ("   ", "Enter your mobile number."),
        ("12345", "Enter a valid phone number, like 070-123 45 67."),
        ("070 123 45 67 ring after 5", "Enter a valid phone number, like 070-123 45 67."),
        ("anna@example.se", "Enter a valid phone number, like 070-123 45 67."),
        ("0" * 21, "Enter a valid phone number, like 070-123 45 67."),
        ("٠٧٠١٢٣٤٥٦٧", "Enter a valid phone number, like 070-123 45 67."),
    ],
)
def test_what_is_not_a_number_is_refused(typed, message):  # type: ignore[no-untyped-def]
    with pytest.raises(PhoneError) as refused:
        check_phone(typed)
    assert refused.value.message == message


def test_the_outbox_names_the_kind():
    assert KIND_LABELS == {"ticket_alert": "Your turn is near"}


# -- the ticket's page ------------------------------------------------------------------------------


@pytest.fixture
def run(settings):  # type: ignore[no-untyped-def]
    return lambda work: run_with_engine(settings, work)


@pytest.fixture
def ticket_page(app, city, run):  # type: ignore[no-untyped-def]
    """A walk-in ticket waiting at Kista, the app's clock on it: its page's address."""
    app.state.clock = lambda: OPEN_NOW

    async def work(db):  # type: ignore[no-untyped-def]
        office = await office_by_slug(db, "kista")
        _ticket, token = await issue_walk_in(
            db, office=office, service_code="eservice", now=OPEN_NOW, channel=Channel.DESK, actor="desk"
        )
        return token

    return f"/tickets/{run(work)}"


def _ticket(run) -> Ticket:  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        return (await db.scalars(select(Ticket))).unique().one()

    return run(work)  # type: ignore[no-any-return]


def _actions(run) -> list[tuple[str, str, str, dict]]:  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        events = await db.scalars(select(TicketEvent).order_by(TicketEvent.id))
        return [(e.action, e.channel, e.actor, e.changes) for e in events]

    return run(work)  # type: ignore[no-any-return]


def _alert_part(html: str) -> str:
    found = re.search(r'<section class="panel ticket-panel ticket-alert".*?</section>', html, re.S)
    return found.group(0) if found else ""


def test_the_page_offers_the_text_message(client, ticket_page):  # type: ignore[no-untyped-def]
    part = _alert_part(client.get(ticket_page).text)
    assert "Text me when it is nearly my turn" in part
    assert f'action="{ticket_page}/phone"' in part and 'name="_csrf_token"' in part
    assert '<label for="ticket-phone">Mobile number</label>' in part
    assert 'type="tel" id="ticket-phone" name="phone"' in part and 'autocomplete="tel"' in part
    assert "when 3 people are ahead of you" in part


def test_a_number_left_on_the_page_is_kept_and_can_be_removed(client, ticket_page, run):  # type: ignore[no-untyped-def]
    response = post_form(client, f"{ticket_page}/phone", {"phone": "070-123 45 67"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{ticket_page}?done=phone-saved"
    assert response.headers["cache-control"] == "no-store"
    assert _ticket(run).phone == "0701234567"
    page = client.get(response.headers["location"]).text
    part = _alert_part(page)
    assert "Thank you: we will send you a text message when your turn is near." in part
    assert "We will text you when 3 people are ahead of you." in part and "Number ending in 67." in part
    assert "0701234567" not in page and "070-123" not in page  # only the last two digits
    assert f'action="{ticket_page}/phone/remove"' in part and 'id="ticket-phone"' not in part

    removed = post_form(client, f"{ticket_page}/phone/remove")
    assert removed.status_code == 303 and removed.headers["location"] == f"{ticket_page}?done=phone-removed"
    assert _ticket(run).phone is None
    again = _alert_part(client.get(removed.headers["location"]).text)
    assert "Your number is removed." in again and 'id="ticket-phone"' in again
    assert _actions(run)[1:] == [
        ("phone_added", "web", "resident", {"phone": "added"}),
        ("phone_removed", "web", "resident", {"phone": "removed"}),
    ]


@pytest.mark.parametrize("language", ["fi", "en"])
def test_the_text_comes_in_the_language_the_number_was_left_in(client, ticket_page, run, language):  # type: ignore[no-untyped-def]
    assert _ticket(run).language is None  # the desk chose none
    response = post_form(
        client, f"{ticket_page}/phone", {"phone": "0701234567"}, headers={"Accept-Language": language}
    )
    assert response.status_code == 303
    assert _ticket(run).language == language


@pytest.mark.parametrize(
    ("typed", "language", "message"),
    [
        ("12ab", "en", "Enter a valid phone number, like 070-123 45 67."),
        ("", "en", "Enter your mobile number."),
        ("12ab", "sv", "Ange ett giltigt telefonnummer, till exempel 070-123 45 67."),
        ("12ab", "fi", "Anna kelvollinen puhelinnumero, esimerkiksi 070-123 45 67."),
    ],
)
def test_a_bad_number_is_refused_in_the_page_s_language(client, ticket_page, run, typed, language, message):  # type: ignore[no-untyped-def]
    response = post_form(
        client, f"{ticket_page}/phone", {"phone": typed}, headers={"Accept-Language": language}
    )
    assert response.status_code == 422
    assert f'<html lang="{language}"' in response.text
    part = _alert_part(response.text)
    assert 'role="alert"' in part and f'<a href="#ticket-phone">{message}</a>' in part
    assert f'<p class="error-text" id="ticket-phone-error">{message}</p>' in part
    assert 'aria-invalid="true"' in part and f'value="{typed}"' in part
    assert _ticket(run).phone is None and len(_actions(run)) == 1


def test_a_ticket_no_longer_waiting_takes_no_number(client, ticket_page, run):  # type: ignore[no-untyped-def]
    async def called(db):  # type: ignore[no-untyped-def]
        await db.execute(update(Ticket).values(status="called", called_at=OPEN_NOW))

    run(called)
    assert _alert_part(client.get(ticket_page).text) == ""
    response = post_form(client, f"{ticket_page}/phone", {"phone": "0701234567"})
    assert response.status_code == 409
    assert escape("This ticket is not in today's queue any more.") in response.text
    assert _ticket(run).phone is None


def test_no_number_is_taken_where_no_text_is_sent(app, client, ticket_page, run, settings):  # type: ignore[no-untyped-def]
    app.state.settings = _with(settings, 0)
    assert _alert_part(client.get(ticket_page).text) == ""
    response = post_form(client, f"{ticket_page}/phone", {"phone": "0701234567"})
    assert response.status_code == 409 and "does not send text messages" in response.text
    assert _ticket(run).phone is None


def test_the_form_needs_its_csrf_token(client, ticket_page, run):  # type: ignore[no-untyped-def]
    response = client.post(f"{ticket_page}/phone", data={"phone": "0701234567"}, follow_redirects=False)
    assert response.status_code == 403
    assert _ticket(run).phone is None


def test_an_unknown_ticket_is_not_found(client, ticket_page):  # type: ignore[no-untyped-def]
    for path in ("/tickets/no-such-token/phone", "/tickets/no-such-token/phone/remove"):
        assert post_form(client, path, {"phone": "0701234567"}).status_code == 404


def test_once_texted_the_page_says_so(client, ticket_page, settings):  # type: ignore[no-untyped-def]
    post_form(client, f"{ticket_page}/phone", {"phone": "0701234567"})

    async def work():  # type: ignore[no-untyped-def]
        engine = create_engine(settings)
        try:
            maker = async_sessionmaker(writer(engine), expire_on_commit=False)
            return await queue_ticket_alerts(maker, settings, OPEN_NOW)
        finally:
            await engine.dispose()

    assert asyncio.run(work()) == 1
    part = _alert_part(client.get(ticket_page).text)
    assert "We have sent you a text message: your turn is near." in part and "Remove my number" in part


# -- the front desk ---------------------------------------------------------------------------------


def _desk_issue(client, htmx: bool = False, **data):  # type: ignore[no-untyped-def]
    form = {"service": "eservice"} | data
    return post_form(client, "/desk/kista/tickets", form, headers=HTMX if htmx else None)


@pytest.fixture
def desk(app, client):  # type: ignore[no-untyped-def]
    app.state.clock = lambda: OPEN_NOW
    return logged_in(client, "staff")


@pytest.mark.parametrize("htmx", [False, True])
def test_the_desk_issues_a_ticket_with_a_number(desk, run, htmx):  # type: ignore[no-untyped-def]
    response = _desk_issue(desk, htmx=htmx, phone="+46 70 123 45 67")
    assert response.status_code == (200 if htmx else 303)
    (ticket,) = all_tickets(run)
    assert (ticket.code, ticket.phone, ticket.channel) == ("A001", "+46701234567", "desk")
    assert [(a, c, actor) for a, c, actor, _changes in _actions(run)] == [
        ("issued", "desk", "staff"),
        ("phone_added", "desk", "staff"),
    ]


def test_the_desk_issues_without_a_number_as_before(desk, run):  # type: ignore[no-untyped-def]
    assert _desk_issue(desk, phone="").status_code == 303
    (ticket,) = all_tickets(run)
    assert ticket.phone is None and [a[0] for a in _actions(run)] == ["issued"]


def test_a_bad_number_at_the_desk_issues_nothing(desk, run):  # type: ignore[no-untyped-def]
    message = "Enter a valid phone number, like 070-123 45 67."
    response = _desk_issue(desk, phone="070-ABC", language="en")
    assert response.status_code == 422
    field = response.text.split('id="desk-phone-field"')[1].split("</div>")[0]
    assert f'<p class="error-text" id="desk-phone-error">{message}</p>' in field
    assert 'value="070-ABC"' in field and 'aria-invalid="true"' in field
    assert 'role="alert"' in response.text and '<option value="en" selected>' in response.text
    by_htmx = _desk_issue(desk, htmx=True, phone="070-ABC")
    assert by_htmx.status_code == 422 and message in by_htmx.text and "<html" not in by_htmx.text
    assert all_tickets(run) == []


def test_the_desk_s_number_field(desk, app, settings):  # type: ignore[no-untyped-def]
    page = desk.get("/desk/kista").text
    field = page.split('id="desk-phone-field"')[1].split("</div>")[0]
    # Inside the issuing form, kept by the live swaps, never filled in by the browser from before.
    form = page.index('id="desk-issue"')
    assert form < page.index('id="desk-phone"') < page.index("</form>", form)
    assert 'hx-preserve="true"' in field and 'autocomplete="off"' in field and 'type="tel"' in field
    assert "The resident gets one text message when 3 people are ahead of them." in field
    app.state.settings = _with(settings, 0)
    assert 'id="desk-phone"' not in desk.get("/desk/kista").text


def test_a_number_is_not_kept_where_no_text_is_sent(desk, app, run, settings):  # type: ignore[no-untyped-def]
    app.state.settings = _with(settings, 0)
    assert _desk_issue(desk, phone="0701234567").status_code == 303
    (ticket,) = all_tickets(run)
    assert ticket.phone is None


async def test_the_live_desk_keeps_the_number_field(settings, city, client):  # type: ignore[no-untyped-def]
    logged_in(client, "staff")
    async with LiveDesk(settings) as live:
        live.app.state.clock = lambda: OPEN_NOW
        async with live.stream("/desk/kista/events", client) as sse:
            body = await sse.read_until("event: waiting")
    services = body.split("event: services")[1].split("event: waiting")[0]
    assert 'id="desk-phone-field" hx-preserve="true"' in services and 'value=""' in services
