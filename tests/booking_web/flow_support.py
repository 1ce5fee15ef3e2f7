"""Shared pieces of the booking flow's page tests: the clock, the small city's seats, and a few
readers of the pages. NOW is Monday 2026-12-14 08:00 in Stockholm; Kista takes bookings for
"eservice" on Tuesdays 09:00–12:00 (nine 20-minute slots), Tensta and Bromma on weekdays."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from kontor.offices.models import Office, OfficeService, Service

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
NINE = "2026-12-15T09:00:00+01:00"
NINE_TWENTY = "2026-12-15T09:20:00+01:00"
KISTA = "/book?service=eservice&office=kista"


def pin_clock(client):  # type: ignore[no-untyped-def]
    client.app.state.clock = lambda: NOW
    return client


def set_seats(settings, office: str, service: str, seats: int) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import run_with_engine

    async def work(db) -> None:  # type: ignore[no-untyped-def]
        office_id = select(Office.id).where(Office.slug == office).scalar_subquery()
        service_id = select(Service.id).where(Service.code == service).scalar_subquery()
        await db.execute(
            update(OfficeService)
            .where(OfficeService.office_id == office_id, OfficeService.service_id == service_id)
            .values(seats=seats)
        )

    run_with_engine(settings, work)


def set_service(settings, code: str, **values: object) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import run_with_engine

    async def work(db) -> None:  # type: ignore[no-untyped-def]
        await db.execute(update(Service).where(Service.code == code).values(**values))

    run_with_engine(settings, work)


def book_by_api(client, start: str = NINE) -> dict:  # type: ignore[no-untyped-def]
    body = {"office": "kista", "service": "eservice", "start": start, "name": "Anna Andersson"}
    response = client.post("/api/v1/bookings", json=body | {"email": "anna@example.se"})
    assert response.status_code == 201, response.text
    return response.json()


def time_buttons(html: str) -> list[str]:
    """The starts offered as buttons of the times form."""
    return re.findall(r'<button type="submit" class="time-button" name="start" value="([^"]+)"', html)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
