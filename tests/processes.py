"""Real kontor servers in processes of their own, for tests that kill, restart or load them.

server = KontorServer(settings, tmp_path)
with server:                       # starts `kontor serve`, waits for /healthz
    httpx.get(f"{server.base}/")
    server.kill()                  # SIGKILL, as a crash would
    server.start()                 # the same port, the same database
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from kontor.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def server_environment(settings: Settings, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a server on ``settings``' database: no background worker and no booking
    rate limit unless ``extra`` says otherwise (``KONTOR_BOOKING_RATE_LIMIT="30"``)."""
    return {
        **os.environ,
        "KONTOR_DATABASE_URL": settings.database_url,
        "KONTOR_DATA_DIR": str(data_dir),
        "KONTOR_SECRET_KEY": settings.secret_key,
        "KONTOR_SECURE_COOKIES": "false",
        "KONTOR_BACKGROUND_WORKER": "false",
        "KONTOR_BOOKING_RATE_LIMIT": "0",
        **extra,
    }


class KontorServer:
    """``kontor serve`` on a free loopback port (kept across restarts)."""

    def __init__(
        self,
        settings: Settings,
        data_dir: Path,
        *,
        workers: int = 1,
        cpu: int | None = None,
        arguments: tuple[str, ...] = (),
        **env: str,
    ) -> None:
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.env = server_environment(settings, data_dir, **env)
        self.workers = workers
        self.cpu = cpu
        self.arguments = arguments
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        command = [
            sys.executable, "-m", "kontor", "serve", "--host", HOST, "--port", str(self.port),
            "--workers", str(self.workers), *self.arguments,
        ]  # fmt: skip
        cpu = self.cpu
        self.process = subprocess.Popen(  # noqa: S603 — our interpreter, our arguments
            command,
            env=self.env,
            cwd=ROOT,
            preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None,
            start_new_session=True,  # SIGKILL reaches the workers too (the process group)
        )
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"kontor on port {self.port} exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"kontor on port {self.port} did not become healthy in {timeout:g} s")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the server and its workers: no shutdown hooks, no flushing, as in a crash."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

    def __enter__(self) -> KontorServer:
        self.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()
