"""Random and hostile values posted to every HTML form (DESIGN.md rule 8: every form is a plain form).

Every POST route outside ``/api/`` in the app's route table is fuzzed with the fields of the form
a page renders for it (read from the page's HTML), random extra fields, hostile values
(``tests/security/payloads.py``), values of the wrong kind and, now and then, a hostile path id. An
admin posts to every form; the public forms are also posted without an account. Each request has a
valid CSRF token. No answer may be a server error, and neither may the page the form sits on, nor
the page a POST redirects to, right after it: a half-written record must not break a page.

The random fuzzing runs on SQLite. On PostgreSQL, which refuses what SQLite stores (NUL in text,
integers past 32 bits), every form is also sent with one field at a time set to such an edge value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlalchemy import select, update

from kontor.app import create_app
from kontor.notify.models import OutboxMessage
from kontor.settings import Settings
from tests.conftest import ENGLISH, _settings, fresh_database, run_with_engine
from tests.factories import AGENT_TOKEN, PASSWORDS, build_city
from tests.helpers import CSRF_FIELD, csrf_token, post_form
from tests.security import payloads
from tests.waitlist.support import link_token, run_worker

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONDAY = datetime(2026, 12, 14, 10, 0, tzinfo=STOCKHOLM)
# Tuesday morning: Kista is open for walk-ins and its booked visits of the morning are due.
TUESDAY = datetime(2026, 12, 15, 9, 5, tzinfo=STOCKHOLM)
FUZZ = settings(max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck))

# Forms anyone may send; they are fuzzed both without an account and as the admin.
PUBLIC = {
    "/login",
    "/book/hold",
    "/bookings/{reference:str}/confirm",
    "/bookings/{reference:str}/cancel",
    "/bookings/{reference:str}/reschedule",
    "/bookings/{reference:str}/forget",
    "/tickets/{token:str}/phone",
    "/tickets/{token:str}/phone/remove",
    "/waitlist",
    "/waitlist/{token:str}/take",
    "/waitlist/{token:str}/decline",
    "/waitlist/{token:str}/leave",
}


def _form_routes() -> list[str]:
    """The POST routes of the HTML pages, from the route table of an app that is never started."""
    offline = Settings.from_env(
        database_url=f"sqlite+aiosqlite:///{Path('/nonexistent/routes-only.db')}",
        secret_key="routes-only",
        background_worker=False,
    )
    return sorted(
        route.path
        for route in create_app(offline).routes
        if "POST" in getattr(route, "methods", ()) and not route.path.startswith(("/api/", "/schema"))
    )


ROUTES = _form_routes()
CASES = [(path, "admin") for path in ROUTES] + [(path, "anonymous") for path in ROUTES if path in PUBLIC]


def _route_pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", path)
    regex = "".join(
        (r"-?\d+" if part.endswith(":int}") else r"[^/]+") if part.startswith("{") else re.escape(part)
        for part in parts
    )
    return re.compile(f"^{regex}$")


# -- reading forms from pages --------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # the input's type, or "select", "textarea", "button"
    value: str = ""
    options: list[str] = field(default_factory=list)
    checked: bool = False
    required: bool = False

    def typical(self) -> str:
        """The value sent when the field is left as rendered (a required one filled in)."""
        if self.value or self.options:
            return self.value or self.options[0]
        if self.kind == "checkbox":
            return "on"
        if self.required or self.kind == "email":  # "an e-mail address or a phone number"
            return _TYPED.get(self.kind, "Fuzz")
        return ""


# What a person types into a required field the page renders empty, so a form gets past "fill this
# in" to the code behind it.
_TYPED = {
    "password": "fuzz-password-123",
    "email": "fuzz@example.org",
    "number": "1",
    "date": "2026-12-21",
    "time": "10:00",
    "tel": "08-123 45 67",
}


@dataclass
class Form:
    page: str
    action: str
    fields: list[Field]

    def defaults(self) -> dict[str, list[str]]:
        """What a person submitting the form unchanged sends: hidden and typed values, the first
        radio, ticked boxes, the selected option and the first submit button."""
        sent: dict[str, list[str]] = {}
        buttons = set()
        for item in self.fields:
            if item.name == CSRF_FIELD:
                continue
            if item.kind == "checkbox" and not item.checked:
                continue
            if item.kind == "radio" and item.name in sent:
                continue
            if item.kind in ("button", "submit"):
                if buttons:
                    continue
                buttons.add(item.name)
            sent.setdefault(item.name, []).append(item.typical())
        return sent


class _FormParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "a" and found.get("href"):
            self.links.append(found["href"])
        if tag == "form":
            post = found.get("method", "get").lower() == "post"
            self._form = (
                Form(self.page, found.get("action") or urlsplit(self.page).path, []) if post else None
            )
            if self._form is not None:
                self.forms.append(self._form)
        if self._form is None or (not found.get("name") and tag != "option"):
            return
        if tag == "input":
            kind = found.get("type", "text").lower()
            item = Field(
                found["name"],
                kind,
                found.get("value", ""),
                checked="checked" in found,
                required="required" in found,
            )
            self._form.fields.append(item)
        elif tag == "button":
            self._form.fields.append(Field(found["name"], "button", found.get("value", "")))
        elif tag == "select":
            self._select = Field(found["name"], "select")
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            value = found.get("value", "")
            if "selected" in found:
                self._select.options.insert(0, value)
            else:
                self._select.options.append(value)
        elif tag == "textarea":
            self._textarea = Field(found["name"], "textarea", required="required" in found)
            self._form.fields.append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _parse(page: str, html: str) -> _FormParser:
    parser = _FormParser(page)
    parser.feed(html)
    return parser


# -- the scene -----------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Scene:
    client: TestClient
    jars: dict[str, httpx.Cookies]
    forms: dict[str, list[Form]]  # "who path" -> the forms that post to the route


@contextmanager
def acting_as(scene: Scene, who: str) -> Iterator[TestClient]:
    """The one client, with the cookie jar (session and CSRF cookie) of ``who``."""
    client = scene.client
    client.cookies = scene.jars[who]
    try:
        yield client
    finally:
        scene.jars[who] = client.cookies


def _post(client: TestClient, action: str, data: dict[str, Any], **headers: str) -> httpx.Response:
    data = {**data, CSRF_FIELD: csrf_token(client)}
    return client.post(action, data=data, headers=headers, follow_redirects=False)


def _login(client: TestClient) -> None:
    response = _post(client, "/login", {"username": "admin", "password": PASSWORDS["admin"]})
    assert response.status_code == 303, f"the admin could not log in: {response.status_code}"


def _forms_on(client: TestClient, page: str) -> _FormParser:
    response = client.get(page)
    assert response.status_code == 200, f"{page}: {response.status_code}"
    return _parse(page, response.text)


def _only(parser: _FormParser, action_end: str) -> Form:
    found = [form for form in parser.forms if form.action.endswith(action_end)]
    assert found, f"no form posting to …{action_end} on {parser.page}"
    return found[0]


def _submit(client: TestClient, form: Form, **overrides: str) -> httpx.Response:
    data: dict[str, Any] = form.defaults()
    data.update({name: [value] for name, value in overrides.items()})
    return _post(client, form.action, data)


def _database(
    backend: str, folder: Path, sqlite_template: Path, postgres_template: str | None
) -> AbstractContextManager[str]:
    """A migrated, empty database of ``backend`` for the whole module (as conftest's ``database_url``
    makes one per test)."""
    return fresh_database(backend, folder, sqlite_template, postgres_template, prefix="kontor_f")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def scene(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    postgres_template: str | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Scene]:
    """Kista on a Tuesday morning with something behind every form: a held and a booked visit, a
    visit due at the desk, waiting tickets, an open counter with a called ticket, a failed message.
    Admin forms that could close or hide Kista are fuzzed on Tensta and on the Finnish service."""
    folder = tmp_path_factory.mktemp("form-fuzz")
    with _database(request.param, folder, sqlite_template, postgres_template) as url:
        yield from _scene(url, folder)


def _scene(url: str, folder: Path) -> Iterator[Scene]:
    # Fuzzed logins fail by the hundred from one address; a lock-out would keep the admin out.
    config = replace(_settings(url, folder), login_max_failures=10**6)
    city = run_with_engine(config, build_city)
    app = create_app(config)
    clock = Clock(MONDAY)
    app.state.clock = clock
    with TestClient(app, base_url="http://testserver.local") as client:
        client.headers.update(ENGLISH)
        jars = {"admin": httpx.Cookies(), "anonymous": httpx.Cookies()}
        scene = Scene(client, jars, {})
        booked = []
        for start in ("2026-12-15T09:40:00+01:00", "2026-12-15T10:00:00+01:00"):
            body = {
                "office": "kista",
                "service": "eservice",
                "start": start,
                "name": "Anna",
                "email": "a@example.se",
            }
            response = client.post("/api/v1/bookings", json=body)
            assert response.status_code == 201, response.text
            booked.append(response.json())
        # A call-back waiting at Kista's desk, and a webhook on the admin's list: each has its forms.
        agent = {"Authorization": f"Bearer {AGENT_TOKEN}"}
        callback = {
            "category": "housing",
            "outcome": "callback",
            "summary": "Wants to know which papers a housing application needs.",
            "office": "kista",
            "phone": "070-123 45 67",
        }
        response = client.post("/api/v1/contacts", json=callback, headers=agent)
        assert response.status_code == 201, response.text
        hook = {"name": "crm", "url": "https://crm.example/hooks", "events": ["booking.created"]}
        response = client.post("/api/v1/webhooks", json=hook, headers=agent)
        assert response.status_code == 201, response.text
        clock.now = TUESDAY

        with acting_as(scene, "anonymous") as anonymous:
            hold = _only(_forms_on(anonymous, "/book?service=eservice&office=bromma"), "/book/hold")
            held = _submit(anonymous, hold)
            assert held.status_code == 303, held.text
            manage = f"/bookings/{booked[1]['reference']}?token={booked[1]['token']}"
            links = _forms_on(anonymous, manage).links
            again = [link for link in links if link.startswith("/book?") and "reschedule" in link]
            public_pages = [
                "/login",
                "/book?service=eservice&office=bromma",
                held.headers["location"],
                manage,
            ]
            public_pages += again[:1]
            # Two on the waitlist: the first is offered a seat by the worker (take, decline and leave
            # forms), the second still waits (leave).
            public_pages.append("/waitlist?service=eservice&office=kista")
            joined = []
            for name in ("Wilma", "Wille"):
                form = {**_WAITLIST_FORM, "name": name, "email": f"{name.lower()}@example.se"}
                response = _post(anonymous, "/waitlist", form)
                assert response.status_code == 303, response.text
                joined.append(response.headers["location"].split("?")[0])
                if name == "Wilma":
                    run_worker(config, TUESDAY)
                    public_pages.append(_offer_path(config))
            public_pages.append(joined[1])

        with acting_as(scene, "admin") as admin:
            _login(admin)
            issue = _only(_forms_on(admin, "/desk/kista"), "/desk/kista/tickets")
            tickets = []
            for _ in range(3):
                response = _submit(admin, issue)
                assert response.status_code in (200, 303)
                tickets.append(response.headers.get("location", "").split("/print")[0])
            opening = _only(_forms_on(admin, "/counter/kista"), "/counter/kista/shift")
            services = [item.value for item in opening.fields if item.name == "services"]
            response = _post(admin, opening.action, {"counter": "1", "services": services})
            assert response.status_code in (200, 303), response.text
            response = _post(admin, "/counter/kista/next", {"counter": "1"})
            assert response.status_code in (200, 303), response.text
            # Counter 2 open with no one called: its page offers "call next" and "call" per ticket.
            response = _post(admin, opening.action, {"counter": "2", "services": services})
            assert response.status_code in (200, 303), response.text
            closing = _only(_forms_on(admin, "/admin/offices/tensta"), "/admin/offices/tensta/closures")
            response = _submit(admin, closing, first_day="2026-12-21", last_day="2026-12-22", reason="Flytt")
            assert response.status_code in (200, 303), response.text

            async def fail_a_message(db) -> int:  # type: ignore[no-untyped-def]
                first = await db.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id))
                await db.execute(
                    update(OutboxMessage).where(OutboxMessage.id == first).values(status="failed")
                )
                return first

            failed = run_with_engine(config, fail_a_message)
            admin_pages = [
                "/staff",
                "/admin",
                "/admin/users",
                "/admin/users/new",
                f"/admin/users/{city.users['staff'].id}",
                "/admin/tokens",
                "/admin/offices/tensta",
                "/admin/services",
                "/admin/services/finnish",
                f"/admin/outbox/{failed}",
                "/admin/retention",
                "/desk/kista",
                "/counter/kista?counter=1",
                "/counter/kista?counter=2",
                "/counter/kista?counter=2&change=1",
                "/agent?service=eservice&phone=070-123%2045%2067",
                f"/agent/bookings/{booked[0]['reference']}",
                "/admin/webhooks",
                "/staff/calendars",
            ]

        with acting_as(scene, "anonymous") as anonymous:
            # The second and third tickets wait: one with no number (its phone form), one with a
            # number left (the form that removes it).
            assert all(ticket.startswith("/tickets/") for ticket in tickets), tickets
            response = _post(anonymous, f"{tickets[2]}/phone", {"phone": "070-123 45 67"})
            assert response.status_code == 303, response.text
            public_pages += tickets[1:]
        with acting_as(scene, "admin") as client_as:  # a feed, so its revoke form is on the page
            made = post_form(client_as, "/staff/calendars", {"target": "agent", "label": "Fuzz"})
            assert made.status_code == 201, made.text
        for who, pages in (("admin", admin_pages), ("anonymous", public_pages)):
            with acting_as(scene, who) as client_as:
                for page in pages:
                    for form in _forms_on(client_as, page).forms:
                        _file(scene, who, form)
        # The admin sends the public forms too, as they are rendered for the resident.
        for path in PUBLIC:
            scene.forms.setdefault(f"admin {path}", scene.forms.get(f"anonymous {path}", []))
        yield scene


_WAITLIST_FORM = {
    "service": "eservice",
    "office": "kista",
    "earliest": "2026-12-15",
    "latest": "2026-12-22",
    "phone": "",
    "language": "en",
}


def _offer_path(config: Settings) -> str:
    """The page of the waitlist offer just sent, from the link in its message."""

    async def offer(db) -> str:  # type: ignore[no-untyped-def]
        body = await db.scalar(select(OutboxMessage.body).where(OutboxMessage.kind == "waitlist_offer"))
        return f"/waitlist/{link_token(body)}"

    return run_with_engine(config, offer)  # type: ignore[return-value]


def _file(scene: Scene, who: str, form: Form) -> None:
    action = urlsplit(form.action).path
    for path in ROUTES:
        if _route_pattern(path).match(action):
            scene.forms.setdefault(f"{who} {path}", []).append(form)
            return


# -- values --------------------------------------------------------------------------------------

_TEXT = st.text(max_size=60) | st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=10)
_HOSTILE = st.sampled_from(payloads.EVERYTHING) | _TEXT
_BY_KIND = {
    "number": st.sampled_from(payloads.NUMBERS) | st.integers().map(str),
    "date": st.sampled_from(payloads.DATES) | st.dates().map(lambda d: d.isoformat()),
    "time": st.sampled_from(payloads.TIMES) | st.times().map(lambda t: t.isoformat()),
    "datetime-local": st.sampled_from(payloads.DATETIMES),
    "email": st.emails() | _HOSTILE,
}
_PATH_IDS = st.sampled_from(["0", "-1", "2147483648", "99999999999999999999"]) | st.integers().map(str)
_PATH_TEXT = st.sampled_from(payloads.EVERYTHING[:30]).map(lambda text: quote(text, safe="")).filter(bool)


def _value(item: Field) -> st.SearchStrategy[str]:
    kept = item.typical()
    hostile = _BY_KIND.get(item.kind, _HOSTILE)
    if item.name == "start":  # a slot's start, with its offset
        hostile = st.sampled_from(payloads.DATETIMES) | hostile
    return st.sampled_from([kept, *item.options[:5]]) | hostile


@st.composite
def _submission(draw: st.DrawFn, forms: list[Form]) -> tuple[str, dict[str, Any], bool]:
    form = draw(st.sampled_from(forms))
    data: dict[str, Any] = {}
    for item in form.fields:
        if item.name == CSRF_FIELD or draw(st.integers(0, 9)) == 0:
            continue  # now and then a field is left out
        values = draw(st.lists(_value(item), min_size=1, max_size=2))
        data.setdefault(item.name, []).extend(values)
    extra = draw(st.dictionaries(st.text(min_size=1, max_size=12), _HOSTILE, max_size=3))
    data.update({name: value for name, value in extra.items() if name != CSRF_FIELD})
    action = urlsplit(form.action).path
    if draw(st.integers(0, 5)) == 0:
        segments = action.split("/")
        spot = draw(st.integers(1, len(segments) - 1))
        segments[spot] = draw(_PATH_IDS if segments[spot].lstrip("-").isdigit() else _PATH_TEXT)
        action = "/".join(segments)
    return action, data, draw(st.booleans())


# -- the tests -----------------------------------------------------------------------------------


def test_every_form_route_has_a_form_to_fuzz(scene: Scene) -> None:
    """A new form route needs its page among the scene's pages, or it goes unfuzzed."""
    missing = [f"{who} {path}" for path, who in CASES if not scene.forms.get(f"{who} {path}")]
    assert missing == [], f"no rendered form found for {missing}"


