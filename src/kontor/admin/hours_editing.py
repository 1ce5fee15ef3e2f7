"""Editing an office's opening hours: weekly intervals with seasons, closures and special hours."""

from __future__ import annotations

from datetime import date, timedelta

from litestar.exceptions import NotFoundException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor import i18n
from kontor.accounts.models import User
from kontor.admin.forms import Form, FormError
from kontor.admin.services import lock_office, record_change
from kontor.hours.models import Closure, ClosureInterval, WeeklyHours
from kontor.hours.rules import DayHours, HoursKind, hours_for_range
from kontor.hours.services import office_hours
from kontor.i18n import _
from kontor.offices.models import Office

KINDS = {kind.value: kind.value for kind in HoursKind}
SPECIAL_ROWS = 3  # special-hours rows on the closure form; enough for a holiday with a lunch break
MAX_CLOSURE_DAYS = 366
PREVIEW_DAYS = 14


async def weekly_hours(db: AsyncSession, office: Office) -> list[WeeklyHours]:
    return list(
        await db.scalars(
            select(WeeklyHours)
            .where(WeeklyHours.office_id == office.id)
            .order_by(WeeklyHours.weekday, WeeklyHours.opens, WeeklyHours.kind, WeeklyHours.valid_from)
        )
    )


def _seasons_overlap(a: WeeklyHours, b: WeeklyHours) -> bool:
    # An open end (None) reaches forever in its direction.
    return (a.valid_until is None or b.valid_from is None or b.valid_from <= a.valid_until) and (
        b.valid_until is None or a.valid_from is None or a.valid_from <= b.valid_until
    )


def season_text(valid_from: date | None, valid_until: date | None) -> str:
    """When a weekly interval applies, for messages: "always", "from …", "until …" or "… – …"."""
    if valid_from and valid_until:
        return f"{i18n.format_date(valid_from)} – {i18n.format_date(valid_until)}"
    if valid_from:
        return _("from %(date)s", date=i18n.format_date(valid_from))
    if valid_until:
        return _("until %(date)s", date=i18n.format_date(valid_until))
    return _("all year")


def _describe(interval: WeeklyHours) -> str:
    return _(
        "%(weekday)s %(opens)s–%(closes)s (%(season)s)",
        weekday=i18n.weekday_names()[interval.weekday],
        opens=i18n.format_time(interval.opens),
        closes=i18n.format_time(interval.closes),
        season=season_text(interval.valid_from, interval.valid_until),
    )


def _snapshot(interval: WeeklyHours) -> dict[str, object]:
    return {
        "weekday": interval.weekday,
        "opens": interval.opens,
        "closes": interval.closes,
        "kind": interval.kind,
        "valid_from": interval.valid_from,
        "valid_until": interval.valid_until,
    }


