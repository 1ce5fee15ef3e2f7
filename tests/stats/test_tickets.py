"""The ticket figures against hand-built tickets whose right answers are known: visits by day and hour
and channel, waits and service times, time serving in person, and tickets unserved at closing — on
SQLite and PostgreSQL, over empty ranges, DST days and offices in different zones."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontor.stats.query import StatsQuery
from kontor.stats.tickets import (
    DayVisits,
    HourVisits,
    InPersonWeek,
    ServiceTimes,
    UnservedAtClosing,
    UnservedDay,
    in_person_time,
    nearest_rank,
    over_offices,
    service_times,
    unserved_at_closing,
    visits_by_day,
    visits_by_hour,
)
from tests.stats.conftest import HELSINKI, local, minutes


def _query(city, first: date, last: date, *slugs: str, services=None) -> StatsQuery:  # type: ignore[no-untyped-def]
    offices = tuple(getattr(city, slug).id for slug in (slugs or ("kista", "tensta", "bromma")))
    ids = None if services is None else tuple(city.services[code].id for code in services)
    return StatsQuery(first, last, offices, ids)


async def _read(read_session, figure, q):  # type: ignore[no-untyped-def]
    async with read_session() as db:
        return await figure(db, q)


# -- visits by day ------------------------------------------------------------------------------


async def _channels(city, rows) -> None:  # type: ignore[no-untyped-def]
    """One visit per channel at Kista on Tuesday 2026-12-15, and tickets that are no visits."""
    kista, eservice = city.kista, city.services["eservice"]
    await rows.visit(kista, eservice, called=local(2026, 12, 15, 9, 10))
    for channel, hour in (("web", 10), ("api", 11), ("phone", 13), ("desk", 14), ("counter", 15)):
        booking = await rows.booking(kista, eservice, starts=local(2026, 12, 15, hour), channel=channel)
        await rows.visit(kista, eservice, called=local(2026, 12, 15, hour, 2), waited=5, booking=booking)
    # Closed unserved, and called but never served: not visits.
    await rows.ticket(kista, eservice, issued=local(2026, 12, 15, 16, 50))
    await rows.ticket(
        kista, eservice, issued=local(2026, 12, 15, 9), called=local(2026, 12, 15, 9, 30), status="no_show"
    )


async def test_visits_by_day_count_each_channel(city, rows, read_session) -> None:  # type: ignore[no-untyped-def]
    await _channels(city, rows)
    found = await _read(read_session, visits_by_day, _query(city, date(2026, 12, 15), date(2026, 12, 15)))
    assert found == [
        # api counts as web, phone as the contact center's agents, desk and counter as the desk.
        DayVisits(date(2026, 12, 15), city.kista.id, walk_in=1, web=2, agent=1, desk=2),
        DayVisits(date(2026, 12, 15), city.tensta.id),
        DayVisits(date(2026, 12, 15), city.bromma.id),
    ]
    assert found[0].total == 6


async def test_visits_fall_on_each_offices_own_local_day(city, rows, read_session, helsinki) -> None:  # type: ignore[no-untyped-def]
    eservice = city.services["eservice"]
    # Kista (Stockholm): late on Wednesday, and just after midnight into Thursday.
    await rows.visit(city.kista, eservice, called=local(2026, 12, 16, 23, 30))
    await rows.visit(city.kista, eservice, called=local(2026, 12, 17, 0, 30))
    # Bromma (Helsinki): 00:30 on Tuesday there is still Monday in Stockholm.
    await rows.visit(helsinki, eservice, called=local(2026, 12, 15, 0, 30, zone=HELSINKI))
    await rows.visit(helsinki, eservice, called=local(2026, 12, 13, 23, 59, zone=HELSINKI))
    await rows.visit(city.tensta, eservice, called=local(2026, 12, 14, 0, 0))
    await rows.visit(city.tensta, eservice, called=local(2026, 12, 14, 0, 0))

    found = await _read(read_session, visits_by_day, _query(city, date(2026, 12, 14), date(2026, 12, 16)))
    totals = {(row.day, row.office_id): row.total for row in found}
    kista, tensta, bromma = city.kista.id, city.tensta.id, city.bromma.id
    assert totals == {
        (date(2026, 12, 14), kista): 0,
        (date(2026, 12, 14), tensta): 2,
        (date(2026, 12, 14), bromma): 0,
        (date(2026, 12, 15), kista): 0,
        (date(2026, 12, 15), tensta): 0,
        (date(2026, 12, 15), bromma): 1,
        (date(2026, 12, 16), kista): 1,
        (date(2026, 12, 16), tensta): 0,
        (date(2026, 12, 16), bromma): 0,
    }
    assert [(row.day, row.office_id) for row in found] == list(totals)
    assert [(row.day, row.walk_in) for row in over_offices(found)] == [
        (date(2026, 12, 14), 2),
        (date(2026, 12, 15), 1),
        (date(2026, 12, 16), 1),
    ]


DST_DAYS = [
    # 2026-10-25 repeats 02:00–03:00: both 02:30s are that Sunday's; 23:30 the evening before is not.
    pytest.param(
        date(2026, 10, 25),
        [
            local(2026, 10, 24, 23, 30),
            local(2026, 10, 25, 0, 0),
            local(2026, 10, 25, 2, 30),
            local(2026, 10, 25, 2, 30, fold=1),
            local(2026, 10, 25, 23, 59),
            local(2026, 10, 26, 0, 0),
        ],
        4,
        {0: 1, 2: 2, 23: 1},
        id="autumn-25-hours",
    ),
    # 2027-03-28 has no 02:xx: 01:59 is followed by 03:00.
    pytest.param(
        date(2027, 3, 28),
        [
            local(2027, 3, 27, 23, 59),
            local(2027, 3, 28, 0, 0),
            local(2027, 3, 28, 1, 59),
            local(2027, 3, 28, 3, 0),
            local(2027, 3, 28, 23, 59),
            local(2027, 3, 29, 0, 0),
        ],
        4,
        {0: 1, 1: 1, 3: 1, 23: 1},
        id="spring-23-hours",
    ),
]


@pytest.mark.parametrize(("day", "called", "on_the_day", "hours"), DST_DAYS)
async def test_a_dst_day_counts_its_own_visits_in_their_local_hours(  # type: ignore[no-untyped-def]
    city, rows, read_session, day, called, on_the_day, hours
) -> None:
    for at in called:
        await rows.visit(city.kista, city.services["eservice"], called=at, waited=3)
    q = _query(city, day, day, "kista")
    by_day = await _read(read_session, visits_by_day, q)
    assert by_day == [DayVisits(day, city.kista.id, walk_in=on_the_day)]
    by_hour = await _read(read_session, visits_by_hour, q)
    sunday = {row.hour: row.total for row in by_hour if row.weekday == 6 and row.total}
    assert sunday == hours
    assert sum(row.total for row in by_hour) == on_the_day


# -- visits by hour of the week -----------------------------------------------------------------


async def test_visits_by_hour_of_the_week_per_office_and_together(city, rows, read_session, helsinki) -> None:  # type: ignore[no-untyped-def]
    eservice = city.services["eservice"]
    # Two Tuesdays at 09:xx in Kista, one by phone; a Monday 16:59 in Tensta.
    await rows.visit(city.kista, eservice, called=local(2026, 12, 8, 9, 0))
    booking = await rows.booking(city.kista, eservice, starts=local(2026, 12, 15, 9, 40), channel="phone")
    await rows.visit(city.kista, eservice, called=local(2026, 12, 15, 9, 59), booking=booking)
    await rows.visit(city.tensta, eservice, called=local(2026, 12, 14, 16, 59))
    # Bromma's 10:15 Tuesday in Helsinki is 09:15 in Stockholm: it counts at 10 for Bromma.
    await rows.visit(helsinki, eservice, called=local(2026, 12, 15, 10, 15, zone=HELSINKI))

    found = await _read(read_session, visits_by_hour, _query(city, date(2026, 12, 7), date(2026, 12, 20)))
    assert len(found) == 3 * 7 * 24
    assert [(row.office_id, row.weekday, row.hour) for row in found[:3]] == [
        (city.kista.id, 0, 0),
        (city.kista.id, 0, 1),
        (city.kista.id, 0, 2),
    ]
    busy = {(row.office_id, row.weekday, row.hour): row for row in found if row.total}
    assert busy == {
        (city.kista.id, 1, 9): HourVisits(1, 9, city.kista.id, walk_in=1, agent=1),
        (city.tensta.id, 0, 16): HourVisits(0, 16, city.tensta.id, walk_in=1),
        (city.bromma.id, 1, 10): HourVisits(1, 10, city.bromma.id, walk_in=1),
    }
    together = {(row.weekday, row.hour): row for row in over_offices(found) if row.total}
    assert together == {
        (1, 9): HourVisits(1, 9, None, walk_in=1, agent=1),
        (0, 16): HourVisits(0, 16, None, walk_in=1),
        (1, 10): HourVisits(1, 10, None, walk_in=1),
    }
    assert len(over_offices(found)) == 7 * 24


# -- waits and service times --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes_seen", "percent", "expected"),
    [
        ({3: 1, 5: 1, 20: 1}, 50, 5),
        ({3: 1, 5: 1, 20: 1}, 90, 20),
        ({7: 1}, 50, 7),
        ({7: 1}, 90, 7),
        ({1: 1, 2: 1}, 50, 1),
        ({0: 63, 9: 7}, 90, 0),  # rank 63 of 70: an integer, not 63.000…01
        ({0: 62, 9: 8}, 90, 9),
        ({0: 9, 1: 1}, 90, 0),
        ({0: 8, 1: 2}, 90, 1),
    ],
)
def test_nearest_rank_percentiles(minutes_seen, percent, expected) -> None:  # type: ignore[no-untyped-def]
    assert nearest_rank(minutes_seen, percent) == expected


@given(st.lists(st.integers(0, 240), min_size=1, max_size=300), st.integers(1, 100))
def test_nearest_rank_is_the_sorted_lists_rank(waits: list[int], percent: int) -> None:
    """The histogram's percentile is the value at rank ⌈n·p/100⌉ of the sorted list (1-based)."""
    rank = math.ceil(Fraction(len(waits) * percent, 100))
    assert nearest_rank(dict(Counter(waits)), percent) == sorted(waits)[rank - 1]


