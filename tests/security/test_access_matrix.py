"""Every route, every role, own office and another's: the answers match the table in access_rules.py.

The table is written from DESIGN.md's role model, not read from the code; the first test makes sure it
covers every route the app has. One app and one seeded city (SQLite) serve every case: the requests
read, or are refused, or are turned away by a form's checks before anything is written.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import ApiToken
from kontor.accounts.security import hash_token
from kontor.app import create_app
from kontor.audit import services as audit
from kontor.audit.models import Channel
from kontor.notify.models import OutboxMessage
from tests.conftest import ENGLISH, _settings, run_with_engine
from tests.factories import ADMIN_TOKEN, AGENT_TOKEN, build_city
from tests.helpers import SESSION_COOKIE, csrf_token, logged_in, post_form
from tests.live.sse import OpenStream
from tests.security import access_rules as rules

# Tuesday 2026-12-15, 09:30 in Stockholm: Kista, Tensta and Bromma are all open.
NOW = datetime(2026, 12, 15, 8, 30, tzinfo=UTC)
BASE_URL = "http://testserver.local"

# Bearer tokens of the API cases; the factory city has the agent's and the admin's.
TOKENS = {
    "staff": "kontor_test-staff-token-0123456789abcdef",
    "manager": "kontor_test-manager-token-0123456789abcd",
    "bromma_manager": "kontor_test-bromma-token-0123456789abcde",
    "agent": AGENT_TOKEN,
    "admin": ADMIN_TOKEN,
}


# -- one city, one app, a session per role -------------------------------------------------------


@dataclass
class World:
    app: Litestar
    client: TestClient
    cookies: dict[str, dict[str, str]]  # per role: the session and CSRF cookies
    ids: dict[str, Any]


async def _seed(db: AsyncSession) -> dict[str, Any]:
    city = await build_city(db)
    for role in ("staff", "manager", "bromma_manager"):
        token = TOKENS[role]
        db.add(
            ApiToken(name=role, user_id=city.users[role].id, token_hash=hash_token(token), prefix=token[:12])
        )
    messages = {}
    for office in (city.kista, city.tensta, city.bromma):
        message = OutboxMessage(
            channel="email",
            kind="booked",
            office_id=office.id,
            recipient=f"resident@{office.slug}.example",
            language="sv",
            body="Välkommen",
            status="sent",
            sent_at=NOW,
        )
        db.add(message)
        messages[office.slug] = message
        audit.record(
            db, actor="seed", channel=Channel.WEB, action=f"probe.{office.slug}", entity="office",
            office_id=office.id,
        )  # fmt: skip
    await db.flush()
    return {"user": city.users["staff"].id, "message": {slug: m.id for slug, m in messages.items()}}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("access")
    shutil.copyfile(sqlite_template, folder / "kontor.db")
    settings = _settings(f"sqlite+aiosqlite:///{folder / 'kontor.db'}", folder)
    ids = run_with_engine(settings, _seed)
    app = create_app(settings)
    app.state.clock = lambda: NOW
    with TestClient(app, base_url=BASE_URL) as client:
        client.headers.update(ENGLISH)
        cookies = {}
        for role in rules.ROLES:
            client.cookies.clear()
            csrf_token(client)
            if role != rules.ANONYMOUS:
                logged_in(client, role)
            cookies[role] = dict(client.cookies.items())
        yield World(app, client, cookies, ids)  # type: ignore[arg-type]


# -- the cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    role: str
    office: str | None
    rule: rules.Rule

    def __str__(self) -> str:
        where = f" at {self.office}" if self.office else ""
        return f"{self.method} {self.path} as {self.role}{where}"

    def url(self, ids: dict[str, Any]) -> str:
        return rules.fill_path(self.path, self.rule, self.office, ids)


def _offices(rule: rules.Rule, path: str, role: str) -> tuple[str | None, ...]:
    """The offices a case is tried at: none when the route names no office or anyone may use it;
    else Kista and Bromma, and Tensta for Kista's people (the same district grants nothing)."""
    if rule.access in (rules.PUBLIC, rules.API_PUBLIC):
        return (None,)
    if "{slug}" not in path and rule.office_of is None:
        return (None,)
    if "kista" in rules.OFFICES_OF.get(role, ()):
        return rules.OFFICES
    return ("kista", "bromma")


