"""Security headers on every kind of response, and the readiness and database-down answers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import text
from tests.conftest import run_with_engine
from tests.helpers import logged_in

from kontor.app import create_app
from kontor.settings import Settings
from kontor.web.errors import database_unreachable
from kontor.web.security import CONTENT_SECURITY_POLICY, security_headers

EXPECTED = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/offices/kista", 200),
        ("/offices/kista/display", 200),
        ("/api/v1/offices", 200),
        ("/schema/openapi.json", 200),
        ("/static/css/kontor.css", 200),
        ("/healthz", 200),
        ("/no/such/page", 404),
        ("/offices/no-such-office", 404),
        ("/desk/kista", 303),
    ],
)
def test_every_response_carries_the_security_headers(client: TestClient, path: str, status: int) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == status
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    assert "strict-transport-security" not in response.headers  # plain http in tests


def test_the_policy_allows_only_the_apps_own_scripts_and_no_framing() -> None:
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_pages_have_no_inline_script_or_style_that_the_policy_would_block(client: TestClient) -> None:
    logged_in(client, "admin")
    for path in ("/", "/offices/kista", "/book", "/desk/kista", "/counter/kista", "/admin", "/staff"):
        html = client.get(path).text
        assert "<script>" not in html and " style=" not in html and "onclick=" not in html, path
        assert '"includeIndicatorStyles": false' in html, path  # htmx must not inject a <style>


async def test_a_handlers_stricter_referrer_policy_is_kept() -> None:
    """Private pages (a ticket, a booking's link) say no-referrer themselves; the hook keeps that."""
    hook = security_headers(https=False)
    headers = [(b"referrer-policy", b"no-referrer")]
    message = {"type": "http.response.start", "status": 200, "headers": headers}
    await hook(message, {})  # type: ignore[arg-type]
    names = [name for name, _ in message["headers"]]
    assert names.count(b"referrer-policy") == 1
    assert dict(message["headers"])[b"referrer-policy"] == b"no-referrer"
    assert b"content-security-policy" in names


def test_hsts_is_sent_when_kontor_is_served_over_https(settings: Settings, city) -> None:  # type: ignore[no-untyped-def]
    app = create_app(replace(settings, secure_cookies=True))
    with TestClient(app, base_url="https://testserver.local") as client:
        response = client.get("/")
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_ready_when_the_database_answers_at_the_codes_schema(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    assert response.json()["schema"] == "ok"


def test_not_ready_while_the_schema_is_behind_the_code(settings: Settings, client: TestClient) -> None:
    async def stamp(db):  # type: ignore[no-untyped-def]
        await db.execute(text("UPDATE alembic_version SET version_num = '0004'"))

    run_with_engine(settings, stamp)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "database": "ok", "schema": "not migrated"} | (
        {"live_updates": response.json()["live_updates"]} if "live_updates" in response.json() else {}
    )


def _unreachable(tmp_path: Path) -> list[Settings]:
    folder = tmp_path / "missing" / "folder"  # SQLite cannot open a file in a folder that is not there
    return [
        Settings.from_env(
            database_url=f"sqlite+aiosqlite:///{folder / 'kontor.db'}",
            data_dir=tmp_path,
            secret_key="test-secret-key-not-for-production",
            secure_cookies=False,
            background_worker=False,
        ),
        Settings.from_env(
            database_url="postgresql+asyncpg://postgres@127.0.0.1:9/kontor",  # nothing listens on port 9
            data_dir=tmp_path,
            secret_key="test-secret-key-not-for-production",
            secure_cookies=False,
            background_worker=False,
        ),
    ]


@pytest.mark.parametrize("which", [0, 1], ids=["sqlite-file-missing", "postgres-refused"])
def test_an_unreachable_database_gives_503_with_retry_after_never_500(tmp_path: Path, which: int) -> None:
    settings = _unreachable(tmp_path)[which]
    app = create_app(settings)
    with TestClient(app, base_url="http://testserver.local", raise_server_exceptions=False) as client:
        client.headers.update({"Accept-Language": "en"})
        page = client.get("/offices/kista")
        api = client.get("/api/v1/offices")
        health = client.get("/healthz")
        ready = client.get("/readyz")
    assert (page.status_code, page.headers.get("retry-after")) == (503, "5")
    assert "cannot reach its database" in page.text
    assert (api.status_code, api.headers.get("retry-after")) == (503, "5")
    assert api.json()["detail"] == "The database is not answering. Try again in a moment."
    assert health.status_code == 503
    assert ready.status_code == 503
    assert ready.json()["database"] == "unreachable"


@pytest.mark.parametrize(
    ("exc", "unreachable"),
    [
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (ValueError("a bug"), False),
        (KeyError("a bug"), False),
    ],
)
def test_which_errors_mean_the_database_is_unreachable(exc: BaseException, unreachable: bool) -> None:
    assert database_unreachable(exc) is unreachable


def test_a_statement_error_is_a_500_not_a_503() -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError

    assert not database_unreachable(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert database_unreachable(OperationalError("SELECT 1", {}, Exception("server closed the connection")))


def test_a_wrapped_starting_up_error_means_unreachable() -> None:
    """asyncpg's CannotConnectNowError (57P03) reaches the app as a plain DBAPIError whose ``orig``
    carries it as its cause."""
    from asyncpg.exceptions import CannotConnectNowError
    from sqlalchemy.exc import DBAPIError

    driver_error = Exception("the database system is starting up")
    driver_error.__cause__ = CannotConnectNowError("the database system is starting up")
    assert database_unreachable(DBAPIError("SELECT 1", {}, driver_error))

    class Wrapped(Exception):
        sqlstate = "57P01"

    assert database_unreachable(DBAPIError("SELECT 1", {}, Wrapped("terminating connection")))
    assert not database_unreachable(DBAPIError("SELECT 1", {}, Exception("syntax error")))
