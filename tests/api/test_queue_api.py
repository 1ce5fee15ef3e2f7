"""The queue API: issuing tickets, following one, calling the next, the public board (DESIGN.md)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select
from tests.conftest import ENGLISH, run_with_engine
from tests.factories import ADMIN_TOKEN, AGENT_TOKEN
from tests.helpers import logged_in

from kontor.accounts.models import ApiToken, User
from kontor.accounts.security import hash_token
from kontor.offices.models import Counter, Office, Service
from kontor.queue.counter import open_shift
from kontor.queue.models import Ticket, TicketEvent, TicketSequence

STOCKHOLM = ZoneInfo("Europe/Stockholm")
OPEN = datetime(2026, 12, 14, 10, 0, tzinfo=STOCKHOLM)  # a Monday: Kista is open 09–12 and 13–17
LUNCH = datetime(2026, 12, 14, 12, 30, tzinfo=STOCKHOLM)
STAFF_TOKEN = "kontor_test-staff-token-0123456789abcdef"
BROMMA_TOKEN = "kontor_test-bromma-token-0123456789abcdef"
KISTA_TICKETS = "/api/v1/offices/kista/tickets"
# What the public answers may say about a ticket: never who holds it, their language or needs.
PUBLIC_TICKET_FIELDS = {
    "code", "status", "office", "office_name", "service", "service_name", "position",
    "estimated_wait_minutes", "estimated_wait", "counter", "issued_at", "called_at",
}  # fmt: skip


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


STAFF = _bearer(STAFF_TOKEN)


@pytest.fixture
def tokens(settings, city) -> None:  # type: ignore[no-untyped-def]
    """API tokens for Kista's desk clerk and for Bromma's manager (the factory city has none)."""

    async def work(db) -> None:  # type: ignore[no-untyped-def]
        for username, token in (("staff", STAFF_TOKEN), ("bromma_manager", BROMMA_TOKEN)):
            user = await db.scalar(select(User).where(User.username == username))
            db.add(ApiToken(name=username, user_id=user.id, token_hash=hash_token(token), prefix=token[:12]))

    run_with_engine(settings, work)


@pytest.fixture
def api(client, tokens):  # type: ignore[no-untyped-def]
    client.app.state.clock = lambda: OPEN
    return client


def _issue(client, service: str = "eservice", headers=STAFF, slug: str = "kista", **extra: object):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/offices/{slug}/tickets", json={"service": service, **extra}, headers=headers)


def _rows(settings, model) -> int:  # type: ignore[no-untyped-def]
    async def work(db) -> int:  # type: ignore[no-untyped-def]
        return await db.scalar(select(func.count()).select_from(model))

    return run_with_engine(settings, work)  # type: ignore[return-value]


def _open_shift(settings, counter: int, codes: list[str]) -> None:  # type: ignore[no-untyped-def]
    async def work(db) -> None:  # type: ignore[no-untyped-def]
        office = await db.scalar(select(Office).where(Office.slug == "kista"))
        desk = await db.scalar(
            select(Counter).where(Counter.office_id == office.id, Counter.number == counter)
        )
        user = await db.scalar(select(User).where(User.username == "staff"))
        ids = list(await db.scalars(select(Service.id).where(Service.code.in_(codes))))
        await open_shift(db, office=office, counter=desk, user=user, service_ids=ids, now=OPEN)

    run_with_engine(settings, work)


# --- issuing --------------------------------------------------------------------------------------


def test_issue_tickets_numbered_per_service_with_place_and_estimate(api, settings):
    first, second = _issue(api), _issue(api, language="en", needs_help=True)
    assert (first.status_code, second.status_code) == (201, 201), second.text
    body = second.json()
    assert (first.json()["code"], body["code"]) == ("A001", "A002")
    assert (first.json()["position"], body["position"]) == (1, 2)
    assert body["status"] == "waiting" and body["service"] == "eservice" and body["office"] == "kista"
    wait = body["estimated_wait"]
    assert 0 <= wait["low"] <= body["estimated_wait_minutes"] <= wait["high"]
    assert body["estimated_wait_minutes"] >= first.json()["estimated_wait_minutes"]
    assert body["issued_at"] == "2026-12-14T10:00:00+01:00"
    assert body["url"] == f"{settings.public_url.rstrip('/')}/tickets/{body['token']}"
    assert len(body["token"]) >= 22 and body["token"] != first.json()["token"]
    assert "no-store" in second.headers["cache-control"]
    assert _issue(api, "consumer").json()["code"] == "C001"  # each service counts on its own

    async def issued(db):  # type: ignore[no-untyped-def]
        ticket = await db.scalar(select(Ticket).where(Ticket.code == "A002"))
        event = await db.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))
        staff = await db.scalar(select(User).where(User.username == "staff"))
        return ticket, event, staff.id

    ticket, event, staff_id = run_with_engine(settings, issued)  # type: ignore[misc]
    assert (ticket.channel, ticket.issued_by_id) == ("api", staff_id)
    assert (ticket.language, ticket.needs_help) == ("en", True)
    assert (event.action, event.channel) == ("issued", "api")


def test_closed_office_refuses_and_writes_nothing(api, settings):
    api.app.state.clock = lambda: LUNCH
    response = _issue(api)
    assert response.status_code == 409
    assert response.json()["detail"] == "The office is closed now; tickets are issued while it is open."
    assert response.json()["extra"]["kind"] == "office_closed"
    assert _rows(settings, Ticket) == 0 and _rows(settings, TicketSequence) == 0
    api.app.state.clock = lambda: OPEN
    assert _issue(api).json()["code"] == "A001"  # the refused attempt used no number


def test_closed_message_in_the_readers_language(api):
    api.app.state.clock = lambda: LUNCH
    swedish = _issue(api, headers=STAFF | {"Accept-Language": "sv"})
    assert swedish.status_code == 409 and swedish.json()["detail"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        (_bearer("kontor_no-such-token-000000000000000000"), 401),
        (_bearer(AGENT_TOKEN), 403),  # agents book visits, they do not run queues
        (_bearer(BROMMA_TOKEN), 403),  # a manager of another office
        (_bearer(ADMIN_TOKEN), 201),
        (STAFF, 201),
    ],
)
def test_who_may_issue(api, settings, headers, status):
    response = _issue(api, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["detail" if status != 201 else "code"]
    if status == 401:
        assert _rows(settings, Ticket) == 0


def test_no_token_is_asked_for_by_name(api):
    response = _issue(api, headers={})
    assert response.status_code == 401 and "Bearer" in response.json()["detail"]
    assert response.headers.get("www-authenticate") == "Bearer"


def test_a_staff_browser_session_is_no_api_token(api):
    logged_in(api, "staff")
    assert _issue(api, headers={}).status_code == 401


@pytest.mark.parametrize(
    ("slug", "body", "status", "words"),
    [
        ("atlantis", {"service": "eservice"}, 404, "atlantis"),
        ("kista", {"service": "tarot"}, 422, "walk-ins"),
        ("kista", {"service": "budget"}, 422, "walk-ins"),  # bookable only
        ("tensta", {"service": "finnish"}, 422, "walk-ins"),  # not offered at Tensta
        ("kista", {"service": "eservice", "language": "de"}, 422, "serves in"),
        ("kista", {"service": ""}, 400, "'key': 'service'"),
        ("kista", {"language": "en"}, 400, "service"),
        ("kista", {"service": "eservice", "needs_help": "yes"}, 400, "'key': 'needs_help'"),
    ],
)
def test_refused_tickets(api, settings, slug, body, status, words):
    headers = _bearer(ADMIN_TOKEN) if slug == "tensta" else STAFF
    response = api.post(f"/api/v1/offices/{slug}/tickets", json=body, headers=headers)
    assert response.status_code == status, response.text
    # Litestar names a malformed field in ``extra``; kontor's own refusals say it in ``detail``.
    assert words in response.json()["detail"] + str(response.json().get("extra"))
    assert _rows(settings, Ticket) == 0


def test_only_json_bodies(api):
    response = api.post(KISTA_TICKETS, data={"service": "eservice"}, headers=STAFF)
    assert response.status_code == 415 and response.json()["detail"]


# --- following a ticket ---------------------------------------------------------------------------


def test_a_ticket_is_public_to_its_token_and_follows_the_call(api):
    _issue(api)
    mine = _issue(api, language="en", needs_help=True).json()
    response = api.get(f"/api/v1/tickets/{mine['token']}", headers={"Authorization": ""} | ENGLISH)
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"]
    ticket = response.json()
    assert set(ticket) == PUBLIC_TICKET_FIELDS
    assert ticket["code"] == "A002" and ticket["status"] == "waiting" and ticket["position"] == 2
    assert ticket["service_name"] == "Help with e-services"
    assert ticket["office_name"] == "Medborgarkontor Kista"
    assert ticket["counter"] is None and ticket["called_at"] is None
    assert ticket["estimated_wait"]["low"] <= ticket["estimated_wait_minutes"]

    assert api.post("/api/v1/offices/kista/counters/2/next", headers=STAFF).json()["code"] == "A001"
    assert api.get(f"/api/v1/tickets/{mine['token']}").json()["position"] == 1
    assert api.post("/api/v1/offices/kista/counters/1/next", headers=STAFF).json()["code"] == "A002"
    called = api.get(f"/api/v1/tickets/{mine['token']}").json()
    assert (called["status"], called["counter"], called["position"]) == ("called", 1, None)
    assert called["estimated_wait_minutes"] is None and called["estimated_wait"] is None
    assert called["called_at"] == "2026-12-14T10:00:00+01:00"


def test_unknown_ticket_token(api):
    response = api.get("/api/v1/tickets/no-such-token")
    assert response.status_code == 404 and response.json()["detail"]


# --- calling --------------------------------------------------------------------------------------


def test_next_calls_in_order_then_says_no_one_waits(api):
    _issue(api)
    _issue(api, "consumer")
    path = "/api/v1/offices/kista/counters/1/next"
    first = api.post(path, headers=STAFF)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "code": "A001",
        "service": "eservice",
        "counter": 1,
        "called_at": "2026-12-14T10:00:00+01:00",
        "kind": "walk_in",
        "booked_start": None,
    }
    assert "no-store" in first.headers["cache-control"]
    assert api.post(path, headers=STAFF).json()["code"] == "C001"
    empty = api.post(path, headers=STAFF)
    assert empty.status_code == 204 and empty.content == b""


def test_next_from_the_services_asked_for(api):
    _issue(api)
    _issue(api, "consumer")
    path = "/api/v1/offices/kista/counters/2/next"
    response = api.post(path, json={"services": ["consumer"]}, headers=STAFF)
    assert response.json()["code"] == "C001"
    assert api.post(path, json={"services": ["consumer"]}, headers=STAFF).status_code == 204
    assert api.post(path, json={}, headers=STAFF).json()["code"] == "A001"  # no list: every service


def test_next_follows_the_counters_shift(api, settings):
    _issue(api)
    _issue(api, "consumer")
    _open_shift(settings, 1, ["consumer"])
    assert api.post("/api/v1/offices/kista/counters/1/next", headers=STAFF).json()["code"] == "C001"
    assert api.post("/api/v1/offices/kista/counters/1/next", headers=STAFF).status_code == 204
    assert api.post("/api/v1/offices/kista/counters/2/next", headers=STAFF).json()["code"] == "A001"


@pytest.mark.parametrize(
    ("path", "body", "headers", "status"),
    [
        ("/api/v1/offices/kista/counters/9/next", None, STAFF, 404),
        ("/api/v1/offices/kista/counters/0/next", None, STAFF, 404),
        ("/api/v1/offices/atlantis/counters/1/next", None, STAFF, 404),
        ("/api/v1/offices/kista/counters/one/next", None, STAFF, 404),
        ("/api/v1/offices/kista/counters/1/next", {"services": ["tarot"]}, STAFF, 422),
        ("/api/v1/offices/kista/counters/1/next", {"services": []}, STAFF, 422),
        ("/api/v1/offices/kista/counters/1/next", {"services": ["eservice"] * 51}, STAFF, 400),
        ("/api/v1/offices/kista/counters/1/next", {"services": "eservice"}, STAFF, 400),
        ("/api/v1/offices/kista/counters/1/next", None, {}, 401),
        ("/api/v1/offices/kista/counters/1/next", None, _bearer(AGENT_TOKEN), 403),
        ("/api/v1/offices/kista/counters/1/next", None, _bearer(BROMMA_TOKEN), 403),
    ],
)
def test_next_refused(api, path, body, headers, status):
    _issue(api)
    response = api.post(path, headers=headers, **({"json": body} if body is not None else {}))
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert api.get("/api/v1/offices/kista/queue").json()["services"][0]["waiting"] == 1


def test_next_refuses_a_form_body(api):
    response = api.post("/api/v1/offices/kista/counters/1/next", data={"services": "eservice"}, headers=STAFF)
    assert response.status_code == 415


# --- the board ------------------------------------------------------------------------------------


def test_queue_counts_waits_and_calls_without_personal_data(api, settings):
    for _ in range(3):
        _issue(api, language="fi", needs_help=True)
    _issue(api, "consumer")
    _open_shift(settings, 2, ["eservice"])
    api.post("/api/v1/offices/kista/counters/2/next", headers=STAFF)
    response = api.get("/api/v1/offices/kista/queue")
    assert response.status_code == 200
    assert "no-store" not in response.headers["cache-control"]
    board = response.json()
    assert set(board) == {"office", "open", "services", "now_serving"}
    assert board["office"] == "kista" and board["open"] is True
    lines = {line["code"]: line for line in board["services"]}
    assert list(lines) == ["eservice", "consumer", "finnish"]  # Kista's walk-in services in order
    assert (lines["eservice"]["waiting"], lines["eservice"]["counters"]) == (2, 1)
    assert (lines["consumer"]["waiting"], lines["consumer"]["counters"]) == (1, 0)
    assert lines["finnish"]["waiting"] == 0 and lines["eservice"]["name"] == "Help with e-services"
    for line in lines.values():
        wait = line["estimated_wait"]
        assert wait["low"] <= line["estimated_wait_minutes"] <= wait["high"]
    assert board["now_serving"] == [{"code": "A001", "counter": 2, "called_at": "2026-12-14T10:00:00+01:00"}]
    assert {key for line in board["services"] for key in line} == set(lines["eservice"])
    assert "language" not in response.text and "needs_help" not in response.text


def test_queue_of_a_closed_or_unknown_office(api):
    api.app.state.clock = lambda: LUNCH
    board = api.get("/api/v1/offices/kista/queue").json()
    assert board["open"] is False and board["now_serving"] == []
    assert api.get("/api/v1/offices/atlantis/queue").status_code == 404


def test_openapi_lists_the_queue_paths(api):
    paths = api.get("/schema/openapi.json").json()["paths"]
    assert {
        "/api/v1/offices/{slug}/tickets",
        "/api/v1/tickets/{token}",
        "/api/v1/offices/{slug}/counters/{counter}/next",
        "/api/v1/offices/{slug}/queue",
    } <= set(paths)
    assert "204" in paths["/api/v1/offices/{slug}/counters/{counter}/next"]["post"]["responses"]


# --- races through the API ------------------------------------------------------------------------


@pytest.fixture
def ten_counters(settings, city) -> None:  # type: ignore[no-untyped-def]
    async def work(db) -> None:  # type: ignore[no-untyped-def]
        office = await db.scalar(select(Office).where(Office.slug == "kista"))
        db.add_all(Counter(office_id=office.id, number=n, name=f"Lucka {n}") for n in range(3, 11))

    run_with_engine(settings, work)


class OverlapCounter(httpx.ASGITransport):
    """Runs each request on the app in the test's own loop and counts how many are in flight at once
    (Litestar's AsyncTestClient hands requests to its portal thread one after another)."""

    def __init__(self, app: Litestar) -> None:
        super().__init__(app=app)
        self.in_flight = self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            return await super().handle_async_request(request)
        finally:
            self.in_flight -= 1


@asynccontextmanager
async def concurrent_client(app: Litestar) -> AsyncIterator[tuple[httpx.AsyncClient, OverlapCounter]]:
    transport = OverlapCounter(app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client,
    ):
        yield client, transport


async def _issue_async(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post(KISTA_TICKETS, json={"service": "eservice"}, headers=STAFF)


async def test_twenty_clients_issue_at_once(app, tokens):  # type: ignore[no-untyped-def]
    """Twenty desks press "issue" at the same moment: codes A001..A020, none skipped or twice."""
    app.state.clock = lambda: OPEN
    async with concurrent_client(app) as (client, transport):
        responses = await asyncio.gather(*(_issue_async(client) for _ in range(20)))
    assert transport.most > 1, "the requests did not overlap"
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
    assert sorted(r.json()["code"] for r in responses) == [f"A{n:03d}" for n in range(1, 21)]
    assert sorted(r.json()["position"] for r in responses) == list(range(1, 21))


async def test_ten_counters_call_at_once(app, tokens, ten_counters, read_session):  # type: ignore[no-untyped-def]
    """Ten clerks press "next" at the same moment with ten waiting: each ticket is called once."""
    app.state.clock = lambda: OPEN
    async with concurrent_client(app) as (client, transport):
        for _ in range(10):
            assert (await _issue_async(client)).status_code == 201
        calls = await asyncio.gather(
            *(client.post(f"/api/v1/offices/kista/counters/{n}/next", headers=STAFF) for n in range(1, 11))
        )
        assert transport.most > 1, "the requests did not overlap"
        assert [r.status_code for r in calls] == [200] * 10, [r.text for r in calls]
        assert sorted(r.json()["code"] for r in calls) == [f"A{n:03d}" for n in range(1, 11)]
        assert sorted(r.json()["counter"] for r in calls) == list(range(1, 11))
        assert (await client.post("/api/v1/offices/kista/counters/1/next", headers=STAFF)).status_code == 204
    async with read_session() as db:
        called = list(await db.scalars(select(TicketEvent.ticket_id).where(TicketEvent.action == "called")))
        assert len(called) == len(set(called)) == 10
