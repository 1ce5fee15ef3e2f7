"""Cross-site requests get nowhere: forms need the CSRF token, the JSON API takes JSON only and grants
no CORS, and the cookies are HttpOnly, SameSite and (behind https) Secure. DESIGN.md, rule 8."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.app import create_app
from kontor.booking.models import Booking
from kontor.offices.models import District
from kontor.queue.models import Ticket
from kontor.settings import Settings
from tests.conftest import ENGLISH, run_with_engine
from tests.factories import build_city
from tests.helpers import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE, csrf_token, logged_in, post_form
from tests.security import access_rules as rules

# Tuesday 2026-12-15, 09:30 in Stockholm: Kista is open and takes walk-ins.
OPEN_NOW = datetime(2026, 12, 15, 8, 30, tzinfo=UTC)
# The Monday before, 08:00: Tuesday's 11:40 at Kista is free to book (its last slot of the morning).
DAY_BEFORE = datetime(2026, 12, 14, 7, 0, tzinfo=UTC)
SLOT = "2026-12-15T11:40:00+01:00"
BOOKING = {
    "office": "kista",
    "service": "eservice",
    "start": SLOT,
    "name": "Anna Andersson",
    "email": "anna@example.se",
}
API_POSTS = sorted(key for key in rules.RULES if key[0] == "POST" and key[1].startswith("/api/"))
EVIL = "https://evil.example"


def _count(settings: Settings, model: type) -> int:
    async def work(db: AsyncSession) -> int:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)

    return run_with_engine(settings, work)  # type: ignore[return-value]


def _set_cookie(response: Any, name: str) -> Any:
    """The ``Set-Cookie`` of ``name`` in ``response``, parsed (attributes in ``morsel[...]``)."""
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            return jar[name]
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


# -- forms need the token ------------------------------------------------------------------------


# The token is checked before any handler runs, the same on either database.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_form_posts_without_csrf_token_are_refused(client: TestClient) -> None:
    """Every state-changing page route, with the admin's session cookie as a cross-site form would send
    it, but without the token (or with a token of another browser): 403."""
    logged_in(client, "admin")
    # A valid token, but not this browser's: it gets a new one and the old one is someone else's.
    foreign = csrf_token(client)
    client.cookies.delete(CSRF_COOKIE)
    assert csrf_token(client) != foreign
    failures = []
    form_posts = sorted(
        (method, path)
        for method, path in rules.covered_routes(client.app)
        if method != "GET" and not path.startswith("/api/")
    )
    assert ("POST", "/admin/districts") in form_posts
    for method, path in form_posts:
        rule = rules.RULES.get((method, path), rules.Rule(rules.ADMIN))
        url = rules.fill_path(path, rule, "kista", {})
        form = dict(rule.form or {})
        for label, extra in (("no token", {}), ("another browser's token", {CSRF_FIELD: foreign})):
            response = client.request(method, url, data={**form, **extra}, follow_redirects=False)
            if response.status_code != 403:
                failures.append(f"{method} {url} with {label}: HTTP {response.status_code}")
    assert not failures, "accepted without a valid CSRF token:\n" + "\n".join(failures)
    # Still signed in: the refused POST /logout did not log the admin out.
    assert client.get("/staff").status_code == 200


@pytest.mark.parametrize(
    ("path", "form", "model"),
    [
        ("/admin/districts", {"district_slug": "sodermalm", "district_name": "Södermalm"}, District),
        ("/desk/kista/tickets", {"service": "eservice"}, Ticket),
    ],
    ids=["add a district", "issue a walk-in ticket"],
)
def test_refused_forms_change_nothing(
    client: TestClient, settings: Settings, path: str, form: dict[str, str], model: type
) -> None:
    client.app.state.clock = lambda: OPEN_NOW
    logged_in(client, "admin")
    before = _count(settings, model)

    refused = client.post(path, data=form, follow_redirects=False)
    assert refused.status_code == 403
    assert _count(settings, model) == before

    # The same form with the token does the change: the refusal above was the token's doing.
    accepted = post_form(client, path, form)
    assert accepted.status_code == 303, accepted.text
    assert _count(settings, model) == before + 1


def test_logout_is_a_post_with_the_csrf_token(client: TestClient) -> None:
    logged_in(client, "staff")
    session = client.cookies[SESSION_COOKIE]

    assert client.get("/logout", follow_redirects=False).status_code == 405
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.get("/staff", follow_redirects=False).status_code == 200, "a refused logout logged out"

    response = post_form(client, "/logout")
    assert response.status_code == 303
    assert client.get("/staff", follow_redirects=False).headers["location"].startswith("/login")
    # The old session id is forgotten on the server too: replaying the cookie signs no one in.
    client.cookies.set(SESSION_COOKIE, session)
    assert client.get("/staff", follow_redirects=False).headers["location"].startswith("/login")


# -- the JSON API takes JSON only ----------------------------------------------------------------

# What a cross-site HTML form can send without a CORS preflight: the fields of a booking.
CROSS_SITE_BODIES = {
    "form-urlencoded": {"data": BOOKING},
    "multipart": {"data": BOOKING, "files": {"note": ("note.txt", b"x", "text/plain")}},
    # enctype="text/plain" can carry a JSON-looking body.
    "text/plain": {
        "content": b'{"office": "kista", "service": "eservice", "start": "2026-12-15T11:40:00+01:00", '
        b'"name": "Anna Andersson", "email": "anna@example.se", "x": "="}',
        "headers": {"Content-Type": "text/plain"},
    },
}


def test_booking_api_creates_nothing_from_a_cross_site_body(client: TestClient, settings: Settings) -> None:
    client.app.state.clock = lambda: DAY_BEFORE
    for kind, body in CROSS_SITE_BODIES.items():
        response = client.post("/api/v1/bookings", **body)
        assert 400 <= response.status_code < 500, (kind, response.status_code, response.text)
    assert _count(settings, Booking) == 0
    # As JSON the very same booking is taken: what refused the others was how they were sent.
    assert client.post("/api/v1/bookings", json=BOOKING).status_code == 201
    assert _count(settings, Booking) == 1


@pytest.fixture
def booked(client: TestClient) -> dict[str, str]:
    """One booking at Kista, made through the API as a resident would."""
    client.app.state.clock = lambda: DAY_BEFORE
    made = client.post("/api/v1/bookings", json=BOOKING)
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


@pytest.fixture
def admin_session(client: TestClient, booked: dict[str, str]) -> TestClient:
    # Kista is open and the visit is still to come: a ticket could be issued or called, the booking
    # cancelled or moved, so only the way the request was sent can stop it.
    client.app.state.clock = lambda: OPEN_NOW
    return logged_in(client, "admin")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("method", "path"),
    API_POSTS,
)
def test_api_posts_ignore_cross_site_bodies_with_a_staff_session(
    booked: dict[str, str], admin_session: TestClient, settings: Settings, method: str, path: str
) -> None:
    """Every API POST, sent as a form would send it along with an admin's session cookie: refused
    (4xx), and nothing booked, cancelled, moved, issued or called."""
    client = admin_session
    url = (
        path.replace("{slug}", "kista").replace("{counter}", "1").replace("{reference}", booked["reference"])
    )

    answers = {kind: client.post(url, **body).status_code for kind, body in CROSS_SITE_BODIES.items()}

    assert all(400 <= status < 500 for status in answers.values()), answers
    mine = client.get(f"/api/v1/bookings/{booked['reference']}", headers={"X-Booking-Token": booked["token"]})
    assert (mine.json()["status"], mine.json()["start"]) == ("booked", SLOT)
    assert _count(settings, Booking) == 1
    assert _count(settings, Ticket) == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cross_origin_requests_get_no_cors_grant(client: TestClient) -> None:
    preflight = client.options(
        "/api/v1/bookings",
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-credentials" not in preflight.headers
    # Nor does an answer carry a grant that would let the other site read it.
    answer = client.get("/api/v1/offices", headers={"Origin": EVIL})
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers


# -- cookie flags --------------------------------------------------------------------------------


@pytest.fixture
def city_database(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A SQLite file with the factory city, for apps built with settings of the test's own."""
    path = tmp_path / "kontor.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    run_with_engine(Settings.from_env(database_url=url, data_dir=tmp_path, secret_key="x" * 32), build_city)
    yield url


