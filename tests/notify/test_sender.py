"""The sender: retries with growing pauses, gives up after eight tries, picks up messages whose
sender died, never sends a message twice from two instances (which share the due messages instead of
queueing for the same ones), and the background loop around it (see also tests/worker)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from tests.notify.conftest import NOW, make_booking, minutes, outbox

from kontor.app import create_app
from kontor.db.engine import create_engine, writer
from kontor.notify.models import OutboxMessage
from kontor.notify.sender import MAX_ATTEMPTS, BackgroundWorker, backoff, describe_error, send_due


class Broken:
    """A transport whose server always refuses, naming the recipient like real servers do."""

    def __init__(self) -> None:
        self.tries = 0

    async def send(self, message: OutboxMessage) -> None:
        self.tries += 1
        raise ConnectionError(f"550 mailbox {message.recipient} unavailable, call +46 70 123 45 67")


class Recorder:
    """A transport that takes a moment per message and remembers what it sent."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    async def send(self, message: OutboxMessage) -> None:
        await asyncio.sleep(0.005)
        self.sent.append(message.id)


@pytest.mark.parametrize(
    ("attempts", "wait"), [(1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 32), (7, 60), (9, 60)]
)
def test_backoff_doubles_up_to_an_hour(attempts: int, wait: int) -> None:
    assert backoff(attempts) == timedelta(minutes=wait)


def test_errors_are_kept_without_personal_data() -> None:
    error = ConnectionError("550 <anna@example.se> unknown; SMS to 070-123 45 67 failed" + "x" * 500)
    text = describe_error(error, "anna@example.se")
    assert text.startswith("ConnectionError: 550")
    assert "anna" not in text and "123 45" not in text
    assert len(text) <= 300


async def test_a_failing_message_is_retried_with_backoff_then_given_up(
    city, write_session, read_session, settings, caplog
) -> None:
    await make_booking(write_session, settings)
    broken = Broken()
    transports = {"email": broken, "sms": broken}
    now = NOW
    caplog.set_level(logging.INFO)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert await send_due(write_session, settings, now, transports) == 0
        (message,) = await outbox(read_session)
        assert message.attempts == attempt
        assert "anna@example.se" not in message.last_error
        if attempt < MAX_ATTEMPTS:
            assert message.status == "pending"
            assert message.next_attempt_at == now + backoff(attempt)
            # Not due a moment before its time.
            await send_due(
                write_session, settings, message.next_attempt_at - timedelta(seconds=1), transports
            )
            assert broken.tries == attempt
            now = message.next_attempt_at
    assert message.status == "failed"
    assert message.sent_at is None
    assert now - NOW == minutes(1 + 2 + 4 + 8 + 16 + 32 + 60)
    assert await send_due(write_session, settings, now + timedelta(days=1), transports) == 0
    assert broken.tries == MAX_ATTEMPTS
    assert "anna@example.se" not in caplog.text
    assert "Anna" not in caplog.text
    assert "123 45 67" not in caplog.text


async def test_a_message_whose_sender_died_is_sent_after_the_claim_runs_out(
    city, write_session, read_session, settings
) -> None:
    await make_booking(write_session, settings)
    recorder = Recorder()
    transports = {"email": recorder, "sms": recorder}
    # As a crashed instance leaves it: claimed ("sending") until NOW + 10 minutes.
    async with write_session() as db, db.begin():
        await db.execute(
            update(OutboxMessage).values(status="sending", attempts=1, next_attempt_at=NOW + minutes(10))
        )
    assert await send_due(write_session, settings, NOW + minutes(9), transports) == 0
    assert await send_due(write_session, settings, NOW + minutes(10), transports) == 1
    (message,) = await outbox(read_session)
    assert (message.status, message.attempts, message.sent_at) == ("sent", 2, NOW + minutes(10))

    # After its last try, a message left "sending" is given up instead.
    async with write_session() as db, db.begin():
        await db.execute(
            update(OutboxMessage).values(status="sending", attempts=MAX_ATTEMPTS, next_attempt_at=NOW)
        )
    assert await send_due(write_session, settings, NOW + minutes(11), transports) == 0
    (message,) = await outbox(read_session)
    assert message.status == "failed"
    assert recorder.sent == [message.id]