async def _waits(city, rows) -> None:  # type: ignore[no-untyped-def]
    kista, tensta = city.kista, city.tensta
    eservice, budget = city.services["eservice"], city.services["budget"]
    # Kista, e-services: waits 3, 5 and 20 minutes; served in 10, 12 and 30.
    for waited, took, hour in ((3, 10, 9), (5, 12, 10), (20, 30, 11)):
        await rows.visit(kista, eservice, called=local(2026, 12, 15, hour), waited=waited, took=took)
    # Tensta, e-services: exactly 15:00 (within) and 15:01 (not); served in 4 and 6.
    await rows.visit(tensta, eservice, called=local(2026, 12, 15, 10), waited=15, took=4)
    await rows.visit(tensta, eservice, called=local(2026, 12, 15, 11), waited=15 + 1 / 60, took=6)
    # Kista, budget advice by appointment at 10:00: the wait runs from the booked time when one checks
    # in early, from the check-in when late; called before the booked time, it is no wait at all.
    appointments = (((9, 50), (10, 4), 20), ((10, 10), (10, 12), 25), ((9, 50), (9, 58), 45))
    for checked_in, called, took in appointments:
        booking = await rows.booking(kista, budget, starts=local(2026, 12, 16, 10))
        start = local(2026, 12, 16, *called)
        await rows.ticket(
            kista,
            budget,
            issued=local(2026, 12, 16, *checked_in),
            called=start,
            served=start + minutes(took),
            booking=booking,
        )
    # Called and not served, or never called: neither waits nor service times.
    await rows.ticket(
        kista, eservice, issued=local(2026, 12, 15, 9), called=local(2026, 12, 15, 10), status="no_show"
    )
    await rows.ticket(kista, eservice, issued=local(2026, 12, 15, 9))


