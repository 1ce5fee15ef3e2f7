"""The live-update bus: offices' events fanned out to the pages that show them (screens, desks, tickets).

On SQLite, one process serves everything and :class:`MemoryBus` hands events over in memory. On
PostgreSQL, several app instances share the database and :class:`kontor.live.postgres.PostgresBus`
carries events through LISTEN/NOTIFY. Either way, services call :func:`announce` inside their
transaction, and the event reaches subscribers only if and when that transaction commits.

Events say *that* something changed at an office, never who: a subscriber re-reads what it shows.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.orm import Session, SessionTransaction

from kontor.live.events import (
    ALARM,
    CALLED,
    CHANNEL,
    RESYNC,
    TICKET,
    LiveEvent,
    decode_event,
    encode_event,
)
from kontor.live.local import LocalSubscribers

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from kontor.settings import Settings

__all__ = [
    "ALARM",
    "CALLED",
    "CHANNEL",
    "RESYNC",
    "TICKET",
    "LiveBus",
    "LiveEvent",
    "MemoryBus",
    "announce",
    "create_bus",
    "decode_event",
    "encode_event",
    "live_bus",
    "register_bus",
]

log = logging.getLogger(__name__)

_PENDING = "kontor_live_pending"


class LiveBus(Protocol):
    """What pages and services need from a bus; one per app instance, in ``app.state["live_bus"]``."""

    async def start(self) -> None: ...

    async def stop(self) -> None:
        """Stop, ending every open subscription (so SSE responses finish and the server can stop)."""

    def subscribe(self, office_id: int) -> AbstractAsyncContextManager[AsyncIterator[LiveEvent]]:
        """The office's events from now on, until the bus stops."""

    async def publish(self, event: LiveEvent) -> None:
        """Send at once, outside any transaction (alarms, tests). Never raises on delivery failure."""


class _Deliverer(Protocol):
    def deliver(self, event: LiveEvent) -> None: ...


class MemoryBus(LocalSubscribers):
    """The bus of a single process (SQLite): publishing is handing over to local subscribers."""

    async def start(self) -> None:
        self.open()

    async def stop(self) -> None:
        self.close()

    async def publish(self, event: LiveEvent) -> None:
        self.deliver(event)


# -- announcing inside a transaction -------------------------------------------------------------

# Which bus a SQLite session's commits go to, found from the session's engine (no request needed).
# Weak, so a disposed test app's engine and bus go away together.
_buses: weakref.WeakKeyDictionary[Engine, _Deliverer] = weakref.WeakKeyDictionary()


def register_bus(engine: AsyncEngine | Engine, bus: LiveBus) -> None:
    """Let sessions on ``engine`` deliver announced events to ``bus`` when they commit (SQLite).
    Engines made from it with ``execution_options`` (``writer(engine)``) deliver there too."""
    sync_engine = getattr(engine, "sync_engine", engine)
    _buses[sync_engine] = bus  # type: ignore[assignment]


def _registered_bus(bind: Any) -> _Deliverer | None:
    # An engine with other execution options (the writer) proxies the engine it was made from.
    while bind is not None:
        bus = _buses.get(bind)
        if bus is not None:
            return bus
        bind = getattr(bind, "_proxied", None)
    return None


async def announce(db: AsyncSession, office_id: int, kind: str, data: dict[str, Any] | None = None) -> None:
    """Queue an event that reaches subscribers only if and when db's transaction commits.

    On PostgreSQL this is a ``pg_notify`` in the transaction: PostgreSQL delivers it at commit to
    every listening instance and drops it on rollback (also of a savepoint). On SQLite the event waits
    in the session until the commit; without a registered bus (CLI, service tests) it is dropped.
    """
    event = LiveEvent(office_id, kind, dict(data or {}))
    payload = encode_event(event)
    bind = db.get_bind()
    if bind.dialect.name == "postgresql":
        await db.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
        )
        return
    bus = _registered_bus(bind)
    if bus is None:
        return
    session = db.sync_session
    # Tagged with the innermost transaction, so a savepoint's rollback drops just its own events.
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((transaction, bus, event))


@sa_event.listens_for(Session, "after_commit")
def _deliver_on_commit(session: Session) -> None:
    # Releasing a savepoint also counts as a commit here; only the outermost one publishes.
    if session.in_nested_transaction():
        return
    for _transaction, bus, event in session.info.pop(_PENDING, ()):
        try:
            bus.deliver(event)
        except Exception:  # a live update must never fail a committed transaction
            log.exception("live event for office %s not delivered", event.office_id)


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_on_savepoint_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        pending[:] = [entry for entry in pending if not _within(entry[0], previous_transaction)]


@sa_event.listens_for(Session, "after_transaction_end")
def _drop_leftovers(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without publishing: rolled back or closed.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


# -- the app's bus ---------------------------------------------------------------------------------


def live_bus(state: Any) -> LiveBus:
    """The app's bus, from ``app.state`` (``request.app.state`` in a handler)."""
    try:
        bus: LiveBus = state["live_bus"]
    except KeyError:
        raise RuntimeError("the app has no live bus: kontor.app.create_app puts one in its state") from None
    return bus


def create_bus(settings: Settings) -> LiveBus:
    """A :class:`MemoryBus` on SQLite (one process), a PostgresBus on PostgreSQL (several instances)."""
    if settings.is_sqlite:
        return MemoryBus()
    from kontor.live.postgres import PostgresBus

    return PostgresBus(settings.database_url)
