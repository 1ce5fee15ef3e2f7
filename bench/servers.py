"""The servers under test: kontor on a prepared database (a demo-city SQLite file, or a PostgreSQL
database shared by several instances), the hello-world baseline, and the round-robin balancer in
front of the PostgreSQL instances; each a subprocess pinned to one core."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
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
# Every instance of a run signs sessions and CSRF tokens with the same key, as behind a real proxy.
SECRET_KEY = "bench-secret-key-not-for-production"  # noqa: S105 — a throwaway bench database only


def sqlite_url(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'kontor.db'}"


def kontor_environment(database_url: str, folder: Path) -> dict[str, str]:
    return {
        "KONTOR_DATABASE_URL": database_url,
        "KONTOR_DATA_DIR": str(folder),
        "KONTOR_SECRET_KEY": SECRET_KEY,
        "KONTOR_SECURE_COOKIES": "false",
        "KONTOR_DEBUG": "false",
        # One client address sends every booking: no per-address limit, no cap per e-mail, and no
        # outbox sender or hold sweeper competing for the single core.
        "KONTOR_BOOKING_RATE_LIMIT": "0",
        "KONTOR_MAX_ACTIVE_BOOKINGS": "1000000",
        "KONTOR_BACKGROUND_WORKER": "false",
        # Admission control stays on (its cost is part of every public request), but the bench's
        # connections all fit in its line, so they wait for their turn instead of being shed: the
        # bench measures what a process serves, not how soon a busy one starts saying no.
        "KONTOR_PUBLIC_QUEUE_MS": "30000",
    }


def _settings(database_url: str):  # type: ignore[no-untyped-def]
    """Settings for this process's own work on the bench database (migrating, seeding, filling)."""
    from kontor.settings import Settings

    if database_url.startswith("sqlite"):
        data_dir = Path(database_url.split(":///", 1)[1]).parent
    else:
        data_dir = Path(tempfile.gettempdir())  # never written to: the secret key is given
    return Settings.from_env(database_url=database_url, data_dir=data_dir, secret_key=SECRET_KEY)


async def prepare_demo_city(database_url: str) -> str:
    """Migrate a fresh database and seed the demo city into it; return the office to load."""
    from kontor.db.migrate import upgrade

    settings = _settings(database_url)
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
    database_url: str, seats: int, office: str = BOOKING_OFFICE, service: str = BOOKING_SERVICE
) -> BookingSetup:
    """Give the office's offering of the service ``seats`` seats per slot in the prepared city, so one
    slot takes many bench bookings; refuse when the offering is not bookable."""
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from kontor.db.engine import create_engine, writer
    from kontor.offices.models import Office, OfficeService, Service

    engine = create_engine(_settings(database_url))
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


def _uvicorn_command(app: list[str], port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", *app, "--host", HOST, "--port", str(port),
        "--workers", "1", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


@contextlib.contextmanager
def _processes(
    commands: list[list[str]], ports: list[int], env: dict[str, str] | None, cpu: int | None, timeout: float
) -> Iterator[list[int]]:
    """Start every command at once, wait until each answers HTTP on its port, stop them all at the end."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        for command in commands:
            started.append(
                subprocess.Popen(  # noqa: S603 — our own interpreter and arguments
                    command, env={**os.environ, **(env or {})}, cwd=BENCH_DIR.parent, preexec_fn=_pin_to(cpu)
                )
            )
        deadline = time.monotonic() + timeout
        for port, process in zip(ports, started, strict=True):
            _wait_until_up(port, process, deadline)
        yield ports
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def uvicorn_server(
    app: list[str], *, env: dict[str, str] | None = None, cpu: int | None = None, timeout: float = 60
) -> Iterator[int]:
    """Run ``uvicorn <app...>`` on a free loopback port until the block ends; yield the port."""
    with uvicorn_servers(app, 1, env=env, cpu=cpu, timeout=timeout) as ports:
        yield ports[0]


@contextlib.contextmanager
def uvicorn_servers(
    app: list[str],
    count: int,
    *,
    env: dict[str, str] | None = None,
    cpu: int | None = None,
    timeout: float = 60,
) -> Iterator[list[int]]:
    """``count`` one-worker instances of ``uvicorn <app...>``, each on a port of its own."""
    ports = [free_port() for _ in range(count)]
    commands = [_uvicorn_command(app, port) for port in ports]
    with _processes(commands, ports, env, cpu, timeout) as up:
        yield up


@contextlib.contextmanager
def balancer(
    backends: list[int], *, stats: Path, cpu: int | None = None, timeout: float = 30
) -> Iterator[int]:
    """bench/balancer.py on a free loopback port, in front of ``backends`` (ports on HOST); it writes
    how many connections each backend got to ``stats`` when it stops. The backends must be up."""
    port = free_port()
    command = [
        sys.executable, str(BENCH_DIR / "balancer.py"), "--port", str(port), "--stats", str(stats),
        *(f"--backend={HOST}:{backend}" for backend in backends),
    ]  # fmt: skip
    with _processes([command], [port], None, cpu, timeout):
        yield port


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
