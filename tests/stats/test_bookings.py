"""Booked visits in a range: hand-built bookings whose right counts are known, per office, service and
channel; the range's edges in each office's zone, daylight-saving days, empty ranges and filters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontor.stats.bookings import (
    CHANNELS,
    BookingCounts,
    ChannelBookings,
    OfficeBookings,
    ServiceBookings,
    booking_channel,
    booking_outcomes,
)
from kontor.stats.query import StatsQuery
from tests.stats.support_b import (
    EDGE_IDS,
    EDGES,
    FIRST,
    HELSINKI,
    LAST,
    STOCKHOLM,
    at,
    booking,
    move_office,
    store,
)


def _counts(**counts: int) -> BookingCounts:
    """Counts from bookings per status ("booked" is the status: still to come)."""
    return BookingCounts.of({status: number for status, number in counts.items()})


def _query(city: Any, **overrides: Any) -> StatsQuery:
    arguments: dict[str, Any] = {
        "first": FIRST,
        "last": LAST,
        "office_ids": (city.kista.id, city.tensta.id, city.bromma.id),
    } | overrides
    return StatsQuery(**arguments)


@pytest.mark.parametrize(
    ("channel", "shown_as"),
    [("web", "web"), ("api", "web"), ("phone", "agent"), ("desk", "desk"), ("counter", "desk")],
)
def test_a_booking_channel_is_shown_as_web_agent_or_desk(channel: str, shown_as: str) -> None:
    assert booking_channel(channel) == shown_as
    assert shown_as in CHANNELS


@given(
    st.dictionaries(
        st.sampled_from(["booked", "checked_in", "served", "no_show", "cancelled", "held", "expired"]),
        st.integers(min_value=0, max_value=10_000),
    )
)
def test_booked_sums_every_counted_status_and_rates_are_shares_of_it(statuses: dict[str, int]) -> None:
    counts = BookingCounts.of(statuses)
    counted = sum(n for status, n in statuses.items() if status not in ("held", "expired"))
    assert counts.booked == counted
    assert counts.pending + counts.checked_in + counts.served + counts.no_show + counts.cancelled == counted
    if counted == 0:
        assert counts.no_show_rate is None and counts.cancellation_rate is None
    else:
        assert counts.no_show_rate == statuses.get("no_show", 0) / counted
        assert counts.cancellation_rate == statuses.get("cancelled", 0) / counted
        assert 0 <= counts.no_show_rate + counts.cancellation_rate <= 1


# (office, service, channel, status, local start) — every one in the week of FIRST..LAST.
WEEK = [
    ("kista", "eservice", "web", "booked", "2026-03-02 09:00"),
    ("kista", "eservice", "web", "served", "2026-03-02 09:00"),
    ("kista", "eservice", "api", "served", "2026-03-03 10:00"),
    ("kista", "eservice", "phone", "no_show", "2026-03-03 10:20"),
    ("kista", "eservice", "phone", "cancelled", "2026-03-04 13:00"),
    ("kista", "eservice", "desk", "checked_in", "2026-03-05 14:00"),
    ("kista", "eservice", "counter", "cancelled", "2026-03-06 09:00"),
    ("kista", "eservice", "web", "held", "2026-03-06 09:20"),  # never a booking
    ("kista", "eservice", "web", "expired", "2026-03-06 09:40"),  # never a booking
    ("kista", "budget", "phone", "served", "2026-03-04 09:00"),
    ("kista", "budget", "phone", "served", "2026-03-04 09:00"),
    ("tensta", "eservice", "web", "no_show", "2026-03-05 10:00"),
    ("tensta", "eservice", "web", "served", "2026-03-09 10:00"),  # the week after: not in the range
    ("bromma", "budget", "desk", "served", "2026-02-27 10:00"),  # the week before
]

# What the week must come out as: office → service → counts, office → channel → counts, office totals.
BY_SERVICE = {
    ("kista", "eservice"): _counts(booked=1, served=2, no_show=1, cancelled=2, checked_in=1),
    ("kista", "budget"): _counts(served=2),
    ("tensta", "eservice"): _counts(no_show=1),
}
BY_CHANNEL = {
    ("kista", "web"): _counts(booked=1, served=2),
    ("kista", "agent"): _counts(served=2, no_show=1, cancelled=1),
    ("kista", "desk"): _counts(checked_in=1, cancelled=1),
    ("tensta", "web"): _counts(no_show=1),
    ("tensta", "agent"): _counts(),
    ("tensta", "desk"): _counts(),
    ("bromma", "web"): _counts(),
    ("bromma", "agent"): _counts(),
    ("bromma", "desk"): _counts(),
}
BY_OFFICE = {
    "kista": _counts(booked=1, served=4, no_show=1, cancelled=2, checked_in=1),
    "tensta": _counts(no_show=1),
    "bromma": _counts(),
}


async def _week(city: Any, write_session: Any) -> None:
    offices = {"kista": city.kista, "tensta": city.tensta, "bromma": city.bromma}
    await store(
        write_session,
        *(
            booking(
                offices[office].id,
                city.services[service].id,
                datetime.fromisoformat(start).replace(tzinfo=STOCKHOLM),
                channel=channel,
                status=status,
            )
            for office, service, channel, status, start in WEEK
        ),
    )


async def test_a_week_of_bookings_comes_out_per_service_channel_and_office(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    await _week(city, write_session)
    names = {city.kista.id: "kista", city.tensta.id: "tensta", city.bromma.id: "bromma"}
    codes = {service.id: code for code, service in city.services.items()}
    async with read_session() as db:
        found = await booking_outcomes(db, _query(city))
    assert {
        (names[row.office_id], codes[row.service_id]): row.counts for row in found.by_service
    } == BY_SERVICE
    assert {(names[row.office_id], row.channel): row.counts for row in found.by_channel} == BY_CHANNEL
    assert {names[row.office_id]: row.counts for row in found.by_office} == BY_OFFICE
    assert found.total == _counts(booked=1, served=4, no_show=2, cancelled=2, checked_in=1)
    kista = found.by_office[0]
    assert kista.office_id == city.kista.id
    assert (kista.counts.booked, kista.counts.no_show_rate, kista.counts.cancellation_rate) == (
        9,
        1 / 9,
        2 / 9,
    )
    assert found.by_office[2].counts.no_show_rate is None  # Bromma booked nothing that week
    # Rows come in a stable order: by office, then service; channels as CHANNELS lists them.
    assert [row.office_id for row in found.by_office] == sorted(names)
    assert [row.channel for row in found.by_channel[:3]] == list(CHANNELS)


@pytest.mark.parametrize(
    ("services", "expected"),
    [
        (("budget",), {("kista", "budget"): _counts(served=2)}),
        (("eservice",), {key: value for key, value in BY_SERVICE.items() if key[1] == "eservice"}),
        (("consumer",), {}),
        (("budget", "eservice"), BY_SERVICE),
    ],
)
async def test_a_service_filter_keeps_only_those_services(
    city, write_session, read_session, services, expected
) -> None:  # type: ignore[no-untyped-def]
    await _week(city, write_session)
    names = {city.kista.id: "kista", city.tensta.id: "tensta", city.bromma.id: "bromma"}
    codes = {service.id: code for code, service in city.services.items()}
    query = _query(city, service_ids=tuple(city.services[code].id for code in services))
    async with read_session() as db:
        found = await booking_outcomes(db, query)
    assert {(names[row.office_id], codes[row.service_id]): row.counts for row in found.by_service} == expected
    assert found.total.booked == sum(counts.booked for counts in expected.values())


async def test_an_office_filter_counts_only_those_offices(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    await _week(city, write_session)
    async with read_session() as db:
        found = await booking_outcomes(db, _query(city, office_ids=(city.tensta.id,)))
    assert found.by_office == (OfficeBookings(city.tensta.id, BY_OFFICE["tensta"]),)
    assert [row.office_id for row in found.by_channel] == [city.tensta.id] * 3
    assert found.total == BY_OFFICE["tensta"]


@pytest.mark.parametrize(
    ("first", "last", "office_ids"),
    [
        (date(2026, 4, 1), date(2026, 4, 30), "all"),  # nothing booked then
        (FIRST, LAST, "none"),  # no office in scope
    ],
)
async def test_an_empty_range_has_zeros_and_no_rates(
    city, write_session, read_session, first, last, office_ids
) -> None:  # type: ignore[no-untyped-def]
    await _week(city, write_session)
    ids = (city.kista.id, city.tensta.id, city.bromma.id) if office_ids == "all" else ()
    async with read_session() as db:
        found = await booking_outcomes(db, StatsQuery(first, last, ids))
    assert found.by_service == ()
    assert found.total == BookingCounts()
    assert found.total.no_show_rate is None and found.total.cancellation_rate is None
    assert found.by_office == tuple(OfficeBookings(office_id, BookingCounts()) for office_id in ids)
    assert found.by_channel == tuple(
        ChannelBookings(office_id, channel, BookingCounts()) for office_id in ids for channel in CHANNELS
    )


@pytest.mark.parametrize(("first", "last", "zone", "instant", "inside"), EDGES, ids=EDGE_IDS)
async def test_a_booking_counts_on_its_office_s_local_days(  # type: ignore[no-untyped-def]
    city,
    write_session,
    read_session,
    first: date,
    last: date,
    zone: ZoneInfo,
    instant: datetime,
    inside: bool,
) -> None:
    await move_office(write_session, city.kista.id, zone)
    eservice = city.services["eservice"].id
    await store(write_session, booking(city.kista.id, eservice, instant, status="served"))
    async with read_session() as db:
        found = await booking_outcomes(db, StatsQuery(first, last, (city.kista.id,)))
    expected = _counts(served=1) if inside else BookingCounts.of({})
    assert found.by_office == (OfficeBookings(city.kista.id, expected),)
    assert found.by_service == ((ServiceBookings(city.kista.id, eservice, expected),) if inside else ())


async def test_offices_in_different_zones_each_count_their_own_days(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    """One query over offices in two zones: the same instant is in the range for one and not the other."""
    await move_office(write_session, city.bromma.id, HELSINKI)
    eservice, budget = city.services["eservice"].id, city.services["budget"].id
    late_friday = at("2026-03-06", "23:30")  # Saturday 00:30 in Helsinki
    early_monday = at("2026-03-02", "00:30", HELSINKI)  # Sunday 23:30 in Stockholm
    await store(
        write_session,
        booking(city.kista.id, eservice, late_friday, status="no_show"),
        booking(city.kista.id, eservice, early_monday, status="no_show"),
        booking(city.bromma.id, budget, late_friday, status="no_show"),
        booking(city.bromma.id, budget, early_monday, status="no_show"),
    )
    async with read_session() as db:
        found = await booking_outcomes(db, _query(city))
    by_office = {row.office_id: row.counts.no_show for row in found.by_office}
    assert by_office == {city.kista.id: 1, city.tensta.id: 0, city.bromma.id: 1}
