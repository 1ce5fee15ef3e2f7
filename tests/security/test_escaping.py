"""Script and markup typed into free-text fields is shown as text, never run (stored XSS).

A resident's booking name and every free text a colleague can type (office name, address,
accessibility and directions, service names and descriptions, district, counter and token names,
display names, closure reasons) carries one of the payloads of ``tests/security/payloads.py``.
Every page that shows them must show them escaped: the escaped form is there (so the field really
is displayed) and the raw markup is not. The JSON API carries them as plain strings, and the
booking's calendar file as plain text, without letting a line break add a property.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
from litestar.testing import TestClient
from markupsafe import escape
from sqlalchemy import select

from kontor.app import create_app
from kontor.offices.models import Counter, District, Office
from tests.conftest import ENGLISH, _settings, run_with_engine
from tests.factories import ADMIN_TOKEN, build_city
from tests.helpers import logged_in, post_form
from tests.security.payloads import (
    ATTRIBUTE_BREAK,
    JAVASCRIPT_URL,
    SCRIPT,
    TEMPLATE,
    TEXTAREA_BREAK,
    UNSAFE,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONDAY = datetime(2026, 12, 14, 10, 0, tzinfo=STOCKHOLM)
TUESDAY = datetime(2026, 12, 15, 9, 5, tzinfo=STOCKHOLM)  # Kista open, the booked visit due today

# What each field is set to: a plain word that makes the field easy to find, and a payload.
TEXT = {
    "booking name": f"Anna {SCRIPT}",
    "office name": f"Kista {ATTRIBUTE_BREAK}",
    "street": f"Gatan 1 {TEXTAREA_BREAK}",
    "city": f"Kista {TEMPLATE}",
    "phone": JAVASCRIPT_URL,
    "accessibility": f"Hiss {TEXTAREA_BREAK}",
    "directions": f"Buss {SCRIPT}",
    "district": f"Norr {SCRIPT}",
    "service name": f"E-help {ATTRIBUTE_BREAK}",
    "service description": f"About {TEXTAREA_BREAK}",
    "display name": f"Sam {SCRIPT}",
    "admin name": f"Ada {ATTRIBUTE_BREAK}",
    "closure reason": f"Inventory {SCRIPT}",
    "counter name": f"Desk {ATTRIBUTE_BREAK}",
    "token name": f"CRM {TEXTAREA_BREAK}",
}
# An address with a line break in it may not add a property to the calendar file.
BREAK_OUT = "\r\nATTENDEE:mailto:evil@example.org"
# A link whose target is script, in any attribute a browser follows or loads.
SCRIPT_LINK = re.compile(r"""(href|src|action|formaction|data)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


@dataclass
class Scene:
    client: TestClient
    jars: dict[str, httpx.Cookies]
    urls: dict[str, str]


def _ok(response: httpx.Response) -> None:
    assert response.status_code in (200, 201, 303), (
        f"{response.request.url}: {response.status_code} {response.text[:300]}"
    )
    assert "error-summary" not in response.text, (
        f"{response.request.url} refused the form: {response.text[:2000]}"
    )


