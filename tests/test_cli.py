"""The `kontor` command line, run in-process against real databases (no server is started)."""

import asyncio
import io
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import inspect, select, text

from kontor import cli
from kontor.accounts.models import ApiToken, User
from kontor.accounts.security import hash_token, verify_password
from kontor.audit.models import AuditEntry
from kontor.db.engine import create_engine
from kontor.db.revision import current_revision, describe_database, head_revision, require_head
from kontor.settings import Settings

SECRET = "test-secret-key-not-for-production"


def use_database(monkeypatch: pytest.MonkeyPatch, database_url: str, data_dir: Path) -> Settings:
    """Point the CLI (which reads only the environment) at a database, as a shell would."""
    monkeypatch.setenv("KONTOR_DATABASE_URL", database_url)
    monkeypatch.setenv("KONTOR_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KONTOR_SECRET_KEY", SECRET)
    monkeypatch.delenv("KONTOR_SECURE_COOKIES", raising=False)
    return Settings.from_env()


def query(settings: Settings, work):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        engine = create_engine(settings)
        try:
            async with engine.connect() as conn:
                return await work(conn)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture
def empty_database(empty_database_url, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """Settings for a database without any schema, of each kind. On SQLite the CLI's default: no
    KONTOR_DATABASE_URL, a file in the data directory."""
    if empty_database_url.startswith("sqlite"):
        monkeypatch.delenv("KONTOR_DATABASE_URL", raising=False)
        monkeypatch.setenv("KONTOR_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("KONTOR_SECRET_KEY", SECRET)
        return Settings.from_env()
    return use_database(monkeypatch, empty_database_url, tmp_path)


@pytest.fixture
def migrated(settings, city, monkeypatch):  # type: ignore[no-untyped-def]
    """The test city's migrated database (each kind), as the CLI sees it."""
    return use_database(monkeypatch, settings.database_url, settings.data_dir)


# -- help ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["demo", "--help"],
        ["serve", "--help"],
        ["worker", "--help"],
        ["db", "upgrade", "--help"],
        ["user", "create", "--help"],
        ["token", "create", "--help"],
    ],
)
def test_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: kontor")
    if argv == ["--help"]:
        for command in ("demo", "serve", "worker", "db", "user", "token", "KONTOR_DATABASE_URL"):
            assert command in out


def test_without_a_command_help_is_shown(capsys):
    assert cli.main([]) == 2
    assert "usage: kontor" in capsys.readouterr().out
    assert cli.main(["db"]) == 2