async def add_weekly_interval(db: AsyncSession, office: Office, form: Form, user: User) -> WeeklyHours:
    """Add a weekly interval; it may not overlap one of the same kind, day and season."""
    weekday = form.choice("weekday", {str(n): n for n in range(7)})
    opens = form.time("opens")
    closes = form.time("closes")
    kind = form.choice("kind", KINDS)
    valid_from = form.date("valid_from", required=False)
    valid_until = form.date("valid_until", required=False)
    if opens and closes and closes <= opens:
        form.error("closes", _("The closing time must be after the opening time."))
    if valid_from and valid_until and valid_until < valid_from:
        form.error("valid_until", _("The last day of the season must not be before its first day."))
    form.check()
    await lock_office(db, office)
    new = WeeklyHours(
        office_id=office.id,
        weekday=weekday,
        opens=opens,
        closes=closes,
        kind=kind,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    for existing in await weekly_hours(db, office):
        if (
            existing.weekday == weekday
            and existing.kind == kind
            and existing.opens < new.closes
            and new.opens < existing.closes
            and _seasons_overlap(existing, new)
        ):
            form.error("opens", _("These hours overlap %(other)s.", other=_describe(existing)))
            form.check()
    db.add(new)
    await db.flush()
    record_change(db, user, "weekly_hours.add", "weekly_hours", new.id, office.id, {"after": _snapshot(new)})
    return new


async def remove_weekly_interval(db: AsyncSession, office: Office, interval_id: int, user: User) -> None:
    interval = await db.get(WeeklyHours, interval_id)
    if interval is None or interval.office_id != office.id:
        raise NotFoundException("No such interval at this office.")
    before = _snapshot(interval)
    await db.delete(interval)
    await db.flush()
    record_change(db, user, "weekly_hours.remove", "weekly_hours", interval_id, office.id, {"before": before})


async def copy_monday(db: AsyncSession, office: Office, user: User) -> int:
    """Replace Tuesday to Friday with Monday's intervals (all seasons and kinds); returns how many
    intervals were written."""
    await lock_office(db, office)
    current = await weekly_hours(db, office)
    monday = [i for i in current if i.weekday == 0]
    if not monday:
        raise FormError({"": _("Monday has no opening hours to copy.")})
    replaced = [i for i in current if 1 <= i.weekday <= 4]
    for interval in replaced:
        await db.delete(interval)
    copies = [
        WeeklyHours(
            office_id=office.id,
            weekday=weekday,
            opens=m.opens,
            closes=m.closes,
            kind=m.kind,
            valid_from=m.valid_from,
            valid_until=m.valid_until,
        )
        for weekday in range(1, 5)
        for m in monday
    ]
    db.add_all(copies)
    await db.flush()
    record_change(
        db,
        user,
        "weekly_hours.copy_monday",
        "office",
        office.id,
        office.id,
        {"before": [_snapshot(i) for i in replaced], "after": [_snapshot(i) for i in copies]},
    )
    return len(copies)


async def closures(db: AsyncSession, office: Office, today: date, *, include_past: bool) -> list[Closure]:
    """The office's closures, soonest first: those not yet over, and with ``include_past`` all."""
    query = select(Closure).where(Closure.office_id == office.id).order_by(Closure.first_day, Closure.id)
    if not include_past:
        query = query.where(Closure.last_day >= today)
    return list(await db.scalars(query))


def _closure_snapshot(closure: Closure, intervals: list[ClosureInterval]) -> dict[str, object]:
    return {
        "first_day": closure.first_day,
        "last_day": closure.last_day,
        "reason": closure.reason,
        "intervals": [f"{i.opens:%H:%M}-{i.closes:%H:%M} {i.kind}" for i in intervals],
    }


def _special_intervals(form: Form) -> list[ClosureInterval]:
    rows: list[ClosureInterval] = []
    for row in range(SPECIAL_ROWS):
        opens_field, closes_field = f"special_opens_{row}", f"special_closes_{row}"
        if not form.raw(opens_field) and not form.raw(closes_field):
            continue
        opens, closes = form.time(opens_field), form.time(closes_field)
        kind = form.choice(f"special_kind_{row}", KINDS)
        if opens and closes and closes <= opens:
            form.error(closes_field, _("The closing time must be after the opening time."))
        elif opens and closes and kind:
            clash = next((r for r in rows if r.kind == kind and r.opens < closes and opens < r.closes), None)
            if clash is not None:
                form.error(
                    opens_field,
                    _(
                        "These hours overlap %(opens)s–%(closes)s.",
                        opens=i18n.format_time(clash.opens),
                        closes=i18n.format_time(clash.closes),
                    ),
                )
            rows.append(ClosureInterval(opens=opens, closes=closes, kind=kind))
    return rows


async def add_closure(db: AsyncSession, office: Office, form: Form, user: User) -> Closure:
    """Close the office from first_day to last_day, or open it on the special hours given."""
    first_day = form.date("first_day")
    last_day = form.date("last_day")
    reason = form.text("reason", required=True, max_length=200)
    intervals = _special_intervals(form)
    if first_day and last_day:
        if last_day < first_day:
            form.error("last_day", _("The last day must not be before the first day."))
        elif (last_day - first_day).days + 1 > MAX_CLOSURE_DAYS:
            form.error("last_day", _("A closure lasts at most %(days)s days.", days=MAX_CLOSURE_DAYS))
    form.check()
    closure = Closure(
        office_id=office.id,
        first_day=first_day,
        last_day=last_day,
        reason=reason,
        intervals=sorted(intervals, key=lambda i: (i.opens, i.kind)),
    )
    db.add(closure)
    await db.flush()
    record_change(
        db,
        user,
        "closure.add",
        "closure",
        closure.id,
        office.id,
        {"after": _closure_snapshot(closure, closure.intervals)},
    )
    return closure


async def remove_closure(db: AsyncSession, office: Office, closure_id: int, user: User) -> None:
    closure = await db.get(Closure, closure_id)
    if closure is None or closure.office_id != office.id:
        raise NotFoundException("No such closure at this office.")
    before = _closure_snapshot(closure, list(closure.intervals))
    await db.delete(closure)
    await db.flush()
    record_change(db, user, "closure.remove", "closure", closure_id, office.id, {"before": before})


async def preview(db: AsyncSession, office: Office, today: date) -> list[DayHours]:
    """The hours that result from everything above, for the next two weeks."""
    last = today + timedelta(days=PREVIEW_DAYS - 1)
    return hours_for_range(await office_hours(db, office, today, last), today, last)
