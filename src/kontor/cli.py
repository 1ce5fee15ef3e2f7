"""The `kontor` command line: the demo, the server, the worker, migrations, staff users and API tokens.

Every command reads the same ``KONTOR_*`` settings as the server, so both act on the same database.
Failures the user can fix end with a message on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import secrets
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import IO, Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kontor import __version__
from kontor.accounts.models import Role, User
from kontor.accounts.services import AccountError, create_api_token, create_user
from kontor.audit.models import Channel
from kontor.db.engine import create_engine, writer
from kontor.db.revision import SchemaError, describe_database, migrate, require_head
from kontor.demo.seed import SeedReport, seed_demo
from kontor.demo.welcome import demo_url, print_welcome
from kontor.settings import Settings

T = TypeVar("T")
ACTOR = "cli"
ROLES = [role.value for role in Role]


class CommandError(Exception):
    """A problem the user can fix; printed without a traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except (CommandError, AccountError, SchemaError) as exc:
        print(f"kontor: {exc}", file=sys.stderr)
        return 2


# -- the commands ------------------------------------------------------------------------------


def run_demo(args: argparse.Namespace) -> int:
    settings = demo_settings()
    host, port = args.host or settings.host, args.port or settings.port
    if "KONTOR_PUBLIC_URL" not in os.environ:  # links in the demo's messages lead back to the demo
        settings = replace(settings, public_url=demo_url(host, port).rstrip("/"))
    prepare_demo(settings, host, port)
    serve(settings, host, port)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    require_head(settings)
    serve(settings, args.host or settings.host, args.port or settings.port, args.workers, args.access_log)
    return 0


def run_worker(args: argparse.Namespace) -> int:
    from kontor.worker.runner import Worker

    settings = Settings.from_env()
    require_head(settings)
    try:
        # Built here, so a wrong transport setting is reported before any round.
        worker = Worker(settings)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    if args.once:
        return asyncio.run(_one_round(settings, worker, sys.stdout))
    _log_to_stderr()
    return asyncio.run(_rounds(settings, worker))


async def _one_round(settings: Settings, worker: Any, out: IO[str]) -> int:
    """One round of the worker's jobs; prints what each did. Exit code 1 when a job failed."""
    from kontor.worker.schedule import job_state

    engine = create_engine(settings)
    try:
        maker = async_sessionmaker(writer(engine), expire_on_commit=False)
        now = datetime.now(UTC)
        ran = await worker.run_once(maker, now)
        failed = False
        async with maker() as db:
            for name, done in ran.items():
                state = await job_state(db, name) if done else None
                if not done:
                    print(f"{name:<16} skipped: not due, or another worker has it", file=out)
                elif state is None or state.last_started_at != now:
                    # A job of every round is recorded only when it did something.
                    print(f"{name:<16} ran (nothing to do)", file=out)
                elif state.last_error:
                    failed = True
                    print(f"{name:<16} failed: {state.last_error}", file=out)
                else:
                    counts = " ".join(f"{key}={value}" for key, value in sorted(state.last_result.items()))
                    print(f"{name:<16} ran {counts}".rstrip(), file=out)
        return 1 if failed else 0
    finally:
        await engine.dispose()


async def _rounds(settings: Settings, worker: Any) -> int:
    """Rounds until SIGINT or SIGTERM: the first lets the round under way finish, a second stops at once."""
    engine = create_engine(settings)
    stop = asyncio.Event()
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set() and main_task is not None:
            main_task.cancel()
            return
        stop.set()
        print("kontor worker: stopping after the round under way (again to stop at once).", file=sys.stderr)

    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C interrupts instead
            loop.add_signal_handler(signum, on_signal)
    print(
        f"kontor worker {worker.worker_id} on {describe_database(settings)}: a round every "
        f"{settings.worker_interval_seconds} s. Stop with Ctrl+C.",
        file=sys.stderr,
    )
    try:
        maker = async_sessionmaker(writer(engine), expire_on_commit=False)
        await worker.run_forever(maker, lambda: datetime.now(UTC), stop)
    except asyncio.CancelledError:
        print("kontor worker: stopped in the middle of a round.", file=sys.stderr)
        return 1
    finally:
        for signum in signals:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(signum)
        await engine.dispose()
    print("kontor worker: stopped.", file=sys.stderr)
    return 0


