"""Call-backs on the front desk: the contact center asks an office to call a resident back; the office's
desk lists its own open ones (oldest due first, overdue marked) and those done today, and its staff
mark them done, with a plain form or htmx. Other offices' call-backs are not found; agents do not run
desks; marking one twice records one event.

The desk's clock is Tuesday 2026-12-15 09:05 in Stockholm; the calls came in on Monday.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from tests.desk.conftest import BOOKED_AT, at
from tests.desk.queue_support import OPEN_NOW, LiveDesk
from tests.helpers import logged_in, post_form
from tests.live.sse import OpenStream

from kontor.accounts.models import User
from kontor.audit.models import AuditEntry, Channel
from kontor.contacts.models import Contact
from kontor.contacts.services import log_contact
from kontor.desk.services import DeskCallback
from kontor.offices.models import Office

DESK_CLOCK = at(15, 9, 5)
HTMX = {"HX-Request": "true", "HX-Target": "desk-callbacks"}
SCRIPT = "<script>alert('call')</script> about the rent"
ESCAPED_SCRIPT = "&lt;script&gt;alert(&#39;call&#39;)&lt;/script&gt; about the rent"


@pytest.fixture(autouse=True)
def desk_clock(app) -> None:  # type: ignore[no-untyped-def]
    app.state.clock = lambda: DESK_CLOCK


async def _request(
    db: Any, settings: Any, office: str, phone: str, summary: str, due: datetime | None, category: str
) -> int:
    agent = await db.scalar(select(User).where(User.username == "agent"))
    office_id = await db.scalar(select(Office.id).where(Office.slug == office))
    contact = await log_contact(
        db,
        agent=agent,
        channel=Channel.PHONE,
        category=category,
        outcome="callback",
        summary=summary,
        office_id=office_id,
        phone=phone,
        callback_due_at=due,
        now=BOOKED_AT,
        settings=settings,
    )
    return contact.id


# name → (office, number, summary, due (None: the default, a day after the call), category)
REQUESTS: dict[str, tuple[str, str, str, datetime | None, str]] = {
    "later": ("kista", "070-222 33 44", "Asks about the\nparking permit.", at(15, 14), "forms"),
    "overdue": ("kista", "+46 70 111 22 33", "Wants to know about housing queues.", None, "housing"),
    "script": ("kista", "08-555 000 11", SCRIPT, at(16, 10), "other"),
    "bromma": ("bromma", "070-999 88 77", "Bromma's own case.", at(15, 11), "benefits"),
}


@pytest.fixture
def callbacks(settings, city, fetch) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The call-backs of REQUESTS, by name: their contact ids."""

    async def seed(db):  # type: ignore[no-untyped-def]
        return {name: await _request(db, settings, *request) for name, request in REQUESTS.items()}

    return fetch(seed)  # type: ignore[no-any-return]


def _contact(fetch, contact_id: int) -> Contact:  # type: ignore[no-untyped-def]
    async def read(db):  # type: ignore[no-untyped-def]
        return await db.get(Contact, contact_id)

    return fetch(read)  # type: ignore[no-any-return]


def _audit(fetch, contact_id: int) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    async def read(db):  # type: ignore[no-untyped-def]
        query = select(AuditEntry).where(
            AuditEntry.entity == "contact",
            AuditEntry.entity_id == str(contact_id),
            AuditEntry.action == "callback.done",
        )
        return list(await db.scalars(query))

    return fetch(read)  # type: ignore[no-any-return]


def _section(text: str) -> str:
    return text.split('id="desk-callbacks-section"')[1].split('id="desk-bookings-section"')[0]


def _item(text: str, contact_id: int) -> str:
    return text.split(f'id="desk-callback-{contact_id}"')[1].split("</li>")[0]


def _done(client, callbacks, name: str, note: str = "", slug: str = "kista", **extra: Any):  # type: ignore[no-untyped-def]
    return post_form(client, f"/desk/{slug}/callbacks/{callbacks[name]}/done", {"note": note}, **extra)


# -- the list ------------------------------------------------------------------------------------


def test_the_desk_lists_its_own_open_call_backs_oldest_due_first(client, callbacks):
    logged_in(client, "staff")
    section = _section(client.get("/desk/kista").text)
    assert "Call-backs" in section and "3 call-backs to make" in section and "1 overdue" in section
    ids = [f'id="desk-callback-{callbacks[name]}"' for name in ("overdue", "later", "script")]
    assert [section.index(item) for item in ids] == sorted(section.index(item) for item in ids)
    assert "Bromma&#39;s own case" not in section and "070-999 88 77" not in section


