"""The servers under test: kontor on a demo-city SQLite file, and the hello-world baseline, each a
one-worker uvicorn in a subprocess pinned to one core."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx

BENCH_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"
PREFERRED_OFFICE = "rinkeby-kista"
# Online booking is measured at an office without separate appointment hours: it books in all its
# opening hours (about 220 slots in two weeks), the common case and a pool large enough to book from.
BOOKING_OFFICE = "kungsholmen"
BOOKING_SERVICE = "eservices"


def kontor_environment(folder: Path) -> dict[str, str]:
    return {
        "KONTOR_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'kontor.db'}",
        "KONTOR_DATA_DIR": str(folder),
        "KONTOR_SECRET_KEY": "bench-secret-key-not-for-production",
        "KONTOR_SECURE_COOKIES": "false",
        "KONTOR_DEBUG": "false",
        # One client address sends every booking: no per-address limit, no cap per e-mail, and no
        # outbox sender or hold sweeper competing for the single core.
        "KONTOR_BOOKING_RATE_LIMIT": "0",
        "KONTOR_MAX_ACTIVE_BOOKINGS": "1000000",
        "KONTOR_BACKGROUND_WORKER": "false",
    }


def _settings(folder: Path):  # type: ignore[no-untyped-def]
    from kontor.settings import Settings

    env = kontor_environment(folder)
    return Settings.from_env(
        database_url=env["KONTOR_DATABASE_URL"], data_dir=folder, secret_key=env["KONTOR_SECRET_KEY"]
    )


async def prepare_demo_city(folder: Path) -> str:
    """Migrate a fresh SQLite file and seed the demo city into it; return the office to load."""
    from kontor.db.migrate import upgrade

    settings = _settings(folder)
    upgrade(settings)  # inside a running loop, Alembic runs on a thread of its own
    return await _seed(settings)


async def _seed(settings) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from kontor.db.engine import create_engine, writer
    from kontor.demo.seed import seed_demo
    from kontor.offices.models import Office

    engine = create_engine(settings)
    try:
        maker = async_sessionmaker(writer(engine), expire_on_commit=False)
        async with maker() as db:
            await seed_demo(db, date.today())
            await db.commit()
            slugs = list(await db.scalars(select(Office.slug).order_by(Office.slug)))
    finally:
        await engine.dispose()
    if not slugs:
        raise RuntimeError("the demo seed created no office")
    return PREFERRED_OFFICE if PREFERRED_OFFICE in slugs else slugs[0]


@dataclass(frozen=True)
class BookingSetup:
    office: str
    service: str
    seats: int
    min_notice: timedelta


async def prepare_booking(
    folder: Path, seats: int, office: str = BOOKING_OFFICE, service: str = BOOKING_SERVICE
) -> BookingSetup:
    """Give the office's offering of the service ``seats`` seats per slot in the prepared city, so one
    slot takes many bench bookings; refuse when the offering is not bookable."""
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from kontor.db.engine import create_engine, writer
    from kontor.offices.models import Office, OfficeService, Service

    engine = create_engine(_settings(folder))
    try:
        maker = async_sessionmaker(writer(engine), expire_on_commit=False)
        async with maker() as db:
            offering = await db.scalar(
                select(OfficeService)
                .join(Office, Office.id == OfficeService.office_id)
                .join(Service, Service.id == OfficeService.service_id)
                .where(Office.slug == office, Service.code == service)
            )
            if offering is None or not offering.is_bookable:
                raise RuntimeError(f"{office} offers no bookable {service} in the demo city")
            offering.seats = seats
            notice = timedelta(minutes=offering.service.min_notice_minutes)
            await db.commit()
    finally:
        await engine.dispose()
    return BookingSetup(office, service, seats, notice)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _pin_to(cpu: int | None):  # type: ignore[no-untyped-def]
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


@contextlib.contextmanager
def uvicorn_server(
    app: list[str], *, env: dict[str, str] | None = None, cpu: int | None = None, timeout: float = 60
) -> Iterator[int]:
    """Run ``uvicorn <app...>`` on a free loopback port until the block ends; yield the port."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", *app, "--host", HOST, "--port", str(port),
        "--workers", "1", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(  # noqa: S603 — our own interpreter and arguments
        command, env={**os.environ, **(env or {})}, cwd=BENCH_DIR.parent, preexec_fn=_pin_to(cpu)
    )
    try:
        _wait_until_up(port, process, time.monotonic() + timeout)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} while starting")
        try:
            httpx.get(f"http://{HOST}:{port}/", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"no server answered on port {port} in time")
