"""Who may use the administration: admins everywhere, managers in their own offices only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from tests.helpers import logged_in, post_form

from kontor.hours.models import WeeklyHours


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get("/admin", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("username", ["staff", "agent"])
def test_staff_and_agents_may_not_use_the_administration(client, username):
    logged_in(client, username)
    assert client.get("/admin").status_code == 403
    assert client.get("/admin/offices/kista").status_code == 403
    assert post_form(client, "/admin/offices/kista/counters", {"name": "X"}).status_code == 403


def test_a_manager_sees_only_their_own_offices(as_manager):
    page = as_manager.get("/admin")
    assert page.status_code == 200
    assert "Medborgarkontor Kista" in page.text
    assert "/admin/offices/kista" in page.text
    assert "Medborgarkontor Bromma" not in page.text
    assert "/admin/services" not in page.text


def test_a_manager_may_not_open_or_change_another_office(as_manager, fetch):
    assert as_manager.get("/admin/offices/bromma").status_code == 403
    response = post_form(
        as_manager,
        "/admin/offices/bromma/hours",
        {"weekday": "5", "opens": "10:00", "closes": "12:00", "kind": "drop_in"},
    )
    assert response.status_code == 403
    assert post_form(as_manager, "/admin/offices/bromma/closures/1/delete").status_code == 403

    async def saturday_rows(db):
        return await db.scalar(select(func.count()).select_from(WeeklyHours).where(WeeklyHours.weekday == 5))

    assert fetch(saturday_rows) == 0


def test_the_catalogue_and_new_offices_are_for_admins_only(as_manager):
    assert as_manager.get("/admin/services").status_code == 403
    assert post_form(as_manager, "/admin/services", {"code": "x"}).status_code == 403
    assert post_form(as_manager, "/admin/offices", {"slug": "x", "name": "X"}).status_code == 403
    assert post_form(as_manager, "/admin/districts", {"district_slug": "x"}).status_code == 403


def test_an_admin_sees_every_office_by_district_and_the_city_wide_pages(as_admin):
    page = as_admin.get("/admin")
    assert page.status_code == 200
    for text in (
        "Rinkeby-Kista",
        "Bromma",
        "Medborgarkontor Tensta",
        "/admin/users",
        "/admin/tokens",
        "/admin/audit",
        "/admin/services",
    ):
        assert text in page.text
    assert as_admin.get("/admin/offices/bromma").status_code == 200


def test_a_post_without_the_csrf_token_is_refused(as_manager, fetch):
    response = as_manager.post(
        "/admin/offices/kista/hours",
        data={"weekday": "5", "opens": "10:00", "closes": "12:00", "kind": "drop_in"},
        follow_redirects=False,
    )
    assert response.status_code == 403

    async def saturday_rows(db):
        return await db.scalar(select(func.count()).select_from(WeeklyHours).where(WeeklyHours.weekday == 5))

    assert fetch(saturday_rows) == 0


def test_an_unknown_office_is_a_404(as_admin):
    assert as_admin.get("/admin/offices/no-such-office").status_code == 404
