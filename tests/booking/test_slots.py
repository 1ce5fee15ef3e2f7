"""Free-slot rules of online booking: lunch breaks, notice, horizon, holidays, seats and DST days."""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kontor.booking.slots import Slot, SlotPolicy, free_slots, is_bookable_start, slot_policy_kinds
from kontor.hours.rules import (
    Closure,
    HoursKind,
    Interval,
    OfficeHours,
    WeeklyInterval,
    day_hours,
    interval_bounds,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
APPT, DROP = HoursKind.APPOINTMENT, HoursKind.DROP_IN
BOTH = frozenset(HoursKind)
MIN = timedelta(minutes=1)


def d(text: str) -> date:
    return date.fromisoformat(text)


def local(text: str, tz: ZoneInfo = STOCKHOLM) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def iv(spec: str, kind: HoursKind = APPT) -> Interval:
    opens, closes = spec.split("-")
    return Interval(time.fromisoformat(opens), time.fromisoformat(closes), kind)


def office(weekdays, *specs: str, kind: HoursKind = APPT, closures=(), tz="Europe/Stockholm") -> OfficeHours:
    weekly = tuple(WeeklyInterval(wd, iv(s, kind)) for wd in weekdays for s in specs)
    return OfficeHours(tz, weekly, tuple(closures))


def policy(minutes: int = 20, step: int | None = None, **kw) -> SlotPolicy:
    return SlotPolicy(
        timedelta(minutes=minutes), step=None if step is None else timedelta(minutes=step), **kw
    )


def on(day: date, *intervals: Interval) -> Closure:
    """A one-day closure, or special hours when intervals are given."""
    return Closure(day, day, "Avvikande", intervals)


def shown(slots: list[Slot], fmt: str = "%H:%M") -> list[str]:
    return [f"{s.start.astimezone(STOCKHOLM):{fmt}}" for s in slots]


LUNCH = office(range(5), "09:00-12:00", "13:00-16:00")
JULDAGEN = d("2026-12-25")
TUESDAY = d("2026-03-03")
CLOSED_TUESDAY = office(range(5), "09:00-12:00", closures=[on(TUESDAY)])
ON_DUTY = office(range(5), "09:00-12:00", closures=[on(JULDAGEN, iv("10:00-12:00"))])
OVERLAP = office([1], "09:00-12:00", closures=[on(TUESDAY, iv("09:00-12:00"), iv("09:00-11:00", DROP))])
EARLY = local("2026-03-01 08:00")  # a Sunday, well before the Tuesday asked about
MORNING = [f"{h:02}:{m:02}" for h in (9, 10, 11) for m in (0, 20, 40)]
AFTERNOON = [f"{h:02}:{m:02}" for h in (13, 14, 15) for m in (0, 20, 40)]

# --- one day, as a table ---------------------------------------------------------------------------

DAY_TABLE = [
    # office, policy, day, now, expected local starts
    (LUNCH, policy(20), TUESDAY, EARLY, MORNING + AFTERNOON),
    (LUNCH, policy(50), TUESDAY, EARLY, ["09:00", "09:50", "10:40", "13:00", "13:50", "14:40"]),
    (LUNCH, policy(30, step=45), TUESDAY, EARLY, ["09:00", "09:45", "10:30", "11:15", "13:00", "13:45",
                                                  "14:30", "15:15"]),
    (office([1], "09:00-11:00"), policy(60, step=15), TUESDAY, EARLY, ["09:00", "09:15", "09:30", "09:45",
                                                                       "10:00"]),
    (LUNCH, policy(20), TUESDAY, local("2026-03-03 10:05"), AFTERNOON),  # 12:05 is in lunch: 13:00
    (LUNCH, policy(20), TUESDAY, local("2026-03-03 11:30"), AFTERNOON[2:]),  # 13:30 → 13:40
    (LUNCH, policy(20), TUESDAY, local("2026-03-03 11:40"), AFTERNOON[2:]),  # exactly 13:40 is allowed
    (LUNCH, policy(20, min_notice=timedelta(0)), TUESDAY, local("2026-03-03 09:20"), MORNING[1:] + AFTERNOON),
    (LUNCH, policy(20), TUESDAY, local("2026-03-03 15:00"), []),
    (LUNCH, policy(20), d("2026-03-07"), EARLY, []),  # Saturday
    (LUNCH, policy(200), TUESDAY, EARLY, []),  # longer than any interval
    (LUNCH, policy(20), d("2026-06-19"), local("2026-06-01 08:00"), []),  # midsommarafton
    (LUNCH, policy(20), JULDAGEN, local("2026-12-01 08:00"), []),
    (CLOSED_TUESDAY, policy(60), TUESDAY, EARLY, []),
    (ON_DUTY, policy(60), JULDAGEN, local("2026-12-01 08:00"), ["10:00", "11:00"]),  # special hours
    (OVERLAP, policy(60, kinds=BOTH), TUESDAY, EARLY, ["09:00", "10:00", "11:00"]),  # each start once
]  # fmt: skip


@pytest.mark.parametrize(("hours", "rule", "day", "now", "expected"), DAY_TABLE)
def test_slots_of_one_day(hours, rule, day, now, expected):
    slots = free_slots(hours, rule, day, day, now)
    assert shown(slots) == expected
    assert all(s.end - s.start == rule.duration and s.start.tzinfo is UTC for s in slots)
    assert all(is_bookable_start(hours, rule, s.start, now) for s in slots)


HORIZON_TABLE = [
    # now, horizon_days, last local date offered (the office is open every day, 09–12)
    (local("2026-04-01 10:00"), 60, "2026-05-31"),
    (local("2026-04-01 00:30"), 60, "2026-05-31"),  # 2026-03-31 22:30 UTC, already April 1st locally
    (local("2026-03-31 23:59"), 60, "2026-05-30"),
    (local("2026-03-02 23:59"), 10, "2026-03-12"),
    (local("2026-03-03 00:00").astimezone(UTC), 10, "2026-03-13"),
    (local("2026-03-03 08:00"), 0, "2026-03-03"),
]


@pytest.mark.parametrize(("now", "horizon", "last"), HORIZON_TABLE)
def test_horizon_is_counted_in_local_dates(now, horizon, last):
    hours = office(range(7), "09:00-12:00")
    rule = policy(60, horizon_days=horizon, min_notice=timedelta(0))
    slots = free_slots(hours, rule, d("2020-01-01"), d("2099-12-31"), now)  # a huge range is clipped
    assert shown(slots, "%Y-%m-%d")[-1] == last
    assert shown(slots, "%Y-%m-%d %H:%M")[-1] == f"{last} 11:00"
    assert not is_bookable_start(hours, rule, local(f"{last} 09:00") + timedelta(days=1), now)


def test_seats_taken_and_full_slots():
    rule = policy(20, seats=2)
    taken = {
        local("2026-03-03 09:00"): 1,
        local("2026-03-03 09:20").astimezone(UTC): 2,
        local("2026-03-03 09:40"): 3,
    }
    open_slots = free_slots(LUNCH, rule, TUESDAY, TUESDAY, EARLY, taken)
    assert shown(open_slots)[:2] == ["09:00", "10:00"]
    assert [s.seats_left for s in open_slots[:2]] == [1, 2]
    every = free_slots(LUNCH, rule, TUESDAY, TUESDAY, EARLY, taken, include_full=True)
    assert [(s.taken, s.seats_left) for s in every[:4]] == [(1, 1), (2, 0), (3, 0), (0, 2)]
    assert len(every) == len(open_slots) + 2 == 18
    # Taken seats do not change which starts exist.
    assert is_bookable_start(LUNCH, rule, local("2026-03-03 09:20"), EARLY)


def test_appointment_hours_decide_the_kinds():
    tuesdays = OfficeHours(
        weekly=(
            *(WeeklyInterval(wd, iv("09:00-16:00", DROP)) for wd in range(5)),
            WeeklyInterval(1, iv("16:00-18:00")),
        )
    )
    assert slot_policy_kinds(tuesdays) == frozenset({APPT})
    rule = policy(60, kinds=slot_policy_kinds(tuesdays))
    slots = free_slots(tuesdays, rule, d("2026-03-02"), d("2026-03-08"), EARLY)
    assert shown(slots, "%a %H:%M") == ["Tue 16:00", "Tue 17:00"]
    drop_in = office(range(5), "09:00-11:00", kind=DROP)
    assert slot_policy_kinds(drop_in) == BOTH
    assert len(free_slots(drop_in, policy(60, kinds=BOTH), d("2026-03-02"), d("2026-03-08"), EARLY)) == 10
    assert free_slots(drop_in, policy(60), d("2026-03-02"), d("2026-03-08"), EARLY) == []
    assert slot_policy_kinds(OfficeHours(closures=(on(TUESDAY, iv("10:00-11:00")),))) == frozenset({APPT})
    assert slot_policy_kinds(OfficeHours()) == BOTH


# --- daylight saving -----------------------------------------------------------------------------


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


DST_DAYS = [_last_sunday(y, m) for y in range(2025, 2031) for m in (3, 10)]


@pytest.mark.parametrize("day", DST_DAYS, ids=str)
def test_dst_days_have_one_slot_per_real_half_hour(day):
    # Special hours, because some of these Sundays are Easter Day.
    hours = OfficeHours(closures=(on(day, iv("01:00-04:00")),))
    rule = policy(30, min_notice=timedelta(0), horizon_days=400)
    slots = free_slots(hours, rule, day, day, local(f"{day.year}-01-01 00:00"))
    opens, closes = interval_bounds(day, iv("01:00-04:00"), STOCKHOLM)
    assert len(slots) == (closes - opens) / timedelta(minutes=30) == (4 if day.month == 3 else 8)
    assert len({s.start for s in slots}) == len(slots)
    if day.month == 3:
        assert all(s.start.astimezone(STOCKHOLM).hour != 2 for s in slots)  # none in the gap


def test_dst_slots_in_local_time():
    hours = office([6], "01:00-04:00")
    rule = policy(30, min_notice=timedelta(0))
    spring = free_slots(hours, rule, d("2026-03-29"), d("2026-03-29"), EARLY)
    assert shown(spring) == ["01:00", "01:30", "03:00", "03:30"]
    autumn = free_slots(hours, rule, d("2026-10-25"), d("2026-10-25"), local("2026-10-01 08:00"))
    assert shown(autumn, "%H:%M%z") == [
        *("01:00+0200", "01:30+0200", "02:00+0200", "02:30+0200"),
        *("02:00+0100", "02:30+0100", "03:00+0100", "03:30+0100"),
    ]
    # A booking keyed by the second 02:00 in local time (fold=1) fills that slot, not the first one.
    second = autumn[4].start.astimezone(STOCKHOLM)
    full = free_slots(hours, rule, d("2026-10-25"), d("2026-10-25"), local("2026-10-01 08:00"), {second: 1})
    assert second.fold == 1 and [s.start for s in full] == [s.start for s in autumn if s is not autumn[4]]


# --- validation ----------------------------------------------------------------------------------

NAIVE = datetime(2026, 3, 3, 9)
INVALID = [
    (lambda: policy(0), "duration"),
    (lambda: SlotPolicy(timedelta(minutes=-20)), "duration"),
    (lambda: SlotPolicy(timedelta(seconds=90)), "duration"),
    (lambda: policy(20, step=0), "step"),
    (lambda: policy(20, seats=0), "seats"),
    (lambda: policy(20, seats=True), "seats"),
    (lambda: policy(20, min_notice=timedelta(minutes=-1)), "min_notice"),
    (lambda: policy(20, horizon_days=-1), "horizon_days"),
    (lambda: policy(20, kinds=frozenset()), "kinds"),
    (lambda: policy(20, kinds=frozenset({"walk_in"})), "walk_in"),
    (lambda: free_slots(LUNCH, policy(), TUESDAY, TUESDAY, datetime(2026, 3, 1)), "timezone-aware"),
    (lambda: free_slots(LUNCH, policy(), TUESDAY, d("2026-03-02"), EARLY), "before first"),
    (lambda: free_slots(LUNCH, policy(), TUESDAY, TUESDAY, EARLY, {NAIVE: 1}), "timezone-aware"),
    (lambda: free_slots(LUNCH, policy(), TUESDAY, TUESDAY, EARLY, {EARLY: -1}), "negative"),
    (lambda: is_bookable_start(LUNCH, policy(), NAIVE, EARLY), "timezone-aware"),
    (lambda: is_bookable_start(LUNCH, policy(), EARLY, NAIVE), "timezone-aware"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "message"), INVALID)
def test_invalid_input_is_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_policy_accepts_store_values():
    rule = SlotPolicy(timedelta(minutes=30), kinds=frozenset({"appointment", "drop_in"}))  # type: ignore[arg-type]
    assert rule.kinds == BOTH and rule.step is None
    assert Slot(EARLY, EARLY + MIN, seats=1, taken=5).seats_left == 0


# --- properties ----------------------------------------------------------------------------------

ZONES = ("Europe/Stockholm", "Europe/Stockholm", "America/New_York")
TRANSITIONS = [*DST_DAYS, d("2026-03-08"), d("2026-11-01"), d("2027-03-14"), d("2027-11-07")]
ANCHORS = st.one_of(st.dates(d("2025-01-01"), d("2030-12-31")), st.sampled_from(TRANSITIONS))
QUARTERS = [time(n // 4, n % 4 * 15) for n in range(96)]
INTERVALS = st.builds(
    lambda opens, length, kind: Interval(QUARTERS[opens], QUARTERS[min(opens + length, 95)], kind),
    st.integers(0, 94),
    st.integers(1, 40),
    st.sampled_from(HoursKind),
)
WEEKLY = st.lists(st.tuples(st.integers(0, 6), INTERVALS), max_size=8)
CLOSURES = st.lists(
    st.tuples(st.integers(-2, 12), st.integers(0, 3), st.lists(INTERVALS, max_size=2)), max_size=3
)
POLICIES = st.builds(
    lambda minutes, step, seats, notice, horizon, kinds: policy(
        minutes, step, seats=seats, min_notice=timedelta(minutes=notice), horizon_days=horizon, kinds=kinds
    ),
    st.sampled_from([15, 20, 30, 45, 60, 90]),
    st.none() | st.sampled_from([5, 15, 30, 60]),
    st.integers(1, 3),
    st.sampled_from([0, 30, 120, 24 * 60]),
    st.integers(0, 14),
    st.sampled_from([frozenset({APPT}), frozenset({DROP}), BOTH]),
)


@settings(max_examples=150, deadline=None, database=None)
@given(
    data=st.data(),
    zone=st.sampled_from(ZONES),
    anchor=ANCHORS,
    weekly=WEEKLY,
    closures=CLOSURES,
    rule=POLICIES,
    start=st.integers(-2, 5),
    length=st.integers(0, 12),
    now_minutes=st.integers(-3000, 3000),
)
def test_offered_slots_keep_every_rule(
    data, zone, anchor, weekly, closures, rule, start, length, now_minutes
):
    tz = ZoneInfo(zone)
    days = timedelta(days=1)
    hours = OfficeHours(
        zone,
        tuple(WeeklyInterval(wd, i) for wd, i in weekly),
        tuple(Closure(anchor + s * days, anchor + (s + n) * days, "c", tuple(x)) for s, n, x in closures),
    )
    now = datetime.combine(anchor, time(12), tz) + now_minutes * MIN
    first, last = anchor + start * days, anchor + (start + length) * days
    every = free_slots(hours, rule, first, last, now, include_full=True)
    taken = {s.start.astimezone(tz): data.draw(st.integers(0, rule.seats + 1)) for s in every[:12]}
    slots = free_slots(hours, rule, first, last, now, taken, include_full=True)
    assert [s.start for s in slots] == [s.start for s in every]
    assert [s.start for s in free_slots(hours, rule, first, last, now, taken)] == [
        s.start for s in slots if s.seats_left > 0
    ]
    starts = {s.start for s in free_slots(hours, rule, first - days, last + days, now, include_full=True)}
    today = now.astimezone(tz).date()
    spacing = rule.step or rule.duration
    assert all(before.start < after.start for before, after in itertools.pairwise(slots))
    for slot in slots:
        day = slot.start.astimezone(tz).date()
        assert first <= day <= last and day <= today + rule.horizon_days * days
        assert slot.start >= now + rule.min_notice and slot.start.tzinfo is UTC
        assert slot.end - slot.start == rule.duration
        booked = next((n for start, n in taken.items() if start.astimezone(UTC) == slot.start), 0)
        assert slot.seats_left == max(0, rule.seats - booked) >= 0 and slot.taken == booked
        bounds = [
            interval_bounds(day, i, tz) for i in day_hours(hours, day).intervals if i.kind in rule.kinds
        ]
        assert any(
            o <= slot.start and slot.end <= c and (slot.start - o) % spacing == timedelta(0)
            for o, c in bounds
        )
        assert is_bookable_start(hours, rule, slot.start, now)
        if slot.start + MIN not in starts:
            assert not is_bookable_start(hours, rule, slot.start + MIN, now)
    # Completeness: each interval wide enough and wholly inside the window offers its opening.
    for n in range(length + 1):
        day = first + n * days
        for i in day_hours(hours, day).intervals:
            o, c = interval_bounds(day, i, tz)
            if (
                i.kind in rule.kinds and o >= now + rule.min_notice and c - o >= rule.duration
                and day <= today + rule.horizon_days * days and o.astimezone(tz).date() == day
            ):  # fmt: skip
                assert o in {s.start for s in slots}
