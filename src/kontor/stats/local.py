"""SQL for office-local clocks and durations that reads the same on PostgreSQL and SQLite.

Statistics group by the office's local day and hour, and a DST day is 23 or 25 hours long: a fixed
offset would put a whole night's worth of visits on the wrong day twice a year. PostgreSQL knows the
zones (``timezone(zone, column)``); SQLite does not, so there the column is shifted by the offset in
force at that instant, chosen by a CASE over the zone's offset periods within the query's range
(taken from ``zoneinfo``, so it is exact to the second).

Each helper is an SQL construct compiled per dialect, so queries are written once. Everything that
differs between two queries (the zone, the periods) is part of the construct's arguments, hence of
SQLAlchemy's cache key, and rendered inline: the same expression then compiles to the same SQL in a
SELECT and its GROUP BY, which PostgreSQL insists on.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, DateTime, Float, Integer, String, case, cast, extract, func, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

# What a zone key may hold before it is written into SQL (every IANA key fits).
_ZONE_KEY = re.compile(r"[A-Za-z0-9_+\-/]+")
# SQLite's datetime() text, the form the period starts are compared in.
_SQLITE_SECOND = "%Y-%m-%d %H:%M:%S"
# How finely a change of offset is searched for: zone transitions fall on whole seconds.
_STEP = timedelta(days=1)


def offset_periods(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime | None, int]]:
    """The UTC offsets (seconds) ``zone`` uses between the instants ``start`` and ``end``: pairs of
    (since, offset), the first with ``since`` None; each holds until the next one's ``since``.

    The search begins a day before ``start`` and ends a day after ``end``, so instants just outside
    the range (that a query may still touch) are shifted right too."""
    moment = start.astimezone(UTC) - _STEP
    stop = end.astimezone(UTC) + _STEP
    periods: list[tuple[datetime | None, int]] = [(None, _offset(zone, moment))]
    while moment < stop:
        following = min(moment + _STEP, stop)
        if _offset(zone, following) != periods[-1][1]:
            since = _change_between(zone, moment, following)
            periods.append((since, _offset(zone, since)))
            moment = since
        else:
            moment = following
    return periods


def _offset(zone: ZoneInfo, instant: datetime) -> int:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def _change_between(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first second at which ``zone``'s offset differs from the one at ``before``."""
    offset = _offset(zone, before)
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        middle = middle.replace(microsecond=0)
        if middle <= before:
            middle = before + timedelta(seconds=1)
        if _offset(zone, middle) == offset:
            before = middle
        else:
            after = middle
    return after


def _inline(value: str) -> ColumnElement[Any]:
    return literal_column(f"'{value}'", String())


def _argument(element: FunctionElement[Any]) -> ColumnElement[Any]:
    (only,) = element.clauses
    return only


# Lower-case classes: they read as the SQL functions they stand for.
class local_time(FunctionElement[datetime]):
    """The wall-clock time of a UTC timestamp column in ``zone`` (a naive timestamp on PostgreSQL, a
    ``YYYY-MM-DD HH:MM:SS`` text on SQLite); read it with ``local_day``, ``local_hour``, … only.

    ``start`` and ``end`` bound the instants the query reads, to keep SQLite's CASE short; outside
    them the nearest period's offset applies."""

    type = DateTime()
    inherit_cache = True
    name = "local_time"

    def __init__(self, column: ColumnElement[Any], zone: ZoneInfo, start: datetime, end: datetime) -> None:
        if not _ZONE_KEY.fullmatch(zone.key):
            raise ValueError(f"not a zone key: {zone.key!r}")
        periods = offset_periods(zone, start, end)
        pieces: list[ColumnElement[Any]] = [column, _inline(zone.key)]
        for since, offset in periods:
            pieces.append(_inline(since.strftime(_SQLITE_SECOND) if since else ""))
            pieces.append(_inline(f"{offset:+d} seconds"))
        super().__init__(*pieces)


@compiles(local_time, "postgresql")
def _local_time_postgresql(element: local_time, compiler: SQLCompiler, **kw: Any) -> str:
    column, zone = list(element.clauses)[:2]
    return compiler.process(func.timezone(zone, column), **kw)


