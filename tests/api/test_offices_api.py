"""The public offices API: offices, open now, and opening hours by date (DESIGN.md, JSON API)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")
EN = {"Accept-Language": "en"}


def set_clock(client, text: str) -> None:  # type: ignore[no-untyped-def]
    moment = datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)
    client.app.state.clock = lambda: moment


def hours(client, slug: str, first: str, last: str, **headers: str) -> list[dict]:  # type: ignore[no-untyped-def]
    response = client.get(
        f"/api/v1/offices/{slug}/hours", params={"from": first, "to": last}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


# --- offices ---------------------------------------------------------------------------------------


def test_list_offices(client):
    set_clock(client, "2026-12-01T10:00")
    response = client.get("/api/v1/offices", headers=EN)
    assert response.status_code == 200
    assert set(response.headers["cache-control"].replace(" ", "").split(",")) == {"public", "max-age=60"}
    assert "Accept-Language" in response.headers["vary"]
    offices = {o["slug"]: o for o in response.json()}
    assert set(offices) == {"kista", "tensta", "bromma"}
    kista = offices["kista"]
    assert kista["name"] == "Medborgarkontor Kista"
    assert kista["district"] == {"slug": "rinkeby-kista", "name": "Rinkeby-Kista"}
    assert kista["address"] == {"street": "Kistagången 1", "postal_code": "164 40", "city": "Kista"}
    assert kista["phone"] == "08-000 00 01" and kista["email"] == "kista@example.org"
    assert kista["languages"] == ["sv", "en", "fi", "ar"]
    assert kista["timezone"] == "Europe/Stockholm"
    assert kista["open_now"] is True
    services = {s["code"]: s for s in kista["services"]}
    assert list(services) == ["eservice", "budget", "consumer", "finnish"]
    assert services["budget"] == {
        "code": "budget",
        "name": "Budget and debt advice",
        "duration_minutes": 45,
        "bookable": True,
        "walk_in": False,
    }
    assert services["consumer"]["bookable"] is False and services["consumer"]["walk_in"] is True
    assert [s["code"] for s in offices["tensta"]["services"]] == ["eservice", "consumer"]


def test_list_offices_by_service(client):
    response = client.get("/api/v1/offices", params={"service": "budget"})
    assert sorted(o["slug"] for o in response.json()) == ["bromma", "kista"]


OPEN_NOW = [
    ("2026-12-01T10:00", {"kista": True, "tensta": True, "bromma": True}),
    ("2026-12-01T12:30", {"kista": False, "tensta": True, "bromma": True}),
    ("2026-12-29T10:00", {"kista": True, "tensta": True, "bromma": False}),  # Inventering
    ("2026-06-19T10:00", {"kista": False, "tensta": False, "bromma": False}),  # Midsommarafton
    ("2026-12-05T10:00", {"kista": False, "tensta": False, "bromma": False}),  # Saturday
]


def test_open_now(client):
    for moment, expected in OPEN_NOW:
        set_clock(client, moment)
        found = {o["slug"]: o["open_now"] for o in client.get("/api/v1/offices").json()}
        assert found == expected, moment


def test_one_office_in_the_requests_language(client):
    set_clock(client, "2026-12-01T12:30")
    office = client.get("/api/v1/offices/kista", params={"lang": "fi"}).json()
    assert office["slug"] == "kista" and office["open_now"] is False
    assert {s["code"]: s["name"] for s in office["services"]}["finnish"] == "Palvelua suomeksi"
    swedish = client.get("/api/v1/offices/kista", headers={"Accept-Language": "sv"}).json()
    assert {s["code"]: s["name"] for s in swedish["services"]}["eservice"] == "Hjälp med e-tjänster"


def test_unknown_office_is_404_with_detail(client):
    for path in ("/api/v1/offices/atlantis", "/api/v1/offices/atlantis/hours"):
        response = client.get(path)
        assert response.status_code == 404
        assert "atlantis" in response.json()["detail"]
    hours_response = client.get("/api/v1/offices/kista/hours", params={"from": "2026-01-01"})
    assert hours_response.headers["cache-control"].replace(" ", "") in {
        "public,max-age=60",
        "max-age=60,public",
    }


# --- hours -----------------------------------------------------------------------------------------


def test_one_entry_per_date_closed_days_included(client):
    days = hours(client, "kista", "2026-11-30", "2026-12-06", **EN)
    assert [d["date"] for d in days] == [str(date(2026, 11, 30) + timedelta(days=n)) for n in range(7)]
    tuesday = days[1]
    assert tuesday == {
        "date": "2026-12-01",
        "open": True,
        "intervals": [
            {"opens": "09:00", "closes": "12:00", "kind": "appointment"},
            {"opens": "09:00", "closes": "12:00", "kind": "drop_in"},
            {"opens": "13:00", "closes": "17:00", "kind": "drop_in"},
        ],
        "note": None,
        "status": "regular",
    }
    saturday = days[5]
    assert saturday == {
        "date": "2026-12-05",
        "open": False,
        "intervals": [],
        "note": None,
        "status": "regular",
    }


def test_holidays_are_closed_with_their_names(client):
    midsummer = hours(client, "kista", "2026-06-19", "2026-06-19", **EN)
    assert midsummer == [
        {"date": "2026-06-19", "open": False, "intervals": [], "note": "Midsummer Eve", "status": "holiday"}
    ]
    (christmas,) = hours(client, "tensta", "2026-12-25", "2026-12-25", **{"Accept-Language": "sv"})
    assert (christmas["open"], christmas["note"], christmas["status"]) == (False, "Juldagen", "holiday")


def test_closure_reason_is_the_note(client):
    days = hours(client, "bromma", "2026-12-27", "2026-12-31", **EN)
    assert [(d["date"], d["open"], d["status"], d["note"]) for d in days] == [
        ("2026-12-27", False, "regular", None),
        ("2026-12-28", False, "closed", "Inventering"),
        ("2026-12-29", False, "closed", "Inventering"),
        ("2026-12-30", False, "closed", "Inventering"),
        ("2026-12-31", False, "holiday", "New Year's Eve"),
    ]


def test_summer_hours(client):
    (july,) = hours(client, "kista", "2026-07-08", "2026-07-08")
    assert july["intervals"] == [{"opens": "10:00", "closes": "15:00", "kind": "drop_in"}]


def test_local_times_do_not_move_with_daylight_saving(client):
    # Fridays and Mondays at Tensta around the changes: 10:00–16:00 local on both sides.
    for before, after in (("2026-03-27", "2026-03-30"), ("2026-10-23", "2026-10-26")):
        days = {d["date"]: d for d in hours(client, "tensta", before, after)}
        assert len(days) == 4
        assert (
            days[before]["intervals"]
            == days[after]["intervals"]
            == [{"opens": "10:00", "closes": "16:00", "kind": "drop_in"}]
        ), (before, after)


def test_default_range_is_two_weeks_from_today_in_the_offices_zone(client):
    # 23:30 UTC on 30 November is already 1 December in Stockholm.
    client.app.state.clock = lambda: datetime.fromisoformat("2026-11-30T23:30:00+00:00")
    days = client.get("/api/v1/offices/kista/hours").json()
    dates = [d["date"] for d in days]
    assert (dates[0], dates[-1], len(dates)) == ("2026-12-01", "2026-12-14", 14)
    only_to = client.get("/api/v1/offices/kista/hours", params={"to": "2026-12-03"}).json()
    assert [d["date"] for d in only_to] == ["2026-12-01", "2026-12-02", "2026-12-03"]


def test_a_whole_year_is_allowed(client):
    days = hours(client, "kista", "2028-01-01", "2028-12-31")  # a leap year: 366 days
    assert len(days) == 366


BAD_RANGES = [
    ({"from": "2026-13-01"}, "'from' must be a date"),
    ({"from": "2026-12-01", "to": "tomorrow"}, "'to' must be a date"),
    ({"from": "2026-12-10", "to": "2026-12-01"}, "after"),
    ({"from": "2026-01-01", "to": "2027-01-02"}, "366"),  # 367 days
]


def test_bad_ranges_are_400_with_detail(client):
    for params, fragment in BAD_RANGES:
        response = client.get("/api/v1/offices/kista/hours", params=params)
        assert response.status_code == 400, params
        assert fragment in response.json()["detail"], params


def test_openapi_documents_the_offices_api(client):
    schema = client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/offices", "/api/v1/offices/{slug}", "/api/v1/offices/{slug}/hours"):
        assert "get" in paths[path], path
        assert "200" in paths[path]["get"]["responses"]
    hours_op = paths["/api/v1/offices/{slug}/hours"]["get"]
    params = {p["name"]: p for p in hours_op["parameters"]}
    assert {"slug", "from", "to"} <= set(params)
    assert all(params[name].get("description") for name in ("slug", "from", "to"))
    assert {"400", "404"} <= set(hours_op["responses"])
    office = schema["components"]["schemas"]["Office"]
    assert {"slug", "name", "district", "address", "languages", "timezone", "services", "open_now"} <= set(
        office["properties"]
    )
    day = schema["components"]["schemas"]["DayHours"]
    assert {"date", "open", "intervals", "note", "status"} <= set(day["properties"])
    assert "/" not in paths and "/offices/{slug}" not in paths  # pages are not API
