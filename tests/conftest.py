"""Test harness: every database test runs on SQLite and, when configured, on PostgreSQL.

``KONTOR_TEST_POSTGRES_URL`` (e.g. ``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``) turns the
PostgreSQL half on; each test gets a fresh database cloned from a migrated template. Without it the
PostgreSQL half is skipped and the run says so at the end. ``KONTOR_REQUIRE_POSTGRES=1`` and
``KONTOR_REQUIRE_BROWSER=1`` (set by CI) turn those skips into failures.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kontor.accounts import security
from kontor.app import create_app
from kontor.db.engine import create_engine, writer
from kontor.db.migrate import upgrade
from kontor.settings import Settings

# Argon2 at kontor's cost takes ~0.2 s of CPU per login, and the suite logs in thousands of times.
# The tests hash with argon2id's cheapest parameters; verifying reads them from the stored hash, so
# every login of a test user is cheap, while the app's code runs unchanged. Servers that tests start
# in processes of their own seed and hash at full cost.
security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
security._DUMMY_HASH = security._hasher.hash("kontor-no-such-user")

POSTGRES_URL = os.environ.get("KONTOR_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("KONTOR_REQUIRE_POSTGRES") == "1"
ENGLISH = {"Accept-Language": "en"}
_NOT_RUN = re.compile(r"(\w+) half not run: (.*)")


def _skip_or_fail(part: str, reason: str) -> None:
    if os.environ.get(f"KONTOR_REQUIRE_{part.upper()}") == "1":
        pytest.fail(f"{part} is required here but {reason}")
    pytest.skip(f"{part} half not run: {reason}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Read from the skip reports, so it also works when the tests ran in several processes (xdist).
    not_run: dict[str, str] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        found = _NOT_RUN.search(message)
        if found:
            not_run[found.group(1)] = found.group(2)
    if not_run:
        terminalreporter.section("parts that did not run")
        for part, reason in not_run.items():
            terminalreporter.write_line(f"NOT RUN: {part} tests — {reason}", yellow=True, bold=True)


def _settings(database_url: str, data_dir: Path) -> Settings:
    return Settings.from_env(
        database_url=database_url,
        data_dir=data_dir,
        secret_key="test-secret-key-not-for-production",
        secure_cookies=False,
        # Tests send messages and sweep holds by calling the worker's steps, not in the background.
        background_worker=False,
        # Page and API tests send many bookings from one address; tests of the limit turn it on.
        booking_rate_limit=0,
        # Races of many clients on one slot are the point of some tests; admission control has its own.
        public_concurrency=0,
    )


# -- databases ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "kontor.db"
    upgrade(_settings(f"sqlite+aiosqlite:///{path}", folder))
    return path


async def _pg_admin(sql: str) -> None:
    import asyncpg

    url = make_url(POSTGRES_URL)
    conn = await asyncpg.connect(
        user=url.username, password=url.password, host=url.host, port=url.port or 5432, database=url.database
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_url(database: str) -> str:
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    if not POSTGRES_URL:
        yield None
        return
    name = f"kontor_tpl_{os.getpid()}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    upgrade(_settings(_pg_url(name), tmp_path_factory.mktemp("pg")))
    yield name
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def fresh_database(
    kind: str, folder: Path, sqlite_template: Path, postgres_template: str | None, prefix: str = "kontor_t"
) -> Iterator[str]:
    """A migrated, empty database of ``kind`` ("sqlite" or "postgres") while the block runs."""
    if kind == "sqlite":
        path = folder / "kontor.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    if postgres_template is None:
        _skip_or_fail("postgres", "KONTOR_TEST_POSTGRES_URL is not set")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    try:
        yield _pg_url(name)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, postgres_template: str | None
) -> Iterator[str]:
    """A fresh, migrated, empty database of each kind."""
    with fresh_database(request.param, tmp_path, sqlite_template, postgres_template) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even Alembic's version table."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    if not POSTGRES_URL:
        _skip_or_fail("postgres", "KONTOR_TEST_POSTGRES_URL is not set")
    name = f"kontor_e_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return _settings(database_url, tmp_path)


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


# -- sessions for service tests ----------------------------------------------------------------


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture
def write_session(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose transactions begin as writers (BEGIN IMMEDIATE on SQLite)."""
    return async_sessionmaker(writer(engine), expire_on_commit=False)


@pytest.fixture
def read_session(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# -- the app -----------------------------------------------------------------------------------


def run_with_engine(settings: Settings, work) -> object:  # type: ignore[no-untyped-def]
    """Run ``await work(session)`` in a write transaction from synchronous code (fixtures of page tests)."""

    async def main() -> object:
        engine = create_engine(settings)
        try:
            maker = async_sessionmaker(writer(engine), expire_on_commit=False)
            async with maker() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@pytest.fixture
def city(settings: Settings):  # type: ignore[no-untyped-def]
    """A small city built through the models: see ``tests/factories.py``."""
    from tests.factories import build_city

    return run_with_engine(settings, build_city)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
def client(app: Litestar, city) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    # Assertions read the English msgids; tests of Swedish and Finnish ask for them explicitly.
    with TestClient(app, base_url="http://testserver.local") as test_client:
        test_client.headers.update(ENGLISH)
        yield test_client


@pytest.fixture
def empty_client(app: Litestar) -> Iterator[TestClient]:
    # Assertions read the English msgids; tests of Swedish and Finnish ask for them explicitly.
    with TestClient(app, base_url="http://testserver.local") as test_client:
        test_client.headers.update(ENGLISH)
        yield test_client