async def test_service_times_per_service_and_office(city, rows, read_session) -> None:  # type: ignore[no-untyped-def]
    await _waits(city, rows)
    found = await _read(read_session, service_times, _query(city, date(2026, 12, 14), date(2026, 12, 20)))
    eservice, budget = city.services["eservice"].id, city.services["budget"].id
    kista, tensta = city.kista.id, city.tensta.id
    expected = {
        # All offices: waits 3, 5, 15:00, 15:01, 20 → median 15, p90 20; 3 within; services 4 6 10 12 30.
        (eservice, None): ServiceTimes(eservice, None, 5, 15, 20, 3, 10, 30),
        (eservice, kista): ServiceTimes(eservice, kista, 3, 5, 20, 2, 12, 30),
        (eservice, tensta): ServiceTimes(eservice, tensta, 2, 15, 15, 1, 4, 6),
        # Waits 4, 2, 0; services 20, 25, 45.
        (budget, None): ServiceTimes(budget, None, 3, 2, 4, 3, 25, 45),
        (budget, kista): ServiceTimes(budget, kista, 3, 2, 4, 3, 25, 45),
    }
    assert {(row.service_id, row.office_id): row for row in found} == expected
    # Each service's all-offices row comes first, then its offices in the order asked for.
    by_service = [row for row in found if row.service_id == eservice]
    assert [row.office_id for row in by_service] == [None, kista, tensta]
    assert expected[(eservice, None)].within_15_share == pytest.approx(0.6)


