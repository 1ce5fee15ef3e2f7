"""Fan-out to this process's subscribers, per office; both buses deliver through it."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kontor.live.events import RESYNC, LiveEvent

# Events a subscriber may fall behind by before it is told to start over (a "resync").
INBOX_SIZE = 64


class Inbox:
    """One subscriber's events, in order. Iterating ends when the bus stops.

    Waiting for the next event can be cancelled (a timeout, a heartbeat) without losing one: an
    event leaves the inbox only when it is returned.
    """

    __slots__ = ("_closed", "_events", "_limit", "_loop", "_wake", "office_id")

    def __init__(self, office_id: int, limit: int = INBOX_SIZE) -> None:
        self.office_id = office_id
        self._events: deque[LiveEvent] = deque()
        self._limit = limit
        self._wake = asyncio.Event()
        self._closed = False
        self._loop = asyncio.get_running_loop()

    def put(self, event: LiveEvent) -> None:
        """Queue ``event``; from another thread's loop too (a test driving the app's sessions)."""
        if _running_loop() is not self._loop:
            # A closed loop means a reader that is gone: nothing to hand over.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._put, event)
        else:
            self._put(event)

    def close(self) -> None:
        """End the iteration once the events already queued are read."""
        if _running_loop() is not self._loop:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._close)
        else:
            self._close()

    def _put(self, event: LiveEvent) -> None:
        if self._closed:
            return
        if len(self._events) >= self._limit:
            # A subscriber this far behind re-reads everything anyway: one "resync" replaces the
            # backlog, and what follows queues behind it again.
            self._events.clear()
            event = LiveEvent(self.office_id, RESYNC)
        self._events.append(event)
        self._wake.set()

    def _close(self) -> None:
        self._closed = True
        self._wake.set()

    def __aiter__(self) -> Inbox:
        return self

    async def __anext__(self) -> LiveEvent:
        while not self._events:
            if self._closed:
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()
        return self._events.popleft()


class LocalSubscribers:
    """Inboxes per office. Subscribers read on the app's loop; events may be handed over from
    anywhere (an inbox passes them to its loop)."""

    def __init__(self, inbox_size: int = INBOX_SIZE) -> None:
        self._offices: dict[int, set[Inbox]] = {}
        self._inbox_size = inbox_size
        self._closed = False

    def open(self) -> None:
        """Accept subscriptions again after :meth:`close` (an app that starts a second time)."""
        self._closed = False

    def close(self) -> None:
        """End every subscription; new ones end at once until :meth:`open`."""
        self._closed = True
        for inboxes in tuple(self._offices.values()):
            for inbox in tuple(inboxes):
                inbox.close()

    @asynccontextmanager
    async def subscribe(self, office_id: int) -> AsyncIterator[AsyncIterator[LiveEvent]]:
        """The office's events from now on; leaving the block unsubscribes."""
        inbox = Inbox(office_id, self._inbox_size)
        if self._closed:
            inbox.close()
        self._offices.setdefault(office_id, set()).add(inbox)
        try:
            yield inbox
        finally:
            inboxes = self._offices.get(office_id)
            if inboxes is not None:
                inboxes.discard(inbox)
                if not inboxes:
                    del self._offices[office_id]

    def deliver(self, event: LiveEvent) -> None:
        """Hand ``event`` to this process's subscribers of its office."""
        for inbox in tuple(self._offices.get(event.office_id, ())):
            inbox.put(event)

    def resync_everyone(self) -> None:
        """Tell every subscriber to re-read: events may have been missed (a lost connection)."""
        for office_id, inboxes in tuple(self._offices.items()):
            for inbox in tuple(inboxes):
                inbox.put(LiveEvent(office_id, RESYNC))

    def subscriber_count(self, office_id: int | None = None) -> int:
        """How many subscriptions are open (of one office, or of all)."""
        if office_id is not None:
            return len(self._offices.get(office_id, ()))
        return sum(len(inboxes) for inboxes in self._offices.values())


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
