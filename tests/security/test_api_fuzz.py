"""Schemathesis over the JSON API that ``/schema/openapi.json`` describes (DESIGN.md, JSON API).

Every operation, anonymous and with a staff or an agent bearer token, must answer without a server
error and as documented: a documented status code, content type, headers and body shape. A second
pass pins the path to records that exist (Kista, a booking with its token, a ticket, counter 1, a
call-back, a webhook) so the fuzzed bodies and queries reach the code behind the 404s. The fuzzing
runs on SQLite; the values only PostgreSQL refuses (NUL in text, integers past 32 bits) are sent to
both databases by ``test_values_a_database_cannot_hold_never_break_the_api``.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar.testing import TestClient
from sqlalchemy import select

from kontor.accounts.models import ApiToken, User
from kontor.accounts.security import hash_token
from kontor.app import create_app
from kontor.settings import Settings
from tests.conftest import _settings, run_with_engine
from tests.factories import ADMIN_TOKEN, AGENT_TOKEN, build_city

# A Monday morning: Kista is open (tickets can be issued) and Tuesday's slots can be booked.
OPEN = datetime(2026, 12, 14, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
STAFF_TOKEN = "kontor_fuzz-staff-token-0123456789abcdef"
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
AGENT = {"Authorization": f"Bearer {AGENT_TOKEN}"}
JSON_SURFACE = re.compile(r"^/(api/|healthz$|readyz$)")
FUZZ = settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def _served_document() -> dict:
    """The document the app serves; building it needs no database, so no lifespan is started."""
    offline = Settings.from_env(
        database_url=f"sqlite+aiosqlite:///{Path('/nonexistent/schema-only.db')}",
        secret_key="schema-only",
        background_worker=False,
    )
    response = TestClient(create_app(offline)).get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


DOCUMENT = _served_document()


def _load(path_regex: str, **checks_off: str) -> schemathesis.BaseSchema:
    """The operations whose path matches, with every built-in check on except ``checks_off``
    (name: why it does not apply)."""
    config = schemathesis.Config.from_dict({"checks": {name: {"enabled": False} for name in checks_off}})
    return schemathesis.openapi.from_dict(DOCUMENT, config=config).include(path_regex=path_regex)


NOT_APPLICABLE = {
    # Domain rules the schema cannot state (dates in order, a non-empty name, a language the office
    # serves, a start that is a free slot) rightly turn schema-valid data into 400/409/422.
    "positive_data_acceptance": "domain rules reject schema-valid data",
}
DATE_RANGES = r"^/api/v1/(offices/[^/]+/(hours|slots)|availability)$"
schema = _load(JSON_SURFACE.pattern, **NOT_APPLICABLE).exclude(path_regex=DATE_RANGES)
# An empty `from`/`to` means "not given" (as an empty date field of a form sends it), so the
# schema-invalid empty date is rightly accepted.
date_range_schema = _load(
    DATE_RANGES, **NOT_APPLICABLE, negative_data_rejection="an empty date means not given"
)
known_records_schema = _load(r"^/api/.*\{", **NOT_APPLICABLE).exclude(path_regex=DATE_RANGES)


def test_the_schema_describes_only_the_json_api() -> None:
    """Pages are HTML forms behind a session and CSRF token, answering 303 or an HTML page; the
    document lists them as JSON operations answering 201, which no client can rely on."""
    pages = sorted(
        f"{method.upper()} {path}"
        for path, operations in DOCUMENT["paths"].items()
        if not JSON_SURFACE.match(path)
        for method in operations
    )
    assert pages == [], f"{len(pages)} HTML page operations in the API schema: {pages}"


# -- a city to fuzz ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One app for the whole module (what the fuzzing changes only adds to the city): the factory
    city, a staff token of Kista, a booking with its token and a waiting ticket."""
    folder = tmp_path_factory.mktemp("api-fuzz")
    shutil.copyfile(sqlite_template, folder / "kontor.db")
    config = _settings(f"sqlite+aiosqlite:///{folder / 'kontor.db'}", folder)
    run_with_engine(config, build_city)

    async def staff_token(db) -> None:  # type: ignore[no-untyped-def]
        user = await db.scalar(select(User).where(User.username == "staff"))
        db.add(
            ApiToken(name="fuzz", user_id=user.id, token_hash=hash_token(STAFF_TOKEN), prefix="kontor_fuzz-")
        )

    run_with_engine(config, staff_token)
    app = create_app(config)
    app.state.clock = lambda: OPEN
    with TestClient(app) as client:
        booking = client.post(
            "/api/v1/bookings",
            json={
                "office": "kista",
                "service": "eservice",
                "start": "2026-12-15T09:00:00+01:00",
                "name": "Anna Andersson",
                "email": "anna@example.se",
            },
        )
        assert booking.status_code == 201, booking.text
        ticket = client.post("/api/v1/offices/kista/tickets", json={"service": "eservice"}, headers=STAFF)
        assert ticket.status_code == 201, ticket.text
        callback = client.post(
            "/api/v1/contacts",
            json={
                "category": "benefits",
                "outcome": "callback",
                "summary": "Wants help with a decision letter.",
                "office": "kista",
                "phone": "070-123 45 67",
            },
            headers=AGENT,
        )
        assert callback.status_code == 201, callback.text
        webhook = client.post(
            "/api/v1/webhooks",
            json={"name": "crm", "url": "https://crm.example/hooks", "events": ["booking.created"]},
            headers=AGENT,
        )
        assert webhook.status_code == 201, webhook.text
    return {
        "app": app,
        "path": {
            "slug": "kista",
            "reference": booking.json()["reference"],
            "token": ticket.json()["token"],
            "counter": 1,
            "contact_id": callback.json()["id"],
            "webhook_id": webhook.json()["id"],
        },
        "headers": {"X-Booking-Token": booking.json()["token"]},
    }


