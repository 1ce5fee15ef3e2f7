"""Logging in and out: the session, throttling, safe redirects, CSRF."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from tests.conftest import run_with_engine
from tests.factories import PASSWORDS
from tests.helpers import SESSION_COOKIE, logged_in, login, post_form

from kontor.accounts.models import LoginAttempt, User
from kontor.audit.models import AuditEntry

GENERIC = "Wrong username or password"


def test_login_redirects_to_the_staff_home_which_greets_the_user(client):
    response = login(client, "manager")
    assert response.status_code == 303
    assert response.headers["location"] == "/staff"
    home = client.get("/staff")
    assert home.status_code == 200
    assert "Maja Chef" in home.text


def test_login_records_the_time_and_an_audit_entry(client, settings):

    assert login(client, "staff").status_code == 303

    async def read(db):
        user = await db.scalar(select(User).where(User.username == "staff"))
        entries = await db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.action == "user.login", AuditEntry.actor_id == user.id, AuditEntry.channel == "web"
            )
        )
        return user.last_login_at, entries

    last_login_at, entries = run_with_engine(settings, read)
    assert last_login_at is not None
    assert entries == 1


def test_username_is_not_case_sensitive(client):
    assert login(client, " Manager ", PASSWORDS["manager"]).status_code == 303


@pytest.mark.parametrize("username", ["manager", "nobody-here"])
def test_wrong_password_and_unknown_user_get_the_same_answer(client, username):
    response = login(client, username, "not-the-password")
    assert response.status_code == 400
    assert GENERIC in response.text
    assert 'aria-invalid="true"' in response.text
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_empty_form_is_a_400_and_does_not_count(client, settings):
    response = post_form(client, "/login", {"username": "", "password": ""})
    assert response.status_code == 400
    assert "Enter your username and password" in response.text
    assert _attempts(settings) == 0


def test_inactive_user_cannot_log_in(client, settings):
    async def deactivate(db):
        user = await db.scalar(select(User).where(User.username == "staff"))
        user.active = False

    run_with_engine(settings, deactivate)
    response = login(client, "staff")
    assert response.status_code == 400
    assert GENERIC in response.text


def test_sixth_attempt_is_refused_even_with_the_right_password(client):
    for _ in range(5):
        assert login(client, "manager", "wrong-password-1").status_code == 400
    response = login(client, "manager")
    assert response.status_code == 429
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= 900
    assert "Too many attempts. Try again in 15 minutes." in response.text
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_throttling_is_per_username(client):
    for _ in range(5):
        login(client, "manager", "wrong-password-1")
    assert login(client, "staff").status_code == 303


def test_success_clears_the_failures(client, settings):
    for _ in range(4):
        login(client, "manager", "wrong-password-1")
    assert _attempts(settings) == 4
    assert login(client, "manager").status_code == 303
    assert _attempts(settings) == 0
    post_form(client, "/logout")
    for _ in range(4):
        assert login(client, "manager", "wrong-password-1").status_code == 400
    assert login(client, "manager").status_code == 303


def test_logout_ends_the_session(client):
    logged_in(client, "staff")
    assert client.get("/staff").status_code == 200
    response = post_form(client, "/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_logout_needs_a_post(client):
    logged_in(client, "staff")
    assert client.get("/logout", follow_redirects=False).status_code == 405


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/admin/users?role=staff", "/admin/users?role=staff"),
        ("//evil.example", "/staff"),
        ("https://evil.example", "/staff"),
        ("/\\evil.example", "/staff"),
        ("", "/staff"),
    ],
)
def test_next_goes_only_to_local_pages(client, target, expected):
    response = login(client, "admin", next=target)
    assert response.status_code == 303
    assert response.headers["location"] == expected


def test_login_form_carries_next(client):
    response = client.get("/login?next=%2Fadmin%2Fusers")
    assert 'name="next" value="/admin/users"' in response.text
    evil = client.get("/login?next=https%3A%2F%2Fevil.example")
    assert 'name="next" value=""' in evil.text


def _session_id(client) -> str | None:
    values = [cookie.value for cookie in client.cookies.jar if cookie.name == SESSION_COOKIE]
    return values[-1] if values else None


def _plant(client, session_id: str) -> None:
    client.cookies.set(SESSION_COOKIE, session_id, domain="testserver.local", path="/")


def test_session_id_changes_on_login(client):
    _plant(client, "planted-by-someone-else")
    response = login(client, "staff")
    assert response.status_code == 303
    first = _session_id(client)
    assert first and first not in {"planted-by-someone-else", "null"}
    # Logging in again from a logged-in session also gets a new id, and the old one stops working.
    assert login(client, "staff").status_code == 303
    second = _session_id(client)
    assert second not in {first, "null"}
    assert client.get("/staff").status_code == 200


def _as_someone_else(client, session_id: str):
    """The same browser forgets everything and presents ``session_id``, as a thief would. (One
    TestClient per app: asyncpg's pool belongs to the client's event loop.)"""
    client.cookies.clear()
    _plant(client, session_id)
    return client


def test_old_session_id_is_dead_after_a_new_login(client):
    logged_in(client, "admin")
    old = _session_id(client)
    logged_in(client, "admin")
    assert _as_someone_else(client, old).get("/staff", follow_redirects=False).status_code == 303


def test_planted_session_id_is_not_logged_in(client):
    """Someone who planted a session id before the login cannot use it afterwards."""
    planted = "0" * 64
    _plant(client, planted)
    assert login(client, "admin").status_code == 303
    assert _as_someone_else(client, planted).get("/staff", follow_redirects=False).status_code == 303


def test_logout_deletes_the_session_record(client):
    logged_in(client, "staff")
    stolen = _session_id(client)
    post_form(client, "/logout")
    assert _as_someone_else(client, stolen).get("/staff", follow_redirects=False).status_code == 303


def test_a_session_survives_ordinary_requests(client):
    logged_in(client, "staff")
    first = _session_id(client)
    for _ in range(3):
        assert client.get("/staff").status_code == 200
    assert _session_id(client) == first
    assert _as_someone_else(client, first).get("/staff").status_code == 200


def test_anonymous_staff_page_redirects_to_login(client):
    response = client.get("/staff", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fstaff"


def test_anonymous_visit_stores_no_session(client):
    client.get("/login")
    client.get("/offices/kista")
    assert _session_id(client) is None


def test_post_without_csrf_token_is_refused(client):
    client.get("/login")
    response = client.post(
        "/login", data={"username": "staff", "password": PASSWORDS["staff"]}, follow_redirects=False
    )
    assert response.status_code == 403


def test_post_with_a_foreign_csrf_token_is_refused(client):
    client.get("/login")
    response = client.post(
        "/login",
        data={"username": "staff", "password": PASSWORDS["staff"], "_csrf_token": "x" * 64},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_logged_in_user_visiting_login_goes_on(client):
    logged_in(client, "staff")
    response = client.get("/login?next=%2Foffices%2Fkista", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/offices/kista"


def _attempts(settings) -> int:
    async def count(db):
        return await db.scalar(select(func.count()).select_from(LoginAttempt))

    return run_with_engine(settings, count)
