"""The staff home: who you are, your offices, and the pages your role leads to."""

from __future__ import annotations

import re

import pytest
from tests.factories import AGENT_TOKEN
from tests.helpers import logged_in


def _links(html: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', html))


def test_manager_sees_role_offices_and_office_administration(client):
    html = logged_in(client, "manager").get("/staff").text
    assert "Maja Chef" in html
    assert "Office manager" in html
    links = _links(html)
    assert {"/offices/kista", "/admin/offices/kista"} <= links
    assert "/admin/users" not in links
    assert "/admin/offices/tensta" not in links


def test_admin_sees_the_city_wide_pages(client):
    links = _links(logged_in(client, "admin").get("/staff").text)
    assert {"/admin", "/admin/users", "/admin/tokens", "/admin/audit"} <= links


@pytest.mark.parametrize(
    ("username", "role_name"), [("staff", "Front-desk and counter staff"), ("agent", "Contact-center agent")]
)
def test_staff_and_agents_get_public_pages_only(client, username, role_name):
    html = logged_in(client, username).get("/staff").text
    assert role_name in html
    links = _links(html)
    assert not {link for link in links if link.startswith("/admin")}
    assert "/" in links


def test_staff_sees_their_office(client):
    links = _links(logged_in(client, "staff").get("/staff").text)
    assert "/offices/kista" in links
    assert "/offices/bromma" not in links


def test_every_link_on_the_staff_home_leads_somewhere(client):
    """The staff home promises only pages that exist."""
    for username in ("admin", "manager", "staff", "agent"):
        client.cookies.clear()
        html = logged_in(client, username).get("/staff").text
        for link in _links(html):
            if link.startswith("/") and not link.startswith(("/static/", "/language/")):
                assert client.get(link).status_code == 200, (username, link)


def test_bearer_token_is_the_token_users_identity(client):
    response = client.get("/staff", headers={"Authorization": f"Bearer {AGENT_TOKEN}"})
    assert response.status_code == 200
    assert "Aino Agent" in response.text


def test_unknown_bearer_token_is_a_json_401(client):
    response = client.get(
        "/staff", headers={"Authorization": "Bearer kontor_nonsense", "Accept": "application/json"}
    )
    assert response.status_code == 401
    assert "detail" in response.json()