@pytest.fixture(params=["anonymous", "staff", "agent"])
def bearer(request: pytest.FixtureRequest) -> dict[str, str] | None:
    return {"staff": STAFF, "agent": AGENT}.get(request.param)


def _pin(case: schemathesis.Case, world: dict) -> None:
    """Point the case at records that exist; the rest of it stays as generated."""
    for name in case.path_parameters or {}:
        case.path_parameters[name] = world["path"][name]
    if case.headers is not None and "X-Booking-Token" in case.headers:
        case.headers["X-Booking-Token"] = world["headers"]["X-Booking-Token"]


@schema.parametrize()
@FUZZ
def test_api_operation(case: schemathesis.Case, world: dict, bearer: dict[str, str] | None) -> None:
    case.call_and_validate(app=world["app"], headers=bearer)


@date_range_schema.parametrize()
@FUZZ
def test_api_date_range_operation(
    case: schemathesis.Case, world: dict, bearer: dict[str, str] | None
) -> None:
    """At Kista, so the fuzzed dates and services reach the hours and slots of a real office."""
    _pin(case, world)
    case.call_and_validate(app=world["app"], headers=bearer)


@known_records_schema.parametrize()
@FUZZ
def test_api_operation_on_known_records(
    case: schemathesis.Case, world: dict, bearer: dict[str, str] | None
) -> None:
    """Path pinned to existing records and the booking's token sent (as the resident does, or
    with staff's bearer token too); query and body fuzzed."""
    _pin(case, world)
    case.call_and_validate(app=world["app"], headers=bearer)


# -- values a database cannot hold, on both databases ------------------------------------------

_TUESDAY_NINE = {
    "office": "kista",
    "service": "eservice",
    "start": "2026-12-15T09:00:00+01:00",
    "name": "Anna Andersson",
    "email": "anna@example.se",
}
_ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NUL, LONG, BIG32, BIG64 = "A\x00B", "x" * 5_000, "2147483648", "9223372036854775808"


