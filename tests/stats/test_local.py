"""Office-local days, hours and weeks, and durations, computed in SQL on SQLite and PostgreSQL alike,
exact across DST changes (2026-10-25 repeats 02:00–03:00 in Stockholm, 2027-03-28 skips it)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kontor.queue.models import Ticket
from kontor.stats.local import (
    local_day,
    local_hour,
    local_time,
    local_week,
    local_weekday,
    offset_periods,
    seconds_between,
    whole_minutes,
)
from tests.stats.conftest import HELSINKI, STOCKHOLM, Rows, local

NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "start", "end", "expected"),
    [
        pytest.param(
            STOCKHOLM,
            utc(2026, 10, 1),
            utc(2027, 4, 30),
            [(None, 7200), (utc(2026, 10, 25, 1), 3600), (utc(2027, 3, 28, 1), 7200)],
            id="stockholm-winter",
        ),
        pytest.param(STOCKHOLM, utc(2026, 12, 1), utc(2027, 1, 31), [(None, 3600)], id="no-change"),
        pytest.param(
            HELSINKI,
            utc(2026, 10, 24, 22),
            utc(2026, 10, 25, 22),
            [(None, 10800), (utc(2026, 10, 25, 1), 7200)],
            id="helsinki-same-instant",
        ),
        pytest.param(
            NEW_YORK,
            utc(2026, 1, 1),
            utc(2026, 12, 31),
            [(None, -18000), (utc(2026, 3, 8, 7), -14400), (utc(2026, 11, 1, 6), -18000)],
            id="west-of-utc",
        ),
        # A change just outside the range is found too: a query may touch a few instants beyond it.
        pytest.param(
            STOCKHOLM,
            utc(2026, 10, 25, 12),
            utc(2026, 10, 30),
            [(None, 7200), (utc(2026, 10, 25, 1), 3600)],
            id="change-the-day-before",
        ),
    ],
)
def test_offset_periods_follow_the_zone(zone, start, end, expected) -> None:  # type: ignore[no-untyped-def]
    assert offset_periods(zone, start, end) == expected


# (instant, zone, local day, hour, weekday, week's Monday)
LOCAL_PARTS = [
    pytest.param(
        utc(2026, 10, 24, 23, 30), STOCKHOLM, date(2026, 10, 25), 1, 6, date(2026, 10, 19), id="before"
    ),
    pytest.param(
        utc(2026, 10, 25, 0, 30), STOCKHOLM, date(2026, 10, 25), 2, 6, date(2026, 10, 19), id="02:30-1st"
    ),
    pytest.param(
        utc(2026, 10, 25, 1, 30), STOCKHOLM, date(2026, 10, 25), 2, 6, date(2026, 10, 19), id="02:30-2nd"
    ),
    pytest.param(
        utc(2026, 10, 25, 2, 0), STOCKHOLM, date(2026, 10, 25), 3, 6, date(2026, 10, 19), id="03:00-cet"
    ),
    pytest.param(
        utc(2026, 10, 25, 22, 59), STOCKHOLM, date(2026, 10, 25), 23, 6, date(2026, 10, 19), id="late"
    ),
    pytest.param(
        utc(2026, 10, 25, 23, 0), STOCKHOLM, date(2026, 10, 26), 0, 0, date(2026, 10, 26), id="monday"
    ),
    pytest.param(utc(2027, 3, 28, 0, 59), STOCKHOLM, date(2027, 3, 28), 1, 6, date(2027, 3, 22), id="01:59"),
    pytest.param(
        utc(2027, 3, 28, 1, 0), STOCKHOLM, date(2027, 3, 28), 3, 6, date(2027, 3, 22), id="03:00-cest"
    ),
    pytest.param(
        utc(2027, 3, 28, 21, 59), STOCKHOLM, date(2027, 3, 28), 23, 6, date(2027, 3, 22), id="spring-late"
    ),
    pytest.param(
        utc(2027, 3, 28, 22, 0), STOCKHOLM, date(2027, 3, 29), 0, 0, date(2027, 3, 29), id="spring-next"
    ),
    pytest.param(
        utc(2026, 12, 31, 23, 30), STOCKHOLM, date(2027, 1, 1), 0, 4, date(2026, 12, 28), id="new-year"
    ),
    pytest.param(
        utc(2026, 12, 31, 22, 30), HELSINKI, date(2027, 1, 1), 0, 4, date(2026, 12, 28), id="helsinki"
    ),
    pytest.param(
        utc(2026, 12, 31, 21, 30), HELSINKI, date(2026, 12, 31), 23, 3, date(2026, 12, 28), id="hki-eve"
    ),
    pytest.param(
        utc(2026, 10, 25, 0, 30), HELSINKI, date(2026, 10, 25), 3, 6, date(2026, 10, 19), id="hki-03:30"
    ),
    pytest.param(
        utc(2026, 10, 25, 1, 30), HELSINKI, date(2026, 10, 25), 3, 6, date(2026, 10, 19), id="hki-again"
    ),
    pytest.param(
        utc(2026, 11, 2, 3, 0), NEW_YORK, date(2026, 11, 1), 22, 6, date(2026, 10, 26), id="new-york"
    ),
]


async def _local_parts(read_session, ids: list[int], zone: ZoneInfo, start: datetime, end: datetime):  # type: ignore[no-untyped-def]
    wall = local_time(Ticket.called_at, zone, start, end)
    query = select(Ticket.id, local_day(wall), local_hour(wall), local_weekday(wall), local_week(wall)).where(
        Ticket.id.in_(ids)
    )
    async with read_session() as db:
        return {ticket_id: tuple(parts) for ticket_id, *parts in await db.execute(query)}


async def _called_at(rows: Rows, city, instants: list[datetime]) -> list[int]:  # type: ignore[no-untyped-def]
    service = city.services["eservice"]
    tickets = [rows.make_ticket(city.kista, service, issued=at, called=at, served=at) for at in instants]
    await rows.add(*tickets)
    return [ticket.id for ticket in tickets]


@pytest.mark.parametrize(("instant", "zone", "day", "hour", "weekday", "week"), LOCAL_PARTS)
async def test_local_day_hour_weekday_and_week(  # type: ignore[no-untyped-def]
    city, rows, read_session, instant, zone, day, hour, weekday, week
) -> None:
    (ticket_id,) = await _called_at(rows, city, [instant])
    start, end = instant - timedelta(days=40), instant + timedelta(days=40)
    parts = await _local_parts(read_session, [ticket_id], zone, start, end)
    assert parts[ticket_id] == (day, hour, weekday, week)


def _sweep() -> list[datetime]:
    """Every 13 minutes through both DST nights, and a few hundred instants at random over the year."""
    instants = []
    for night in (utc(2026, 10, 24, 20), utc(2027, 3, 27, 20)):
        instants += [night + timedelta(minutes=13 * step) for step in range(60)]
    draw = random.Random(9)
    year = utc(2026, 7, 1)
    instants += [year + timedelta(seconds=draw.randrange(365 * 86400)) for _ in range(300)]
    return instants


@pytest.mark.parametrize("zone", [STOCKHOLM, HELSINKI, NEW_YORK], ids=lambda zone: zone.key)
async def test_local_parts_agree_with_python_across_a_year(city, rows, read_session, zone) -> None:  # type: ignore[no-untyped-def]
    instants = _sweep()
    ids = await _called_at(rows, city, instants)
    parts = await _local_parts(read_session, ids, zone, utc(2026, 6, 30), utc(2027, 7, 2))
    for ticket_id, instant in zip(ids, instants, strict=True):
        wall = instant.astimezone(zone)
        expected = (wall.date(), wall.hour, wall.weekday(), wall.date() - timedelta(days=wall.weekday()))
        assert parts[ticket_id] == expected, instant


# (issued, called, seconds between, whole minutes)
DURATIONS = [
    pytest.param(utc(2026, 12, 15, 9, 0), utc(2026, 12, 15, 9, 5), 300.0, 5, id="five-minutes"),
    pytest.param(utc(2026, 12, 15, 9, 0), utc(2026, 12, 15, 9, 4, 59, 999000), 299.999, 4, id="just-under"),
    pytest.param(utc(2026, 12, 15, 9, 0), utc(2026, 12, 15, 9, 15), 900.0, 15, id="fifteen"),
    pytest.param(utc(2026, 12, 15, 9, 0, 0, 500000), utc(2026, 12, 15, 9, 0, 59), 58.5, 0, id="fraction"),
    pytest.param(utc(2026, 12, 15, 23, 50), utc(2026, 12, 16, 0, 20), 1800.0, 30, id="over-midnight"),
    # 01:50 CEST to 02:10 CET is 80 minutes of real time, whatever the clock on the wall says.
    pytest.param(local(2026, 10, 25, 1, 50), local(2026, 10, 25, 2, 10, fold=1), 4800.0, 80, id="dst-fold"),
    pytest.param(local(2027, 3, 28, 1, 50), local(2027, 3, 28, 3, 10), 1200.0, 20, id="dst-gap"),
    pytest.param(utc(2026, 7, 1, 8, 0), utc(2026, 7, 1, 8, 0), 0.0, 0, id="none"),
]


@pytest.mark.parametrize(("issued", "called", "seconds", "whole"), DURATIONS)
async def test_seconds_between_and_whole_minutes(
    city, rows, read_session, issued, called, seconds, whole
) -> None:  # type: ignore[no-untyped-def]
    ticket = await rows.ticket(
        city.kista, city.services["eservice"], issued=issued, called=called, served=called
    )
    between = seconds_between(Ticket.called_at, Ticket.issued_at)
    async with read_session() as db:
        found = (
            await db.execute(select(between, whole_minutes(between)).where(Ticket.id == ticket.id))
        ).one()
    assert found[0] == pytest.approx(seconds, abs=1e-6)
    assert found[1] == whole


async def test_seconds_between_is_negative_when_the_order_is(city, rows, read_session) -> None:  # type: ignore[no-untyped-def]
    ticket = await rows.ticket(
        city.kista, city.services["eservice"], issued=utc(2026, 12, 15, 9, 10), called=utc(2026, 12, 15, 9, 0)
    )
    async with read_session() as db:
        found = await db.scalar(
            select(seconds_between(Ticket.called_at, Ticket.issued_at)).where(Ticket.id == ticket.id)
        )
    assert found == pytest.approx(-600.0)


def test_a_zone_key_that_is_not_one_is_refused() -> None:
    class Odd(ZoneInfo):
        @property
        def key(self) -> str:  # type: ignore[override]
            return "Europe/Stockholm'; drop table tickets; --"

    with pytest.raises(ValueError, match="not a zone key"):
        local_time(Ticket.called_at, Odd("Europe/Stockholm"), utc(2026, 1, 1), utc(2026, 2, 1))