@pytest.fixture(scope="module")
def scene(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    """Kista with a payload in every free-text field, a booked visit due on Tuesday morning, a
    walk-in ticket called to the renamed counter 1."""
    folder = tmp_path_factory.mktemp("escaping")
    shutil.copyfile(sqlite_template, folder / "kontor.db")
    config = _settings(f"sqlite+aiosqlite:///{folder / 'kontor.db'}", folder)
    city = run_with_engine(config, build_city)
    app = create_app(config)
    with TestClient(app, base_url="http://testserver.local") as client:
        client.headers.update(ENGLISH)
        logged_in(client, "admin")
        _ok(
            post_form(
                client, "/admin/districts", {"district_name": TEXT["district"], "district_slug": "norr"}
            )
        )

        async def ids(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
            kista = await db.scalar(select(Office).where(Office.slug == "kista"))
            counter = await db.scalar(
                select(Counter).where(Counter.office_id == kista.id, Counter.number == 1)
            )
            district = await db.scalar(select(District).where(District.slug == "norr"))
            return {"district": district.id, "counter": counter.id}

        known = run_with_engine(config, ids)
        details = {
            "name": TEXT["office name"],
            "street": TEXT["street"],
            "postal_code": "164 40",
            "city": TEXT["city"] + BREAK_OUT,
            "phone": TEXT["phone"],
            "email": "kista@example.org",
            "languages": ["sv", "en", "fi"],
            "accessibility": TEXT["accessibility"],
            "directions": TEXT["directions"],
            "timezone": "Europe/Stockholm",
            "district": str(known["district"]),
            "active": "on",
        }
        _ok(post_form(client, "/admin/offices/kista/details", details))
        service = {
            "letter": "A",
            "name_sv": TEXT["service name"],
            "name_en": TEXT["service name"],
            "name_fi": TEXT["service name"],
            "description_sv": TEXT["service description"],
            "description_en": TEXT["service description"],
            "description_fi": TEXT["service description"],
            "duration_minutes": "20",
            "bookable": "on",
            "walk_in": "on",
            "sort_order": "1",
        }
        _ok(post_form(client, "/admin/services/eservice", service))
        for user, name, role, offices in (
            ("staff", TEXT["display name"], "staff", ["kista"]),
            ("admin", TEXT["admin name"], "admin", []),
        ):
            form = {"display_name": name, "role": role, "offices": offices, "active": "on"}
            _ok(post_form(client, f"/admin/users/{city.users[user].id}", form))
        closure = {"first_day": "2026-12-17", "last_day": "2026-12-17", "reason": TEXT["closure reason"]}
        _ok(post_form(client, "/admin/offices/kista/closures", closure))
        rename = {"action": "rename", "name": TEXT["counter name"]}
        _ok(post_form(client, f"/admin/offices/kista/counters/{known['counter']}", rename))
        _ok(
            post_form(
                client, "/admin/tokens", {"name": TEXT["token name"], "user": str(city.users["agent"].id)}
            )
        )

        app.state.clock = lambda: MONDAY
        booked = client.post(
            "/api/v1/bookings",
            json={
                "office": "kista",
                "service": "eservice",
                "start": "2026-12-15T09:40:00+01:00",
                "name": TEXT["booking name"],
                "email": "anna@example.se",
                "needs": ["interpreter"],
            },
        )
        assert booked.status_code == 201, booked.text
        app.state.clock = lambda: TUESDAY
        bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        ticket = client.post("/api/v1/offices/kista/tickets", json={"service": "eservice"}, headers=bearer)
        assert ticket.status_code == 201, ticket.text
        called = client.post("/api/v1/offices/kista/counters/1/next", json={}, headers=bearer)
        assert called.status_code == 200, called.text
        reference, token = booked.json()["reference"], booked.json()["token"]
        urls = {
            "manage": f"/bookings/{reference}?token={token}",
            "ics": f"/bookings/{reference}.ics?token={token}",
            "booking": f"/api/v1/bookings/{reference}",
            "booking token": token,
            "ticket": f"/tickets/{ticket.json()['token']}",
            "ticket api": f"/api/v1/tickets/{ticket.json()['token']}",
            "staff": f"/admin/users/{city.users['staff'].id}",
        }
        yield Scene(client, {"admin": client.cookies, "anonymous": httpx.Cookies()}, urls)


def _page(scene: Scene, who: str, path: str) -> str:
    client = scene.client
    client.cookies = scene.jars[who]
    try:
        response = client.get(path.format(**scene.urls))
    finally:
        scene.jars[who] = client.cookies
    assert response.status_code == 200, f"GET {path}: {response.status_code}"
    assert response.headers["content-type"].startswith("text/html")
    return response.text


# (who, page, the fields it shows). Each field is shown, escaped, on at least one page.
PAGES = [
    ("anonymous", "/", ["office name", "district"]),
    (
        "anonymous",
        "/offices/kista",
        ["office name", "street", "accessibility", "directions", "closure reason", "service name"],
    ),
    ("anonymous", "/offices/kista/display", ["office name"]),
    ("anonymous", "{ticket}", ["office name", "service name", "counter name"]),
    ("anonymous", "/book?service=eservice&office=kista", ["office name", "service name"]),
    ("anonymous", "{manage}", ["booking name", "office name", "service name"]),
    ("admin", "/staff", ["admin name"]),
    ("admin", "/desk/kista", ["booking name", "service name"]),
    ("admin", "/counter/kista?counter=1", ["counter name", "service name"]),
    ("admin", "/admin", ["office name", "district"]),
    (
        "admin",
        "/admin/offices/kista",
        ["office name", "street", "city", "accessibility", "directions", "closure reason", "counter name"],
    ),
    ("admin", "/admin/services", ["service name"]),
    ("admin", "/admin/services/eservice", ["service name", "service description"]),
    ("admin", "/admin/users", ["display name", "admin name"]),
    ("admin", "{staff}", ["display name"]),
    ("admin", "/admin/tokens", ["token name"]),
    ("admin", "/admin/audit", ["admin name"]),
    ("admin", "/admin/outbox", []),
]


@pytest.mark.parametrize(("who", "path", "shown"), PAGES, ids=[f"{who} {path}" for who, path, _ in PAGES])
def test_pages_show_typed_markup_as_text(scene: Scene, who: str, path: str, shown: list[str]) -> None:
    html = _page(scene, who, path)
    for fragment in UNSAFE:
        at = html.find(fragment)
        assert at < 0, f"unescaped {fragment!r} on {path}: …{html[max(0, at - 200) : at + 100]}…"
    link = SCRIPT_LINK.search(html)
    assert link is None, (
        f"a javascript: link on {path}: …{html[max(0, link.start() - 200) : link.end() + 50]}…"
    )
    missing = [name for name in shown if str(escape(TEXT[name])) not in html]
    assert missing == [], f"{path} does not show {missing} (escaped)"


def test_every_field_is_checked_on_some_page() -> None:
    checked = {name for _, _, shown in PAGES for name in shown}
    assert set(TEXT) - checked <= {"phone"}, "a payload no page test looks for"


def test_the_api_carries_typed_markup_as_data(scene: Scene) -> None:
    client = scene.client
    client.cookies = httpx.Cookies()
    office = client.get("/api/v1/offices/kista")
    assert office.headers["content-type"].startswith("application/json")
    body = office.json()
    assert body["name"] == TEXT["office name"]
    assert body["address"]["street"] == TEXT["street"]
    assert body["accessibility"] == TEXT["accessibility"]
    assert body["directions"] == TEXT["directions"]
    assert body["district"]["name"] == TEXT["district"]
    assert TEXT["service name"] in [service["name"] for service in body["services"]]
    hours = client.get(
        "/api/v1/offices/kista/hours", params={"from": "2026-12-17", "to": "2026-12-17"}
    ).json()
    assert hours[0]["note"] == TEXT["closure reason"]
    booking = client.get(scene.urls["booking"], headers={"X-Booking-Token": scene.urls["booking token"]})
    assert booking.headers["content-type"].startswith("application/json")
    assert booking.json()["name"] == TEXT["booking name"]
    ticket = client.get(scene.urls["ticket api"]).json()
    assert ticket["office_name"] == TEXT["office name"]
    assert ticket["service_name"] == TEXT["service name"]


def test_the_booking_calendar_carries_typed_markup_as_text(scene: Scene) -> None:
    client = scene.client
    client.cookies = httpx.Cookies()
    response = client.get(scene.urls["ics"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert TEXT["service name"] in str(event["SUMMARY"]) and TEXT["office name"] in str(event["SUMMARY"])
    assert TEXT["office name"] in str(event["LOCATION"]) and TEXT["street"] in str(event["LOCATION"])
    assert TEXT["phone"] in str(event["DESCRIPTION"])
    assert "ATTENDEE" not in event, "a line break in the address added a property to the event"
    unfolded = response.content.decode().replace("\r\n ", "")
    assert not any(line.startswith("ATTENDEE") for line in unfolded.splitlines())
