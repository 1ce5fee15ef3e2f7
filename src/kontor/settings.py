"""Settings from environment variables prefixed ``KONTOR_``; the CLI and the server read the same."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE_DIR.parent.parent


def resource_dir(name: str) -> Path:
    """Where ``templates``, ``static``, ``alembic`` live: beside the package in an installed wheel,
    at the repository root in a checkout (editable install)."""
    bundled = _PACKAGE_DIR / "_bundled" / name
    return bundled if bundled.exists() else _SOURCE_ROOT / name


def _default_data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "kontor"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = ""
    data_dir: Path = field(default_factory=_default_data_dir)
    secret_key: str = ""
    debug: bool = False
    secure_cookies: bool = True
    default_timezone: str = "Europe/Stockholm"
    default_language: str = "sv"
    session_max_age: int = 8 * 3600
    login_max_failures: int = 5
    login_window_seconds: int = 900
    db_pool_size: int = 10
    # The city's contact for accessibility problems and questions (the accessibility statement).
    contact_email: str = "tillganglighet@stad.example"
    contact_phone: str = "08-000 00 00"
    host: str = "127.0.0.1"
    port: int = 8000
    # The address residents reach kontor at, for links in e-mails and text messages.
    public_url: str = "http://127.0.0.1:8000"
    # Online booking: how long a chosen time is held while the resident types, how long a cancelled
    # seat waits before it is offered again (defeats slot trading), and how many upcoming visits of
    # one service one e-mail address or phone number may hold.
    hold_minutes: int = 10
    cancel_release_minutes: int = 5
    max_active_bookings: int = 2
    # Walk-in queue: a booked visit checked in more than this many minutes after its time joins the
    # queue as a walk-in.
    checkin_grace_minutes: int = 10
    # Contact center: a call-back is due this many hours after it was asked for, unless the agent
    # chose a time; a contact's summary, number and needs are blanked this many days after the call.
    callback_due_hours: int = 24
    contact_retention_days: int = 30
    # Requests per minute per client address to the booking endpoints (0 turns the limit off).
    booking_rate_limit: int = 30
    # Admission control per process: public requests served at once, and how long the next ones may
    # wait for a turn before they are answered 503 with Retry-After (0 turns it off). Staff are never held.
    public_concurrency: int = 8
    public_queue_ms: int = 250
    # Addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed
    # (comma-separated, or "*" for any); the client's address counts for login throttling and limits.
    forwarded_allow_ips: str = "127.0.0.1"
    # Messages: "folder" writes them under data_dir/outbox (demo, tests); "smtp" sends e-mail with the
    # KONTOR_SMTP_* settings. SMS: "folder", or "http" to POST JSON to sms_url.
    mail_transport: str = "folder"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_from: str = "kontor <noreply@stad.example>"
    sms_transport: str = "folder"
    sms_url: str = ""
    sms_token: str = ""
    sms_sender: str = "Stockholm"
    # Whether this process runs the worker's jobs (outbox, reminders, waitlist, purges) beside serving;
    # with several instances, ``kontor worker`` can run them instead. Seconds between its rounds.
    background_worker: bool = True
    worker_interval_seconds: int = 5
    # Reminders: this many hours before a booked visit (0: none); a walk-in who left a number gets a
    # text message when this many tickets are ahead of theirs.
    reminder_hours: int = 24
    ticket_alert_ahead: int = 3
    # Waitlist: how long a freed seat is held for the resident it is offered to.
    waitlist_offer_minutes: int = 60
    # Retention: personal data of bookings, tickets, waitlist entries and messages is blanked or
    # deleted this many days after the visit (contacts follow contact_retention_days).
    retention_days: int = 30

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Read ``KONTOR_<FIELD>`` for each field; explicit overrides win."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = os.environ.get(f"KONTOR_{f.name.upper()}")
            if raw is None:
                continue
            if f.type == "bool":
                values[f.name] = raw.strip().lower() in {"1", "true", "yes", "on"}
            elif f.type == "int":
                values[f.name] = int(raw)
            elif f.type == "Path":
                values[f.name] = Path(raw)
            else:
                values[f.name] = raw
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        return settings.completed()

    def completed(self) -> Settings:
        """Fill in what depends on other settings: the SQLite file and a persistent secret key."""
        from dataclasses import replace

        data_dir = Path(self.data_dir)
        url = self.database_url or f"sqlite+aiosqlite:///{data_dir / 'kontor.db'}"
        secret = self.secret_key or _persistent_secret(data_dir)
        return replace(self, database_url=url, data_dir=data_dir, secret_key=secret)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _persistent_secret(data_dir: Path) -> str:
    """A secret kept beside the database, so sessions survive restarts and all local processes agree."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_hex(32)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