def _login_cookies(settings: Settings, base_url: str) -> tuple[Any, Any, TestClient]:
    """Sign in as staff: the CSRF cookie of the login page and the session cookie of the login."""
    app = create_app(settings)
    with TestClient(app, base_url=base_url) as client:
        client.headers.update(ENGLISH)
        page = client.get("/login")
        csrf = _set_cookie(page, CSRF_COOKIE)
        response = post_form(client, "/login", {"username": "staff", "password": "staff-password-123"})
        assert response.status_code == 303, response.text
        session = _set_cookie(response, SESSION_COOKIE)
        assert client.get("/staff", follow_redirects=False).status_code == 200
    return csrf, session, client


def test_cookies_are_secure_behind_https(city_database: str, tmp_path: Path) -> None:
    settings = Settings.from_env(
        database_url=city_database,
        data_dir=tmp_path,
        secret_key="test-secret-key-not-for-production",
        secure_cookies=True,
        background_worker=False,
    )
    csrf, session, _client = _login_cookies(settings, "https://testserver.local")
    assert session["httponly"] is True
    assert session["samesite"].lower() in {"lax", "strict"}
    assert session["secure"] is True
    assert csrf["samesite"].lower() == "strict"
    assert csrf["secure"] is True


def test_demo_cookies_work_over_plain_http(
    city_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kontor.cli import demo_settings

    monkeypatch.delenv("KONTOR_SECURE_COOKIES", raising=False)
    monkeypatch.setenv("KONTOR_DATABASE_URL", city_database)
    monkeypatch.setenv("KONTOR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KONTOR_BACKGROUND_WORKER", "0")
    settings = demo_settings()
    assert settings.secure_cookies is False

    # Logging in and staying signed in over http (checked in _login_cookies) needs cookies without Secure.
    csrf, session, _client = _login_cookies(settings, "http://testserver.local")
    assert session["httponly"] is True
    assert session["samesite"].lower() == "lax"
    assert not session["secure"]
    assert csrf["samesite"].lower() == "strict"
    assert not csrf["secure"]
