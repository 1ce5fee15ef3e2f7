"""Walk-in queue rules: ticket codes, call order, lateness, wait estimates and day's end."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontor.queue.rules import (
    EntryKind,
    Waiting,
    is_late,
    next_for_counter,
    position_in_line,
    queue_order,
    ticket_code,
)

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(minutes: float) -> datetime:
    """An instant `minutes` after (or before, if negative) NOW."""
    return NOW + timedelta(minutes=minutes)


def walk_in(id: int, service: str, arrived: float) -> Waiting:
    return Waiting(id=id, service=service, issued_at=at(arrived))


def booking(id: int, service: str, starts: float, checked_in: float = -15) -> Waiting:
    return Waiting(
        id=id,
        service=service,
        issued_at=at(checked_in),
        kind=EntryKind.BOOKING,
        booked_start=at(starts),
        checked_in_at=at(checked_in),
    )


# --- ticket codes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("letter", "number", "code"),
    [("A", 1, "A001"), ("A", 42, "A042"), ("B", 999, "B999"), ("A", 1000, "A1000"), ("Z", 12345, "Z12345")],
)
def test_ticket_code(letter, number, code):
    assert ticket_code(letter, number) == code


@pytest.mark.parametrize(("letter", "number"), [("A", 0), ("A", -1), ("a", 1), ("AB", 1), ("", 1), ("1", 1)])
def test_ticket_code_rejects_bad_input(letter, number):
    with pytest.raises(ValueError):
        ticket_code(letter, number)


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_ticket_codes_of_different_numbers_differ(a, b):
    code = ticket_code("A", a)
    assert code.startswith("A") and int(code[1:]) == a and len(code) >= 4
    assert (code == ticket_code("A", b)) == (a == b)


# --- waiting entries -------------------------------------------------------------------------------


def test_waiting_accepts_kind_as_text():
    entry = Waiting(1, "A", at(0), "booking", at(5), at(0))
    assert entry.kind is EntryKind.BOOKING


@pytest.mark.parametrize(
    "kwargs",
    [
        {"issued_at": datetime(2026, 3, 10, 10, 0)},  # naive
        {"kind": "booking", "checked_in_at": at(0)},  # booking without a booked start
        {"kind": "booking", "booked_start": at(5)},  # booking not checked in
        {"kind": "appointment"},
    ],
)
def test_waiting_rejects_bad_entries(kwargs):
    with pytest.raises(ValueError):
        Waiting(**{"id": 1, "service": "A", "issued_at": at(0), **kwargs})


# --- call order ------------------------------------------------------------------------------------

ORDER_CASES = {
    "nobody waits": ([], {"A"}, None),
    "walk-ins by arrival": ([walk_in(1, "A", -5), walk_in(2, "A", -10)], {"A"}, 2),
    "tie in arrival goes by id": ([walk_in(7, "A", -5), walk_in(3, "A", -5)], {"A"}, 3),
    "other service ignored": ([walk_in(1, "B", -30), walk_in(2, "A", -1)], {"A"}, 2),
    "only other services wait": ([walk_in(1, "B", -30)], {"A"}, None),
    "arrival order across the counter's services": (
        [walk_in(1, "A", -5), walk_in(2, "B", -8), walk_in(3, "C", -20)],
        {"A", "B"},
        2,
    ),
    "due booking before earlier walk-in": ([walk_in(1, "A", -40), booking(2, "A", starts=0)], {"A"}, 2),
    "booking due within the window": ([walk_in(1, "A", -40), booking(2, "A", starts=5)], {"A"}, 2),
    "booking just outside the window waits": (
        [walk_in(1, "A", -40), booking(2, "A", starts=5.01)],
        {"A"},
        1,
    ),
    "booking whose time passed is still due": ([walk_in(1, "A", -40), booking(2, "A", starts=-20)], {"A"}, 2),
    "earliest booked start among due bookings": (
        [booking(1, "A", starts=0, checked_in=-30), booking(2, "A", starts=-5, checked_in=-1)],
        {"A"},
        2,
    ),
    "due bookings tie by check-in": (
        [booking(1, "A", starts=0, checked_in=-3), booking(2, "A", starts=0, checked_in=-9)],
        {"A"},
        2,
    ),
    "due bookings tie fully by id": (
        [booking(9, "A", starts=0, checked_in=-3), booking(4, "A", starts=0, checked_in=-3)],
        {"A"},
        4,
    ),
    "due booking of another service of the counter": (
        [walk_in(1, "A", -40), booking(2, "B", starts=-1)],
        {"A", "B"},
        2,
    ),
    "due booking of a service the counter lacks": (
        [walk_in(1, "A", -40), booking(2, "B", starts=-1)],
        {"A"},
        1,
    ),
    "booking not yet due waits behind a later walk-in": (
        [booking(1, "A", starts=30, checked_in=-20), walk_in(2, "A", -1)],
        {"A"},
        2,
    ),
    "booking not yet due is called early when nobody else waits": (
        [booking(1, "A", starts=30), walk_in(2, "B", -1)],
        {"A"},
        1,
    ),
    "early bookings by booked start": (
        [booking(1, "A", starts=60, checked_in=-20), booking(2, "A", starts=30, checked_in=-1)],
        {"A"},
        2,
    ),
}


@pytest.mark.parametrize(("waiting", "services", "expected"), ORDER_CASES.values(), ids=ORDER_CASES.keys())
def test_next_for_counter(waiting, services, expected):
    chosen = next_for_counter(waiting, services, NOW)
    assert (chosen.id if chosen else None) == expected


def test_due_window_is_configurable():
    waiting = [walk_in(1, "A", -40), booking(2, "A", starts=10)]
    assert next_for_counter(waiting, {"A"}, NOW).id == 1
    assert next_for_counter(waiting, {"A"}, NOW, due_window=timedelta(minutes=10)).id == 2


def test_queue_order_bands():
    waiting = [
        booking(1, "A", starts=45),
        walk_in(2, "A", -2),
        booking(3, "A", starts=-1),
        walk_in(4, "B", -9),
        booking(5, "A", starts=20),
        walk_in(6, "C", -50),
        booking(7, "B", starts=3),
    ]
    assert [e.id for e in queue_order(waiting, {"A", "B"}, NOW)] == [3, 7, 4, 2, 5, 1]


def test_queue_order_needs_an_aware_now():
    with pytest.raises(ValueError):
        queue_order([], {"A"}, datetime(2026, 3, 10, 10, 0))


POSITION_CASES = {
    "earliest walk-in, behind the due booking": (3, 2),
    "later walk-in of A": (1, 3),
    "due booking first": (5, 1),
    "other service counts apart": (2, 1),
    "booking not yet due is last": (6, 4),
}


@pytest.mark.parametrize(("entry_id", "expected"), POSITION_CASES.values(), ids=POSITION_CASES.keys())
def test_position_in_line(entry_id, expected):
    waiting = [
        walk_in(1, "A", -5),
        walk_in(2, "B", -8),
        walk_in(3, "A", -20),
        walk_in(4, "B", -1),
        booking(5, "A", starts=-2),
        booking(6, "A", starts=40),
    ]
    entry = next(e for e in waiting if e.id == entry_id)
    assert position_in_line(waiting, entry, NOW) == expected


def test_position_of_someone_not_waiting():
    with pytest.raises(ValueError):
        position_in_line([walk_in(1, "A", 0)], walk_in(2, "A", 0), NOW)


# --- lateness --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("checked_in", "grace", "late"),
    [
        (-20, 10, False),  # early
        (0, 10, False),
        (9.99, 10, False),
        (10, 10, False),  # exactly at the end of the grace period
        (10.01, 10, True),
        (45, 10, True),
        (0, 0, False),
        (0.01, 0, True),
        (14, 15, False),
        (16, 15, True),
    ],
)
def test_is_late(checked_in, grace, late):
    assert is_late(at(0), at(checked_in), timedelta(minutes=grace)) is late


def test_default_grace_is_ten_minutes():
    assert not is_late(at(0), at(10))
    assert is_late(at(0), at(10) + timedelta(seconds=1))


def test_negative_grace_is_refused():
    with pytest.raises(ValueError):
        is_late(at(0), at(0), timedelta(minutes=-1))


# --- order properties ------------------------------------------------------------------------------

SERVICES = ("A", "B", "C")


@st.composite
def waiting_lists(draw) -> list[Waiting]:
    size = draw(st.integers(min_value=0, max_value=12))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=size, max_size=size, unique=True))
    minutes = st.integers(min_value=-120, max_value=60)
    entries = []
    for id in ids:
        service = draw(st.sampled_from(SERVICES))
        arrived = draw(st.integers(min_value=-120, max_value=0))
        if draw(st.booleans()):
            entries.append(walk_in(id, service, arrived))
        else:
            entries.append(booking(id, service, starts=draw(minutes), checked_in=arrived))
    return entries


counter_services = st.sets(st.sampled_from(SERVICES), max_size=3)


def _arrival(entry: Waiting):
    return (entry.issued_at, entry.id)


def _due(entry: Waiting) -> bool:
    return entry.kind is EntryKind.BOOKING and entry.booked_start - timedelta(minutes=5) <= NOW


@given(waiting_lists(), counter_services)
def test_next_is_of_the_counter_and_none_only_when_nobody_of_its_services_waits(waiting, services):
    chosen = next_for_counter(waiting, services, NOW)
    mine = [e for e in waiting if e.service in services]
    if chosen is None:
        assert mine == []
    else:
        assert chosen.service in services and chosen in mine


@given(waiting_lists(), counter_services)
def test_no_later_walk_in_before_an_earlier_one(waiting, services):
    line = queue_order(waiting, services, NOW)
    walk_ins = [e for e in line if e.kind is EntryKind.WALK_IN]
    assert walk_ins == sorted(walk_ins, key=_arrival)
    chosen = next_for_counter(waiting, services, NOW)
    if chosen is not None and chosen.kind is EntryKind.WALK_IN:
        assert not any(_due(e) for e in line)
        assert chosen == min(walk_ins, key=_arrival)
    if any(_due(e) for e in line):
        assert _due(chosen)


@given(waiting_lists(), counter_services)
def test_bookings_not_due_come_only_after_everyone_else(waiting, services):
    line = queue_order(waiting, services, NOW)
    early = [i for i, e in enumerate(line) if e.kind is EntryKind.BOOKING and not _due(e)]
    assert early == list(range(len(line) - len(early), len(line)))
    assert sorted(line, key=lambda e: e.id) == sorted(
        (e for e in waiting if e.service in services), key=lambda e: e.id
    )


@given(waiting_lists())
def test_positions_follow_the_line_of_each_service(waiting):
    for service in SERVICES:
        line = queue_order(waiting, {service}, NOW)
        assert [position_in_line(waiting, e, NOW) for e in line] == list(range(1, len(line) + 1))
