"""No personal data in logs (DESIGN rule 6): every log record of a day's work — a booking made,
moved and cancelled online; a walk-in ticket with a number for a text message, called and served;
an agent's call with a search by number, the call logged, a visit booked and a call-back asked for;
the worker's round, with every message failing to send — is read, and none holds a name, an e-mail
address or a phone number, however the number is written.

Logging is as strict as it gets: the root logger at DEBUG, Litestar's own (which does not propagate)
too, and SQLAlchemy's statements at INFO (``echo=True``; kontor does not turn it on, but an operator
might): kontor's engines hide statement parameters. The app is the app as built, with the logging
configuration it sets up itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import traceback
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor.app import create_app
from kontor.db.engine import create_engine, writer
from kontor.notify.models import MessageChannel, OutboxMessage
from kontor.offices.models import Office, Service
from kontor.queue.alerts import queue_ticket_alerts
from kontor.queue.models import Ticket
from kontor.settings import Settings
from kontor.worker.runner import Worker
from tests.helpers import logged_in, post_form

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONDAY = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)  # bookings for Kista's Tuesday are made
CALL_TIME = datetime(2026, 12, 14, 10, 30, tzinfo=STOCKHOLM)  # the contact center answers
TUESDAY = datetime(2026, 12, 15, 9, 30, tzinfo=STOCKHOLM)  # Kista is open for walk-ins
NINE, NINE_TWENTY = "2026-12-15T09:00:00+01:00", "2026-12-15T09:20:00+01:00"
NINE_FORTY = datetime(2026, 12, 15, 9, 40, tzinfo=STOCKHOLM)

RESIDENT, RESIDENT_EMAIL, RESIDENT_PHONE = "Ingegerd Spårlös", "ingegerd.sparlos@example.se", "070-123 45 67"
CALLER = "Bertil Hemlighetsson"
# Every spelling of the one number that the flows below type, and the parts that give it away.
SPELLINGS = ("0701234567", "070-123 45 67", "+46701234567", "+46 70 123 45 67", "70 123 45 67", "701234567")
SECRETS = (RESIDENT, "Spårlös", "Ingegerd", RESIDENT_EMAIL, "sparlos", CALLER, "Hemlighetsson", *SPELLINGS)


# -- what is logged -----------------------------------------------------------------------------------


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logs(app, caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[logging.LogRecord]]]:  # type: ignore[no-untyped-def]
    """Every record from here on: the root logger's (pytest's caplog) and those of loggers that do not
    propagate to it (Litestar's, which the app configured when it was built)."""
    # Statements as ``echo=True`` logs them; the drivers' own tracing (aiosqlite's DEBUG has every
    # statement's parameters, as ``echo="debug"`` has every row) stays as the app leaves it: off,
    # see test_the_app_leaves_statement_tracing_off.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    caplog.set_level(logging.INFO, logger="aiosqlite")
    caplog.set_level(logging.DEBUG, logger="litestar")
    caplog.set_level(logging.DEBUG)  # last: caplog's handler takes the level of the latest call
    kept = _Kept()
    apart = [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    for logger in apart:
        logger.addHandler(kept)
    yield lambda: [*caplog.records, *kept.records]
    for logger in apart:
        logger.removeHandler(kept)


def _texts(record: logging.LogRecord) -> list[str]:
    """What a record can carry into a log file: its message, its arguments, its exception, its stack."""
    texts = [str(record.msg), record.getMessage()]
    args = record.args if isinstance(record.args, tuple) else (record.args,)
    texts += [repr(arg) for arg in args] + [str(arg) for arg in args]
    if record.exc_info and record.exc_info[1] is not None:
        texts.append("".join(traceback.format_exception(*record.exc_info)))
    texts += [record.exc_text or "", record.stack_info or ""]
    return texts


def _test_client_request(record: logging.LogRecord) -> bool:
    # The test's own HTTP client (httpx) logs every address it asks for; that is not the app's log.
    return record.name == "httpx" and "http://testserver.local/" in record.getMessage()


def _leaks(records: list[logging.LogRecord]) -> list[tuple[str, str, str]]:
    found = []
    for record in records:
        if _test_client_request(record):
            continue
        for text in _texts(record):
            lowered = text.lower()
            found += [(record.name, secret, text[:300]) for secret in SECRETS if secret.lower() in lowered]
    return found


# -- the day's work -----------------------------------------------------------------------------------


def _at(client, when: datetime):  # type: ignore[no-untyped-def]
    client.app.state.clock = lambda: when
    return client


def _in_database(
    settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[Any]]
) -> Any:
    """``await work(session_maker)`` with write sessions of an engine of its own, as a worker has."""

    async def main() -> Any:
        engine = create_engine(settings)
        try:
            return await work(async_sessionmaker(writer(engine), expire_on_commit=False))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _book_online(client) -> None:  # type: ignore[no-untyped-def]
    _at(client, MONDAY)
    held = post_form(client, "/book/hold", {"service": "eservice", "office": "kista", "start": NINE})
    assert held.status_code == 303, held.text
    location = urlsplit(held.headers["location"])
    path, token = location.path, parse_qs(location.query)["token"][0]
    assert client.get(held.headers["location"]).status_code == 200
    details = {"name": RESIDENT, "email": RESIDENT_EMAIL, "phone": RESIDENT_PHONE, "language": "sv"}
    confirmed = post_form(client, f"{path}/confirm", {"token": token, **details, "needs": ["interpreter"]})
    assert confirmed.status_code == 303, confirmed.text
    assert RESIDENT in client.get(confirmed.headers["location"]).text
    moved = post_form(client, f"{path}/reschedule", {"token": token, "start": NINE_TWENTY})
    assert moved.status_code == 303, moved.text
    cancelled = post_form(client, f"{path}/cancel", {"token": token})
    assert cancelled.status_code == 303, cancelled.text


def _take_a_call(client) -> None:  # type: ignore[no-untyped-def]
    logged_in(_at(client, CALL_TIME), "agent")
    assert client.get("/agent", params={"phone": "070-123 45 67", "service": "eservice"}).status_code == 200
    summary = f"{CALLER} asks about the housing allowance; call back on 0701234567."
    logged = post_form(
        client, "/agent/contacts",
        {"category": "benefits", "outcome": "solved", "summary": summary, "phone": "0701234567"},
    )  # fmt: skip
    assert logged.status_code == 303, logged.text
    booked = post_form(
        client, "/agent/bookings",
        {
            "console": "service=eservice&phone=0701234567",
            "slot": f"kista|{NINE_FORTY.isoformat()}",
            "name": CALLER, "phone": "070-123 45 67", "email": "", "language": "en",
            "needs": ["computer_help"], "category": "eservices", "summary": summary,
        },
    )  # fmt: skip
    assert booked.status_code == 303, booked.text
    assert client.get(booked.headers["location"]).status_code == 200
    found = client.get("/agent", params={"phone": "+46701234567", "service": "eservice"})
    assert found.status_code == 200 and CALLER in found.text
    callback = post_form(
        client, "/agent/contacts",
        {
            "category": "housing", "outcome": "callback", "summary": summary, "phone": "+46 70 123 45 67",
            "office": "kista", "callback_due_at": "2026-12-15T09:30",
        },
    )  # fmt: skip
    assert callback.status_code == 303, callback.text


def _walk_in(client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    logged_in(_at(client, TUESDAY), "staff")
    issued = post_form(client, "/desk/kista/tickets", {"service": "eservice", "phone": "+46 70 123 45 67"})
    assert issued.status_code == 303, issued.text
    page = issued.headers["location"].removesuffix("/print?desk=1")
    assert client.get(page).status_code == 200
    assert post_form(client, f"{page}/phone", {"phone": "070-123 45 67"}).status_code == 303
    # The worker texts the resident (first in line) before the counter calls.
    assert _in_database(settings, lambda maker: queue_ticket_alerts(maker, settings, TUESDAY)) == 1

    async def ids(maker: async_sessionmaker[AsyncSession]) -> tuple[list[str], int]:
        async with maker() as db:
            services = await db.scalars(select(Service.id).where(Service.code.in_(["eservice", "consumer"])))
            ticket = await db.scalar(select(Ticket.id).join(Office).where(Office.slug == "kista"))
            return [str(service) for service in services], ticket

    services, ticket_id = _in_database(settings, ids)
    opened = post_form(client, "/counter/kista/shift", {"counter": "1", "services": services})
    assert opened.status_code == 303, opened.text
    assert post_form(client, "/counter/kista/next", {"counter": "1"}).status_code == 303
    served = post_form(client, f"/counter/kista/tickets/{ticket_id}/served", {"counter": "1"})
    assert served.status_code == 303, served.text


class _Refusing:
    """A mail server and an SMS gateway that refuse every message, naming its recipient as they do."""

    def __init__(self) -> None:
        self.tried: list[str] = []

    async def send(self, message: OutboxMessage) -> None:
        self.tried.append(message.channel)
        if message.channel == MessageChannel.EMAIL:
            raise RuntimeError(f"550 5.1.1 <{message.recipient}>: Recipient address rejected")
        # A gateway that writes the number its own way.
        digits = re.sub(r"\D", "", message.recipient)
        raise RuntimeError(f"gateway: {message.recipient} (+46{digits.removeprefix('0')}) is not reachable")


def _worker_round(settings: Settings, now: datetime) -> _Refusing:
    refusing = _Refusing()
    transports = {channel.value: refusing for channel in MessageChannel}

    async def round_(maker: async_sessionmaker[AsyncSession]) -> None:
        await queue_ticket_alerts(maker, settings, now)
        await Worker(settings, transports=transports).run_once(maker, now)

    _in_database(settings, round_)
    return refusing


def test_a_day_of_work_leaves_no_personal_data_in_the_logs(client, settings, logs):  # type: ignore[no-untyped-def]
    _book_online(client)
    _take_a_call(client)
    _walk_in(client, settings)
    refusing = _worker_round(settings, TUESDAY + timedelta(minutes=5))

    records = logs()
    # The flows ran and were logged: statements, the sends that failed (e-mail and text messages).
    assert {"email", "sms"} <= set(refusing.tried)
    assert any(r.name.startswith("sqlalchemy.engine") for r in records)
    failures = [r.getMessage() for r in records if "not sent" in r.getMessage()]
    assert len(failures) == len(refusing.tried)
    assert all("<recipient>" in failure for failure in failures), failures
    assert _leaks(records) == []


@pytest.mark.parametrize("debug", [False, True])
def test_the_app_leaves_statement_tracing_off(settings, debug):  # type: ignore[no-untyped-def]
    """The logging the app configures (Litestar's: the root logger at INFO; ``KONTOR_DEBUG`` raises
    only Litestar's own logger) never reaches the statements' parameters or rows: neither
    SQLAlchemy's echo nor the drivers' tracing is on."""
    create_app(dataclasses.replace(settings, debug=debug))
    assert logging.getLogger().getEffectiveLevel() >= logging.INFO
    assert not logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(logging.INFO)
    for driver in ("aiosqlite", "asyncpg"):
        assert not logging.getLogger(driver).isEnabledFor(logging.DEBUG)
