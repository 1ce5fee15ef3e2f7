"""Seats kept for the phone in the JSON API: the slots and the availability search show them to a staff
bearer token only, an agent's booking may take one, an anonymous one may not until the release."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from tests.factories import ADMIN_TOKEN, AGENT_TOKEN
from tests.helpers import login

from kontor.booking.models import Booking
from kontor.offices.models import Office, OfficeService, Service

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
NINE = "2026-12-22T09:00:00+01:00"  # Kista's Tuesday appointment hours, eight days ahead
RELEASE = datetime(2026, 12, 20, 9, 0, tzinfo=STOCKHOLM)  # 48 hours before
TUESDAY = {"service": "eservice", "from": "2026-12-22", "to": "2026-12-22"}
AGENT = {"Authorization": f"Bearer {AGENT_TOKEN}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _keep_seats(settings, seats: int = 3, kept: int = 1) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import run_with_engine

    async def work(db) -> None:  # type: ignore[no-untyped-def]
        office_id = select(Office.id).where(Office.slug == "kista").scalar_subquery()
        service_id = select(Service.id).where(Service.code == "eservice").scalar_subquery()
        await db.execute(
            update(OfficeService)
            .where(OfficeService.office_id == office_id, OfficeService.service_id == service_id)
            .values(seats=seats, phone_seats=kept, phone_release_hours=48)
        )

    run_with_engine(settings, work)


def _seat_numbers(settings) -> list[int]:  # type: ignore[no-untyped-def]
    from tests.conftest import run_with_engine

    async def work(db) -> list[int]:  # type: ignore[no-untyped-def]
        return sorted(await db.scalars(select(Booking.seat).where(Booking.status == "booked")))

    return run_with_engine(settings, work)  # type: ignore[return-value]


def _at(client, moment: datetime) -> None:  # type: ignore[no-untyped-def]
    client.app.state.clock = lambda: moment


def _nine_left(client, headers: dict[str, str] | None = None) -> int:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/offices/kista/slots", params=TUESDAY, headers=headers or {})
    assert response.status_code == 200, response.text
    return next((s["seats_left"] for s in response.json() if s["start"] == NINE), 0)


def _searched_left(client, headers: dict[str, str] | None = None) -> int:  # type: ignore[no-untyped-def]
    params = {"service": "eservice", "from": "2026-12-22", "district": "rinkeby-kista", "limit": "3"}
    response = client.get("/api/v1/availability", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return next((s["seats_left"] for s in response.json() if (s["office"], s["start"]) == ("kista", NINE)), 0)


def _book(client, n: int, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    body = {"office": "kista", "service": "eservice", "start": NINE, "name": f"Caller {n}"}
    return client.post("/api/v1/bookings", json=body | {"phone": f"070-100 00 {n:02}"}, headers=headers or {})


def test_only_staff_tokens_see_the_kept_seats(client, settings):
    _keep_seats(settings)
    _at(client, NOW)
    # Asked in turns, so an answer kept for one kind of client is never given to the other.
    assert [_nine_left(client), _nine_left(client, AGENT), _nine_left(client, ADMIN), _nine_left(client)] == [
        2,
        3,
        3,
        2,
    ]
    assert [_searched_left(client), _searched_left(client, AGENT), _searched_left(client)] == [2, 3, 2]


def test_a_staff_session_is_no_api_credential_for_kept_seats(client, settings):
    _keep_seats(settings)
    _at(client, NOW)
    assert login(client, "staff").status_code == 303
    assert _nine_left(client) == 2 and _searched_left(client) == 2
    assert _book(client, 1).status_code == 201
    assert _book(client, 2).status_code == 201
    assert _book(client, 3).status_code == 409


def test_anonymous_bookings_stop_at_the_kept_seat_an_agent_may_take_it(client, settings):
    _keep_seats(settings)
    _at(client, NOW)
    assert _book(client, 1).status_code == 201
    assert _book(client, 2).status_code == 201
    refused = _book(client, 3)
    assert refused.status_code == 409 and refused.json()["extra"]["kind"] == "full"
    assert (_nine_left(client), _nine_left(client, AGENT)) == (0, 1)

    booked = _book(client, 4, AGENT)
    assert booked.status_code == 201, booked.text
    assert _seat_numbers(settings) == [1, 2, 3]
    assert (_nine_left(client), _nine_left(client, AGENT)) == (0, 0)
    assert _book(client, 5, AGENT).status_code == 409


def test_an_agent_books_the_kept_seat_first_and_the_release_opens_it(client, settings):
    _keep_seats(settings)
    _at(client, NOW)
    assert _book(client, 1, AGENT).status_code == 201
    assert _seat_numbers(settings) == [3]
    assert (_nine_left(client), _searched_left(client)) == (2, 2)  # both public seats still free

    _keep_seats(settings, kept=2)  # now seat 2 is kept as well; the agent holds seat 3
    _at(client, RELEASE - timedelta(minutes=1))
    assert _nine_left(client) == 1
    assert _book(client, 2).status_code == 201
    assert _book(client, 3).status_code == 409
    _at(client, RELEASE)
    assert (_nine_left(client), _searched_left(client)) == (1, 1)
    assert _book(client, 3).status_code == 201
    assert _seat_numbers(settings) == [1, 2, 3]
