"""Administration of users: admins only, every change audited, no self-demotion."""

from __future__ import annotations

from sqlalchemy import select
from tests.conftest import run_with_engine
from tests.helpers import logged_in, login, post_form

from kontor.accounts.models import User
from kontor.accounts.security import verify_password
from kontor.audit.models import AuditEntry

NEW_MANAGER = {
    "username": "nils",
    "display_name": "Nils Nyström",
    "role": "manager",
    "offices": ["kista", "tensta"],
    "password": "a-good-long-password",
    "password_confirm": "a-good-long-password",
}


def _user(settings, username: str) -> User | None:
    async def read(db):
        return await db.scalar(select(User).where(User.username == username))

    return run_with_engine(settings, read)


def _audit(settings, action: str) -> list[AuditEntry]:
    async def read(db):
        return list(await db.scalars(select(AuditEntry).where(AuditEntry.action == action)))

    return run_with_engine(settings, read)


def test_admin_creates_a_manager_with_offices(client, settings):
    logged_in(client, "admin")
    response = post_form(client, "/admin/users/new", NEW_MANAGER)
    assert response.status_code == 303
    user = _user(settings, "nils")
    assert user is not None
    assert response.headers["location"] == f"/admin/users/{user.id}?done=created"
    assert user.role == "manager"
    assert sorted(o.slug for o in user.offices) == ["kista", "tensta"]
    [entry] = _audit(settings, "user.create")
    assert entry.actor == "admin"
    assert entry.channel == "web"
    assert entry.changes["offices"] == ["kista", "tensta"]
    assert "password" not in str(entry.changes)
    page = client.get(response.headers["location"])
    assert "The user was created." in page.text
    # And the new manager can log in.
    client.cookies.clear()
    assert login(client, "nils", "a-good-long-password").status_code == 303


def test_duplicate_username_is_a_form_error(client, settings):
    logged_in(client, "admin")
    response = post_form(client, "/admin/users/new", {**NEW_MANAGER, "username": "manager"})
    assert response.status_code == 400
    assert "is taken" in response.text
    assert 'id="username"' in response.text and 'aria-invalid="true"' in response.text
    assert 'value="Nils Nyström"' in response.text  # what was typed stays
    assert _audit(settings, "user.create") == []


def test_new_user_form_errors(client, settings):
    logged_in(client, "admin")
    mismatch = post_form(client, "/admin/users/new", {**NEW_MANAGER, "password_confirm": "something-else"})
    assert mismatch.status_code == 400
    assert "The two passwords are not the same." in mismatch.text
    short = post_form(
        client, "/admin/users/new", {**NEW_MANAGER, "password": "short", "password_confirm": "short"}
    )
    assert short.status_code == 400
    no_office = post_form(client, "/admin/users/new", {**NEW_MANAGER, "offices": []})
    assert no_office.status_code == 400
    assert "at least one office" in no_office.text
    bad_name = post_form(client, "/admin/users/new", {**NEW_MANAGER, "username": "Not OK!"})
    assert bad_name.status_code == 400
    assert _user(settings, "nils") is None


def test_manager_may_not_administer_users(client):
    logged_in(client, "manager")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/tokens").status_code == 403
    assert post_form(client, "/admin/users/new", NEW_MANAGER).status_code == 403


def test_users_list_filters_by_role_and_office(client):
    logged_in(client, "admin")
    everyone = client.get("/admin/users").text
    assert "bromma_manager" in everyone and "agent" in everyone
    managers = client.get("/admin/users?role=manager").text
    assert "bromma_manager" in managers and ">agent<" not in managers
    kista = client.get("/admin/users?office=kista").text
    assert ">staff<" in kista and "bromma_manager" not in kista
    fragment = client.get("/admin/users?role=agent", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment and ">agent<" in fragment


def test_admin_edits_role_offices_and_active_flag(client, settings, city):
    logged_in(client, "admin")
    staff_id = city.users["staff"].id
    response = post_form(
        client,
        f"/admin/users/{staff_id}",
        {"display_name": "Sam Disk", "role": "manager", "offices": ["bromma"]},  # "active" unticked
    )
    assert response.status_code == 303
    user = _user(settings, "staff")
    assert (user.display_name, user.role, user.active) == ("Sam Disk", "manager", False)
    assert [o.slug for o in user.offices] == ["bromma"]
    [entry] = _audit(settings, "user.update")
    assert entry.changes["role"] == {"before": "staff", "after": "manager"}
    assert entry.changes["offices"] == {"before": ["kista"], "after": ["bromma"]}
    assert entry.changes["active"] == {"before": True, "after": False}
    client.cookies.clear()
    assert login(client, "staff").status_code == 400  # deactivated


def test_admin_cannot_demote_or_deactivate_themselves(client, settings, city):
    logged_in(client, "admin")
    admin_id = city.users["admin"].id
    demote = post_form(
        client,
        f"/admin/users/{admin_id}",
        {"display_name": "Ada", "role": "staff", "offices": ["kista"], "active": "on"},
    )
    assert demote.status_code == 400
    assert "You cannot take away your own administrator role." in demote.text
    deactivate = post_form(client, f"/admin/users/{admin_id}", {"display_name": "Ada", "role": "admin"})
    assert deactivate.status_code == 400
    assert "You cannot deactivate your own account." in deactivate.text
    user = _user(settings, "admin")
    assert (user.role, user.active, user.display_name) == ("admin", True, "Ada Admin")
    assert _audit(settings, "user.update") == []


def test_admin_sets_a_new_password(client, settings, city):
    logged_in(client, "admin")
    agent_id = city.users["agent"].id
    bad = post_form(
        client,
        f"/admin/users/{agent_id}/password",
        {"password": "another-long-one", "password_confirm": "another-long-two"},
    )
    assert bad.status_code == 400
    response = post_form(
        client,
        f"/admin/users/{agent_id}/password",
        {"password": "another-long-one", "password_confirm": "another-long-one"},
    )
    assert response.status_code == 303
    assert verify_password(_user(settings, "agent").password_hash, "another-long-one")
    [entry] = _audit(settings, "user.password")
    assert "another-long-one" not in str(entry.changes)
    assert entry.entity_id == str(agent_id)


def test_unknown_user_is_404(client):
    logged_in(client, "admin")
    assert client.get("/admin/users/99999").status_code == 404
