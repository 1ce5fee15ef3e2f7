"""How messages leave kontor: to a folder (demo, tests: nothing is sent by accident), to an SMTP
server, or to an SMS gateway over HTTP; webhook deliveries as signed POSTs to their subscribers. A
transport raises when a message did not get through; the sender then tries again later."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Protocol

import aiosmtplib
import httpx

from kontor.notify.models import MessageChannel, OutboxMessage
from kontor.settings import Settings

# Long enough for a slow server, well short of the sender's ten-minute claim on a message.
TIMEOUT_SECONDS = 60
# A webhook receiver only has to store the event; one that takes longer is tried again later.
WEBHOOK_TIMEOUT_SECONDS = 15
MAIL_TRANSPORTS = ("folder", "smtp")
SMS_TRANSPORTS = ("folder", "http")
_METHOD = re.compile(r"^METHOD:(\w+)", re.MULTILINE)


class Transport(Protocol):
    async def send(self, message: OutboxMessage) -> None:
        """Deliver ``message`` or raise."""
        ...


def _sender_domain(mail_from: str) -> str:
    addresses = getaddresses([mail_from])
    address = addresses[0][1] if addresses else ""
    return address.rpartition("@")[2] or "kontor.invalid"


def build_email(message: OutboxMessage, mail_from: str) -> EmailMessage:
    """The e-mail of an outbox message: plain text, and the visit as a text/calendar attachment."""
    email = EmailMessage()
    email["From"] = mail_from
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    # The same id however often it is sent, so a retry after a lost answer is recognisably a duplicate.
    email["Message-ID"] = f"<outbox-{message.id}@{_sender_domain(mail_from)}>"
    email["Content-Language"] = message.language
    email.set_content(message.body)
    if message.calendar:
        found = _METHOD.search(message.calendar)
        email.add_attachment(
            message.calendar,
            subtype="calendar",
            filename="visit.ics",
            params={"method": found.group(1) if found else "PUBLISH"},
        )
    return email


def sms_text(message: OutboxMessage, sender: str) -> str:
    """A text message as the folder transport writes it: headers, a blank line, the text."""
    return f"To: {message.recipient}\nFrom: {sender}\nLanguage: {message.language}\n\n{message.body}\n"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write beside the target and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    tmp.replace(path)


class FolderTransport:
    """Writes e-mails as ``<id>-email.eml`` and text messages as ``<id>-sms.txt`` into a folder."""

    def __init__(self, folder: Path, *, mail_from: str, sms_sender: str) -> None:
        self.folder = Path(folder)
        self.mail_from = mail_from
        self.sms_sender = sms_sender

    def path_for(self, message: OutboxMessage) -> Path:
        suffix = "eml" if message.channel == MessageChannel.EMAIL else "txt"
        return self.folder / f"{message.id}-{message.channel}.{suffix}"

    async def send(self, message: OutboxMessage) -> None:
        if message.channel == MessageChannel.EMAIL:
            data = build_email(message, self.mail_from).as_bytes()
        else:
            data = sms_text(message, self.sms_sender).encode()
        await asyncio.to_thread(_write_atomically, self.path_for(message), data)


class SmtpTransport:
    """Sends e-mail through the SMTP server of the settings (STARTTLS and login when configured)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: OutboxMessage) -> None:
        s = self.settings
        await aiosmtplib.send(
            build_email(message, s.mail_from),
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=s.smtp_password or None,
            start_tls=s.smtp_starttls,
            timeout=TIMEOUT_SECONDS,
        )


class HttpSmsTransport:
    """Posts ``{"to", "from", "message"}`` as JSON to an SMS gateway with a bearer token."""

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = settings.sms_url
        self.token = settings.sms_token
        self.sender = settings.sms_sender
        self._transport = transport  # tests hand in a stand-in gateway

    async def send(self, message: OutboxMessage) -> None:
        payload = {"to": message.recipient, "from": self.sender, "message": message.body}
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, transport=self._transport) as client:
            response = await client.post(self.url, json=payload, headers=headers)
        if response.is_error:
            raise RuntimeError(f"SMS gateway answered {response.status_code}")


class WebhookTransport:
    """POSTs a webhook delivery's body as it was signed, with the event, the delivery's id and the
    signature in headers. Redirects are not followed: the subscription names the address."""

    def __init__(self, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport  # tests hand in a stand-in receiver

    async def send(self, message: OutboxMessage) -> None:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "kontor-webhooks",
            "X-Kontor-Event": message.kind,
            "X-Kontor-Delivery": str(message.id),
            "X-Kontor-Signature": message.signature or "",
        }
        async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_SECONDS, transport=self._transport) as client:
            response = await client.post(message.recipient, content=message.body.encode(), headers=headers)
        if not response.is_success:
            raise RuntimeError(f"Webhook receiver answered {response.status_code}")


def transports_for(settings: Settings) -> Mapping[str, Transport]:
    """The transport of each channel, as the settings choose. Raises ValueError for an unknown choice
    or a missing setting, so a misconfigured server stops at startup instead of losing messages."""
    if settings.mail_transport not in MAIL_TRANSPORTS:
        raise ValueError(
            f"KONTOR_MAIL_TRANSPORT is {settings.mail_transport!r}; use one of {', '.join(MAIL_TRANSPORTS)}."
        )
    if settings.sms_transport not in SMS_TRANSPORTS:
        raise ValueError(
            f"KONTOR_SMS_TRANSPORT is {settings.sms_transport!r}; use one of {', '.join(SMS_TRANSPORTS)}."
        )
    if settings.sms_transport == "http" and not settings.sms_url:
        raise ValueError("KONTOR_SMS_TRANSPORT is 'http' but KONTOR_SMS_URL is not set.")
    if not _valid_from(settings.mail_from):
        raise ValueError(f"KONTOR_MAIL_FROM {settings.mail_from!r} is not an e-mail address.")
    folder = FolderTransport(
        Path(settings.data_dir) / "outbox", mail_from=settings.mail_from, sms_sender=settings.sms_sender
    )
    mail: Transport = SmtpTransport(settings) if settings.mail_transport == "smtp" else folder
    sms: Transport = HttpSmsTransport(settings) if settings.sms_transport == "http" else folder
    return {
        MessageChannel.EMAIL.value: mail,
        MessageChannel.SMS.value: sms,
        MessageChannel.WEBHOOK.value: WebhookTransport(),
    }


def _valid_from(mail_from: str) -> bool:
    addresses = getaddresses([mail_from])
    if len(addresses) != 1 or "@" not in addresses[0][1]:
        return False
    try:
        Address(addr_spec=addresses[0][1])
    except (ValueError, IndexError):
        return False
    return True
