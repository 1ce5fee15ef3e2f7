"""What the contact-center API tests share: bearer tokens by role, the clock, a booking made by the
agent, and reading rows back."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar.testing import TestClient
from sqlalchemy import select
from tests.conftest import run_with_engine
from tests.factories import ADMIN_TOKEN, AGENT_TOKEN

from kontor.accounts.models import ApiToken, User
from kontor.accounts.security import hash_token
from kontor.settings import Settings

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)  # a Monday morning
NINE = "2026-12-15T09:00:00+01:00"  # a free slot at Kista on Tuesday
STAFF_TOKEN = "kontor_test-staff-token-0123456789abcdef"
BROMMA_TOKEN = "kontor_test-bromma-token-0123456789abcdef"
PHONE = "070-123 45 67"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


AGENT, ADMIN, STAFF, BROMMA = (bearer(t) for t in (AGENT_TOKEN, ADMIN_TOKEN, STAFF_TOKEN, BROMMA_TOKEN))
# Who holds each token: the factory city's agent and admin, Kista's desk clerk, Bromma's manager.
TOKENS = {"agent": AGENT, "admin": ADMIN, "staff": STAFF, "bromma_manager": BROMMA}


def add_staff_tokens(settings: Settings) -> None:
    """API tokens for Kista's desk clerk and Bromma's manager (the factory city has none)."""

    async def work(db) -> None:  # type: ignore[no-untyped-def]
        for username, token in (("staff", STAFF_TOKEN), ("bromma_manager", BROMMA_TOKEN)):
            user = await db.scalar(select(User).where(User.username == username))
            db.add(ApiToken(name=username, user_id=user.id, token_hash=hash_token(token), prefix=token[:12]))

    run_with_engine(settings, work)


def rows(settings: Settings, query: Any) -> list[Any]:
    """The rows (ORM objects or scalars) a select finds now."""

    async def work(db) -> list[Any]:  # type: ignore[no-untyped-def]
        return list(await db.scalars(query))

    return run_with_engine(settings, work)  # type: ignore[return-value]


def book_for_caller(client: TestClient, **overrides: object) -> dict[str, Any]:
    """A visit at Kista on Tuesday at nine, booked by the agent for a caller who gave a phone number."""
    body = {"office": "kista", "service": "eservice", "start": NINE, "name": "Anna Andersson", "phone": PHONE}
    response = client.post("/api/v1/bookings", json=body | overrides, headers=AGENT)
    assert response.status_code == 201, response.text
    return response.json()


def log_contact(client: TestClient, headers: dict[str, str] | None = None, **body: object):  # type: ignore[no-untyped-def]
    """POST a contact: a solved information call unless ``body`` says otherwise."""
    sent = {"category": "information", "outcome": "solved", "summary": "Asked about opening hours."} | body
    return client.post("/api/v1/contacts", json=sent, headers=AGENT if headers is None else headers)


def log_callback(client: TestClient, office: str = "kista", **body: object) -> dict[str, Any]:
    """A call-back for ``office``, logged by the agent; the answer's body."""
    response = log_contact(
        client,
        category="benefits",
        outcome="callback",
        summary="Wants help with an application for housing allowance.",
        office=office,
        phone=PHONE,
        **body,
    )
    assert response.status_code == 201, response.text
    return response.json()