def _cases() -> Iterator[Any]:
    for (method, path), rule in rules.RULES.items():
        for role in rules.ROLES:
            for office in _offices(rule, path, role):
                case = Case(method, path, role, office, rule)
                reason = rule.known.get((role, office))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                yield pytest.param(case, id=str(case), marks=marks)


async def _stream_answer(app: Litestar, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    """Open a GET that may stream forever: take the status and headers, then hang up as a browser does."""
    async with OpenStream(app, url, headers) as stream:
        return stream.status, stream.headers


async def _second_session(app: Litestar, session_id: str) -> str:
    """Another session of the same login (as on a second device), without logging in again."""
    store = app.stores.get("sessions")
    data = await store.get(session_id)
    assert data is not None, "the role's session is gone"
    second = secrets.token_hex(32)
    await store.set(second, data, expires_in=3600)
    return second


def _ask(world: World, case: Case) -> tuple[int, str]:
    """Send the case's request as its role would; the status and where a redirect points."""
    client, rule, url = world.client, case.rule, case.url(world.ids)
    client.cookies.clear()
    if url.startswith("/api/"):
        headers = {"Authorization": f"Bearer {TOKENS[case.role]}"} if case.role != rules.ANONYMOUS else {}
        body = {"json": rule.json} if rule.json is not None else {}
        response = client.request(case.method, url, headers=headers, **body)
        return response.status_code, response.headers.get("location", "")
    cookies = dict(world.cookies[case.role])
    if rule.own_session and SESSION_COOKIE in cookies:
        cookies[SESSION_COOKIE] = client.blocking_portal.call(
            _second_session, world.app, cookies[SESSION_COOKIE]
        )
    client.cookies = httpx.Cookies(cookies)
    if rule.stream:
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        headers = {**ENGLISH, "Accept": "text/event-stream", **({"Cookie": cookie} if cookie else {})}
        status, answered = client.blocking_portal.call(_stream_answer, world.app, url, headers)
        return status, answered.get("location", "")
    if case.method == "GET":
        response = client.get(url, follow_redirects=False)
    else:
        response = post_form(client, url, rule.form)
    return response.status_code, response.headers.get("location", "")


def outcome(status: int, location: str) -> str:
    """The class of an answer: 400/404/409/415/422 are the allowed being told their made-up ids or
    empty forms will not do, after the guard let them through."""
    if status == 401 or (300 <= status < 400 and location.startswith("/login")):
        return rules.LOGIN
    if status == 403:
        return rules.FORBIDDEN
    if status < 400 or status in (400, 404, 409, 415, 422):
        return rules.OK
    return f"status {status}"


def test_every_route_has_an_access_rule(world: World) -> None:
    routes = rules.covered_routes(world.app)
    missing = sorted(routes - rules.RULES.keys())
    stale = sorted(rules.RULES.keys() - routes)
    assert not missing, "routes without an entry in tests/security/access_rules.py: " + ", ".join(
        f"{method} {path}" for method, path in missing
    )
    assert not stale, "entries in access_rules.py for routes the app does not have: " + ", ".join(
        f"{method} {path}" for method, path in stale
    )


@pytest.mark.parametrize("case", list(_cases()))
def test_access(world: World, case: Case) -> None:
    status, location = _ask(world, case)
    got = outcome(status, location)
    want = rules.expected(case.rule.access, case.role, case.office)
    # Refusing a stranger's POST outright (403) is as good as asking them to log in.
    if want == rules.LOGIN and case.method == "POST" and got == rules.FORBIDDEN:
        got = rules.LOGIN
    assert got == want, (
        f"role={case.role} method={case.method} path={case.url(world.ids)} "
        f"expected={want} got={got} (HTTP {status}{' to ' + location if location else ''})"
    )


@pytest.mark.parametrize("role", ["manager", "bromma_manager", "admin"])
@pytest.mark.parametrize(
    ("path", "marker"),
    [("/admin/outbox", "resident@{}.example"), ("/admin/audit", "probe.{}")],
    ids=["outbox", "audit log"],
)
def test_managers_see_their_own_offices_only(world: World, role: str, path: str, marker: str) -> None:
    """The audit log and the outbox are open to every manager, so what they list is what matters."""
    world.client.cookies = httpx.Cookies(world.cookies[role])
    response = world.client.get(path)
    assert response.status_code == 200
    shown = {office for office in rules.OFFICES if marker.format(office) in response.text}
    assert shown == rules.OFFICES_OF.get(role, set(rules.OFFICES))
