"""The booking API: slots, booking, reading, cancelling and moving a visit (DESIGN.md, JSON API)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from tests.factories import ADMIN_TOKEN, AGENT_TOKEN

from kontor.accounts.models import User
from kontor.booking.models import Booking
from kontor.offices.models import Office, OfficeService, Service

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)
NINE = "2026-12-15T09:00:00+01:00"
NINE_TWENTY = "2026-12-15T09:20:00+01:00"
TUESDAY = {"service": "eservice", "from": "2026-12-15", "to": "2026-12-15"}


def _clock(client) -> None:  # type: ignore[no-untyped-def]
    client.app.state.clock = lambda: NOW


def _slots(client, **params: str) -> list[dict]:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/offices/kista/slots", params=TUESDAY | params)
    assert response.status_code == 200, response.text
    return response.json()


def _seats_left(client) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {slot["start"]: slot["seats_left"] for slot in _slots(client)}


def _book(client, headers: dict[str, str] | None = None, **overrides: object):  # type: ignore[no-untyped-def]
    body = {"office": "kista", "service": "eservice", "start": NINE, "name": "Anna Andersson"}
    body |= {"email": "anna@example.se"} | overrides
    return client.post("/api/v1/bookings", json=body, headers=headers or {})


def _set_seats(settings, seats: int) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import run_with_engine

    async def work(db) -> None:  # type: ignore[no-untyped-def]
        office_id = select(Office.id).where(Office.slug == "kista").scalar_subquery()
        service_id = select(Service.id).where(Service.code == "eservice").scalar_subquery()
        await db.execute(
            update(OfficeService)
            .where(OfficeService.office_id == office_id, OfficeService.service_id == service_id)
            .values(seats=seats)
        )

    run_with_engine(settings, work)


# --- slots -----------------------------------------------------------------------------------------


def test_slots_of_a_day(client):
    _clock(client)
    response = client.get("/api/v1/offices/kista/slots", params=TUESDAY)
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"]
    slots = response.json()
    assert [s["start"] for s in slots][:3] == [NINE, NINE_TWENTY, "2026-12-15T09:40:00+01:00"]
    assert slots[0] == {"start": NINE, "end": NINE_TWENTY, "seats_left": 1}
    assert slots[-1]["end"] == "2026-12-15T12:00:00+01:00"
    assert len(slots) == 9


def test_slots_default_range_is_two_weeks_from_today(client):
    _clock(client)
    slots = client.get("/api/v1/offices/kista/slots", params={"service": "eservice"}).json()
    days = sorted({s["start"][:10] for s in slots})
    assert days[0] == "2026-12-15" and days[-1] <= "2026-12-27"


def test_seats_left_go_down_as_seats_are_booked(client, settings):
    _set_seats(settings, 2)
    _clock(client)
    assert _seats_left(client)[NINE] == 2
    assert _book(client).status_code == 201
    assert _seats_left(client)[NINE] == 1
    assert _book(client).status_code == 201
    assert NINE not in _seats_left(client)  # full slots are left out


BAD_SLOT_QUERIES = [
    ({"from": "2026-12-20", "to": "2026-12-15"}, 400, "after"),
    ({"from": "2026-01-01", "to": "2027-01-02"}, 400, "366"),
    ({"from": "15/12/2026"}, 400, "YYYY-MM-DD"),
    ({"service": "tarot"}, 404, "tarot"),
    ({"service": "consumer"}, 404, "consumer"),  # walk-in only at Kista
]


def test_slot_queries_refused(client):
    _clock(client)
    for params, status, words in BAD_SLOT_QUERIES:
        response = client.get("/api/v1/offices/kista/slots", params=TUESDAY | params)
        assert response.status_code == status, params
        assert words in response.json()["detail"], params
    response = client.get("/api/v1/offices/atlantis/slots", params=TUESDAY)
    assert response.status_code == 404 and response.json()["detail"]
    assert client.get("/api/v1/offices/kista/slots").status_code == 400  # service is required


# --- booking ---------------------------------------------------------------------------------------


def test_book_a_visit(client, read_session):
    _clock(client)
    response = _book(client, phone="070-123 45 67", language="en", needs=["interpreter"])
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == {"reference", "token", "office", "service", "start", "end", "status"}
    assert created["office"] == "kista" and created["service"] == "eservice"
    assert (created["start"], created["end"], created["status"]) == (NINE, NINE_TWENTY, "booked")
    assert len(created["reference"]) == 9 and created["reference"][4] == "-"
    assert created["token"]

    async def row() -> Booking:
        async with read_session() as db:
            return await db.scalar(select(Booking))

    booking = asyncio.run(row())
    assert (booking.channel, booking.created_by_id, booking.needs) == ("api", None, ["interpreter"])


def test_refusals_map_to_status_codes(client):
    _clock(client)
    invalid = _book(client, email="anna-at-example.se")
    assert invalid.status_code == 422
    assert invalid.json()["detail"] == "Enter a valid e-mail address, like name@example.se."
    assert invalid.json()["extra"] == {"kind": "invalid", "field": "email"}
    assert _book(client, start="2026-12-15T09:05:00+01:00").status_code == 409  # not a slot start
    assert _book(client, service="consumer").json()["extra"]["kind"] == "not_bookable"
    assert _book(client, office="atlantis").status_code == 404
    assert _book(client, start="2026-12-15T09:00:00").status_code == 422  # no offset
    missing = client.post("/api/v1/bookings", json={"office": "kista"})
    assert missing.status_code == 400 and missing.json()["detail"]
    assert (
        client.post(
            "/api/v1/bookings", content=b"{not json", headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )
    assert _book(client).status_code == 201
    full = _book(client, name="Bertil Berg")
    assert full.status_code == 409 and full.json()["extra"] == {"kind": "full", "field": "start"}


def test_form_bodies_are_refused(client):
    _clock(client)
    form = {"office": "kista", "service": "eservice", "start": NINE, "name": "Anna", "email": "a@example.se"}
    response = client.post("/api/v1/bookings", data=form)
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_an_agent_books_by_phone(client, read_session):
    _clock(client)
    response = _book(client, headers={"Authorization": f"Bearer {AGENT_TOKEN}"})
    assert response.status_code == 201, response.text

    async def row() -> tuple[str, str | None]:
        async with read_session() as db:
            booking = await db.scalar(select(Booking))
            agent = await db.get(User, booking.created_by_id) if booking.created_by_id else None
            return booking.channel, agent.username if agent else None

    assert asyncio.run(row()) == ("phone", "agent")


# --- reading, cancelling, moving -------------------------------------------------------------------


def test_reading_a_booking_needs_its_token_or_staff(client):
    _clock(client)
    created = _book(client).json()
    path = f"/api/v1/bookings/{created['reference']}"
    mine = client.get(path, headers={"X-Booking-Token": created["token"]})
    assert mine.status_code == 200
    assert mine.json() == {
        "reference": created["reference"],
        "office": "kista",
        "service": "eservice",
        "start": NINE,
        "end": NINE_TWENTY,
        "status": "booked",
        "name": "Anna Andersson",
        "email": "anna@example.se",
        "phone": None,
        "language": "sv",
        "needs": [],
    }
    assert "no-store" in mine.headers["cache-control"]
    assert (
        client.get(path.lower().replace("-", ""), headers={"X-Booking-Token": created["token"]}).status_code
        == 200
    )
    wrong = client.get(path, headers={"X-Booking-Token": "not-the-token"})
    unknown = client.get("/api/v1/bookings/AAAA-AAAA", headers={"X-Booking-Token": created["token"]})
    no_token = client.get(path)
    assert wrong.status_code == unknown.status_code == no_token.status_code == 404
    assert wrong.content == unknown.content == no_token.content
    for token in (AGENT_TOKEN, ADMIN_TOKEN):
        assert client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_cancel_gives_the_seat_back(client):
    _clock(client)
    created = _book(client).json()
    assert NINE not in _seats_left(client)
    path = f"/api/v1/bookings/{created['reference']}/cancel"
    assert client.post(path, headers={"X-Booking-Token": "wrong"}).status_code == 404
    response = client.post(path, headers={"X-Booking-Token": created["token"]})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert NINE not in _seats_left(client)  # the seat rests for a while (no slot trading) ...
    client.app.state.clock = lambda: NOW + timedelta(minutes=5, seconds=1)
    assert _seats_left(client)[NINE] == 1  # ... and is then offered again
    assert client.post(path, headers={"X-Booking-Token": created["token"]}).status_code == 200  # no change


def test_reschedule(client):
    _clock(client)
    mine = _book(client).json()
    _book(client, start=NINE_TWENTY, name="Bertil Berg")
    path = f"/api/v1/bookings/{mine['reference']}/reschedule"
    headers = {"X-Booking-Token": mine["token"]}
    into_full = client.post(path, json={"start": NINE_TWENTY}, headers=headers)
    assert into_full.status_code == 409 and into_full.json()["extra"]["kind"] == "full"
    assert client.get(f"/api/v1/bookings/{mine['reference']}", headers=headers).json()["start"] == NINE
    later = "2026-12-15T10:00:00+01:00"
    moved = client.post(path, json={"start": later}, headers=headers)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["start"], moved.json()["end"]) == (later, "2026-12-15T10:20:00+01:00")
    seats = _seats_left(client)
    assert seats[NINE] == 1 and later not in seats
    assert client.post(path, data={"start": later}, headers=headers).status_code == 415


RACERS = 50


@pytest.mark.parametrize("start", [NINE, NINE_TWENTY, "2026-12-15T09:40:00+01:00"])
def test_fifty_clients_race_for_two_seats(client, settings, read_session, start):
    """Fifty residents press "book" on the same two-seat slot at once, through the API: two get it,
    48 are told 409, nobody sees a 5xx, and the database holds exactly two bookings."""
    _set_seats(settings, 2)
    _clock(client)

    def attempt(i: int) -> int:
        return _book(client, start=start, name=f"Person {i}", email=f"p{i}@example.se").status_code

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        statuses = list(pool.map(attempt, range(RACERS)))
    assert sorted(statuses) == [201] * 2 + [409] * (RACERS - 2)
    assert start not in _seats_left(client)

    async def count() -> int:
        async with read_session() as db:
            rows = await db.scalars(select(Booking.seat).where(Booking.status == "booked"))
            return sorted(rows)

    assert asyncio.run(count()) == [1, 2]
