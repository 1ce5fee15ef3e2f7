"""A manager edits the office's weekly hours and closures; the page, the database and the audit agree."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import select
from tests.helpers import post_form

from kontor.hours.models import Closure, WeeklyHours

SATURDAY = {"weekday": "5", "opens": "10:00", "closes": "14:00", "kind": "drop_in"}


def weekly_rows(fetch, weekday, office_id=None):
    """(office_id, opens, closes, kind, valid_from, valid_until) of a weekday, of one office or all."""

    async def work(db):
        query = select(WeeklyHours).where(WeeklyHours.weekday == weekday).order_by(WeeklyHours.id)
        if office_id is not None:
            query = query.where(WeeklyHours.office_id == office_id)
        return [
            (r.office_id, r.opens, r.closes, r.kind, r.valid_from, r.valid_until)
            for r in await db.scalars(query)
        ]

    return fetch(work)


def closures(fetch, office_id):
    async def work(db):
        found = await db.scalars(
            select(Closure).where(Closure.office_id == office_id).order_by(Closure.first_day)
        )
        return [
            (c.id, c.first_day, c.last_day, c.reason, [(i.opens, i.closes, i.kind) for i in c.intervals])
            for c in found
        ]

    return fetch(work)


def test_a_manager_adds_weekly_hours(as_manager, city, fetch, audit_entries):
    response = post_form(as_manager, "/admin/offices/kista/hours", SATURDAY)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/offices/kista?saved=hours#hours"

    page = as_manager.get(response.headers["location"])
    assert "Saved." in page.text
    assert "10:00–14:00" in page.text
    assert weekly_rows(fetch, 5) == [(city.kista.id, time(10), time(14), "drop_in", None, None)]
    [entry] = audit_entries("weekly_hours.add")
    assert (entry.actor, entry.channel, entry.office_id) == ("manager", "web", city.kista.id)
    assert entry.changes["after"]["opens"] == "10:00:00"


def test_closing_before_opening_is_refused_and_nothing_is_written(as_manager, fetch, audit_entries):
    response = post_form(
        as_manager, "/admin/offices/kista/hours", {**SATURDAY, "opens": "14:00", "closes": "10:00"}
    )
    assert response.status_code == 400
    assert "The closing time must be after the opening time." in response.text
    assert 'id="hours-closes"' in response.text and 'aria-invalid="true"' in response.text
    assert 'value="14:00"' in response.text  # what was typed is kept
    assert weekly_rows(fetch, 5) == []
    assert audit_entries("weekly_hours.add") == []


def test_bad_times_and_seasons_are_refused(as_manager, fetch):
    bad = {**SATURDAY, "opens": "25:00", "valid_from": "2026-08-01", "valid_until": "2026-07-01"}
    response = post_form(as_manager, "/admin/offices/kista/hours", bad)
    assert response.status_code == 400
    assert "HH:MM" in response.text
    assert "must not be before its first day" in response.text
    assert weekly_rows(fetch, 5) == []


def test_overlapping_hours_of_the_same_kind_are_refused(as_manager, city, fetch):
    # Monday 09:00–12:00 drop-in exists from 2026-08-01; 11:00–13:00 overlaps it.
    overlap = {
        "weekday": "0",
        "opens": "11:00",
        "closes": "13:00",
        "kind": "drop_in",
        "valid_from": "2026-09-01",
    }
    response = post_form(as_manager, "/admin/offices/kista/hours", overlap)
    assert response.status_code == 400
    assert "These hours overlap" in response.text
    assert "09:00–12:00" in response.text
    assert len(weekly_rows(fetch, 0, city.kista.id)) == 5


def test_the_same_hours_in_another_season_or_kind_are_allowed(as_manager, city, fetch):
    june = {
        "weekday": "0",
        "opens": "17:00",
        "closes": "19:00",
        "kind": "drop_in",
        "valid_from": "2026-07-01",
        "valid_until": "2026-07-31",
    }
    assert post_form(as_manager, "/admin/offices/kista/hours", june).status_code == 303
    appointments = {"weekday": "0", "opens": "09:00", "closes": "12:00", "kind": "appointment"}
    assert post_form(as_manager, "/admin/offices/kista/hours", appointments).status_code == 303
    assert len(weekly_rows(fetch, 0, city.kista.id)) == 7


def test_removing_an_interval(as_manager, city, fetch, audit_entries):
    async def appointment_id(db):
        return await db.scalar(select(WeeklyHours.id).where(WeeklyHours.kind == "appointment"))

    interval_id = fetch(appointment_id)
    response = post_form(as_manager, f"/admin/offices/kista/hours/{interval_id}/delete")
    assert response.status_code == 303
    assert fetch(appointment_id) is None
    [entry] = audit_entries("weekly_hours.remove")
    assert entry.changes["before"]["kind"] == "appointment" and entry.office_id == city.kista.id


def test_copy_monday_to_the_other_weekdays(as_manager, city, fetch, audit_entries):
    monday = set(weekly_rows(fetch, 0, city.kista.id))
    assert post_form(as_manager, "/admin/offices/kista/hours/copy-monday").status_code == 303
    for weekday in range(1, 5):  # Wednesday's evening and Tuesday's appointments are gone
        assert set(weekly_rows(fetch, weekday, city.kista.id)) == monday
    assert len(weekly_rows(fetch, 1)) == len(monday) + 2  # Tensta's and Bromma's Tuesdays are untouched
    assert len(audit_entries("weekly_hours.copy_monday")) == 1


def test_htmx_gets_the_section_alone_with_the_new_preview(as_manager):
    response = post_form(as_manager, "/admin/offices/kista/hours", SATURDAY, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="hours"' in response.text and "Saved." in response.text
    assert 'id="preview"' in response.text and 'hx-swap-oob="true"' in response.text

    section = as_manager.get("/admin/offices/kista?section=closures", headers={"HX-Request": "true"})
    assert section.status_code == 200
    assert "<html" not in section.text
    assert section.text.lstrip().startswith('<section id="closures"')


def test_an_htmx_error_answer_is_the_section_with_the_error(as_manager):
    bad = {**SATURDAY, "closes": "09:00"}
    response = post_form(as_manager, "/admin/offices/kista/hours", bad, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "<html" not in response.text
    assert "The closing time must be after the opening time." in response.text


def test_special_hours_on_christmas_eve(as_manager, city, fetch, audit_entries):
    form = {
        "first_day": "2026-12-24",
        "last_day": "2026-12-24",
        "reason": "Julafton: öppet förmiddag",
        "special_opens_0": "10:00",
        "special_closes_0": "13:00",
        "special_kind_0": "drop_in",
    }
    response = post_form(as_manager, "/admin/offices/kista/closures", form)
    assert response.status_code == 303
    assert response.headers["location"].endswith("?saved=closures#closures")
    [(_id, first, last, reason, intervals)] = closures(fetch, city.kista.id)
    assert (first, last, reason) == (date(2026, 12, 24), date(2026, 12, 24), "Julafton: öppet förmiddag")
    assert intervals == [(time(10), time(13), "drop_in")]
    assert audit_entries("closure.add")[0].actor == "manager"

    # The preview (the clock says 19 December) shows the special hours on a de facto holiday.
    page = as_manager.get("/admin/offices/kista?lang=en").text
    preview = page[page.index('id="preview"') :]
    christmas_eve = preview[preview.index("Thursday 24 December") :]
    assert "10:00–13:00" in christmas_eve[:300]
    assert "Julafton: öppet förmiddag" in christmas_eve[:400]


def test_a_closure_closes_the_office_and_can_be_removed(as_manager, city, fetch, audit_entries):
    form = {"first_day": "2026-12-21", "last_day": "2026-12-23", "reason": "Personalutbildning"}
    assert post_form(as_manager, "/admin/offices/kista/closures", form).status_code == 303
    [(closure_id, _first, _last, _reason, intervals)] = closures(fetch, city.kista.id)
    assert intervals == []
    page = as_manager.get("/admin/offices/kista?lang=en").text
    assert "Personalutbildning" in page

    assert post_form(as_manager, f"/admin/offices/kista/closures/{closure_id}/delete").status_code == 303
    assert closures(fetch, city.kista.id) == []
    assert audit_entries("closure.remove")[0].changes["before"]["reason"] == "Personalutbildning"


def test_invalid_closures_are_refused(as_manager, city, fetch):
    cases = [
        (
            {"first_day": "2026-12-24", "last_day": "2026-12-20", "reason": "x"},
            "must not be before the first day",
        ),
        ({"first_day": "2026-01-01", "last_day": "2027-01-02", "reason": "x"}, "at most 366 days"),
        ({"first_day": "2026-12-24", "last_day": "2026-12-24", "reason": ""}, "Please fill in this field."),
        ({"first_day": "24/12", "last_day": "2026-12-24", "reason": "x"}, "YYYY-MM-DD"),
        (
            {
                "first_day": "2026-12-24",
                "last_day": "2026-12-24",
                "reason": "x",
                "special_opens_1": "13:00",
                "special_closes_1": "10:00",
                "special_kind_1": "drop_in",
            },
            "The closing time must be after",
        ),
    ]
    for form, message in cases:
        response = post_form(as_manager, "/admin/offices/kista/closures", form)
        assert response.status_code == 400, form
        assert message in response.text, form
    assert closures(fetch, city.kista.id) == []


def test_a_past_closure_is_listed_only_on_request(as_manager, city):
    form = {"first_day": "2026-12-01", "last_day": "2026-12-02", "reason": "Flytt av kontoret"}
    assert post_form(as_manager, "/admin/offices/kista/closures", form).status_code == 303
    assert "Flytt av kontoret" not in as_manager.get("/admin/offices/kista").text
    assert "Flytt av kontoret" in as_manager.get("/admin/offices/kista?past=1").text
