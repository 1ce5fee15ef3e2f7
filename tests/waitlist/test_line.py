"""Who gets a freed seat: the first in line whose office and dates fit it, an entry holding an offer
gets no second one, entries out of the line are passed over, and seats kept for the phone are not a
resident's to be offered. Every office's calendar is full on the days the entries wait for, but for
the seats each case frees."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from kontor.booking.models import Booking, BookingStatus
from kontor.waitlist import services
from kontor.waitlist.models import WaitlistEntry, WaitlistStatus
from tests.waitlist.support import (
    NOW,
    STOCKHOLM,
    TUESDAY,
    WEDNESDAY,
    at,
    fill,
    give_offer,
    join,
    offers,
    set_offering,
)
from tests.waitlist.support import outbox as read_outbox

D15, D16 = TUESDAY, WEDNESDAY


@dataclass
class Case:
    # (name, office slug or None for any office, earliest, latest, state: waiting/offered/left/ended)
    line: list[tuple[str, str | None, date, date, str]]
    free: list[tuple[str, datetime]]
    expected: dict[str, tuple[str, datetime] | None]
    seats: tuple[int, ...] = (1,)
    offering: dict[str, object] = field(default_factory=dict)  # Kista's eservice offering


CASES = {
    "the first in line gets the seat": Case(
        line=[("Anna", "kista", D15, D15, "waiting"), ("Bo", "kista", D15, D15, "waiting")],
        free=[("kista", at(15, "09:00"))],
        expected={"Anna": ("kista", at(15, "09:00")), "Bo": None},
    ),
    "two seats go in line order, earliest first": Case(
        line=[("Anna", "kista", D15, D15, "waiting"), ("Bo", "kista", D15, D15, "waiting")],
        free=[("kista", at(15, "09:20")), ("kista", at(15, "09:00"))],
        expected={"Anna": ("kista", at(15, "09:00")), "Bo": ("kista", at(15, "09:20"))},
    ),
    "a seat outside an earlier entry's dates goes to a later one": Case(
        line=[("Anna", "bromma", D16, D16, "waiting"), ("Bo", "bromma", D15, D15, "waiting")],
        free=[("bromma", at(15, "08:00"))],
        expected={"Anna": None, "Bo": ("bromma", at(15, "08:00"))},
    ),
    "a seat at another office goes to whoever waits for any office": Case(
        line=[("Anna", "bromma", D15, D15, "waiting"), ("Bo", None, D15, D15, "waiting")],
        free=[("kista", at(15, "09:00"))],
        expected={"Anna": None, "Bo": ("kista", at(15, "09:00"))},
    ),
    "any office means the earliest seat anywhere in the dates": Case(
        line=[("Anna", None, D15, D16, "waiting")],
        free=[("bromma", at(16, "08:00")), ("tensta", at(15, "10:00")), ("kista", at(15, "09:00"))],
        expected={"Anna": ("kista", at(15, "09:00"))},
    ),
    "an earlier entry for any office comes before a later one for the office": Case(
        line=[("Anna", None, D15, D15, "waiting"), ("Bo", "kista", D15, D15, "waiting")],
        free=[("kista", at(15, "09:00"))],
        expected={"Anna": ("kista", at(15, "09:00")), "Bo": None},
    ),
    "an entry holding an offer gets no second one": Case(
        line=[("Anna", "kista", D15, D15, "offered"), ("Bo", "kista", D15, D15, "waiting")],
        free=[("kista", at(15, "11:40")), ("kista", at(15, "09:00"))],
        expected={"Anna": ("kista", at(15, "11:40")), "Bo": ("kista", at(15, "09:00"))},
    ),
    "entries that left or ended are passed over": Case(
        line=[
            ("Anna", "kista", D15, D15, "left"),
            ("Bo", "kista", D15, D15, "ended"),
            ("Cecilia", "kista", D15, D15, "waiting"),
        ],
        free=[("kista", at(15, "09:00"))],
        expected={"Anna": None, "Bo": None, "Cecilia": ("kista", at(15, "09:00"))},
    ),
    "a seat kept for the phone is not offered": Case(
        line=[("Anna", "kista", D15, D15, "waiting")],
        free=[],
        seats=(1,),
        offering={"seats": 2, "phone_seats": 1, "phone_release_hours": 12},
        expected={"Anna": None},
    ),
    "a kept seat released to everyone is offered": Case(
        line=[("Anna", "kista", D15, D15, "waiting")],
        free=[],
        seats=(1,),
        offering={"seats": 2, "phone_seats": 1, "phone_release_hours": 48},
        expected={"Anna": ("kista", at(15, "09:00"))},
    ),
}


async def _set_up(write_session, settings, case: Case) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        if case.offering:
            await set_offering(db, "kista", **case.offering)
        await fill(db, [D15, D16], free=case.free, seats=case.seats)
        for position, (name, slug, earliest, latest, state) in enumerate(case.line):
            entry, _token = await join(
                db, settings, name, slug, earliest, latest, now=NOW + timedelta(seconds=position)
            )
            if state == "offered":
                held_slug, start = case.expected[name]  # type: ignore[misc]
                await give_offer(db, entry, held_slug, start)
            elif state == "left":
                await services.leave(db, entry, now=NOW)
            elif state == "ended":
                entry.status = WaitlistStatus.ENDED.value


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_who_gets_a_freed_seat(city, settings, write_session, read_session, case: Case) -> None:  # type: ignore[no-untyped-def]
    await _set_up(write_session, settings, case)

    counts = await services.run_waitlist(write_session, settings, NOW + timedelta(minutes=1))

    assert await offers(read_session) == case.expected
    waiting_before = sum(1 for *_rest, state in case.line if state == "waiting")
    newly = sum(
        1 for name, *_rest, state in case.line if state == "waiting" and case.expected[name] is not None
    )
    assert counts == {"offered": newly, "lapsed": 0, "ended": 0}
    assert len(await read_outbox(read_session, "waitlist_offer")) == newly
    assert newly <= waiting_before


async def test_a_second_round_offers_nothing_more(city, settings, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    case = CASES["the first in line gets the seat"]
    await _set_up(write_session, settings, case)
    later = NOW + timedelta(minutes=1)
    await services.run_waitlist(write_session, settings, later)

    again = await services.run_waitlist(write_session, settings, later + timedelta(minutes=1))

    assert again == {"offered": 0, "lapsed": 0, "ended": 0}
    assert await offers(read_session) == case.expected


async def test_the_offer_is_a_resident_hold_for_the_offer_time(
    city, settings, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    await _set_up(write_session, settings, CASES["the first in line gets the seat"])
    later = NOW + timedelta(minutes=1)
    await services.run_waitlist(write_session, settings, later)

    async with read_session() as db:
        entry = await db.scalar(select(WaitlistEntry).where(WaitlistEntry.name == "Anna"))
        booking = await db.get(Booking, entry.offered_booking_id)
        assert (booking.status, booking.channel, booking.seat) == (BookingStatus.HELD, "web", 1)
        deadline = later + timedelta(minutes=settings.waitlist_offer_minutes)
        assert booking.hold_expires_at == entry.offer_expires_at == deadline
        assert (entry.offers, entry.offered_at, entry.offer_token_hash is not None) == (1, later, True)
    [email] = await read_outbox(read_session, "waitlist_offer")
    assert (email.channel, email.recipient, email.office_id, email.booking_id) == (
        "email",
        "anna@example.se",
        booking.office_id,
        booking.id,
    )
    assert "Tuesday, 15 December 2026, 09:00–09:20" in email.body and "/waitlist/" in email.body


async def test_entries_past_their_last_date_end(city, settings, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        await join(db, settings, "Anna", "kista", D15, D15)
        await join(db, settings, "Bo", None, D15, D16)
    # Wednesday 00:30 in Stockholm is still Tuesday in UTC: Anna's last date has passed, Bo's not.
    wednesday = datetime(2026, 12, 16, 0, 30, tzinfo=STOCKHOLM)

    counts = await services.run_waitlist(write_session, settings, wednesday)

    assert counts["ended"] == 1
    async with read_session() as db:
        statuses = dict((await db.execute(select(WaitlistEntry.name, WaitlistEntry.status))).all())
    assert statuses["Anna"] == "ended"
    assert statuses["Bo"] in ("waiting", "offered")


async def test_an_offer_is_held_no_longer_than_until_the_visit(
    city, settings, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        await fill(db, [D15], free=[("kista", at(15, "09:00"))])
        await join(db, settings, "Anna", "kista", D15, D15)
    patient = dataclasses.replace(settings, waitlist_offer_minutes=240)
    late = at(15, "06:30")  # the visit's two hours' notice is met, but a four-hour hold would outlast it

    assert (await services.run_waitlist(write_session, patient, late))["offered"] == 1

    async with read_session() as db:
        entry = await db.scalar(select(WaitlistEntry))
        booking = await db.get(Booking, entry.offered_booking_id)
    assert entry.offer_expires_at == booking.hold_expires_at == at(15, "09:00")
