"""Where a database stands: which schema revision it is at, and whether this version can serve it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from kontor import __version__
from kontor.db.engine import create_engine
from kontor.db.migrate import alembic_config, upgrade
from kontor.settings import Settings


class SchemaError(Exception):
    """The database cannot be used as it is; the message says why and what to do."""


def describe_database(settings: Settings) -> str:
    """The SQLite file, or the URL without its password."""
    url = make_url(settings.database_url)
    if settings.is_sqlite and url.database:
        return str(Path(url.database).resolve())
    return url.render_as_string(hide_password=True)


def head_revision(settings: Settings) -> str | None:
    return ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()


def migrate(settings: Settings) -> str | None:
    """Upgrade the database to this version's schema; the revision reached."""
    try:
        upgrade(settings)
    except (OSError, SQLAlchemyError) as exc:
        raise SchemaError(
            f"cannot migrate the database {describe_database(settings)}: {_reason(exc)}"
        ) from exc
    return current_revision(settings)


def current_revision(settings: Settings) -> str | None:
    """The schema revision the database is at, or None when it has no kontor schema. Must not be called
    inside a running event loop."""
    if settings.is_sqlite:
        path = make_url(settings.database_url).database
        if path and path != ":memory:" and not Path(path).exists():
            return None  # connecting would create an empty file

    async def read() -> str | None:
        engine = create_engine(settings)
        try:
            async with engine.connect() as conn:
                if not await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
                    return None
                return await conn.scalar(text("SELECT version_num FROM alembic_version"))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(read())
    except (OSError, SQLAlchemyError) as exc:
        raise SchemaError(f"cannot read the database {describe_database(settings)}: {_reason(exc)}") from exc


def require_head(settings: Settings) -> None:
    """Raise SchemaError unless the database is migrated to this version's head revision."""
    where = describe_database(settings)
    revision = current_revision(settings)
    if revision is None:
        raise SchemaError(f"the database {where} has no kontor schema yet. Run `kontor db upgrade` first.")
    scripts = ScriptDirectory.from_config(alembic_config(settings.database_url))
    head = scripts.get_current_head()
    if revision == head:
        return
    if revision not in {script.revision for script in scripts.walk_revisions()}:
        raise SchemaError(f"the database {where} is at revision {revision}, unknown to kontor {__version__}.")
    raise SchemaError(
        f"the database {where} is at revision {revision}, kontor needs {head}. Run `kontor db upgrade` first."
    )


def _reason(exc: BaseException) -> str:
    # The driver's own message, first line only (no SQL, no traceback, no password).
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]
