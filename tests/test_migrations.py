"""Migrations are the only way the schema changes: they build it from nothing on both databases,
they match the models exactly, and they can be undone and redone."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from kontor.db.migrate import alembic_config, upgrade
from kontor.db.models import Base
from tests.conftest import _settings

MODEL_TABLES = set(Base.metadata.tables)


def _inspect(url: str, look):  # type: ignore[no-untyped-def]
    """Run ``look(sync_connection)`` against ``url`` and return what it found."""

    async def main():  # type: ignore[no-untyped-def]
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(look)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _tables(url: str) -> set[str]:
    return _inspect(url, lambda connection: set(inspect(connection).get_table_names()))


def _current_revision(url: str) -> str | None:
    return _inspect(url, lambda connection: MigrationContext.configure(connection).get_current_revision())


def _head() -> str:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"the migrations have several heads: {heads}; merge them"
    return heads[0]


def test_upgrade_from_empty_creates_every_table(empty_database_url: str, tmp_path: Path) -> None:
    assert not _tables(empty_database_url) - {"sqlite_sequence"}

    upgrade(_settings(empty_database_url, tmp_path))

    tables = _tables(empty_database_url)
    assert tables >= MODEL_TABLES, f"missing after upgrade: {sorted(MODEL_TABLES - tables)}"
    assert _current_revision(empty_database_url) == _head()


def test_autogenerate_against_the_models_is_empty(database_url: str) -> None:
    def differences(connection):  # type: ignore[no-untyped-def]
        # Configured like alembic/env.py, so this sees what `alembic revision --autogenerate` would.
        context = MigrationContext.configure(
            connection,
            opts={
                "target_metadata": Base.metadata,
                "compare_type": True,
                "render_as_batch": connection.dialect.name == "sqlite",
            },
        )
        return compare_metadata(context, Base.metadata)

    diff = _inspect(database_url, differences)
    assert diff == [], "the models and the migrations disagree; add a migration:\n" + "\n".join(
        map(repr, diff)
    )


def test_downgrade_to_base_and_upgrade_again(empty_database_url: str, tmp_path: Path) -> None:
    settings = _settings(empty_database_url, tmp_path)
    upgrade(settings)

    command.downgrade(alembic_config(empty_database_url), "base")

    left = _tables(empty_database_url) - {"alembic_version", "sqlite_sequence"}
    assert not left, f"downgrade to base left tables behind: {sorted(left)}"
    assert _current_revision(empty_database_url) is None

    upgrade(settings)

    assert _tables(empty_database_url) >= MODEL_TABLES
    assert _current_revision(empty_database_url) == _head()