def _forms_for(scene: Scene, path: str, who: str) -> list[Form]:
    forms = scene.forms.get(f"{who} {path}")
    if not forms:
        pytest.fail(
            f"no rendered form posts to {path} for {who}: see test_every_form_route_has_a_form_to_fuzz"
        )
    return forms


def _ensure_session(client: TestClient, who: str) -> None:
    if who == "admin" and client.get("/staff").status_code != 200:
        _login(client)  # the logout form's fuzzing ended the session


def _short(data: dict[str, Any]) -> str:
    def value(item: Any) -> str:
        text = repr(item)
        return text if len(text) <= 60 else f"{text[:40]}…({len(text)} chars)"

    return "{" + ", ".join(f"{name!r}: {value(item)}" for name, item in data.items()) + "}"


@pytest.mark.parametrize("scene", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("path", "who"), CASES)
def test_hostile_form_posts_never_break_a_page(scene: Scene, path: str, who: str) -> None:
    forms = _forms_for(scene, path, who)
    with acting_as(scene, who) as client:
        _ensure_session(client, who)

        @FUZZ
        @given(_submission(forms))
        def post_hostile(submission: tuple[str, dict[str, Any], bool]) -> None:
            action, data, htmx = submission
            headers = {"HX-Request": "true"} if htmx else {}
            response = _post(client, action, data, **headers)
            sent = f"POST {action}{' (htmx)' if htmx else ''} {_short(data)}"
            assert response.status_code < 500, f"{sent} -> {response.status_code}"
            after = [forms[0].page]
            location = response.headers.get("location", "")
            if response.is_redirect and location.startswith("/"):
                after.append(location)
            for page in after:
                shown = client.get(page)
                assert shown.status_code < 500, f"GET {page} after {sent} -> {shown.status_code}"

        post_hostile()