def test_unknown_role_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["user", "create", "x", "--role", "king", "--password", "a-long-password"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# -- db upgrade and serve --------------------------------------------------------------------------


def test_db_upgrade_creates_the_schema(empty_database, capsys):
    assert cli.main(["db", "upgrade"]) == 0
    head = head_revision(empty_database)
    assert f"revision {head}" in capsys.readouterr().out
    tables = query(empty_database, lambda conn: conn.run_sync(lambda c: set(inspect(c).get_table_names())))
    assert {"offices", "users", "api_tokens", "alembic_version"} <= tables
    assert current_revision(empty_database) == head


def test_serve_refuses_a_database_without_schema(empty_database, capsys):
    assert cli.main(["serve", "--port", "8999"]) == 2
    err = capsys.readouterr().err
    assert "no kontor schema" in err
    assert "kontor db upgrade" in err
    if empty_database.is_sqlite:
        assert not (empty_database.data_dir / "kontor.db").exists(), "the check must not create the file"


def test_a_migrated_database_is_ready_to_serve(migrated):
    require_head(migrated)  # raises SchemaError otherwise
    assert current_revision(migrated) == head_revision(migrated)


def test_serve_refuses_an_unknown_revision(migrated, capsys):
    async def stamp(conn):  # type: ignore[no-untyped-def]
        await conn.execute(text("UPDATE alembic_version SET version_num = 'from-the-future'"))
        await conn.commit()

    query(migrated, stamp)
    assert cli.main(["serve"]) == 2
    assert "from-the-future" in capsys.readouterr().err


def test_db_upgrade_of_an_unreachable_database_exits_2(monkeypatch, tmp_path, capsys):
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/nothing"
    use_database(monkeypatch, url, tmp_path)
    assert cli.main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert "cannot migrate the database" in err


def test_user_create_needs_the_schema(empty_database, capsys):
    assert cli.main(["user", "create", "maja", "--role", "admin", "--password", "a-long-password"]) == 2
    assert "kontor db upgrade" in capsys.readouterr().err


# -- the worker ------------------------------------------------------------------------------------


def add_due_booking(settings: Settings, city) -> int:  # type: ignore[no-untyped-def]
    """A visit at Kista two hours from now (the real clock: the command reads it), booked days ago."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.ext.asyncio import AsyncSession

    from kontor.booking.models import Booking

    now = datetime.now(UTC)

    async def work(conn):  # type: ignore[no-untyped-def]
        async with AsyncSession(conn, expire_on_commit=False) as db:
            booking = Booking(
                reference="WRKR2345",
                token_hash=hash_token("kontor-worker-test"),
                office_id=city.kista.id,
                service_id=city.services["eservice"].id,
                starts_at=now + timedelta(hours=2),
                ends_at=now + timedelta(hours=2, minutes=20),
                seat=1,
                status="booked",
                name="Anna Andersson",
                email="anna@example.se",
                language="sv",
                needs=[],
                channel="web",
                created_at=now - timedelta(days=3),
                updated_at=now - timedelta(days=3),
            )
            db.add(booking)
            await db.commit()
            return booking.id

    return query(settings, work)


def test_worker_once_runs_each_due_job_and_says_what_it_did(migrated, city, capsys):
    add_due_booking(migrated, city)
    assert cli.main(["worker", "--once"]) == 0
    first = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in first] == [
        ["outbox", "ran"],
        ["holds", "ran"],
        ["day_end", "ran"],
        ["reminders", "ran"],
        ["ticket_alerts", "ran"],
        ["waitlist", "ran"],
        ["purge", "ran"],
    ]
    assert "reminded=1" in first[3]

    # The next round sends the reminder; the jobs due once a minute or an hour wait for their time,
    # those of every round run again.
    assert cli.main(["worker", "--once"]) == 0
    second = capsys.readouterr().out.splitlines()
    assert second[0].split() == ["outbox", "ran", "sent=1"]
    assert [line.split()[1] for line in second[2:]] == ["skipped:", "skipped:", "ran", "ran", "skipped:"]
    (mail,) = (migrated.data_dir / "outbox").glob("*.eml")
    assert "WRKR-2345" in mail.read_text()


def test_worker_refuses_a_database_without_schema(empty_database, capsys):
    assert cli.main(["worker", "--once"]) == 2
    assert "kontor db upgrade" in capsys.readouterr().err
    assert cli.main(["worker"]) == 2


def test_worker_refuses_a_wrong_transport(migrated, monkeypatch, capsys):
    monkeypatch.setenv("KONTOR_SMS_TRANSPORT", "pigeon")
    assert cli.main(["worker", "--once"]) == 2
    assert "KONTOR_SMS_TRANSPORT" in capsys.readouterr().err


def test_worker_runs_until_sigterm_and_finishes_its_round(migrated, city):
    import os
    import signal
    import subprocess
    import sys
    import time

    from kontor.worker.models import WorkerJob

    def day_end_runs() -> int:
        async def work(conn):  # type: ignore[no-untyped-def]
            return await conn.scalar(select(WorkerJob.runs).where(WorkerJob.name == "day_end")) or 0

        return query(migrated, work)

    env = {**os.environ, "KONTOR_WORKER_INTERVAL_SECONDS": "1"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "kontor", "worker"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        # The first round runs every job; a second round follows a second later.
        while day_end_runs() < 1 and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.2)
        assert day_end_runs() == 1
        time.sleep(1.5)
        worker.send_signal(signal.SIGTERM)
        _out, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, err
    assert "a round every 1 s" in err
    assert "kontor worker: stopped." in err

    async def held(conn):  # type: ignore[no-untyped-def]
        return list(await conn.scalars(select(WorkerJob.name).where(WorkerJob.locked_until.is_not(None))))

    assert query(migrated, held) == []


# -- users -----------------------------------------------------------------------------------------


def find_user(settings: Settings, username: str) -> User | None:
    async def work(conn):  # type: ignore[no-untyped-def]
        from sqlalchemy.ext.asyncio import AsyncSession

        async with AsyncSession(conn, expire_on_commit=False) as db:
            user = await db.scalar(select(User).where(User.username == username))
            if user is not None:
                _ = user.offices
            return user

    return query(settings, work)


def test_user_create_with_password(migrated, capsys):
    argv = [
        "user",
        "create",
        "maja",
        "--role",
        "manager",
        "--office",
        "kista",
        "--office",
        "tensta",
        "--password",
        "a-long-password",
        "--display-name",
        "Maja M",
    ]
    assert cli.main(argv) == 0
    assert "maja" in capsys.readouterr().out
    user = find_user(migrated, "maja")
    assert user is not None
    assert user.role == "manager" and user.display_name == "Maja M"
    assert sorted(office.slug for office in user.offices) == ["kista", "tensta"]
    assert verify_password(user.password_hash, "a-long-password")
    assert not verify_password(user.password_hash, "another-password")

    async def audit(conn):  # type: ignore[no-untyped-def]
        rows = await conn.execute(
            select(AuditEntry.actor, AuditEntry.channel).where(AuditEntry.action == "user.create")
        )
        return [tuple(row) for row in rows]

    assert query(migrated, audit) == [("cli", "cli")]


def test_duplicate_user_exits_2_with_the_reason(migrated, capsys):
    argv = ["user", "create", "admin", "--role", "admin", "--password", "a-long-password"]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert "taken" in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["user", "create", "bo", "--role", "staff", "--password", "a-long-password"], "at least one office"),
        (
            [
                "user",
                "create",
                "bo",
                "--role",
                "staff",
                "--office",
                "nowhere",
                "--password",
                "a-long-password",
            ],
            "nowhere",
        ),
        (["user", "create", "bo", "--role", "agent", "--password", "short"], "10 characters"),
    ],
)
def test_invalid_user_exits_2(migrated, capsys, argv, reason):
    assert cli.main(argv) == 2
    assert reason in capsys.readouterr().err
    assert find_user(migrated, "bo") is None


def test_password_is_asked_twice_in_a_terminal(migrated, monkeypatch):
    answers = iter(["typed-password-1", "typed-password-1"])
    monkeypatch.setattr(cli.sys, "stdin", _Terminal())
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: next(answers))
    assert cli.main(["user", "create", "typed", "--role", "agent"]) == 0
    assert verify_password(find_user(migrated, "typed").password_hash, "typed-password-1")


def test_different_passwords_are_refused(migrated, monkeypatch, capsys):
    answers = iter(["typed-password-1", "typed-password-2"])
    monkeypatch.setattr(cli.sys, "stdin", _Terminal())
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: next(answers))
    assert cli.main(["user", "create", "typed", "--role", "agent"]) == 2
    assert "differ" in capsys.readouterr().err
    assert find_user(migrated, "typed") is None


def test_no_password_and_no_terminal_is_an_error(migrated, monkeypatch, capsys):
    monkeypatch.setattr(cli.sys, "stdin", io.StringIO(""))
    assert cli.main(["user", "create", "piped", "--role", "agent"]) == 2
    assert "--password" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# -- tokens ----------------------------------------------------------------------------------------


def token_owner(settings: Settings, token: str) -> str | None:
    async def work(conn):  # type: ignore[no-untyped-def]
        return await conn.scalar(
            select(User.username)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == hash_token(token))
        )

    return query(settings, work)


def test_token_create_prints_only_the_token(migrated, app, capsys):
    assert cli.main(["token", "create", "crm", "--user", "agent"]) == 0
    captured = capsys.readouterr()
    token = captured.out.strip()
    assert captured.out == token + "\n"
    assert token.startswith("kontor_") and len(token) > 30
    assert "crm" in captured.err
    assert token_owner(migrated, token) == "agent"
    with TestClient(app) as client:
        assert client.get("/api/v1/offices", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert client.get("/api/v1/offices", headers={"Authorization": f"Bearer {token}x"}).status_code == 401


def test_token_for_a_user_with_the_name(migrated, capsys):
    assert cli.main(["token", "create", "admin"]) == 0
    assert token_owner(migrated, capsys.readouterr().out.strip()) == "admin"


def test_token_creates_a_service_user(migrated, capsys):
    assert cli.main(["token", "create", "telephony"]) == 0
    captured = capsys.readouterr()
    assert token_owner(migrated, captured.out.strip()) == "telephony"
    assert "service user" in captured.err
    user = find_user(migrated, "telephony")
    assert user.role == "agent"


def test_token_for_an_unknown_user_exits_2(migrated, capsys):
    assert cli.main(["token", "create", "crm", "--user", "nobody"]) == 2
    captured = capsys.readouterr()
    assert "nobody" in captured.err and captured.out == ""


# -- demo ------------------------------------------------------------------------------------------


def test_demo_migrates_seeds_and_prints_the_logins(empty_database):
    out = io.StringIO()
    report = cli.prepare_demo(cli.demo_settings(), "127.0.0.1", 8123, out=out)
    text = out.getvalue()
    assert report.total("offices") == 13
    assert "http://127.0.0.1:8123/" in text
    assert describe_database(empty_database) in text
    for username in ("admin", "chef.kista", "chef.sodermalm", "disk.kista", "agent"):
        assert f"  {username} " in text
    for hint in ("demo-password", "/login", "/admin", "/api/v1/offices", "/schema/openapi.json"):
        assert hint in text
    if empty_database.is_sqlite:
        assert str(empty_database.data_dir / "kontor.db") in text

    again = io.StringIO()
    second = cli.prepare_demo(cli.demo_settings(), "127.0.0.1", 8123, out=again)
    assert second.total_created == 0
    assert second.total("offices") == 13 and second.total("users") == 5
    assert "already there" in again.getvalue()


def test_demo_cookies_are_not_secure_unless_asked(monkeypatch):
    monkeypatch.delenv("KONTOR_SECURE_COOKIES", raising=False)
    assert cli.demo_settings().secure_cookies is False
    monkeypatch.setenv("KONTOR_SECURE_COOKIES", "true")
    assert cli.demo_settings().secure_cookies is True


def test_demo_url_for_any_address():
    from kontor.demo.welcome import demo_url

    assert demo_url("0.0.0.0", 8000)  # noqa: S104 == "http://127.0.0.1:8000/"
    assert demo_url("::1", 8000) == "http://[::1]:8000/"
    assert demo_url("example.local", 80) == "http://example.local:80/"