def _log_to_stderr() -> None:
    """kontor's own log lines (counts and ids, never personal data) on stderr, from INFO up."""
    logger = logging.getLogger("kontor")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def run_db_upgrade(_args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    revision = migrate(settings)
    print(f"Database {describe_database(settings)} is at revision {revision} (head).")
    return 0


def run_user_create(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    require_head(settings)
    password = args.password if args.password is not None else ask_password()

    async def work(db: AsyncSession) -> User:
        return await create_user(
            db,
            username=args.name,
            role=args.role,
            password=password,
            office_slugs=args.office,
            display_name=args.display_name,
            actor=ACTOR,
            channel=Channel.CLI,
        )

    user = in_transaction(settings, work)
    offices = ", ".join(office.slug for office in user.offices) or "all offices"
    print(f"Created user {user.username!r} ({user.role}; {offices}).")
    return 0


def run_token_create(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    require_head(settings)

    async def work(db: AsyncSession) -> tuple[User, str, bool]:
        user, created = await _token_owner(db, args)
        _api_token, token = await create_api_token(
            db, name=args.name, user=user, actor=ACTOR, channel=Channel.CLI
        )
        return user, token, created

    user, token, created = in_transaction(settings, work)
    if created:
        print(f"Created the service user {user.username!r} ({user.role}); it cannot log in.", file=sys.stderr)
    print(
        f"API token {args.name!r} for {user.username!r} ({user.role}). It is shown only now:", file=sys.stderr
    )
    print(token)
    return 0


async def _token_owner(db: AsyncSession, args: argparse.Namespace) -> tuple[User, bool]:
    """--user, else the user called NAME, else a new service user called NAME (nobody knows its password)."""
    username = (args.user or args.name).strip().lower()
    user = await db.scalar(select(User).where(User.username == username))
    if user is None and args.user:
        raise CommandError(f"no user named {args.user!r}.")
    if user is None:
        user = await create_user(
            db,
            username=username,
            role=args.role,
            password=secrets.token_urlsafe(32),
            office_slugs=args.office,
            display_name=f"API: {args.name}",
            actor=ACTOR,
            channel=Channel.CLI,
        )
        return user, True
    if not user.active:
        raise CommandError(f"the user {user.username!r} is deactivated; its tokens would not work.")
    return user, False


# -- the demo: migrate, seed, print, serve -----------------------------------------------------


def demo_settings() -> Settings:
    """The normal settings, but cookies without the Secure flag (the demo is plain http on localhost)
    unless KONTOR_SECURE_COOKIES says otherwise."""
    if "KONTOR_SECURE_COOKIES" in os.environ:
        return Settings.from_env()
    return Settings.from_env(secure_cookies=False)


def prepare_demo(
    settings: Settings, host: str, port: int, out: IO[str] | None = None, today: date | None = None
) -> SeedReport:
    """Everything `kontor demo` does before it serves: migrate, seed the demo city, print how to try it."""
    migrate(settings)
    today = today or datetime.now(ZoneInfo(settings.default_timezone)).date()
    report = in_transaction(settings, lambda db: seed_demo(db, today, datetime.now(UTC), settings))
    print_welcome(demo_url(host, port), describe_database(settings), report, out or sys.stdout)
    if host not in {"127.0.0.1", "localhost", "::1"}:
        print(
            f"kontor: warning: on {host} the demo logins may be reachable beyond this machine.",
            file=sys.stderr,
        )
    return report


GRACEFUL_SHUTDOWN_SECONDS = 3


def serve(settings: Settings, host: str, port: int, workers: int = 1, access_log: bool = False) -> None:
    """Serve with uvicorn. Several workers each build the app from the environment (an import string)."""
    import uvicorn

    from kontor.app import create_app

    # Live pages (screens, desks) keep their event streams open; uvicorn waits for open connections
    # before the app's shutdown, so a stop would otherwise wait for every screen to go away.
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": access_log,
        "server_header": False,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
        # Behind a reverse proxy, the client's address and scheme come from X-Forwarded-For and
        # X-Forwarded-Proto, believed only from the proxies named in KONTOR_FORWARDED_ALLOW_IPS.
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }
    if workers > 1 and settings.is_sqlite:
        # Each worker would have its own in-memory live bus, so screens would miss other workers' calls.
        raise CommandError("several workers need PostgreSQL (KONTOR_DATABASE_URL); SQLite serves one.")
    if workers > 1:
        # A worker imports the whole app before it answers the supervisor's health check: give it time.
        uvicorn.run(
            "kontor.app:create_app", factory=True, workers=workers, timeout_worker_healthcheck=60, **options
        )
    else:
        uvicorn.run(create_app(settings), **options)


# -- the database ------------------------------------------------------------------------------


def in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``await work(db)`` in one write transaction, committed when it returns."""

    async def run() -> T:
        engine = create_engine(settings)
        try:
            maker = async_sessionmaker(writer(engine), expire_on_commit=False)
            async with maker() as db, db.begin():
                return await work(db)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def ask_password() -> str:
    if not sys.stdin.isatty():
        raise CommandError("no password given: pass --password, or run in a terminal to be asked for one.")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Password again: "):
        raise CommandError("the two passwords differ.")
    return password


# -- the parser --------------------------------------------------------------------------------


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError("a port is 1–65535")
    return port


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kontor",
        description="kontor runs a city's citizen offices: opening hours, bookings, walk-in queues and "
        "the contact center.",
        epilog="Settings come from KONTOR_* environment variables, the same for every command and the "
        "server: KONTOR_DATABASE_URL (default: a SQLite file in KONTOR_DATA_DIR, "
        "~/.local/share/kontor), KONTOR_SECRET_KEY, KONTOR_HOST, KONTOR_PORT … "
        "Start with `kontor demo`.",
    )
    parser.add_argument("--version", action="version", version=f"kontor {__version__}")
    parser.set_defaults(run=lambda _args: parser.print_help() or 2)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="try kontor: migrate, seed a demo city and serve it",
        description="Migrate the database, seed Stockholm's 13 demo offices and their staff, print the "
        "demo logins and serve on http://HOST:PORT/. Running it again keeps what is there.",
    )
    _add_address(demo)
    demo.set_defaults(run=run_demo)

    serve_cmd = commands.add_parser(
        "serve",
        help="serve the app (run `kontor db upgrade` first)",
        description="Serve kontor with uvicorn. The database must be migrated (`kontor db upgrade`).",
    )
    _add_address(serve_cmd)
    serve_cmd.add_argument("--workers", type=_positive, default=1, help="worker processes (default 1)")
    serve_cmd.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (off by default: paths of private links carry tokens)",
    )
    serve_cmd.set_defaults(run=run_serve)

    worker = commands.add_parser(
        "worker",
        help="run the scheduled jobs: the outbox, reminders, purges (run `kontor db upgrade` first)",
        description="Run the worker's jobs (send the outbox, sweep holds, end the day, send reminders, "
        "purge old personal data) every KONTOR_WORKER_INTERVAL_SECONDS until stopped (Ctrl+C or SIGTERM "
        "finish the round under way). Any number of workers and servers may run against one database: "
        "each job runs once. Servers run the same jobs unless KONTOR_BACKGROUND_WORKER=false.",
    )
    worker.add_argument("--once", action="store_true", help="run one round, print what ran, and exit")
    worker.set_defaults(run=run_worker)

    _group(commands, "db", "database migrations").add_parser(
        "upgrade",
        help="migrate the database to this version's schema",
        description="Apply the Alembic migrations up to head and print the revision reached.",
    ).set_defaults(run=run_db_upgrade)

    user_create = _group(commands, "user", "staff users").add_parser(
        "create",
        help="create a staff user",
        description="Create a staff user. Without --password you are asked for one twice.",
    )
    user_create.add_argument("name", help="username: lower-case letters, digits, '.', '_' or '-'")
    user_create.add_argument("--role", required=True, choices=ROLES, help="what the user may do")
    user_create.add_argument(
        "--office",
        action="append",
        default=[],
        metavar="SLUG",
        help="an office the user works in (repeat for several; required for manager and staff)",
    )
    user_create.add_argument("--password", help="the password (at least 10 characters); asked when left out")
    user_create.add_argument("--display-name", default="", help="the name shown in the app")
    user_create.set_defaults(run=run_user_create)

    token_create = _group(commands, "token", "bearer tokens for the JSON API").add_parser(
        "create",
        help="create an API token and print it",
        description="Create a bearer token for /api/v1 and print only the token on stdout, e.g. "
        "TOKEN=$(kontor token create crm --user agent). It belongs to --user, else to the user called "
        "NAME, else to a new service user called NAME with --role.",
    )
    token_create.add_argument("name", help="what the token is for, e.g. telephony or crm")
    token_create.add_argument("--user", metavar="USERNAME", help="the user the token acts as")
    token_create.add_argument(
        "--role", choices=ROLES, default=Role.AGENT.value, help="role of a new service user (default agent)"
    )
    token_create.add_argument(
        "--office", action="append", default=[], metavar="SLUG", help="office of a new service user"
    )
    token_create.set_defaults(run=run_token_create)
    return parser


def _group(commands: Any, name: str, summary: str) -> Any:
    """A command with subcommands, e.g. `kontor db`, that shows its help when given none."""
    group = commands.add_parser(name, help=summary, description=summary.capitalize() + ".")
    group.set_defaults(run=lambda _args: group.print_help() or 2)
    return group.add_subparsers(title="commands", metavar="COMMAND")


def _add_address(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default KONTOR_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=_port, help="port to listen on (default KONTOR_PORT or 8000)")
