"""Walk-in queue rules: wait estimates and day's end."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontor.queue.rules import WaitRange, closes_unserved, estimate_wait, service_day

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


# --- wait estimates --------------------------------------------------------------------------------

ESTIMATE_CASES = {
    "first in line waits nothing": (1, [10, 20, 30], 1, WaitRange(0, 0, 0)),
    "first in line, no samples": (1, [], 0, WaitRange(0, 0, 0)),
    "no samples: default": (3, [], 1, WaitRange(24, 24, 24)),
    "one sample: default": (3, [2], 1, WaitRange(24, 24, 24)),
    "two samples: default": (3, [2, 4], 1, WaitRange(24, 24, 24)),
    "three samples: quartiles": (3, [4, 6, 8], 1, WaitRange(10, 14, 12)),
    "many samples": (2, [5, 7, 9, 11, 13, 40], 1, WaitRange(8, 13, 10)),
    "zero counters count as one": (3, [4, 6, 8], 0, WaitRange(10, 14, 12)),
    "three counters share the line": (4, [4, 6, 8], 3, WaitRange(5, 7, 6)),
    "rounds up to whole minutes": (2, [4, 6, 8], 3, WaitRange(2, 3, 2)),
    "no float drift (3 x 10/3)": (4, [], 1, WaitRange(10, 10, 10)),
    "unusable samples are ignored": (3, [4, float("nan"), -3, 6, float("inf"), 8], 1, WaitRange(10, 14, 12)),
    "too few usable samples: default": (3, [-1, float("nan"), 5, 6], 1, WaitRange(24, 24, 24)),
}


@pytest.mark.parametrize(
    ("position", "samples", "counters", "expected"), ESTIMATE_CASES.values(), ids=ESTIMATE_CASES.keys()
)
def test_estimate_wait(position, samples, counters, expected):
    default = 10 / 3 if position == 4 and not samples else 12
    assert estimate_wait(position, samples, counters, default_minutes=default) == expected


@pytest.mark.parametrize(
    ("position", "counters", "default"),
    [(0, 1, 10), (-1, 1, 10), (1, -1, 10), (1, 1, 0), (1, 1, -5), (1, 1, float("nan"))],
)
def test_estimate_wait_rejects_bad_input(position, counters, default):
    with pytest.raises(ValueError):
        estimate_wait(position, [], counters, default_minutes=default)


samples_st = st.lists(st.floats(min_value=0, max_value=240, allow_nan=False), max_size=30)


@given(
    position=st.integers(min_value=1, max_value=500),
    samples=samples_st,
    counters=st.integers(min_value=0, max_value=20),
    default=st.floats(min_value=0.5, max_value=120),
)
def test_estimate_is_ordered_and_monotone(position, samples, counters, default):
    here = estimate_wait(position, samples, counters, default_minutes=default)
    behind = estimate_wait(position + 1, samples, counters, default_minutes=default)
    assert 0 <= here.low <= here.typical <= here.high
    assert here.low <= behind.low and here.typical <= behind.typical and here.high <= behind.high


@given(position=st.integers(min_value=1, max_value=200), samples=samples_st, counters=st.integers(1, 10))
def test_more_counters_never_lengthen_the_wait(position, samples, counters):
    fewer = estimate_wait(position, samples, counters, default_minutes=10)
    more = estimate_wait(position, samples, counters + 1, default_minutes=10)
    assert more.high <= fewer.high and more.low <= fewer.low


# --- day's end -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "now", "closes"),
    [
        ("waiting", at(-1), False),
        ("waiting", at(0), True),
        ("waiting", at(30), True),
        ("called", at(0), True),
        ("called", at(-0.01), False),
        ("served", at(30), False),
        ("no_show", at(30), False),
        ("closed", at(30), False),
        ("cancelled", at(30), False),
    ],
)
def test_closes_unserved(status, now, closes):
    assert closes_unserved(status, closing_time=at(0), now=now) is closes


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        (datetime(2026, 3, 10, 22, 30, tzinfo=UTC), date(2026, 3, 10)),  # 23:30 in Stockholm (winter)
        (datetime(2026, 3, 10, 23, 30, tzinfo=UTC), date(2026, 3, 11)),  # 00:30 next day
        (datetime(2026, 7, 1, 22, 30, tzinfo=UTC), date(2026, 7, 2)),  # 00:30 in summer time
    ],
)
def test_numbers_restart_on_the_office_local_day(instant, day):
    assert service_day(instant, STOCKHOLM) == day
