"""Seats kept for the phone (issue 6): residents book only the public seats of a slot until the kept
ones are released, staff take a kept seat first, and the listing, the search across offices and the
booking agree — in the pure rules, on both databases, and in a race of many residents at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from kontor.audit.models import Channel
from kontor.booking import holds
from kontor.booking.availability import earliest_slots
from kontor.booking.listing import office_free_slots
from kontor.booking.models import Booking, BookingStatus
from kontor.booking.phone_seats import free_seats, is_released, seat_order, seats_left, seats_seen
from kontor.booking.policy import find_offering
from kontor.booking.seats import seat_counts_at, taken_seats
from kontor.booking.services import BookingError, book, reschedule
from kontor.booking.slots import SlotPolicy, free_slots
from kontor.db.engine import create_engine, writer
from kontor.hours.rules import HoursKind, Interval, OfficeHours, WeeklyInterval
from kontor.offices.directory import OfficeDirectory
from kontor.offices.models import OfficeService

STOCKHOLM = ZoneInfo("Europe/Stockholm")
H48 = timedelta(hours=48)

# --- the rules, as tables ----------------------------------------------------------------------------

START = datetime(2026, 12, 22, 9, 0, tzinfo=STOCKHOLM)

RELEASE_TABLE = [
    # now, release, released?
    (START - timedelta(days=8), H48, False),
    (START - H48 - timedelta(minutes=1), H48, False),
    (START - H48, H48, True),  # exactly the release time
    (START - timedelta(hours=3), H48, True),
    (START - timedelta(minutes=1), timedelta(0), False),  # kept until the start
    (START, timedelta(0), True),
    ((START - H48).astimezone(UTC), H48, True),  # the zone of `now` does not matter
]


@pytest.mark.parametrize(("now", "release", "released"), RELEASE_TABLE)
def test_kept_seats_are_released_a_set_time_before_the_slot(now, release, released):
    assert is_released(START, now, release) is released


ORDER_TABLE = [
    # seats, kept, staff, released, order
    (3, 1, False, False, [1, 2]),
    (3, 1, False, True, [1, 2, 3]),
    (3, 1, True, False, [3, 1, 2]),
    (3, 1, True, True, [3, 1, 2]),
    (5, 2, True, False, [4, 5, 1, 2, 3]),
    (5, 2, False, False, [1, 2, 3]),
    (2, 2, False, False, []),  # every seat kept: nothing online until the release
    (2, 2, False, True, [1, 2]),
    (2, 2, True, False, [1, 2]),
    (1, 0, False, False, [1]),  # nothing kept: today's behaviour for everyone
    (4, 0, True, False, [1, 2, 3, 4]),
]


@pytest.mark.parametrize(("seats", "kept", "staff", "released", "order"), ORDER_TABLE)
def test_which_seats_a_booker_may_take_and_in_what_order(seats, kept, staff, released, order):
    assert seat_order(seats, kept, staff=staff, released=released) == order


LEFT_TABLE = [
    # seats, kept, taken seats, staff, released, (seats seen, taken of those), first seat given
    (3, 1, set(), False, False, (2, 0), 1),
    (3, 1, {1}, False, False, (2, 1), 2),
    (3, 1, {1, 2}, False, False, (2, 2), None),  # full for a resident …
    (3, 1, {1, 2}, True, False, (3, 2), 3),  # … not for staff
    (3, 1, {1, 2}, False, True, (3, 2), 3),  # … nor for anyone once released
    (3, 1, {3}, False, False, (2, 0), 1),  # an agent's booking leaves both public seats
    (3, 1, {3}, True, False, (3, 1), 1),
    (3, 1, {1, 2, 3}, True, False, (3, 3), None),
    (4, 2, {1, 3}, False, False, (2, 1), 2),
    (4, 2, {1, 3}, True, False, (4, 2), 4),
]


@pytest.mark.parametrize(("seats", "kept", "taken", "staff", "released", "seen", "first"), LEFT_TABLE)
def test_seats_a_booker_sees_free(seats, kept, taken, staff, released, seen, first):
    public = sum(1 for seat in taken if seat <= seats - kept)
    assert seats_seen(seats, kept, len(taken), public, staff=staff, released=released) == seen
    left = seats_left(seats, kept, len(taken), public, staff=staff, released=released)
    assert left == seen[0] - seen[1]
    found = free_seats(seats, kept, taken, staff=staff, released=released)
    assert len(found) == left
    assert (found[0] if found else None) == first


@pytest.mark.parametrize(("seats", "kept"), [(3, 4), (3, -1), (-1, 0)])
def test_impossible_reservations_are_refused(seats, kept):
    with pytest.raises(ValueError, match="kept seats"):
        seat_order(seats, kept, staff=False, released=False)


# --- the rules, for any slot (hypothesis) -------------------------------------------------------------


@st.composite
def slots(draw):  # type: ignore[no-untyped-def]
    seats = draw(st.integers(1, 8))
    kept = draw(st.integers(0, seats))
    taken = draw(st.sets(st.integers(1, seats)))
    release = timedelta(hours=draw(st.integers(0, 720)))
    now = START - timedelta(minutes=draw(st.integers(-60, 60 * 24 * 40)))
    return seats, kept, taken, release, now


@given(slots(), st.booleans())
def test_any_slot_follows_the_reservation(slot, staff):
    seats, kept, taken, release, now = slot
    released = is_released(START, now, release)
    order = seat_order(seats, kept, staff=staff, released=released)
    free = free_seats(seats, kept, taken, staff=staff, released=released)
    kept_seats = set(range(seats - kept + 1, seats + 1))
    assert len(set(order)) == len(order) and set(order) <= set(range(1, seats + 1))
    assert not set(free) & taken
    if not staff and not released:
        assert not set(order) & kept_seats  # residents never get a kept seat before the release
    if staff:
        assert bool(free) == (len(taken) < seats)  # staff get a seat while any is free …
        if kept_seats - taken:
            assert free[0] in kept_seats  # … a kept one first
    unreserved = [seat for seat in range(1, seats + 1) if seat not in taken]
    if kept == 0 or (released and not staff):
        assert free == unreserved  # as before seats were kept: the lowest free seat first
    if kept == 0 or released:
        assert seats_left(seats, kept, len(taken), 0, staff=staff, released=released) == len(unreserved)
    public = sum(1 for seat in taken if seat <= seats - kept)
    assert seats_left(seats, kept, len(taken), public, staff=staff, released=released) == len(free)


@given(slots())
def test_staff_never_see_fewer_seats_than_residents(slot):
    seats, kept, taken, release, now = slot
    released = is_released(START, now, release)
    public = sum(1 for seat in taken if seat <= seats - kept)
    resident = seats_left(seats, kept, len(taken), public, staff=False, released=released)
    staff = seats_left(seats, kept, len(taken), public, staff=True, released=released)
    assert resident <= staff == seats - len(taken)


# --- the listing rules: free_slots with seats kept -----------------------------------------------------

TUESDAYS = OfficeHours(
    "Europe/Stockholm", (WeeklyInterval(1, Interval(time(9), time(10), HoursKind.APPOINTMENT)),), ()
)
TUESDAY = date(2026, 12, 22)
NINE, NINE_TWENTY, NINE_FORTY = (START + timedelta(minutes=m) for m in (0, 20, 40))


def _policy(kept: int, *, staff: bool = False, seats: int = 3) -> SlotPolicy:
    return SlotPolicy(
        timedelta(minutes=20),
        seats=seats,
        min_notice=timedelta(0),
        phone_seats=kept,
        phone_release=H48,
        staff=staff,
    )


def _left(slots_found) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {f"{s.start.astimezone(STOCKHOLM):%H:%M}": s.seats_left for s in slots_found}


LISTING_TABLE = [
    # kept, staff, now, seats left at 09:00, 09:20, 09:40 (left out when 0)
    (1, False, START - timedelta(days=7), {"09:20": 1, "09:40": 2}),
    (1, True, START - timedelta(days=7), {"09:00": 1, "09:20": 1, "09:40": 3}),
    (1, False, START - H48 - timedelta(minutes=1), {"09:20": 1, "09:40": 2}),
    (1, False, START - H48, {"09:00": 1, "09:20": 1, "09:40": 2}),  # 09:00 is released, the others not
    (1, False, START - H48 + timedelta(minutes=40), {"09:00": 1, "09:20": 1, "09:40": 3}),
    (2, False, START - timedelta(days=7), {"09:40": 1}),
    (2, True, START - timedelta(days=7), {"09:00": 1, "09:20": 1, "09:40": 3}),
    (0, False, START - timedelta(days=7), {"09:00": 1, "09:20": 1, "09:40": 3}),
]
# 09:00: seats 1 and 2 taken; 09:20: seats 1 and 3 (an agent's); 09:40: nothing.
TAKEN = {NINE: 2, NINE_TWENTY: 2}


def _public(kept: int) -> dict[datetime, int]:
    return {NINE: min(2, 3 - kept), NINE_TWENTY: 1}


@pytest.mark.parametrize(("kept", "staff", "now", "expected"), LISTING_TABLE)
def test_residents_are_shown_only_the_public_seats_until_the_release(kept, staff, now, expected):
    found = free_slots(
        TUESDAYS, _policy(kept, staff=staff), TUESDAY, TUESDAY, now, TAKEN, taken_public=_public(kept)
    )
    assert _left(found) == expected


def test_the_release_moves_with_each_slot():
    # 48 hours before 09:20: 09:00 and 09:20 are open to all, 09:40 is still kept.
    now = NINE_TWENTY - H48
    found = free_slots(TUESDAYS, _policy(1), TUESDAY, TUESDAY, now, {}, taken_public={})
    assert [(s.seats, s.seats_left) for s in found] == [(3, 3), (3, 3), (2, 2)]


def test_without_public_counts_the_fewest_free_public_seats_are_shown():
    now = START - timedelta(days=7)
    found = free_slots(TUESDAYS, _policy(1), TUESDAY, TUESDAY, now, {NINE_TWENTY: 1})
    assert _left(found) == {"09:00": 2, "09:20": 1, "09:40": 2}


@given(
    st.integers(1, 6).flatmap(lambda s: st.tuples(st.just(s), st.integers(0, s))),
    st.lists(st.sets(st.integers(1, 6)), min_size=3, max_size=3),
    st.integers(0, 60 * 24 * 8),
    st.booleans(),
)
def test_the_listing_agrees_with_the_seats_a_booker_could_take(seats_kept, taken_sets, minutes_before, staff):
    seats, kept = seats_kept
    now = START - timedelta(minutes=minutes_before)
    starts = [NINE, NINE_TWENTY, NINE_FORTY]
    taken_seats_ = [{seat for seat in seat_set if seat <= seats} for seat_set in taken_sets]
    taken = {start: len(t) for start, t in zip(starts, taken_seats_, strict=True)}
    public = {
        start: sum(1 for s in t if s <= seats - kept) for start, t in zip(starts, taken_seats_, strict=True)
    }
    policy = _policy(kept, staff=staff, seats=seats)
    found = free_slots(TUESDAYS, policy, TUESDAY, TUESDAY, now, taken, taken_public=public, include_full=True)
    for slot, seat_set in zip(found, taken_seats_, strict=True):
        released = is_released(slot.start, now, H48)
        assert slot.seats_left == len(free_seats(seats, kept, seat_set, staff=staff, released=released))
    if kept == 0:
        unreserved = SlotPolicy(timedelta(minutes=20), seats=seats, min_notice=timedelta(0))
        plain = free_slots(TUESDAYS, unreserved, TUESDAY, TUESDAY, now, taken)
        assert free_slots(TUESDAYS, policy, TUESDAY, TUESDAY, now, taken, taken_public=public) == plain


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seats": 2, "phone_seats": 3}, "phone_seats"),
        ({"phone_seats": -1}, "phone_seats"),
        ({"phone_release": timedelta(hours=-1)}, "phone_release"),
    ],
)
def test_a_policy_refuses_impossible_reservations(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SlotPolicy(timedelta(minutes=20), **kwargs)


# --- on both databases ----------------------------------------------------------------------------------

NOW = datetime(2026, 12, 14, 8, 0, tzinfo=STOCKHOLM)  # eight days before Kista's Tuesday 09:00
RELEASE = START - H48


async def _keep_seats(write_session, city, seats: int = 3, kept: int = 1, hours: int = 48) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        await db.execute(
            update(OfficeService)
            .where(
                OfficeService.office_id == city.kista.id,
                OfficeService.service_id == city.services["eservice"].id,
            )
            .values(seats=seats, phone_seats=kept, phone_release_hours=hours)
        )


async def _book(write_session, n: int, *, now=NOW, start=START, agent=None) -> Booking:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        booking, _ = await book(
            db, office_slug="kista", service_code="eservice", start=start, name=f"Caller {n}",
            phone=f"070-000 00 {n:02}" if agent else None, email=None if agent else f"r{n}@example.se",
            channel=Channel.PHONE if agent else Channel.WEB, actor=agent or "resident", now=now,
        )  # fmt: skip
        return booking


async def _seats(read_session, start: datetime = START) -> list[int]:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        found = await db.scalars(
            select(Booking.seat).where(
                Booking.starts_at == start, Booking.status.not_in(("cancelled", "expired"))
            )
        )
        return sorted(found)


async def _full(write_session, n: int, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(BookingError) as refused:
        await _book(write_session, n, **kwargs)
    return refused.value.kind


async def _views(read_session, now: datetime) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Seats left at Tuesday 09:00 as the listing and the search show them to residents and staff."""
    directory = OfficeDirectory()
    shown: dict[str, object] = {}
    for staff in (False, True):
        who = "staff" if staff else "resident"
        async with read_session() as db:
            office, offering = await find_offering(db, "kista", "eservice")
            listed = await office_free_slots(
                db, directory, office, offering, TUESDAY, TUESDAY, now, staff=staff
            )
            shown[f"{who} listing"] = next((s.seats_left for s in listed if s.start == START), 0)
        async with read_session() as db:
            found = await earliest_slots(
                db, directory, "eservice", TUESDAY, 3, now, district_slug="rinkeby-kista", staff=staff
            )
            shown[f"{who} search"] = next((s.seats_left for s in found if s.start == START), 0)
    return shown


