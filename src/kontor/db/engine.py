"""Engine set-up: SQLite pragmas and write transactions that take the lock up front."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from kontor.settings import Settings

WRITE_OPTION = "kontor_write"


def create_engine(settings: Settings) -> AsyncEngine:
    """One engine per process. On SQLite, a connection that carries the write option begins with
    ``BEGIN IMMEDIATE``: a deferred transaction that reads and later writes fails at once with
    "database is locked" when another writer got in between, whatever the busy timeout."""
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            connect_args={"timeout": 30},
            hide_parameters=True,
            pool_size=settings.db_pool_size,
            max_overflow=10,
        )
        _configure_sqlite(engine)
        return engine
    kwargs: dict[str, Any] = {"pool_pre_ping": True, "pool_size": settings.db_pool_size, "max_overflow": 10}
    if settings.database_url.endswith("nullpool"):
        kwargs = {"poolclass": NullPool}
    # Statement parameters carry residents' names and contacts: never in an error message or log.
    return create_async_engine(settings.database_url, hide_parameters=True, **kwargs)


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same engine and pool, but transactions begin as writers."""
    return engine.execution_options(**{WRITE_OPTION: True})


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (the driver's implicit BEGIN is deferred and too late).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
