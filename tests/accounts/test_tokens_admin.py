"""API tokens: shown once, usable as a bearer token, revocable."""

from __future__ import annotations

import re

from sqlalchemy import select
from tests.conftest import run_with_engine
from tests.factories import AGENT_TOKEN
from tests.helpers import logged_in, post_form

from kontor.accounts.models import ApiToken
from kontor.audit.models import AuditEntry

TOKEN_ON_PAGE = re.compile(r'id="new-token"[^>]*value="(kontor_[^"]+)"')


def _create(client, city, name="crm", owner="manager"):
    return post_form(client, "/admin/tokens", {"name": name, "user": str(city.users[owner].id)})


def test_created_token_is_shown_once_and_works(client, settings, city):
    logged_in(client, "admin")
    response = _create(client, city)
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    token = TOKEN_ON_PAGE.search(response.text).group(1)
    listing = client.get("/admin/tokens").text
    assert "crm" in listing
    assert token not in listing
    assert token[:12] in listing  # the prefix, to recognise it by
    client.cookies.clear()  # the token alone, no admin session beside it
    me = client.get("/staff", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert "Maja Chef" in me.text

    async def read(db):
        return list(await db.scalars(select(AuditEntry).where(AuditEntry.action == "token.create")))

    [entry] = run_with_engine(settings, read)
    assert token not in str(entry.changes)


def test_token_needs_a_name_and_an_active_user(client, city):
    logged_in(client, "admin")
    nameless = post_form(client, "/admin/tokens", {"name": "", "user": str(city.users["agent"].id)})
    assert nameless.status_code == 400
    ownerless = post_form(client, "/admin/tokens", {"name": "x", "user": "99999"})
    assert ownerless.status_code == 400
    assert "Choose an active user" in ownerless.text


def _token_id(settings, name: str) -> int:
    async def read(db):
        return await db.scalar(select(ApiToken.id).where(ApiToken.name == name))

    return run_with_engine(settings, read)


def test_revoked_token_is_refused(client, settings):
    logged_in(client, "admin")
    token_id = _token_id(settings, "telephony")
    response = post_form(client, f"/admin/tokens/{token_id}/revoke")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/tokens"
    refused = client.get(
        "/staff", headers={"Authorization": f"Bearer {AGENT_TOKEN}", "Accept": "application/json"}
    )
    assert refused.status_code == 401
    assert refused.json()["detail"]

    async def read(db):
        token = await db.get(ApiToken, token_id)
        entries = list(await db.scalars(select(AuditEntry).where(AuditEntry.action == "token.revoke")))
        return token.revoked_at, entries

    revoked_at, entries = run_with_engine(settings, read)
    assert revoked_at is not None
    assert len(entries) == 1
    # Revoking twice changes nothing and writes no second entry.
    assert post_form(client, f"/admin/tokens/{token_id}/revoke").status_code == 303
    assert len(run_with_engine(settings, read)[1]) == 1


def test_revoke_with_htmx_returns_the_row(client, settings):
    logged_in(client, "admin")
    token_id = _token_id(settings, "telephony")
    response = post_form(client, f"/admin/tokens/{token_id}/revoke", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="token-{token_id}"')
    assert "Revoked" in response.text


def test_revoke_needs_an_admin(client, settings):
    logged_in(client, "manager")
    token_id = _token_id(settings, "telephony")
    assert post_form(client, f"/admin/tokens/{token_id}/revoke").status_code == 403
