"""The webhook subscriptions of the contact center's systems, through the API.

An agent (or an admin) subscribes an address to events; kontor then POSTs each event there, signed
with the subscription's secret, which is shown once, in the answer that made it.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import HttpMethod, Request, Response, delete, get, post, route
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter
from msgspec import structs
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.audit.models import Channel
from kontor.contacts import schemas, webhooks
from kontor.contacts.api_access import AGENTS_ONLY, PRIVATE, agent_or_admin, agents_token
from kontor.contacts.models import Webhook
from kontor.hours.services import current_time
from kontor.i18n import _
from kontor.offices.api import NOT_JSON, answers
from kontor.queue.api_access import json_only

DELIVERY = (
    'Each event is a `POST` of JSON `{"id", "event", "occurred_at", "data"}` to the '
    "subscription's `url`, with the headers `X-Kontor-Event` (the event), `X-Kontor-Delivery` (the "
    "delivery's id: the same on every retry of it) and `X-Kontor-Signature`: `sha256=` followed by "
    "the hex HMAC-SHA256 of the raw body under the subscription's `secret`. Verify it over the bytes "
    "received, before parsing them, with a constant-time comparison. An answer other than 2xx, or "
    "none, is retried later with a growing delay (backoff) until the outbox gives up. Events: "
    "`booking.created`, `booking.changed`, `booking.cancelled` (data: reference, office, service, "
    "start, end, status, channel, language, needs; no name or contact), `callback.requested` and "
    "`callback.done` (data: contact, office, category, due, status, phone)."
)

HOOKS = "/api/v1/webhooks"

Db = NamedDependency[AsyncSession]
WebhookId = Annotated[int, PathParameter(description="The subscription's id.")]


def _options_for(path: str, *handlers: HTTPRouteHandler) -> HTTPRouteHandler:
    """The OPTIONS answer of a path served by a handler per method. Litestar makes one when the
    path's first handler is registered and keeps it as later ones join, so its ``Allow`` would name
    the first method only; this one, registered first, names them all."""
    allow = ", ".join(sorted({"OPTIONS", *(method for h in handlers for method in h.http_methods)}))

    @route(path, http_method=[HttpMethod.OPTIONS], include_in_schema=False, sync_to_thread=False)
    def options() -> Response[None]:
        return Response(content=None, status_code=204, headers={"Allow": allow})

    return options


def _webhook_out(webhook: Webhook) -> schemas.Webhook:
    return schemas.Webhook(
        id=webhook.id,
        name=webhook.name,
        url=webhook.url,
        events=list(webhook.events or []),
        active=webhook.active,
        created_at=webhook.created_at,
    )


@get(
    HOOKS,
    name="api_webhooks",
    summary="List webhook subscriptions",
    description=f"Agent or admin bearer token: an agent's own subscriptions, an admin's all. {DELIVERY}",
    responses=answers(AGENTS_ONLY),
    **PRIVATE,
)
async def list_webhooks(request: Request[Any, Any, Any], db_session: Db) -> list[schemas.Webhook]:
    user = agent_or_admin(request)
    return [_webhook_out(webhook) for webhook in await webhooks.list_webhooks(db_session, user)]


@post(
    HOOKS,
    name="api_webhook_create",
    summary="Subscribe to events",
    description=(
        "Agent or admin bearer token. The answer carries the subscription's `secret`, shown this once: "
        f"keep it to verify the signatures. 422 for a bad `url` or name, or an unknown event. {DELIVERY}"
    ),
    guards=[agents_token, json_only],
    status_code=201,
    responses=answers(
        AGENTS_ONLY,
        {422: "A bad `url` or `name`, or no or unknown `events` (`extra.field` names the field)."},
        NOT_JSON,
    ),
    **PRIVATE,
)
async def create_webhook(
    request: Request[Any, Any, Any], db_write: Db, data: JSONBody[schemas.NewWebhook]
) -> schemas.WebhookCreated:
    user = agent_or_admin(request)
    try:
        webhook, secret = await webhooks.create_webhook(
            db_write,
            user=user,
            name=data.name,
            url=data.url,
            events=data.events,
            now=current_time(request.app.state),
            channel=Channel.API,
        )
    except webhooks.WebhookError as error:
        raise HTTPException(
            status_code=422, detail=_(error.message), extra={"kind": error.kind, "field": error.field}
        ) from None
    return schemas.WebhookCreated(**structs.asdict(_webhook_out(webhook)), secret=secret)


@delete(
    HOOKS + "/{webhook_id:int}",
    name="api_webhook_delete",
    summary="End a webhook subscription",
    description=(
        "Agent or admin bearer token: an agent ends their own subscriptions, an admin any. Deliveries "
        "not yet sent are dropped. 404 for an unknown id or another agent's subscription."
    ),
    responses=answers(
        {204: ResponseSpec(data_container=None, description="Ended.")},
        AGENTS_ONLY,
        {404: "No subscription with this id for this token."},
    ),
    **PRIVATE,
)
async def delete_webhook(
    request: Request[Any, Any, Any], db_write: Db, webhook_id: WebhookId
) -> Response[None]:
    user = agent_or_admin(request)
    await webhooks.delete_webhook(db_write, user, webhook_id, channel=Channel.API)
    return Response(content=None, status_code=204)


# Registered before the path's GET and POST: see _options_for.
_OPTIONS = _options_for(HOOKS, list_webhooks, create_webhook)

ROUTES: list = [_OPTIONS, list_webhooks, create_webhook, delete_webhook]
