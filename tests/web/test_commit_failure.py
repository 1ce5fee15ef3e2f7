"""A commit that fails after the handler has answered: the client is told 503 with ``Retry-After``
(JSON ``detail`` for the API, a page in the reader's language otherwise), never the success, and
nothing of the change is stored. The failure is real on both databases: on SQLite a foreign key
checked only at commit (``defer_foreign_keys``), on PostgreSQL the request's own connection
terminated from another one just before the commit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from litestar import Litestar, Response, get, post
from litestar.di import NamedDependency
from litestar.testing import TestClient
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.contacts.models import Contact

MARK = "commit-failure-test"


async def _break_the_commit(db: AsyncSession, database_url: str) -> None:
    if db.get_bind().dialect.name == "sqlite":
        await db.execute(text("PRAGMA defer_foreign_keys = ON"))
        office_id = 999_999  # no such office: refused only when the transaction commits
    else:
        office_id = None
    await db.execute(
        insert(Contact).values(
            channel="api", category="other", outcome="solved", summary=MARK, office_id=office_id,
            language="sv", needs=[], callback_note="", created_at=datetime.now(UTC),
            updated_at=datetime.now(UTC),
        )
    )  # fmt: skip
    if db.get_bind().dialect.name == "postgresql":
        pid = await db.scalar(text("SELECT pg_backend_pid()"))
        url = make_url(database_url)
        other = await asyncpg.connect(
            user=url.username, host=url.host, port=url.port or 5432, database=url.database
        )
        try:
            await other.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await other.close()


def _with_breaking_routes(app: Litestar, database_url: str) -> Litestar:
    @post("/api/v1/test-commit", status_code=201)
    async def api_write(db_write: NamedDependency[AsyncSession]) -> dict[str, Any]:
        await _break_the_commit(db_write, database_url)
        return {"saved": True}

    @get("/test-commit-page")
    async def page_write(db_write: NamedDependency[AsyncSession]) -> Response[str]:
        await _break_the_commit(db_write, database_url)
        return Response("<p>Saved</p>", media_type="text/html")

    app.register(api_write)
    app.register(page_write)
    return app


async def _stored(settings) -> int:  # type: ignore[no-untyped-def]
    from kontor.db.engine import create_engine

    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            return await connection.scalar(select(func.count()).where(Contact.summary == MARK)) or 0
    finally:
        await engine.dispose()


def test_a_failed_commit_is_a_503_and_stores_nothing(app: Litestar, settings, database_url: str) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    with TestClient(_with_breaking_routes(app, database_url)) as client:
        answer = client.post("/api/v1/test-commit")
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "5"
        assert answer.headers["content-type"].startswith("application/json")
        assert "nothing was stored" in answer.json()["detail"]
        assert answer.json().get("saved") is None
        # The app goes on: the next request gets a working connection.
        assert client.get("/healthz").status_code == 200
    assert asyncio.run(_stored(settings)) == 0


def test_a_failed_commit_tells_a_browser_in_its_language(app: Litestar, settings, database_url: str) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    with TestClient(_with_breaking_routes(app, database_url)) as client:
        answer = client.get("/test-commit-page", headers={"Accept": "text/html", "Accept-Language": "sv"})
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("text/html")
    assert '<html lang="sv">' in answer.text
    assert "Ingenting sparades" in answer.text
    assert "Saved" not in answer.text
    assert asyncio.run(_stored(settings)) == 0