def test_a_call_back_shows_whom_to_call_about_what_and_by_when(client, callbacks):
    logged_in(client, "staff")
    text = client.get("/desk/kista").text
    overdue, later = _item(text, callbacks["overdue"]), _item(text, callbacks["later"])
    # Due a day after Monday's call at 08:00: overdue on Tuesday at 09:05.
    assert "Overdue" in overdue and "Call back by 08:00" in overdue
    assert "Overdue" not in later and "Call back by 14:00" in later
    assert "Call back by Wednesday 16 December 10:00" in _item(text, callbacks["script"])
    assert '<a class="desk-callback-phone" href="tel:+46701112233">+46 70 111 22 33</a>' in overdue
    assert 'href="tel:0702223344"' in later
    assert "Housing" in overdue and "Forms and applications" in later
    # Line breaks kept in the text (white-space: pre-line), who asked and when.
    assert '<p class="handoff-summary">Asks about the\nparking permit.</p>' in later
    assert "Asked by Aino Agent, Monday 14 December 08:00" in later
    assert f'action="/desk/kista/callbacks/{callbacks["later"]}/done"' in later


@pytest.mark.parametrize(
    ("phone", "link"),
    [
        ("070-123 45 67", "tel:0701234567"),
        ("+46 70 123 45 67", "tel:+46701234567"),
        ("0046 (70) 123 45 67", "tel:0046701234567"),
        ("", ""),  # blanked after the retention period: no link
    ],
)
def test_the_number_is_a_link_to_call(phone, link):
    callback = DeskCallback(
        id=1,
        phone=phone,
        category="other",
        summary="",
        asked_by="",
        asked_at=DESK_CLOCK,
        due_at=None,
        overdue=False,
    )
    assert callback.tel == link


def test_summaries_are_escaped(client, callbacks):
    logged_in(client, "staff")
    text = client.get("/desk/kista").text
    assert ESCAPED_SCRIPT in _item(text, callbacks["script"])
    assert "<script>alert" not in text


def test_an_office_without_call_backs_says_so(client, city):
    logged_in(client, "staff")
    assert "No call-backs to make." in _section(client.get("/desk/kista").text)


# -- marking one done ----------------------------------------------------------------------------


def test_staff_mark_a_call_back_done_with_a_note(client, fetch, city, callbacks):
    logged_in(client, "staff")
    response = _done(client, callbacks, "later", "Reached her; booked a visit.")
    assert response.status_code == 303
    assert response.headers["location"] == "/desk/kista?callback=done"
    contact = _contact(fetch, callbacks["later"])
    assert contact.callback_status == "done"
    assert contact.callback_done_by_id == city.users["staff"].id
    assert contact.callback_done_at == DESK_CLOCK and contact.callback_note == "Reached her; booked a visit."
    (entry,) = _audit(fetch, callbacks["later"])
    assert (entry.actor, entry.channel, entry.office_id) == ("staff", "desk", city.kista.id)
    page = client.get(response.headers["location"]).text
    assert "The call-back was marked as done." in page
    section = _section(page)
    assert "2 call-backs to make" in section and f'id="desk-callback-{callbacks["later"]}"' not in section
    done = section.split('class="desk-callbacks-done"')[1]
    assert "1 call-back done today" in done and "Done at 09:05 by Sam Desk" in done
    assert "Reached her; booked a visit." in done


def test_htmx_gets_the_section_in_place_with_the_notice_out_of_band(client, fetch, callbacks):
    logged_in(client, "staff")
    response = _done(client, callbacks, "overdue", headers=HTMX)
    assert response.status_code == 200
    assert "<h1" not in response.text and response.headers["cache-control"] == "no-store"
    assert 'id="desk-callbacks-status" hx-swap-oob="innerHTML"' in response.text
    assert "The call-back was marked as done." in response.text
    assert f'id="desk-callback-{callbacks["overdue"]}"' not in response.text
    assert _contact(fetch, callbacks["overdue"]).callback_status == "done"


def test_done_twice_records_one_event_and_says_so_calmly(client, fetch, callbacks):
    logged_in(client, "staff")
    assert _done(client, callbacks, "later", "first").status_code == 303
    again = _done(client, callbacks, "later", "second")
    assert again.status_code == 303 and again.headers["location"] == "/desk/kista?callback=already-done"
    assert "had already been marked as done" in client.get(again.headers["location"]).text
    contact = _contact(fetch, callbacks["later"])
    assert contact.callback_note == "first"
    assert len(_audit(fetch, callbacks["later"])) == 1
    assert _done(client, callbacks, "later", headers=HTMX).status_code == 200
    assert len(_audit(fetch, callbacks["later"])) == 1