async def test_two_instances_send_each_message_once(city, write_session, read_session, settings) -> None:
    async with write_session() as db, db.begin():
        db.add_all(
            OutboxMessage(
                channel="sms",
                kind="booked",
                office_id=city.kista.id,
                recipient=f"07012345{n:02d}",
                language="sv",
                body=f"Meddelande {n}",
                next_attempt_at=NOW - minutes(n % 3),
            )
            for n in range(30)
        )
    # A second engine, as a second app instance has.
    other_engine = create_engine(settings)
    other = async_sessionmaker(writer(other_engine), expire_on_commit=False)
    first, second = Recorder(), Recorder()

    async def drain(maker: Any, recorder: Recorder) -> int:
        total = 0
        while sent := await send_due(maker, settings, NOW, {"sms": recorder, "email": recorder}, limit=4):
            total += sent
        return total

    try:
        counts = await asyncio.gather(drain(write_session, first), drain(other, second))
    finally:
        await other_engine.dispose()
    messages = await outbox(read_session)
    assert sum(counts) == 30
    assert sorted(first.sent + second.sent) == sorted(message.id for message in messages)
    assert {message.status for message in messages} == {"sent"}
    assert {message.attempts for message in messages} == {1}


async def test_two_workers_share_a_hundred_due_messages_and_send_each_once(
    city, write_session, read_session, settings
) -> None:
    async with write_session() as db, db.begin():
        db.add_all(
            OutboxMessage(
                channel="email" if n % 2 else "sms",
                kind="reminder",
                office_id=city.kista.id,
                recipient=f"besokare{n}@example.se" if n % 2 else f"07012345{n:02d}",
                language="sv",
                body=f"Meddelande {n}",
                next_attempt_at=NOW - minutes(n % 5),
            )
            for n in range(100)
        )
    other_engine = create_engine(settings)
    other = async_sessionmaker(writer(other_engine), expire_on_commit=False)
    first, second = Recorder(), Recorder()

    async def drain(maker: Any, recorder: Recorder) -> int:
        total = 0
        while sent := await send_due(maker, settings, NOW, {"sms": recorder, "email": recorder}):
            total += sent
        return total

    try:
        counts = await asyncio.gather(drain(write_session, first), drain(other, second))
    finally:
        await other_engine.dispose()
    messages = await outbox(read_session)
    assert sum(counts) == 100
    sent = first.sent + second.sent
    assert len(sent) == len(set(sent)) == 100
    assert set(sent) == {message.id for message in messages}
    assert {(message.status, message.attempts) for message in messages} == {("sent", 1)}
    # Each took a share while the other was sending: neither waited for rows the other had claimed.
    assert first.sent and second.sent


async def test_a_failing_step_does_not_stop_the_others(
    city, write_session, read_session, settings, caplog
) -> None:
    await make_booking(write_session, settings)
    recorder = Recorder()
    ran: list[Any] = []

    async def sweep_holds(maker: Any, now: Any) -> None:
        raise RuntimeError("Anna Andersson's hold")

    async def count(maker: Any, now: Any) -> None:
        ran.append(now)

    worker = BackgroundWorker(
        settings, transports={"email": recorder, "sms": recorder}, steps=[sweep_holds, count]
    )
    await worker.run_once(write_session, NOW)
    assert len(recorder.sent) == 1
    assert ran == [NOW]
    assert "sweep_holds" in caplog.text
    assert "Anna" not in caplog.text


def test_the_app_runs_the_worker_when_asked(settings, city) -> None:
    async def booked() -> None:
        engine = create_engine(settings)
        try:
            await make_booking(async_sessionmaker(writer(engine), expire_on_commit=False), settings)
        finally:
            await engine.dispose()

    asyncio.run(booked())
    app = create_app(dataclasses.replace(settings, background_worker=True))
    app.state.clock = lambda: NOW
    folder = Path(settings.data_dir) / "outbox"
    with TestClient(app):
        deadline = time.monotonic() + 20
        while not (folder.exists() and any(folder.glob("*-email.eml"))) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert [path.suffix for path in folder.iterdir()] == [".eml"]
