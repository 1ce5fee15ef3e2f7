"""nginx in front of kontor servers, configured by ``deploy/nginx.conf`` as shipped: only its
``${PLACEHOLDERS}`` are filled in, with this test's ports and a folder of its own for every file nginx
writes (nothing under /var, no root needed).

    with Nginx([first.port, second.port], tmp_path / "nginx") as proxy:
        httpx.get(f"{proxy.base}/")
        proxy.served()                 # the instances that answered, one entry per request, in order
"""

from __future__ import annotations

import getpass
import os
import re
import signal
import socket
import string
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from tests.processes import HOST, ROOT, free_port

NGINX = Path("/usr/sbin/nginx")
CONFIG = ROOT / "deploy" / "nginx.conf"


class Placeholders(string.Template):
    """Only ``${UPPER_CASE}`` is a placeholder: nginx's own ``$host``, ``$scheme`` … are left alone."""

    flags = 0  # string.Template ignores case by default, which would take nginx's ${name} too
    pattern = r"""
        \$(?:
            (?P<escaped>(?!))                 |  # no escapes: nginx's $ stays as it is
            (?P<named>(?!))                   |  # bare $NAME is nginx's, never ours
            \{(?P<braced>[A-Z][A-Z0-9_]*)\}   |
            (?P<invalid>(?!))
        )
    """


def placeholders(text: str) -> set[str]:
    return {match.group("braced") for match in Placeholders.pattern.finditer(text)}  # type: ignore[attr-defined]


def render(values: Mapping[str, str], text: str | None = None) -> str:
    """``deploy/nginx.conf`` with every placeholder filled; a missing or unknown name is an error, so
    the file and this helper cannot drift apart unnoticed."""
    text = CONFIG.read_text() if text is None else text
    wanted = placeholders(text)
    if wanted != set(values):
        raise KeyError(f"placeholders {sorted(wanted)} but values for {sorted(values)}")
    return Placeholders(text).substitute(values)


@dataclass(frozen=True, slots=True)
class Served:
    """One line of the access log: the request's status, and the instances tried in turn."""

    method: str
    status: int
    upstreams: tuple[str, ...]


_LOG_LINE = re.compile(r"^\S+ (?P<method>\S+) (?P<status>\d{3}) upstream=(?P<upstreams>.*?) upstream_status=")


class Nginx:
    """nginx in the foreground (``daemon off``), listening on a free loopback port."""

    def __init__(self, instance_ports: Sequence[int], folder: Path) -> None:
        if len(instance_ports) != 2:
            raise ValueError("deploy/nginx.conf names two instances")
        self.folder = folder
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.access_log = folder / "access.log"
        self.error_log = folder / "error.log"
        self.config = folder / "nginx.conf"
        self.stderr = folder / "stderr.log"
        self.upstreams = [f"{HOST}:{port}" for port in instance_ports]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        (self.folder / "temp").mkdir(parents=True, exist_ok=True)
        values = {
            # As root, the workers would otherwise switch to "nobody", who cannot enter pytest's folders;
            # as anyone else nginx ignores the directive.
            "NGINX_USER": getpass.getuser() if os.geteuid() != 0 else "root",
            "PID_FILE": str(self.folder / "nginx.pid"),
            "ERROR_LOG": str(self.error_log),
            "ACCESS_LOG": str(self.access_log),
            "TEMP_DIR": str(self.folder / "temp"),
            "LISTEN": f"{HOST}:{self.port}",
            "KONTOR_A": self.upstreams[0],
            "KONTOR_B": self.upstreams[1],
        }
        self.config.write_text(render(values))
        command = [
            str(NGINX), "-p", str(self.folder), "-c", str(self.config), "-e", str(self.error_log),
            "-g", "daemon off;",
        ]  # fmt: skip
        with self.stderr.open("wb") as stderr:
            self.process = subprocess.Popen(command, stderr=stderr)  # noqa: S603 — a fixed binary
        deadline = time.monotonic() + timeout
        while not self._listening():
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}: {self.errors()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not listen on {self.port} in {timeout:g} s: {self.errors()}")
            time.sleep(0.05)

    def _listening(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def errors(self) -> str:
        """What nginx said on stderr and in its error log (for failure messages)."""
        said = [path.read_text(errors="replace") for path in (self.stderr, self.error_log) if path.exists()]
        return "".join(said).strip() or "(nothing)"

    def served(self, at_least: int = 0, timeout: float = 5.0) -> list[Served]:
        """The requests nginx has finished, in order. nginx writes a request's line just after its
        last byte went out, so a client can be a moment ahead: ``at_least`` waits for that many lines."""
        deadline = time.monotonic() + timeout
        while True:
            served = self._read_log()
            if len(served) >= at_least or time.monotonic() > deadline:
                return served
            time.sleep(0.02)

    def _read_log(self) -> list[Served]:
        if not self.access_log.exists():
            return []
        served = []
        for line in self.access_log.read_text().splitlines():
            found = _LOG_LINE.match(line)
            if found is None:
                raise AssertionError(f"unexpected access log line: {line!r}")
            upstreams = tuple(part.strip() for part in re.split(r"[,:] (?=\d)", found["upstreams"]))
            served.append(Served(found["method"], int(found["status"]), upstreams))
        return served

    def stop(self) -> None:
        if self.process is None:
            return
        # Fast shutdown: open event streams would hold up a graceful one (SIGQUIT).
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def __enter__(self) -> Nginx:
        self.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()