async def test_service_times_for_some_services_and_offices(city, rows, read_session) -> None:  # type: ignore[no-untyped-def]
    await _waits(city, rows)
    only_budget = _query(city, date(2026, 12, 14), date(2026, 12, 20), services=("budget",))
    assert {row.service_id for row in await _read(read_session, service_times, only_budget)} == {
        city.services["budget"].id
    }
    tensta = _query(city, date(2026, 12, 14), date(2026, 12, 20), "tensta")
    assert [(row.office_id, row.served) for row in await _read(read_session, service_times, tensta)] == [
        (None, 2),
        (city.tensta.id, 2),
    ]
    # The range is of call days: Wednesday alone has only the appointments.
    wednesday = _query(city, date(2026, 12, 16), date(2026, 12, 16))
    assert {row.service_id for row in await _read(read_session, service_times, wednesday)} == {
        city.services["budget"].id
    }


# -- time in person ------------------------------------------------------------------------------


async def test_time_in_person_per_office_and_week_with_the_help_share(city, rows, read_session) -> None:  # type: ignore[no-untyped-def]
    kista, eservice = city.kista, city.services["eservice"]
    # Before the range (the same week): not counted.
    await rows.visit(kista, eservice, called=local(2026, 12, 8, 10), took=60, needs_help=True)
    # Week of Monday 7 December, from Wednesday 9th: 30 minutes of help, 10 without.
    await rows.visit(kista, eservice, called=local(2026, 12, 9, 10), took=30, needs_help=True)
    await rows.visit(kista, eservice, called=local(2026, 12, 10, 10), took=10)
    # Sunday 23:30 is the old week, Monday 00:30 the new one (in local time).
    await rows.visit(kista, eservice, called=local(2026, 12, 13, 23, 30), took=2)
    # Week of 14 December: help asked for in the booking (computer, interpreter); accessibility is not.
    for needs, took, day in ((["computer_help"], 20, 14), (["accessibility", "interpreter"], 15, 15)):
        booking = await rows.booking(kista, eservice, starts=local(2026, 12, day, 11), needs=needs)
        await rows.visit(kista, eservice, called=local(2026, 12, day, 11), took=took, booking=booking)
    booking = await rows.booking(kista, eservice, starts=local(2026, 12, 15, 12), needs=["accessibility"])
    await rows.visit(kista, eservice, called=local(2026, 12, 15, 12), took=5, booking=booking)
    await rows.visit(kista, eservice, called=local(2026, 12, 14, 0, 30), took=3)
    # Tensta: one visit of 7 minutes 30 seconds.
    await rows.visit(city.tensta, eservice, called=local(2026, 12, 15, 10), took=7.5)

    q = _query(city, date(2026, 12, 9), date(2026, 12, 15), "kista", "tensta")
    found = await _read(read_session, in_person_time, q)
    kista_id, tensta_id = kista.id, city.tensta.id
    assert found == [
        InPersonWeek(kista_id, date(2026, 12, 7), 3, 42.0, 30.0),
        InPersonWeek(tensta_id, date(2026, 12, 7), 0, 0.0, 0.0),
        InPersonWeek(kista_id, date(2026, 12, 14), 4, 43.0, 35.0),
        InPersonWeek(tensta_id, date(2026, 12, 14), 1, 7.5, 0.0),
    ]
    assert found[0].help_share == pytest.approx(30 / 42)
    assert found[1].help_share is None