@compiles(local_time)
def _local_time_sqlite(element: local_time, compiler: SQLCompiler, **kw: Any) -> str:
    column, _zone, *rest = list(element.clauses)
    periods = list(zip(rest[::2], rest[1::2], strict=True))

    def shifted(modifier: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.datetime(column, modifier)

    if len(periods) == 1:
        return compiler.process(shifted(periods[0][1]), **kw)
    # Each period holds until the next begins; datetime() reads the stored text whatever its form.
    whens = [
        (func.datetime(column) < following_since, shifted(modifier))
        for (_since, modifier), (following_since, _next) in pairwise(periods)
    ]
    return compiler.process(case(*whens, else_=shifted(periods[-1][1])), **kw)


class local_day(FunctionElement[Any]):
    """The date of a ``local_time``."""

    type = Date()
    inherit_cache = True
    name = "local_day"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(cast(_argument(element), Date()), **kw)


@compiles(local_day)
def _local_day_sqlite(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(func.date(_argument(element)), **kw)


class local_week(FunctionElement[Any]):
    """The Monday of the ISO week of a ``local_time``."""

    type = Date()
    inherit_cache = True
    name = "local_week"


@compiles(local_week, "postgresql")
def _local_week_postgresql(element: local_week, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(cast(func.date_trunc(_inline("week"), _argument(element)), Date()), **kw)


@compiles(local_week)
def _local_week_sqlite(element: local_week, compiler: SQLCompiler, **kw: Any) -> str:
    # To the week's Sunday (the day itself when it is one), then back to its Monday.
    moved = func.date(_argument(element), _inline("weekday 0"), _inline("-6 days"))
    return compiler.process(moved, **kw)


class local_hour(FunctionElement[Any]):
    """The hour (0–23) of a ``local_time``."""

    type = Integer()
    inherit_cache = True
    name = "local_hour"


@compiles(local_hour, "postgresql")
def _local_hour_postgresql(element: local_hour, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(cast(extract("hour", _argument(element)), Integer()), **kw)


@compiles(local_hour)
def _local_hour_sqlite(element: local_hour, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(cast(func.strftime(_inline("%H"), _argument(element)), Integer()), **kw)


class local_weekday(FunctionElement[Any]):
    """The weekday of a ``local_time``, 0 = Monday as in Python."""

    type = Integer()
    inherit_cache = True
    name = "local_weekday"


@compiles(local_weekday, "postgresql")
def _local_weekday_postgresql(element: local_weekday, compiler: SQLCompiler, **kw: Any) -> str:
    isodow = cast(extract("isodow", _argument(element)), Integer())
    return compiler.process(isodow - literal_column("1", Integer()), **kw)


@compiles(local_weekday)
def _local_weekday_sqlite(element: local_weekday, compiler: SQLCompiler, **kw: Any) -> str:
    # strftime's %w counts from Sunday = 0.
    sunday_first = cast(func.strftime(_inline("%w"), _argument(element)), Integer())
    return compiler.process((sunday_first + literal_column("6", Integer())) % literal_column("7"), **kw)


class seconds_between(FunctionElement[float]):
    """``later - earlier`` of two timestamp columns in seconds (a float; negative if ``later`` is not)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return compiler.process(cast(extract("epoch", later - earlier), Float()), **kw)


@compiles(seconds_between)
def _seconds_between_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    # julianday() reads the stored text (with or without "+00:00"); a day as a double is good to some
    # tens of microseconds, so the difference is rounded to the millisecond: five minutes stay 300.0.
    days = func.julianday(later) - func.julianday(earlier)
    seconds = func.round(days * literal_column("86400.0", Float()), literal_column("3", Integer()))
    return compiler.process(seconds, **kw)


class whole_minutes(FunctionElement[int]):
    """The whole minutes (rounded down) in a non-negative number of seconds."""

    type = Integer()
    inherit_cache = True
    name = "whole_minutes"


@compiles(whole_minutes, "postgresql")
def _whole_minutes_postgresql(element: whole_minutes, compiler: SQLCompiler, **kw: Any) -> str:
    # A cast to integer rounds on PostgreSQL; floor() first.
    (seconds,) = list(element.clauses)
    return compiler.process(cast(func.floor(seconds / literal_column("60.0", Float())), Integer()), **kw)


@compiles(whole_minutes)
def _whole_minutes_sqlite(element: whole_minutes, compiler: SQLCompiler, **kw: Any) -> str:
    # A cast to integer truncates on SQLite (and floor() is there only with the math functions).
    (seconds,) = list(element.clauses)
    return compiler.process(cast(seconds / literal_column("60.0", Float()), Integer()), **kw)
