"""The PostgreSQL half's database: ``kontor_bench_<pid>`` on the server named by
``KONTOR_BENCH_POSTGRES_URL`` (or else ``KONTOR_TEST_POSTGRES_URL``), created for the run and dropped
at its end, also when the run fails."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

from loadgen import LOOPBACK

VARIABLES = ("KONTOR_BENCH_POSTGRES_URL", "KONTOR_TEST_POSTGRES_URL")
ADMIN_TIMEOUT = 30.0


@dataclass(frozen=True)
class PostgresServer:
    url: str  # SQLAlchemy's form, of a database that can create others (usually "postgres")
    variable: str  # where it came from

    @property
    def address(self) -> str:
        """Host and port, never the credentials: safe to print and to keep in the results."""
        url = _url(self.url)
        return f"{url.host or 'local socket'}:{url.port or 5432}"

    def database_url(self, name: str) -> str:
        """The URL kontor is given for database ``name`` on this server (asyncpg's driver)."""
        url = _url(self.url).set(drivername="postgresql+asyncpg", database=name)
        return url.render_as_string(hide_password=False)


def _url(text: str):  # type: ignore[no-untyped-def]
    from sqlalchemy.engine import make_url

    return make_url(text)


def configured_server() -> PostgresServer | None:
    """The server to use, or None when neither variable is set. Only one on this machine: the
    benchmark measures kontor, not a network."""
    for variable in VARIABLES:
        if text := os.environ.get(variable, "").strip():
            server = PostgresServer(text, variable)
            url = _url(text)
            if not url.get_backend_name().startswith("postgresql"):
                raise ValueError(f"{variable} is not a PostgreSQL URL")
            if url.host is not None and url.host not in LOOPBACK:
                raise ValueError(f"{variable} names {url.host}; the benchmark only uses a local PostgreSQL")
            return server
    return None


async def _admin(server: PostgresServer, *statements: str) -> str:
    """Run ``statements`` on the server's own database; its version."""
    import asyncpg

    url = _url(server.url)
    conn = await asyncpg.connect(
        user=url.username,
        password=url.password,
        host=url.host,
        port=url.port or 5432,
        database=url.database or "postgres",
        timeout=ADMIN_TIMEOUT,
    )
    try:
        for statement in statements:
            await conn.execute(statement, timeout=ADMIN_TIMEOUT)
        return str(await conn.fetchval("SHOW server_version", timeout=ADMIN_TIMEOUT))
    finally:
        await conn.close()


@dataclass(frozen=True)
class BenchDatabase:
    name: str
    url: str
    server_version: str


@contextlib.asynccontextmanager
async def bench_database(server: PostgresServer) -> AsyncIterator[BenchDatabase]:
    """A fresh, empty database for the run, dropped when the block ends however it ends. FORCE ends
    the sessions a stopped server may have left behind (PostgreSQL 13 or later)."""
    name = f"kontor_bench_{os.getpid()}"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    version = await _admin(server, drop, f'CREATE DATABASE "{name}"')
    try:
        yield BenchDatabase(name, server.database_url(name), version)
    finally:
        try:
            await _admin(server, drop)
        except Exception as error:  # never hide why the run failed behind why the clean-up did
            print(f"warning: the database {name} could not be dropped: {error}", file=sys.stderr, flush=True)
