"""Transports: a real SMTP server in the test process, the folder, an SMS gateway over HTTP, and
the choice of transports by the settings."""

from __future__ import annotations

import dataclasses
import email
import json
import socket
from email import policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar
from tests.notify.conftest import NOW, make_booking, outbox

from kontor.app import create_app
from kontor.notify.models import OutboxMessage
from kontor.notify.sender import send_due
from kontor.notify.transports import (
    FolderTransport,
    HttpSmsTransport,
    SmtpTransport,
    transports_for,
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps what it receives, or refuses every recipient."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():  # type: ignore[no-untyped-def]
    servers: list[Controller] = []

    def start(mailbox: Mailbox) -> int:
        port = _free_port()
        controller = Controller(mailbox, hostname="127.0.0.1", port=port)
        controller.start()
        servers.append(controller)
        return port

    yield start
    for controller in servers:
        controller.stop()


def _smtp_settings(settings: Any, port: int) -> Any:
    return dataclasses.replace(
        settings, mail_transport="smtp", smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False
    )


async def test_an_email_reaches_the_smtp_server_with_the_visit_attached(
    city, write_session, read_session, settings, smtp_server
) -> None:
    mailbox = Mailbox()
    smtp_settings = _smtp_settings(settings, smtp_server(mailbox))
    booking, _token = await make_booking(write_session, smtp_settings, language="en")
    assert isinstance(transports_for(smtp_settings)["email"], SmtpTransport)

    assert await send_due(write_session, smtp_settings, NOW) == 1

    ((recipients, raw),) = mailbox.received
    assert recipients == ["anna@example.se"]
    mail = email.message_from_bytes(raw, policy=policy.default)
    assert mail["To"] == "anna@example.se"
    assert mail["From"] == "kontor <noreply@stad.example>"
    assert "Help with e-services" in mail["Subject"]
    assert "Hello Anna Andersson," in mail.get_body(("plain",)).get_content()
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "PUBLISH"
    assert attachment.get_filename() == "visit.ics"
    (event,) = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert event["UID"] == f"{booking.reference}@kontor"
    (message,) = await outbox(read_session)
    assert (message.status, message.sent_at, message.attempts) == ("sent", NOW, 1)


async def test_a_refused_recipient_is_retried_and_the_error_names_no_one(
    city, write_session, read_session, settings, smtp_server
) -> None:
    smtp_settings = _smtp_settings(settings, smtp_server(Mailbox(refuse=True)))
    await make_booking(write_session, smtp_settings)
    assert await send_due(write_session, smtp_settings, NOW) == 0
    (message,) = await outbox(read_session)
    assert message.status == "pending"
    assert message.attempts == 1
    assert "550" in message.last_error
    assert "anna@example.se" not in message.last_error
    assert "example.se" not in message.last_error


async def test_the_folder_gets_an_eml_and_a_txt_file(city, write_session, read_session, settings) -> None:
    await make_booking(write_session, settings, phone="070-123 45 67", language="en")
    assert await send_due(write_session, settings, NOW) == 2
    mail, sms = await outbox(read_session)
    folder = Path(settings.data_dir) / "outbox"
    assert sorted(path.name for path in folder.iterdir()) == [f"{mail.id}-email.eml", f"{sms.id}-sms.txt"]
    parsed = email.message_from_bytes((folder / f"{mail.id}-email.eml").read_bytes(), policy=policy.default)
    assert parsed["To"] == "anna@example.se"
    assert [part.get_content_type() for part in parsed.iter_attachments()] == ["text/calendar"]
    text = (folder / f"{sms.id}-sms.txt").read_text()
    assert text.startswith("To: 070-123 45 67\nFrom: Stockholm\n")
    assert sms.body in text
    assert {mail.status, sms.status} == {"sent"}


async def test_the_folder_replaces_a_file_whole(tmp_path: Path) -> None:
    transport = FolderTransport(
        tmp_path / "outbox", mail_from="kontor <noreply@stad.example>", sms_sender="Kontor"
    )
    message = OutboxMessage(id=7, channel="sms", recipient="0701234567", language="sv", body="Första")
    await transport.send(message)
    message.body = "Andra"
    await transport.send(message)
    assert [path.name for path in (tmp_path / "outbox").iterdir()] == ["7-sms.txt"]
    assert (tmp_path / "outbox" / "7-sms.txt").read_text().endswith("\nAndra\n")


def _gateway(status: int, seen: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json={"ok": status < 400})

    return httpx.MockTransport(answer)


async def test_text_messages_are_posted_to_the_gateway(settings: Any) -> None:
    http_settings = dataclasses.replace(
        settings,
        sms_transport="http",
        sms_url="https://sms.example/send",
        sms_token="t0k",
        sms_sender="Kista",
    )
    seen: list[httpx.Request] = []
    transport = HttpSmsTransport(http_settings, transport=_gateway(202, seen))
    message = OutboxMessage(id=1, channel="sms", recipient="+46701234567", language="sv", body="Bokat")
    await transport.send(message)
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://sms.example/send"
    assert request.headers["authorization"] == "Bearer t0k"
    assert json.loads(request.content) == {"to": "+46701234567", "from": "Kista", "message": "Bokat"}

    failing = HttpSmsTransport(http_settings, transport=_gateway(503, []))
    with pytest.raises(RuntimeError, match="503"):
        await failing.send(message)


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"mail_transport": "pigeon"}, "KONTOR_MAIL_TRANSPORT"),
        ({"sms_transport": "smoke"}, "KONTOR_SMS_TRANSPORT"),
        ({"sms_transport": "http", "sms_url": ""}, "KONTOR_SMS_URL"),
        ({"mail_from": "nobody"}, "KONTOR_MAIL_FROM"),
    ],
)
def test_a_wrong_transport_setting_stops_the_server_at_startup(settings, overrides, complaint) -> None:
    wrong = dataclasses.replace(settings, background_worker=True, **overrides)
    with pytest.raises(ValueError, match=complaint):
        transports_for(wrong)
    with pytest.raises(ValueError, match=complaint):
        create_app(wrong)


def test_the_settings_choose_the_transports(settings) -> None:
    chosen = transports_for(settings)
    assert isinstance(chosen["email"], FolderTransport)
    assert isinstance(chosen["sms"], FolderTransport)
    http = transports_for(dataclasses.replace(settings, sms_transport="http", sms_url="https://sms.example"))
    assert isinstance(http["sms"], HttpSmsTransport)