# Values one database or the other cannot hold: NUL in text (PostgreSQL), text longer than any
# column, integers past 32 and 64 bits, the first and last representable days.
_TEXT_EDGES = ("A\x00B", "x" * 5_000)
_NUMBER_EDGES = ("-1", "\u00b9", "2147483648", "9223372036854775808")  # "¹".isdigit(), but int("¹") fails
_EDGES_BY_KIND = {
    "number": _NUMBER_EDGES,
    "date": ("0001-01-01", "9999-12-31"),
    "time": ("24:00",),
    "checkbox": ("A\x00B",),
}


def _edges(item: Field) -> tuple[str, ...]:
    if item.name == "start":  # a slot's start, with its offset
        return ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", _TEXT_EDGES[0])
    if item.kind in _EDGES_BY_KIND:
        return _EDGES_BY_KIND[item.kind]
    if any(value.lstrip("-").isdigit() for value in (item.value, *item.options)):
        return (*_NUMBER_EDGES, _TEXT_EDGES[0])  # an id in a hidden field, a select or a radio
    return _TEXT_EDGES


def _edge_posts(form: Form) -> Iterator[tuple[str, dict[str, Any], str]]:
    """The form as rendered with one field at a time set to an edge value, then with each id in its
    address past 32 and 64 bits; each with what was changed."""
    action = urlsplit(form.action).path
    sent = form.defaults()
    seen = {CSRF_FIELD}
    for item in form.fields:
        if item.name in seen:
            continue
        seen.add(item.name)
        for value in _edges(item):
            shown = repr(value) if len(value) < 40 else f"<{len(value)} × {value[0]!r}>"
            yield action, {**sent, item.name: [value]}, f"{item.name}={shown}"
    segments = action.split("/")
    for spot, segment in enumerate(segments):
        if segment.isdigit():
            for value in _NUMBER_EDGES[2:]:
                yield "/".join([*segments[:spot], value, *segments[spot + 1 :]]), sent, "id in the address"


@pytest.mark.parametrize("scene", ["postgres"], indirect=True)
def test_values_the_database_cannot_hold_never_break_a_form(scene: Scene) -> None:
    """One field at a time, every form, on PostgreSQL: it refuses what SQLite stores (NUL in text,
    integers past 32 bits), so the forms must turn such values away before the database does."""
    failures = []
    for path, who in CASES:
        form = _forms_for(scene, path, who)[0]
        with acting_as(scene, who) as client:
            _ensure_session(client, who)
            for action, data, changed in _edge_posts(form):
                response = _post(client, action, data)
                if response.status_code >= 500:
                    failures.append(f"{who}: POST {action} {changed} -> {response.status_code}")
            shown = client.get(form.page)
            if shown.status_code >= 500:
                failures.append(f"{who}: GET {form.page} afterwards -> {shown.status_code}")
    assert failures == [], f"{len(failures)} server errors:\n" + "\n".join(failures)
