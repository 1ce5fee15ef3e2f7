"""The webhook subscriptions page: admins only, the secret shown once, form errors, deleting."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from tests.helpers import logged_in, post_form

from kontor.contacts.models import Webhook, WebhookEvent
from kontor.contacts.webhooks import sign, verify

NEW = {
    "name": "CRM",
    "url": "https://crm.example.org/kontor",
    "events": ["booking.created", "callback.requested"],
}
SECRET = re.compile(r'id="webhook-secret"[^>]*value="([^"]+)"')


def webhooks(fetch):
    async def work(db):
        return list(await db.scalars(select(Webhook).order_by(Webhook.id)))

    return fetch(work)


@pytest.mark.parametrize("username", ["manager", "staff", "agent"])
def test_only_admins_reach_the_page(client, fetch, username):
    user = logged_in(client, username)
    assert user.get("/admin/webhooks").status_code == 403
    assert post_form(user, "/admin/webhooks", NEW).status_code == 403
    assert webhooks(fetch) == []


def test_logged_out_visitors_are_sent_to_log_in(client):
    response = client.get("/admin/webhooks", follow_redirects=False)
    assert response.status_code in (302, 303, 401)


def test_the_admin_index_links_the_page(as_admin):
    assert 'href="/admin/webhooks"' in as_admin.get("/admin").text


def test_a_new_webhook_shows_its_secret_once(as_admin, city, fetch, audit_entries):
    page = as_admin.get("/admin/webhooks?lang=en").text
    assert "There are no webhooks yet." in page and 'href="/admin/outbox"' in page
    for event in WebhookEvent:
        assert f'value="{event.value}"' in page

    response = post_form(as_admin, "/admin/webhooks?lang=en", NEW)
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    secret = SECRET.search(response.text)[1]
    assert "X-Kontor-Signature" in response.text and "HMAC-SHA256" in response.text
    [webhook] = webhooks(fetch)
    assert (webhook.name, webhook.url, webhook.events) == (NEW["name"], NEW["url"], NEW["events"])
    assert webhook.user_id == city.users["admin"].id
    assert webhook.secret == secret  # the receiver verifies with what the page showed
    body = b'{"event":"booking.created"}'
    assert verify(secret, body, sign(webhook.secret, body))
    assert len(audit_entries("webhook.create")) == 1

    listed = as_admin.get("/admin/webhooks?lang=en").text
    assert secret not in listed
    row = re.search(rf'<tr id="webhook-{webhook.id}">.*?</tr>', listed, re.S)[0]
    for shown in ("CRM", "https://crm.example.org/kontor", "Booking created", "Call-back requested", "admin"):
        assert shown in row
    assert "Booking cancelled" not in row


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"url": "http://crm.example.org/kontor"}, "url", "plain http is allowed only to localhost"),
        ({"url": "https://user:pw@crm.example.org/"}, "url", "must not contain a user name or password"),
        ({"url": "ftp://crm.example.org/"}, "url", "Enter a web address like"),
        ({"url": ""}, "url", "Please fill in this field."),
        ({"url": "https://x.example.org/" + "a" * 200}, "url", "At most 200 characters"),
        ({"name": ""}, "name", "Please fill in this field."),
        ({"events": []}, "events", "Choose at least one event."),
        ({"events": ["booking.created", "booking.deleted"]}, "events", "Choose at least one event."),
    ],
)
def test_a_wrong_form_is_shown_again_and_nothing_is_made(as_admin, fetch, form, field, message):
    typed = {**NEW, **form}
    response = post_form(as_admin, "/admin/webhooks?lang=en", typed)
    assert response.status_code == 400
    assert message in response.text
    assert f'id="webhook-{field}-error"' in response.text
    assert 'id="webhook-secret"' not in response.text
    if field == "name":
        assert 'value="https://crm.example.org/kontor"' in response.text  # what was typed is kept
    assert webhooks(fetch) == []


def test_a_localhost_receiver_may_use_http(as_admin, fetch):
    response = post_form(as_admin, "/admin/webhooks", {**NEW, "url": "http://127.0.0.1:9000/hook"})
    assert response.status_code == 201
    assert [w.url for w in webhooks(fetch)] == ["http://127.0.0.1:9000/hook"]


def test_a_webhook_is_deleted(as_admin, fetch, audit_entries):
    post_form(as_admin, "/admin/webhooks", NEW)
    post_form(as_admin, "/admin/webhooks", {**NEW, "name": "Telephony"})
    crm, telephony = webhooks(fetch)
    page = as_admin.get("/admin/webhooks").text
    assert f'action="/admin/webhooks/{crm.id}/delete"' in page

    response = post_form(as_admin, f"/admin/webhooks/{crm.id}/delete")
    assert response.status_code == 303 and response.headers["location"] == "/admin/webhooks?deleted=true"
    assert [w.id for w in webhooks(fetch)] == [telephony.id]
    assert len(audit_entries("webhook.delete")) == 1
    assert "The webhook was deleted." in as_admin.get("/admin/webhooks?deleted=true&lang=en").text
    assert post_form(as_admin, f"/admin/webhooks/{crm.id}/delete").status_code == 404


def test_deleting_needs_the_csrf_token(as_admin, fetch):
    post_form(as_admin, "/admin/webhooks", NEW)
    [crm] = webhooks(fetch)
    response = as_admin.post(f"/admin/webhooks/{crm.id}/delete", follow_redirects=False)
    assert response.status_code == 403
    assert len(webhooks(fetch)) == 1