async def test_time_in_person_over_a_dst_night(city, rows, read_session) -> None:  # type: ignore[no-untyped-def]
    """A visit from 02:50 (summer time) to 02:10 (winter time) took 20 minutes, not minus 40."""
    kista, eservice = city.kista, city.services["eservice"]
    await rows.ticket(
        kista,
        eservice,
        issued=local(2026, 10, 25, 2, 40),
        called=local(2026, 10, 25, 2, 50),
        served=local(2026, 10, 25, 2, 10, fold=1),
        needs_help=True,
    )
    q = _query(city, date(2026, 10, 25), date(2026, 10, 26), "kista")
    found = await _read(read_session, in_person_time, q)
    assert found == [
        InPersonWeek(kista.id, date(2026, 10, 19), 1, 20.0, 20.0),
        InPersonWeek(kista.id, date(2026, 10, 26), 0, 0.0, 0.0),
    ]


# -- unserved at closing -------------------------------------------------------------------------


async def test_unserved_at_closing_per_office_and_issue_day(city, rows, read_session) -> None:  # type: ignore[no-untyped-def]
    kista, tensta = city.kista, city.tensta
    eservice, consumer = city.services["eservice"], city.services["consumer"]
    await rows.visit(kista, eservice, called=local(2026, 12, 15, 10))
    await rows.ticket(kista, eservice, issued=local(2026, 12, 15, 16, 40))
    await rows.ticket(kista, consumer, issued=local(2026, 12, 15, 16, 50))
    await rows.ticket(kista, eservice, issued=local(2026, 12, 16, 18, 30))
    await rows.ticket(tensta, eservice, issued=local(2026, 12, 16, 11), status="cancelled")
    # The day before the range: not counted.
    await rows.ticket(kista, eservice, issued=local(2026, 12, 14, 16, 55))

    q = _query(city, date(2026, 12, 15), date(2026, 12, 16), "kista", "tensta")
    assert await _read(read_session, unserved_at_closing, q) == [
        UnservedAtClosing(
            kista.id,
            issued=4,
            closed=3,
            days=(UnservedDay(date(2026, 12, 15), 3, 2), UnservedDay(date(2026, 12, 16), 1, 1)),
        ),
        UnservedAtClosing(
            tensta.id,
            issued=1,
            closed=0,
            days=(UnservedDay(date(2026, 12, 15), 0, 0), UnservedDay(date(2026, 12, 16), 1, 0)),
        ),
    ]
    consumer_only = _query(city, date(2026, 12, 15), date(2026, 12, 16), "kista", services=("consumer",))
    (only,) = await _read(read_session, unserved_at_closing, consumer_only)
    assert (only.issued, only.closed, only.closed_share) == (1, 1, 1.0)


# -- empty ranges --------------------------------------------------------------------------------


async def test_an_empty_range_has_zeros_for_every_day_hour_and_week(city, rows, read_session) -> None:  # type: ignore[no-untyped-def]
    # Data outside the range only.
    await _channels(city, rows)
    q = _query(city, date(2027, 1, 4), date(2027, 1, 10))
    offices = [city.kista.id, city.tensta.id, city.bromma.id]
    days = await _read(read_session, visits_by_day, q)
    assert len(days) == 7 * 3
    assert all(row.total == 0 for row in days)
    hours = await _read(read_session, visits_by_hour, q)
    assert len(hours) == 7 * 24 * 3
    assert all(row.total == 0 for row in hours)
    assert await _read(read_session, service_times, q) == []
    assert await _read(read_session, in_person_time, q) == [
        InPersonWeek(office_id, date(2027, 1, 4), 0, 0.0, 0.0) for office_id in offices
    ]
    unserved = await _read(read_session, unserved_at_closing, q)
    assert [(row.office_id, row.issued, row.closed, len(row.days)) for row in unserved] == [
        (office_id, 0, 0, 7) for office_id in offices
    ]


async def test_offices_that_do_not_exist_are_left_out(city, read_session) -> None:  # type: ignore[no-untyped-def]
    q = StatsQuery(date(2026, 12, 15), date(2026, 12, 15), (city.tensta.id, 9999))
    assert await _read(read_session, visits_by_day, q) == [DayVisits(date(2026, 12, 15), city.tensta.id)]
    nothing = StatsQuery(date(2026, 12, 15), date(2026, 12, 15), ())
    assert await _read(read_session, visits_by_day, nothing) == []
