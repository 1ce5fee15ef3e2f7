"""A key-value store in the database, so server-side sessions are shared by every app instance."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from litestar.stores.base import NamespacedStore
from sqlalchemy import LargeBinary, String, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from kontor.db.base import Base, utcnow
from kontor.db.write_queue import WriteTurns


class StoredValue(Base):
    __tablename__ = "kv_store"

    namespace: Mapped[str] = mapped_column(String(60), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(index=True)


class DatabaseStore(NamespacedStore):
    __slots__ = ("_read_session_maker", "_session_maker", "_turns")

    def __init__(
        self,
        session_maker: Callable[[], AsyncSession],
        namespace: str = "default",
        turns: WriteTurns | None = None,
        read_session_maker: Callable[[], AsyncSession] | None = None,
    ) -> None:
        self.namespace = namespace
        self._session_maker = session_maker
        # Reads need no writer's lock: on SQLite a writer's session begins IMMEDIATE and would wait
        # for every write in progress just to read a staff member's session.
        self._read_session_maker = read_session_maker or session_maker
        # On SQLite, writes wait in the app's write line (as staff: only signed-in users have sessions)
        # instead of in SQLite's busy handler behind a rush of bookings.
        self._turns = turns

    def with_namespace(self, namespace: str) -> DatabaseStore:
        return DatabaseStore(
            self._session_maker, f"{self.namespace}_{namespace}", self._turns, self._read_session_maker
        )

    def _writing(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._turns.turn(staff=True) if self._turns else contextlib.nullcontext()

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        if isinstance(expires_in, int):
            expires_in = timedelta(seconds=expires_in)
        expires_at = utcnow() + expires_in if expires_in else None
        async with self._writing(), self._session_maker() as session, session.begin():
            await session.connection(execution_options={"kontor_write": True})
            dialect = session.bind.dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            stmt = insert(StoredValue).values(
                namespace=self.namespace, key=key, value=data, expires_at=expires_at
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["namespace", "key"], set_={"value": data, "expires_at": expires_at}
            )
            await session.execute(stmt)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        async with self._read_session_maker() as session:
            row = await session.scalar(
                select(StoredValue).where(StoredValue.namespace == self.namespace, StoredValue.key == key)
            )
            if row is None:
                return None
            if row.expires_at is not None and row.expires_at <= utcnow():
                await session.rollback()
                await self.delete(key)
                return None
            value = row.value
        if renew_for and row.expires_at is not None:
            await self.set(key, value, renew_for)
        return value

    async def delete(self, key: str) -> None:
        async with self._writing(), self._session_maker() as session, session.begin():
            await session.connection(execution_options={"kontor_write": True})
            await session.execute(
                delete(StoredValue).where(StoredValue.namespace == self.namespace, StoredValue.key == key)
            )

    async def delete_all(self) -> None:
        async with self._writing(), self._session_maker() as session, session.begin():
            await session.connection(execution_options={"kontor_write": True})
            # Children ("sessions_x") go with their parent, as NamespacedStore promises.
            await session.execute(
                delete(StoredValue).where(
                    (StoredValue.namespace == self.namespace)
                    | StoredValue.namespace.startswith(f"{self.namespace}_", autoescape=True)
                )
            )

    async def delete_expired(self) -> int:
        async with self._writing(), self._session_maker() as session, session.begin():
            await session.connection(execution_options={"kontor_write": True})
            result = await session.execute(delete(StoredValue).where(StoredValue.expires_at <= utcnow()))
            return result.rowcount or 0

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        async with self._read_session_maker() as session:
            expires_at = await session.scalar(
                select(StoredValue.expires_at).where(
                    StoredValue.namespace == self.namespace, StoredValue.key == key
                )
            )
        if expires_at is None:
            return None
        return int((expires_at - utcnow()).total_seconds())