def _agreed(resident: int, staff: int) -> dict[str, int]:
    return {
        "resident listing": resident,
        "resident search": resident,
        "staff listing": staff,
        "staff search": staff,
    }


async def test_residents_get_the_public_seats_until_the_release(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    await _keep_seats(write_session, city)
    assert await _views(read_session, NOW) == _agreed(2, 3)

    assert (await _book(write_session, 1)).seat == 1
    assert (await _book(write_session, 2)).seat == 2
    assert await _full(write_session, 3) == "full"
    assert await _full(write_session, 3, now=RELEASE - timedelta(minutes=1)) == "full"
    assert await _views(read_session, NOW) == _agreed(0, 1)
    assert await _views(read_session, RELEASE - timedelta(minutes=1)) == _agreed(0, 1)

    # From 48 hours before the slot, the kept seat is anyone's.
    assert await _views(read_session, RELEASE) == _agreed(1, 1)
    assert (await _book(write_session, 3, now=RELEASE)).seat == 3
    assert await _views(read_session, RELEASE) == _agreed(0, 0)
    assert await _seats(read_session) == [1, 2, 3]


async def test_an_agent_takes_the_kept_seat_first(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    await _keep_seats(write_session, city)
    agent = city.users["agent"]
    first = await _book(write_session, 1, agent=agent)
    assert (first.seat, first.channel, first.created_by_id) == (3, "phone", agent.id)
    assert await _views(read_session, NOW) == _agreed(2, 2)
    # The residents still have both public seats; an agent then gets whatever is left.
    assert (await _book(write_session, 2)).seat == 1
    assert (await _book(write_session, 3, agent=agent)).seat == 2
    assert await _full(write_session, 4) == "full"
    assert await _full(write_session, 5, agent=agent) == "full"
    assert await _seats(read_session) == [1, 2, 3]


async def test_moves_and_holds_keep_to_the_reservation(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    await _keep_seats(write_session, city)
    later = START + timedelta(minutes=20)
    await _book(write_session, 1)
    await _book(write_session, 2)
    mover = await _book(write_session, 3, start=later)

    async def move(actor, channel) -> int:  # type: ignore[no-untyped-def]
        async with write_session() as db, db.begin():
            booking = await db.get(Booking, mover.id)
            moved = await reschedule(db, booking, START, channel=channel, actor=actor, now=NOW)
            return moved.seat

    with pytest.raises(BookingError) as refused:
        await move("resident", Channel.WEB)
    assert refused.value.kind == "full"
    async with write_session() as db, db.begin():
        with pytest.raises(BookingError) as held:
            await holds.hold(
                db, office_slug="kista", service_code="eservice", start=START,
                channel=Channel.WEB, actor="resident", now=NOW,
            )  # fmt: skip
    assert held.value.kind == "full"
    # The agent moves the caller's visit into the kept seat.
    assert await move(city.users["agent"], Channel.PHONE) == 3
    assert await _seats(read_session) == [1, 2, 3]


async def test_seat_counts_of_several_offices_in_one_query(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    await _keep_seats(write_session, city)
    await _book(write_session, 1)
    await _book(write_session, 2, agent=city.users["agent"])
    first, last = START - timedelta(hours=1), START + timedelta(hours=1)
    async with read_session() as db:
        offerings = list(
            await db.scalars(
                select(OfficeService).where(OfficeService.service_id == city.services["eservice"].id)
            )
        )
        resident = await seat_counts_at(db, offerings, first, last, NOW)
        staff = await seat_counts_at(db, offerings, first, last, NOW, staff=True)
        plain = await taken_seats(db, city.kista.id, city.services["eservice"].id, first, last, NOW)
    nine = START.astimezone(UTC)
    assert resident[city.kista.id].taken == staff[city.kista.id].taken == plain == {nine: 2}
    assert resident[city.kista.id].public == {nine: 1}
    assert staff[city.kista.id].public is None  # staff see every seat: no second count
    assert resident[city.tensta.id].public is None and resident[city.tensta.id].taken == {}


# --- a real race ----------------------------------------------------------------------------------------

RACERS = 10


async def test_residents_racing_for_a_slot_never_take_the_kept_seat(
    city, settings, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    await _keep_seats(write_session, city)
    # Two engines, as two app instances would have, each writer in a session of its own.
    other = create_engine(settings)
    try:
        makers = [write_session, async_sessionmaker(writer(other), expire_on_commit=False)]
        outcomes = await asyncio.gather(
            *(_book(makers[n % 2], n) for n in range(RACERS)), return_exceptions=True
        )
    finally:
        await other.dispose()
    booked = sorted(o.seat for o in outcomes if isinstance(o, Booking))
    refused = [o for o in outcomes if isinstance(o, BookingError) and o.kind == "full"]
    assert booked == [1, 2]
    assert len(refused) == RACERS - 2, [o for o in outcomes if not isinstance(o, Booking | BookingError)]
    assert await _seats(read_session) == [1, 2]
    assert (await _book(write_session, 99, agent=city.users["agent"])).seat == 3
    async with read_session() as db:
        statuses = set(await db.scalars(select(Booking.status)))
    assert statuses == {BookingStatus.BOOKED.value}