def test_a_note_too_long_is_refused_and_kept(client, fetch, callbacks):
    logged_in(client, "staff")
    note = "x" * 501
    response = _done(client, callbacks, "later", note)
    assert response.status_code == 422
    item = _item(response.text, callbacks["later"])
    assert "The note can be at most 500 characters long." in item and f'value="{note}"' in item
    htmx = _done(client, callbacks, "later", note, headers=HTMX)
    assert htmx.status_code == 422 and "at most 500 characters" in htmx.text and "<h1" not in htmx.text
    assert _contact(fetch, callbacks["later"]).callback_status == "open"


# -- who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "slug", "name", "status"),
    [
        ("manager", "kista", "later", 303),
        ("admin", "bromma", "bromma", 303),
        ("bromma_manager", "bromma", "bromma", 303),
        # Another office's call-back is not found, whichever desk it is asked through.
        ("staff", "kista", "bromma", 404),
        ("bromma_manager", "bromma", "later", 404),
        ("admin", "kista", "bromma", 404),
        ("staff", "bromma", "bromma", 403),
        ("bromma_manager", "kista", "later", 403),
        # Agents ask for call-backs; they do not run an office's desk.
        ("agent", "kista", "later", 403),
    ],
)
def test_who_may_mark_which_call_back_done(client, fetch, callbacks, username, slug, name, status):
    logged_in(client, username)
    assert _done(client, callbacks, name, slug=slug).status_code == status
    assert _contact(fetch, callbacks[name]).callback_status == ("done" if status == 303 else "open")
    assert len(_audit(fetch, callbacks[name])) == (1 if status == 303 else 0)


def test_an_unknown_or_plain_contact_is_not_found(client, fetch, settings, callbacks):
    async def solved(db):  # type: ignore[no-untyped-def]
        office_id = await db.scalar(select(Office.id).where(Office.slug == "kista"))
        contact = await log_contact(
            db,
            agent=None,
            channel=Channel.API,
            category="information",
            outcome="forwarded",
            summary="Forwarded, no call-back.",
            office_id=office_id,
            now=BOOKED_AT,
            settings=settings,
        )
        return contact.id

    forwarded = fetch(solved)
    logged_in(client, "staff")
    assert post_form(client, f"/desk/kista/callbacks/{forwarded}/done").status_code == 404
    assert post_form(client, "/desk/kista/callbacks/999999/done").status_code == 404


def test_agents_and_strangers_do_not_see_the_list(client, callbacks):
    logged_in(client, "agent")
    assert client.get("/desk/kista/callbacks", headers=HTMX).status_code == 403
    assert client.get("/desk/kista").status_code == 403


def test_the_section_refreshes_alone_for_htmx(client, callbacks):
    logged_in(client, "staff")
    response = client.get("/desk/kista/callbacks", headers=HTMX)
    assert response.status_code == 200 and "<h1" not in response.text
    assert f'id="desk-callback-{callbacks["overdue"]}"' in response.text
    assert "hx-swap-oob" not in response.text
    plain = client.get("/desk/kista/callbacks", follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == "/desk/kista"
    page = client.get("/desk/kista").text
    assert 'hx-get="/desk/kista/callbacks" hx-trigger="every 60s, sse:callbacks"' in page


async def _quiet(stream: OpenStream) -> str:
    """What the stream showed once nothing more arrives for a moment."""
    with pytest.raises(TimeoutError):
        await stream.read_until("no such text", within=0.3)
    return stream.body


async def test_a_call_back_reaches_the_desk_live_and_no_other_screen(settings, city, client):
    """The desk's stream says "callbacks" as soon as an agent's call-back commits; the waiting-room
    screen of the same office renders nothing for it."""
    logged_in(client, "staff")
    async with LiveDesk(settings) as desk:
        desk.app.state.clock = lambda: OPEN_NOW
        async with (
            desk.stream("/desk/kista/events", client) as sse,
            OpenStream(desk.app, "/offices/kista/display/events") as screen,
        ):
            await sse.read_until("event: waiting")
            before = await _quiet(screen)
            async with desk.write_session() as db, db.begin():
                await log_contact(
                    db, agent=city.users["agent"], channel=Channel.PHONE, category="housing",
                    outcome="callback", summary="Asks about a housing allowance decision.",
                    office_id=city.kista.id, phone="070-123 45 67", now=OPEN_NOW, settings=settings,
                )  # fmt: skip
            assert "event: callbacks" in await sse.read_until("event: callbacks")
            assert await _quiet(screen) == before  # nothing more on the public screen
