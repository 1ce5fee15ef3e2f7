"""Fixtures of the pressure tests: real ``kontor serve`` processes on a seeded city, loaded, killed and
restarted on the real clock.

    def test_x(kontor_server, staff_token):          # the city of tests/factories.py, served
        httpx.post(f"{kontor_server.base}/api/v1/offices/kista/tickets",
                   json={"service": "eservice"}, headers=bearer(staff_token))

Kista is open for walk-ins around the clock from yesterday to tomorrow (``open_around_the_clock``), so
tickets can be issued whenever the suite runs; its bookable service keeps its weekly hours, so free
slots are found through the API (:func:`free_slots`). ``server_factory`` makes more servers on the same
database (several instances on PostgreSQL) and kills whatever is left of them after the test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from kontor.accounts.models import User
from kontor.accounts.services import create_api_token
from kontor.audit.models import Channel
from kontor.hours.models import Closure, ClosureInterval
from kontor.offices.models import Office
from kontor.settings import Settings
from tests.conftest import run_with_engine
from tests.processes import KontorServer

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def office_today(zone: ZoneInfo = STOCKHOLM) -> str:
    """Today's date at the office (ISO), which tickets are numbered within."""
    return datetime.now(zone).date().isoformat()


def open_around_the_clock(settings: Settings, slug: str = "kista", days: int = 1) -> None:
    """Open ``slug`` for walk-ins 00:00–23:59 from ``days`` before today to ``days`` after."""

    async def work(db) -> None:  # type: ignore[no-untyped-def]
        office = await db.scalar(select(Office).where(Office.slug == slug))
        today = datetime.now(ZoneInfo(office.timezone)).date()
        closure = Closure(
            office_id=office.id,
            first_day=today - timedelta(days=days),
            last_day=today + timedelta(days=days),
            reason="Test: open all day",
        )
        db.add(closure)
        await db.flush()
        db.add(
            ClosureInterval(closure_id=closure.id, opens=clock(0, 0), closes=clock(23, 59), kind="drop_in")
        )

    run_with_engine(settings, work)


def make_api_token(settings: Settings, username: str = "staff") -> str:
    """A new bearer token of the user ``username`` (the secret; only its hash is stored)."""

    async def work(db) -> str:  # type: ignore[no-untyped-def]
        user = await db.scalar(select(User).where(User.username == username))
        _token, secret = await create_api_token(
            db, name="pressure", user=user, actor="test", channel=Channel.CLI
        )
        return secret

    return run_with_engine(settings, work)  # type: ignore[return-value]


async def free_slots(
    client: httpx.AsyncClient, base: str, slug: str = "kista", service: str = "eservice", days: int = 13
) -> list[dict[str, Any]]:
    """The free slots of the next ``days`` days as the API lists them (``start``, ``end``, ``seats_left``)."""
    today = datetime.now(STOCKHOLM).date()
    params = {"service": service, "from": today.isoformat(), "to": (today + timedelta(days=days)).isoformat()}
    response = await client.get(f"{base}/api/v1/offices/{slug}/slots", params=params)
    assert response.status_code == 200, response.text
    return response.json()


@contextmanager
def stderr_into(path: Path) -> Iterator[None]:
    """Processes started inside write their standard error to ``path`` (a server's tracebacks, for a
    test to read), whatever pytest does with this process's own."""
    saved = os.dup(2)
    try:
        with path.open("ab") as log:
            os.dup2(log.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@pytest.fixture
def open_kista(settings: Settings, city) -> None:  # type: ignore[no-untyped-def]
    """Kista takes walk-ins around the clock (yesterday to tomorrow)."""
    open_around_the_clock(settings, "kista")


@pytest.fixture
def staff_token(settings: Settings, city) -> str:  # type: ignore[no-untyped-def]
    """A bearer token of Kista's staff user (issues tickets, calls them to counters)."""
    return make_api_token(settings, "staff")


@pytest.fixture
def server_factory(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., KontorServer]]:
    """``server_factory(**env)`` → a new, not yet started server on the test's database (``env``:
    more ``KONTOR_*`` settings); every server made is killed after the test."""
    made: list[KontorServer] = []

    def make(**env: str) -> KontorServer:
        data_dir = tmp_path / f"server-{len(made)}"
        data_dir.mkdir()
        server = KontorServer(settings, data_dir, **env)
        made.append(server)
        return server

    yield make
    for server in made:
        server.kill()


@pytest.fixture
def kontor_server(server_factory: Callable[..., KontorServer], city, open_kista) -> KontorServer:  # type: ignore[no-untyped-def]
    """One started server on the seeded city, Kista open around the clock."""
    server = server_factory()
    server.start()
    return server
