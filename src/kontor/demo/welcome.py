"""What `kontor demo` prints before it serves: where to go, and the demo logins."""

from __future__ import annotations

from typing import IO

from kontor.demo import data
from kontor.demo.seed import SeedReport


def demo_url(host: str, port: int) -> str:
    """The address to open in a browser for a server listening on ``host``."""
    if host in {"", "0.0.0.0"}:  # noqa: S104 — only shown, not bound
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def print_welcome(url: str, database: str, report: SeedReport, out: IO[str]) -> None:
    news = "created now" if report.total_created else "already there"
    lines = [
        "",
        "kontor demo: the citizen offices of Stockholm's 13 district areas (fictional data).",
        "",
        f"  Open       {url}",
        f"  Database   {database}",
        f"  Seeded     {report.total('offices')} offices, {report.total('services')} services, "
        f"{report.total('users')} users ({news})",
        "",
        f"Demo logins, all with the password {data.DEMO_PASSWORD!r} (a local demo only):",
        "",
        f"  {'user':<16}{'role':<9}{'office':<15}try",
    ]
    for login in data.LOGINS:
        office = ", ".join(login.offices) or "all"
        lines.append(f"  {login.username:<16}{login.role:<9}{office:<15}{login.try_this}")
    lines += [
        "",
        "Also try:",
        f"  the office finder      {url}",
        f"  an office page         {url}offices/rinkeby-kista",
        f"  book a visit           {url}book",
        f"  waiting-room screen    {url}offices/rinkeby-kista/display",
        f"  messages to residents  {url}admin/outbox (log in as admin; nothing is sent by e-mail or SMS):",
        "                         confirmations, reminders of tomorrow's visits, waitlist offers",
        f"  personal data purge    {url}admin/retention",
        f"  the JSON API           {url}api/v1/offices",
        f"  its OpenAPI schema     {url}schema/openapi.json",
        "",
        "Press Ctrl+C to stop.",
        "",
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()
