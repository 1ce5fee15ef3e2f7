"""A server killed (SIGKILL) in the middle of a storm of bookings and walk-in tickets loses nothing it
answered and leaves nothing half-written.

Two dozen clients book visits (distinct seats, and a few slots wanted by one resident more than they
have seats, so some are refused with 409) and issue tickets with a staff token; after a random short
delay, and once a few of them were answered, the server's process group gets SIGKILL with requests in
flight. After a restart on the same database, what was answered must be there exactly as answered,
with its history row (DESIGN rule 5) and its confirmation in the outbox (written in the booking's
transaction), slots hold no more bookings than seats (rule 3), and every day's ticket numbers run
1..N without a gap or a repeat (rule 4), the next ticket being N+1. On PostgreSQL, one of two
instances is killed while the storm goes to both: the other keeps answering, and the same holds.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kontor.accounts.models import User
from kontor.booking.models import SEATLESS, Booking, BookingEvent
from kontor.booking.references import normalize_reference
from kontor.notify.models import OutboxMessage
from kontor.offices.models import Office, Service
from kontor.queue.models import Ticket, TicketEvent, TicketSequence
from kontor.settings import Settings
from tests.booking_web.flow_support import set_seats
from tests.conftest import run_with_engine
from tests.pressure.conftest import bearer, free_slots
from tests.processes import KontorServer

pytestmark = pytest.mark.pressure

SEATS = 2
CONCURRENCY = 24
# Slots that SEATS + 1 residents try to book at once, sent first: one of each trio is refused.
CONTENDED = 4
# Answers to wait for before the kill, so it lands in a storm under way: a few bookings and tickets
# made, and a contended slot refused.
BEFORE_KILL = {("booking", 201): 3, ("ticket", 201): 3, ("booking", 409): 1}
# How many requests the survivor of two instances answers after the other was killed.
SURVIVOR_ANSWERS = 30
WALK_IN_SERVICES = ("eservice", "consumer")
REQUEST_TIMEOUT = 10.0
# What survives a kill is the question here, not how a rush is shed (tested on its own): every
# booking of the storm is let in.
SERVER_ENV = {"KONTOR_PUBLIC_CONCURRENCY": "0"}


@dataclass
class Outcome:
    """One request of the storm and what became of it."""

    kind: str  # "booking" or "ticket"
    body: dict[str, Any]
    target: str
    after_kill: bool
    status: int | None = None
    answer: dict[str, Any] = field(default_factory=dict)
    error: str = ""


class Storm:
    """Concurrent booking and ticket requests spread over the live ``targets`` (see :meth:`run`)."""

    def __init__(self, targets: list[str], token: str, starts: list[str]) -> None:
        self.alive = list(targets)
        self.token = token
        self.jobs = self._plan(starts)
        self.outcomes: list[Outcome] = []
        self.in_flight: Counter[str] = Counter()
        self.killed = False
        self._turn = itertools.count()
        self._answered: Counter[tuple[str, int]] = Counter()
        self._enough = asyncio.Event()
        self._answered_after_kill = 0
        self._survived = asyncio.Event()
        self._stopped = asyncio.Event()

    @staticmethod
    def _plan(starts: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """Bookings (the contended slots first) alternating with tickets, then tickets without end.
        Every booking has a contact of its own, so no per-person limit refuses it."""
        wanted = [start for start in starts[:CONTENDED] for _ in range(SEATS + 1)] + starts[CONTENDED:]
        for number, start in enumerate(wanted):
            body: dict[str, Any] = {
                "office": "kista",
                "service": "eservice",
                "start": start,
                "name": f"Resident {number}",
                "email": f"resident{number}@example.se",
            }
            if number % 3 == 0:
                body["phone"] = f"070-{number:07d}"
            yield "booking", body
            yield "ticket", {"service": WALK_IN_SERVICES[number % 2]}
        for number in itertools.count():
            yield "ticket", {"service": WALK_IN_SERVICES[number % 2]}

    async def _send(self, client: httpx.AsyncClient) -> None:
        while not self._stopped.is_set() and self.alive:
            kind, body = next(self.jobs)
            target = self.alive[next(self._turn) % len(self.alive)]
            outcome = Outcome(kind, body, target, after_kill=self.killed)
            if kind == "booking":
                url, headers = f"{target}/api/v1/bookings", {}
            else:
                url, headers = f"{target}/api/v1/offices/kista/tickets", bearer(self.token)
            self.in_flight[target] += 1
            try:
                response = await client.post(url, json=body, headers=headers)
            except httpx.TransportError as error:
                outcome.error = repr(error)
            else:
                outcome.status = response.status_code
                if response.headers.get("content-type", "").startswith("application/json"):
                    outcome.answer = response.json()
                self._answered[(kind, response.status_code)] += 1
                if all(self._answered[key] >= count for key, count in BEFORE_KILL.items()):
                    self._enough.set()
                if outcome.after_kill:
                    self._answered_after_kill += 1
                    if self._answered_after_kill >= SURVIVOR_ANSWERS:
                        self._survived.set()
            finally:
                self.in_flight[target] -= 1
            self.outcomes.append(outcome)

    async def run(self, during: Callable[[], Any]) -> None:
        """Storm while ``await during()`` runs; then let the requests under way finish."""
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT, limits=limits) as client:
            senders = [asyncio.create_task(self._send(client)) for _ in range(CONCURRENCY)]
            try:
                await during()
            finally:
                self._stopped.set()
                results = await asyncio.gather(*senders, return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    raise result

    async def kill(self, victim: KontorServer) -> int:
        """SIGKILL ``victim`` after a random 0.3–1.0 s and the answers of BEFORE_KILL; how many
        requests to it were under way at that moment."""
        await asyncio.sleep(random.uniform(0.3, 1.0))
        try:
            await asyncio.wait_for(self._enough.wait(), 30)
        except TimeoutError:
            raise AssertionError(f"the storm got nowhere: {self._answered}") from None
        self.alive.remove(victim.base)
        cut_off = self.in_flight[victim.base]
        self.killed = True
        await asyncio.to_thread(victim.kill)
        return cut_off

    async def survived(self) -> None:
        """Wait until the servers left answered SURVIVOR_ANSWERS requests sent after the kill."""
        try:
            await asyncio.wait_for(self._survived.wait(), 30)
        except TimeoutError:
            raise AssertionError(f"little was answered after the kill: {self._answered}") from None


# -- what the database holds afterwards ----------------------------------------------------------


@dataclass
class Stored:
    bookings: list[Any]
    booking_events: list[Any]
    messages: list[Any]
    tickets: list[Any]
    ticket_events: list[Any]
    sequences: list[Any]
    letters: dict[int, str]  # service id → code
    staff_id: int
    kista_id: int


def _stored(settings: Settings) -> Stored:
    async def work(db) -> Stored:  # type: ignore[no-untyped-def]
        async def rows(*columns: Any) -> list[Any]:
            return list((await db.execute(select(*columns))).all())

        return Stored(
            bookings=await rows(
                Booking.id, Booking.reference, Booking.email, Booking.phone, Booking.office_id,
                Booking.service_id, Booking.starts_at, Booking.seat, Booking.status,
            ),
            booking_events=await rows(BookingEvent.booking_id, BookingEvent.action, BookingEvent.channel,
                                      BookingEvent.actor),
            messages=await rows(OutboxMessage.booking_id, OutboxMessage.channel, OutboxMessage.kind,
                                OutboxMessage.recipient),
            tickets=await rows(Ticket.id, Ticket.office_id, Ticket.issued_service_id, Ticket.day,
                               Ticket.number, Ticket.code, Ticket.issued_by_id),
            ticket_events=await rows(TicketEvent.ticket_id, TicketEvent.action, TicketEvent.channel,
                                     TicketEvent.actor_id),
            sequences=await rows(TicketSequence.office_id, TicketSequence.service_id, TicketSequence.day,
                                 TicketSequence.last_number),
            letters=dict((await db.execute(select(Service.id, Service.code))).all()),
            staff_id=await db.scalar(select(User.id).where(User.username == "staff")),
            kista_id=await db.scalar(select(Office.id).where(Office.slug == "kista")),
        )  # fmt: skip

    return run_with_engine(settings, work)  # type: ignore[return-value]


def _utc(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_bookings(outcomes: list[Outcome], stored: Stored) -> None:
    sent = [o for o in outcomes if o.kind == "booking"]
    by_email = {o.body["email"]: o for o in sent}
    rows = {row.email: row for row in stored.bookings}
    assert len(rows) == len(stored.bookings), "two bookings with one request's contact"
    assert len({row.reference for row in stored.bookings}) == len(stored.bookings)

    for outcome in sent:
        row = rows.get(outcome.body["email"])
        if outcome.status == 201:
            assert row is not None, f"answered 201 but not stored: {outcome.answer}"
            assert row.reference == normalize_reference(outcome.answer["reference"])
            assert _utc(row.starts_at) == _utc(outcome.answer["start"]) == _utc(outcome.body["start"])
            assert row.status == "booked"
        elif outcome.status is not None:
            assert row is None, f"refused with {outcome.status} but stored: {outcome.body}"
    for row in stored.bookings:  # also the ones whose answer the kill cut off: complete or absent
        assert row.email in by_email, f"a booking nobody asked for: {row.reference}"
        assert row.phone == by_email[row.email].body.get("phone")

    # DESIGN rule 3: a slot's holders have distinct seats among its SEATS.
    holders: dict[tuple[int, int, datetime], list[int]] = defaultdict(list)
    for row in stored.bookings:
        if row.status not in SEATLESS:
            holders[(row.office_id, row.service_id, _utc(row.starts_at))].append(row.seat)
    for slot, seats in holders.items():
        assert len(seats) == len(set(seats)) <= SEATS, (slot, seats)
        assert set(seats) <= set(range(1, SEATS + 1)), (slot, seats)

    # DESIGN rule 5 and the outbox: each booking's history row and confirmations, in its transaction.
    events = Counter((e.booking_id, e.action, e.channel, e.actor) for e in stored.booking_events)
    messages = Counter((m.booking_id, m.channel, m.kind, m.recipient) for m in stored.messages)
    expected_events: Counter[tuple[Any, ...]] = Counter()
    expected_messages: Counter[tuple[Any, ...]] = Counter()
    for row in stored.bookings:
        expected_events[(row.id, "booked", "api", "resident")] += 1
        expected_messages[(row.id, "email", "booked", row.email)] += 1
        if row.phone:
            expected_messages[(row.id, "sms", "booked", row.phone)] += 1
    assert events == expected_events
    assert messages == expected_messages


def _check_tickets(outcomes: list[Outcome], stored: Stored) -> dict[str, int]:
    """Every answered ticket stored, numbers 1..N per office, service and day; returns N per service."""
    answered = Counter(
        (o.body["service"], o.answer["code"]) for o in outcomes if o.kind == "ticket" and o.status == 201
    )
    assert max(answered.values(), default=1) == 1, "one code answered twice"
    stored_codes = {(stored.letters[t.issued_service_id], t.code) for t in stored.tickets}
    assert set(answered) <= stored_codes, f"answered but not stored: {set(answered) - stored_codes}"
    sent = sum(1 for o in outcomes if o.kind == "ticket")
    assert len(answered) <= len(stored.tickets) <= sent

    numbers: dict[tuple[int, int, Any], list[int]] = defaultdict(list)
    for ticket in stored.tickets:
        numbers[(ticket.office_id, ticket.issued_service_id, ticket.day)].append(ticket.number)
        assert ticket.issued_by_id == stored.staff_id
    last = {(s.office_id, s.service_id, s.day): s.last_number for s in stored.sequences}
    for key, issued in numbers.items():
        # DESIGN rule 4: no number skipped, none given twice, and the sequence agrees.
        assert sorted(issued) == list(range(1, len(issued) + 1)), (key, sorted(issued))
        assert last[key] == len(issued), (key, last[key], len(issued))
    codes = {(t.office_id, t.issued_service_id, t.day, t.code) for t in stored.tickets}
    assert len(codes) == len(stored.tickets)

    events = Counter((e.ticket_id, e.action, e.channel, e.actor_id) for e in stored.ticket_events)
    assert events == Counter((t.id, "issued", "api", stored.staff_id) for t in stored.tickets)
    return {
        stored.letters[service_id]: len(issued)
        for (office_id, service_id, _day), issued in numbers.items()
        if office_id == stored.kista_id
    }


def _check_storm(storm: Storm, victim: KontorServer, cut_off: int) -> None:
    outcomes = storm.outcomes
    failures = [(o.target, o.kind, o.status, o.answer) for o in outcomes if (o.status or 0) >= 500]
    assert not failures, f"server errors in the storm: {failures[:5]}"
    assert cut_off > 0, "the kill found no request under way"
    # Only the killed server's requests may be cut off; everything else was answered.
    lost = [(o.target, o.error) for o in outcomes if o.error and o.target != victim.base]
    assert not lost, f"requests to a live server failed: {lost[:5]}"
    statuses = Counter((o.kind, o.status) for o in outcomes)
    assert statuses[("booking", 201)] and statuses[("ticket", 201)], statuses
    assert statuses[("booking", 409)], f"no contended slot was refused: {statuses}"
    assert set(statuses) <= {
        ("booking", 201), ("booking", 409), ("booking", None), ("ticket", 201), ("ticket", None),
    }, statuses  # fmt: skip


async def _after_restart(base: str, token: str, outcomes: list[Outcome], issued: dict[str, int]) -> None:
    """The server finds every answered booking by its token, and numbers tickets on from N + 1."""
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT) as client:
        booked = [o for o in outcomes if o.kind == "booking" and o.status == 201]
        found = await asyncio.gather(
            *(
                client.get(f"/api/v1/bookings/{reference}", headers={"X-Booking-Token": secret})
                for reference, secret in ((o.answer["reference"], o.answer["token"]) for o in booked)
            )
        )
        for outcome, response in zip(booked, found, strict=True):
            assert response.status_code == 200, (outcome.answer["reference"], response.text)
            assert response.json()["start"] == outcome.answer["start"]
        for service in WALK_IN_SERVICES:
            response = await client.post(
                "/api/v1/offices/kista/tickets", json={"service": service}, headers=bearer(token)
            )
            assert response.status_code == 201, response.text
            assert int(response.json()["code"][1:]) == issued.get(service, 0) + 1


async def _booking_starts(base: str) -> list[str]:
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        slots = await free_slots(client, base)
    starts = [slot["start"] for slot in slots if slot["seats_left"] == SEATS]
    # The earliest slots may pass the booking notice while the storm goes on: left out.
    if starts:
        soonest = min(map(datetime.fromisoformat, starts))
        starts = [
            start for start in starts if datetime.fromisoformat(start) > soonest + timedelta(minutes=30)
        ]
    assert len(starts) > CONTENDED, f"too few free slots to storm: {len(starts)}"
    random.shuffle(starts)
    return starts


def _aftermath(settings: Settings, storm: Storm, server: KontorServer, token: str) -> None:
    """Check the database, then what ``server`` (restarted, or the survivor) answers."""
    stored = _stored(settings)
    _check_bookings(storm.outcomes, stored)
    issued = _check_tickets(storm.outcomes, stored)
    asyncio.run(_after_restart(server.base, token, storm.outcomes, issued))


def _servers(server_factory: Callable[..., KontorServer], count: int) -> list[KontorServer]:
    servers = [server_factory(**SERVER_ENV) for _ in range(count)]
    with ThreadPoolExecutor(count) as pool:  # they start side by side
        list(pool.map(KontorServer.start, servers))
    return servers


def test_sigkill_in_a_storm_loses_nothing_answered(  # type: ignore[no-untyped-def]
    settings, city, open_kista, staff_token, server_factory
) -> None:
    set_seats(settings, "kista", "eservice", SEATS)
    [server] = _servers(server_factory, 1)

    async def scenario() -> tuple[Storm, int]:
        storm = Storm([server.base], staff_token, await _booking_starts(server.base))
        cut_off = 0

        async def kill() -> None:
            nonlocal cut_off
            cut_off = await storm.kill(server)

        await storm.run(kill)
        return storm, cut_off

    storm, cut_off = asyncio.run(scenario())
    _check_storm(storm, server, cut_off)
    server.start()  # the same port and database
    _aftermath(settings, storm, server, staff_token)


def test_one_of_two_instances_killed_the_other_answers_on(  # type: ignore[no-untyped-def]
    settings, city, open_kista, staff_token, server_factory
) -> None:
    if settings.is_sqlite:
        pytest.skip("one SQLite process has no second instance")
    set_seats(settings, "kista", "eservice", SEATS)
    victim, survivor = _servers(server_factory, 2)

    async def scenario() -> tuple[Storm, int]:
        storm = Storm([victim.base, survivor.base], staff_token, await _booking_starts(survivor.base))
        cut_off = 0

        async def kill_one_and_go_on() -> None:
            nonlocal cut_off
            cut_off = await storm.kill(victim)
            await storm.survived()  # the storm goes on, to the survivor alone

        await storm.run(kill_one_and_go_on)
        return storm, cut_off

    storm, cut_off = asyncio.run(scenario())
    _check_storm(storm, victim, cut_off)
    after = Counter(o.status for o in storm.outcomes if o.after_kill)
    assert after[201] and set(after) <= {201, 409}, after
    _aftermath(settings, storm, survivor, staff_token)
