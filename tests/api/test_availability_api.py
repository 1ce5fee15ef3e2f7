"""The earliest free slots of a service across every office (GET /api/v1/availability)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)  # a Monday; two hours' notice → 10:00
TEN = "2026-12-14T10:00:00+01:00"
TEN_TWENTY = "2026-12-14T10:20:00+01:00"


def _clock(client) -> None:  # type: ignore[no-untyped-def]
    client.app.state.clock = lambda: NOW


def _available(client, **params: str) -> list[dict]:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/availability", params={"service": "eservice"} | params)
    assert response.status_code == 200, response.text
    return response.json()


def test_earliest_slots_across_offices(client):
    _clock(client)
    response = client.get("/api/v1/availability", params={"service": "eservice"})
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"]
    slots = response.json()
    assert len(slots) == 10
    assert slots[0] == {
        "office": "bromma",
        "office_name": "Medborgarkontor Bromma",
        "district": "bromma",
        "start": TEN,
        "end": TEN_TWENTY,
        "seats_left": 1,
    }
    assert slots[1]["office"] == "tensta" and slots[1]["district"] == "rinkeby-kista"
    assert slots[1]["start"] == TEN
    # Bromma and Tensta share Monday's starts from 10:00, every twenty minutes.
    assert [(s["start"][11:16], s["office"]) for s in slots[2:4]] == [
        ("10:20", "bromma"),
        ("10:20", "tensta"),
    ]


def test_limit_and_order(client):
    _clock(client)
    slots = _available(client, limit="25")
    assert len(slots) == 25
    keys = [(datetime.fromisoformat(s["start"]), s["office_name"]) for s in slots]
    assert keys == sorted(keys)
    assert len(_available(client, limit="1")) == 1
    everything = _available(client, limit="100")
    assert len(everything) == 100 and len({(s["start"], s["office"]) for s in everything}) == 100


def test_kista_offers_its_tuesday_appointment_hours(client):
    _clock(client)
    slots = _available(client, district="rinkeby-kista", limit="100")
    kista = [s for s in slots if s["office"] == "kista"]
    assert kista and kista[0]["start"] == "2026-12-15T09:00:00+01:00"
    assert all(datetime.fromisoformat(s["start"]).weekday() == 1 for s in kista)
    assert {s["office"] for s in slots} == {"kista", "tensta"}


def test_district_filter(client):
    _clock(client)
    slots = _available(client, district="bromma", limit="30")
    assert len(slots) == 30 and {s["office"] for s in slots} == {"bromma"}
    assert slots[0]["start"] == TEN


def test_from_date(client):
    _clock(client)
    slots = _available(client, **{"from": "2026-12-15"})
    assert slots[0]["start"] == "2026-12-15T08:00:00+01:00" and slots[0]["office"] == "bromma"
    assert all(s["start"] >= "2026-12-15" for s in slots)
    assert _available(client, **{"from": "2028-01-01"}) == []  # beyond the booking horizon
    assert _available(client, **{"from": "2026-12-01"})[0]["start"] == TEN  # the past is skipped


def test_a_booked_slot_leaves_the_answer(client):
    _clock(client)
    body = {"office": "bromma", "service": "eservice", "start": TEN, "name": "Anna Andersson"}
    response = client.post("/api/v1/bookings", json=body | {"email": "anna@example.se"})
    assert response.status_code == 201, response.text
    slots = _available(client, district="bromma")
    assert slots[0]["start"] == TEN_TWENTY
    assert TEN not in {s["start"] for s in slots}
    assert _available(client)[0]["office"] == "tensta"  # Tensta's 10:00 is still free


BAD_QUERIES = [
    ({"from": "15/12/2026"}, 400),
    ({"from": "2026-02-30"}, 400),
    ({"limit": "0"}, 400),
    ({"limit": "101"}, 400),
    ({"limit": "many"}, 400),
    ({"service": "tarot"}, 404),
    ({"district": "atlantis"}, 404),
]


def test_bad_queries_refused(client):
    _clock(client)
    for params, status in BAD_QUERIES:
        response = client.get("/api/v1/availability", params={"service": "eservice"} | params)
        assert response.status_code == status, params
        assert response.json()["detail"], params
    assert client.get("/api/v1/availability").status_code == 400  # service is required
    assert "tarot" in client.get("/api/v1/availability", params={"service": "tarot"}).json()["detail"]


def test_a_service_nobody_books_has_no_slots(client):
    _clock(client)
    assert _available(client, service="consumer") == []  # walk-in only everywhere


def test_in_the_openapi_schema(client):
    paths = client.get("/schema/openapi.json").json()["paths"]
    operation = paths["/api/v1/availability"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"service", "from", "limit", "district"}
