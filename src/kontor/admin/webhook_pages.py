"""Webhook subscriptions of the contact center's systems (admins only): the list, a new one whose secret
is shown once, on the page that creates it, and deleting one. The deliveries themselves go through the
outbox, so they are listed (with their retries) on the outbox page.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from litestar import Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import requires_role
from kontor.accounts.models import Role, User
from kontor.admin.forms import Form, FormError
from kontor.admin.office_pages import AdminRequest, Db
from kontor.contacts.models import Webhook
from kontor.contacts.webhooks import (
    EVENT_LABELS,
    NAME_MAX,
    URL_MAX,
    WebhookError,
    check_url,
    create_webhook,
    delete_webhook,
    list_webhooks,
)
from kontor.hours.services import current_time
from kontor.i18n import _
from kontor.web.templating import page

ADMINS = [requires_role(Role.ADMIN)]


async def _owners(db: AsyncSession, webhooks: list[Webhook]) -> dict[int, str]:
    ids = {webhook.user_id for webhook in webhooks if webhook.user_id is not None}
    if not ids:
        return {}
    rows = await db.execute(select(User.id, User.username).where(User.id.in_(ids)))
    return {user_id: username for user_id, username in rows}


async def _list(
    request: AdminRequest,
    db: AsyncSession,
    *,
    form: Form | None = None,
    errors: dict[str, str] | None = None,
    deleted: bool = False,
    status_code: int = 200,
) -> Template:
    webhooks = await list_webhooks(db, request.user)
    context = {
        "webhooks": webhooks,
        "owners": await _owners(db, webhooks),
        "event_labels": EVENT_LABELS,
        "errors": errors or {},
        "values": form.values() if form else {},
        "deleted": deleted,
        "tz": ZoneInfo(request.app.state.settings.default_timezone),
    }
    return page(request, "admin/webhooks.html", context, status_code=status_code)


def _read(form: Form) -> tuple[str, str, list[str]]:
    """The new subscription's name, address and events, with every problem at once."""
    name = form.text("name", required=True, max_length=NAME_MAX)
    url = form.text("url", required=True, max_length=URL_MAX)
    if url and "url" not in form.errors:
        try:
            url = check_url(url)
        except WebhookError as error:
            form.error("url", _(error.message))
    events = list(dict.fromkeys(form.all("events")))
    if not events or any(event not in EVENT_LABELS for event in events):
        form.error("events", _("Choose at least one event."))
    form.check()
    return name, url, events


@get("/admin/webhooks", guards=ADMINS, name="admin:webhooks", cache=False)
async def webhooks_page(request: AdminRequest, db_session: Db, deleted: FromQuery[bool] = False) -> Template:
    return await _list(request, db_session, deleted=deleted)


@post("/admin/webhooks", guards=ADMINS)
async def add_webhook(request: AdminRequest, db_write: Db) -> Response[Any]:
    form = Form(await request.form())
    try:
        name, url, events = _read(form)
        webhook, secret = await create_webhook(
            db_write,
            user=request.user,
            name=name,
            url=url,
            events=events,
            now=current_time(request.app.state),
        )
    except FormError as error:
        return await _list(request, db_write, form=form, errors=error.errors, status_code=400)
    except WebhookError as error:
        errors = {error.field or "": _(error.message)}
        return await _list(request, db_write, form=form, errors=errors, status_code=400)
    response = page(
        request,
        "admin/webhook_created.html",
        {"webhook": webhook, "secret": secret, "event_labels": EVENT_LABELS},
        status_code=201,
    )
    # The secret is on this page and nowhere else: no cache may keep a copy.
    response.set_header("Cache-Control", "no-store")
    return response


@post("/admin/webhooks/{webhook_id:int}/delete", guards=ADMINS)
async def remove_webhook(request: AdminRequest, db_write: Db, webhook_id: FromPath[int]) -> Response[Any]:
    await delete_webhook(db_write, request.user, webhook_id)
    return Redirect("/admin/webhooks?deleted=true", status_code=303)


ROUTES = [webhooks_page, add_webhook, remove_webhook]
