"""A private PostgreSQL cluster for a test that stops and starts the database server under the app.

The shared server other tests use is never touched: this one lives in a temporary directory, listens
on a free loopback port (and a socket in its directory), trusts every local connection, and is gone
after :meth:`PgCluster.cleanup`.

    unavailable()                      # why there can be none here (skip), or None
    cluster = PgCluster.create()       # initdb
    cluster.start()
    settings = Settings.from_env(database_url=cluster.url, ...)
    cluster.stop()                     # pg_ctl stop -m fast: connections are cut as in a restart
    cluster.start()
    cluster.cleanup()

Run as root, the server runs as the ``postgres`` OS user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.processes import HOST, free_port

PG_TIMEOUT = 60


def server_binaries() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: ``pg_config --bindir``, else the newest
    ``/usr/lib/postgresql/*/bin``, else whatever ``PATH`` finds; None when there is none."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)  # noqa: S603
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(Path(found.stdout.strip()))

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.parent.name.split(".") if part.isdigit())

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def unavailable() -> str | None:
    """Why no private cluster can run here, or None when one can."""
    if server_binaries() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl) for a private cluster"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a 'postgres' user to run a private cluster as"
    return None


class PgCluster:
    """One throw-away cluster: ``initdb`` on creation, then :meth:`start`, :meth:`stop`, :meth:`restart`."""

    def __init__(self, bindir: Path, owner: str | None) -> None:
        self.bindir = bindir
        self.owner = owner  # the OS user the server runs as (None: this process's user)
        self.port = free_port()
        # Under /tmp, not pytest's tmp_path: the postgres user must reach it, and a socket path is short.
        self.root = Path(tempfile.mkdtemp(prefix="kontor-pg-"))
        self.data = self.root / "data"
        self.logfile = self.root / "server.log"
        if owner is not None:
            entry = pwd.getpwnam(owner)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    @classmethod
    def create(cls) -> PgCluster:
        """A new, initialised (not yet started) cluster; see :func:`unavailable` for when there is none."""
        reason = unavailable()
        if reason is not None:
            raise RuntimeError(reason)
        bindir = server_binaries()
        assert bindir is not None
        cluster = cls(bindir, "postgres" if os.geteuid() == 0 else None)
        try:
            cluster._run(
                "initdb", "-D", str(cluster.data), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--no-locale", "--no-sync",
            )  # fmt: skip
        except BaseException:
            cluster.cleanup()
            raise
        return cluster

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@{HOST}:{self.port}/postgres"

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self.bindir / program), *arguments]
        if self.owner is not None:
            command = ["runuser", "-u", self.owner, "--", *command]
        done = subprocess.run(  # noqa: S603 — the cluster's own binaries and arguments
            command, capture_output=True, text=True, timeout=PG_TIMEOUT, cwd=self.root, check=False
        )
        if done.returncode != 0:
            output = done.stderr or done.stdout
            raise RuntimeError(f"{program} failed ({done.returncode}): {output}\n{self.log()}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        # fsync off: the cluster outlives no test, and a machine crash is not what is tested here.
        options = f"-p {self.port} -k {self.root} -c listen_addresses={HOST} -c fsync=off"
        # The server's output goes to a log file: a pipe would keep this call waiting for the server.
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-o", options,
            "-w", "-t", str(PG_TIMEOUT), "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: "fast" ends every session at once (as a restart by an operator does),
        "immediate" is a crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", str(PG_TIMEOUT), "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def log(self) -> str:
        """The server's log so far (for failure messages)."""
        try:
            return self.logfile.read_text(errors="replace")
        except OSError:
            return ""

    def cleanup(self) -> None:
        """Stop the server if it runs (immediate: nothing to keep) and remove the cluster."""
        if self.running():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