def _booking(**change: object) -> tuple[str, str, dict]:
    return "POST", "/api/v1/bookings", {"json": _TUESDAY_NINE | change}


EDGE_REQUESTS: list[tuple[str, str, dict]] = [
    *[_booking(**{key: NUL}) for key in _TUESDAY_NINE],
    _booking(name=LONG),
    _booking(email=None, phone=NUL),
    _booking(language=NUL),
    _booking(needs=[NUL]),
    _booking(start="9999-12-31T23:59:59-12:00"),
    _booking(start="0001-01-01T00:00:00+14:00"),
    ("GET", "/api/v1/offices", {"params": {"service": NUL}}),
    ("GET", "/api/v1/offices/A%00B", {}),
    ("GET", "/api/v1/offices/kista/hours", {"params": {"from": "9999-12-31"}}),
    ("GET", "/api/v1/offices/kista/hours", {"params": {"from": "0001-01-01", "to": "0001-01-02"}}),
    ("GET", "/api/v1/offices/kista/slots", {"params": {"service": NUL}}),
    ("GET", "/api/v1/offices/kista/slots", {"params": {"service": "eservice", "from": "9999-12-31"}}),
    ("GET", "/api/v1/availability", {"params": {"service": NUL}}),
    ("GET", "/api/v1/availability", {"params": {"service": "eservice", "district": NUL}}),
    ("GET", "/api/v1/availability", {"params": {"service": "eservice", "from": "9999-12-31"}}),
    ("GET", "/api/v1/availability", {"params": {"service": "eservice", "limit": BIG64}}),
    ("GET", "/api/v1/bookings/A%00B", {"headers": {"X-Booking-Token": "x"}}),
    ("GET", "/api/v1/bookings/" + LONG, {"headers": _ADMIN}),
    ("GET", "/api/v1/tickets/A%00B", {}),
    ("GET", "/api/v1/tickets/" + LONG, {}),
    ("GET", "/api/v1/offices/A%00B/queue", {}),
    ("POST", "/api/v1/offices/kista/tickets", {"json": {"service": NUL}, "headers": _ADMIN}),
    (
        "POST",
        "/api/v1/offices/kista/tickets",
        {"json": {"service": "eservice", "language": NUL}, "headers": _ADMIN},
    ),
    ("POST", f"/api/v1/offices/kista/counters/{BIG32}/next", {"headers": _ADMIN}),
    ("POST", f"/api/v1/offices/kista/counters/{BIG64}/next", {"headers": _ADMIN}),
    ("POST", "/api/v1/offices/kista/counters/1/next", {"json": {"services": [NUL]}, "headers": _ADMIN}),
]


def _sent(path: str, options: dict) -> str:
    """The request in a line, the booking body by what differs from a good one."""
    body = options.get("json")
    if path == "/api/v1/bookings" and isinstance(body, dict):
        body = {key: value for key, value in body.items() if _TUESDAY_NINE.get(key, object()) != value}
    shown = {
        key: value
        for key, value in {**options, "json": body}.items()
        if value is not None and key != "headers"
    }
    text = f"{path} {shown}"
    return text if len(text) < 160 else f"{text[:150]}…"


def test_values_a_database_cannot_hold_never_break_the_api(client: TestClient) -> None:
    """NUL in text (PostgreSQL refuses it), over-long text, integers past 32 and 64 bits and the
    ends of the calendar are refused with a 4xx on either database, never a server error."""
    client.app.state.clock = lambda: OPEN
    failures = []
    for method, path, options in EDGE_REQUESTS:
        response = client.request(method, path, **options)
        if response.status_code >= 500:
            failures.append(f"{method} {_sent(path, options)} -> {response.status_code}")
    assert failures == [], f"{len(failures)} server errors:\n" + "\n".join(failures)
