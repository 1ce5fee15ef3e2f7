"""Fixtures for the administration's page tests: a fixed clock, logged-in clients, reading the DB."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tests.conftest import run_with_engine
from tests.helpers import logged_in

from kontor.audit.models import AuditEntry

# A Saturday a few days before Christmas: the 14-day preview covers Christmas Eve and New Year's Eve.
NOW = datetime(2026, 12, 19, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(app: Any) -> None:
    app.state.clock = lambda: NOW


@pytest.fixture
def fetch(settings: Any) -> Callable[[Callable[[AsyncSession], Awaitable[Any]]], Any]:
    """Run ``await work(session)`` against the test database, for checking what was written."""
    return lambda work: run_with_engine(settings, work)


@pytest.fixture
def audit_entries(fetch: Any) -> Callable[..., list[AuditEntry]]:
    def entries(action: str) -> list[AuditEntry]:
        async def work(db: AsyncSession) -> list[AuditEntry]:
            return list(await db.scalars(select(AuditEntry).where(AuditEntry.action == action)))

        return fetch(work)

    return entries


@pytest.fixture
def as_manager(client: Any) -> Any:
    return logged_in(client, "manager")


@pytest.fixture
def as_admin(client: Any) -> Any:
    return logged_in(client, "admin")
