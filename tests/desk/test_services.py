"""The desk's list of visits: which bookings, in which order, on which day, and what a search finds."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from tests.desk.conftest import CANCELLED, DESK_NOW, HELD, SCRIPT_NAME, add_booking, at, seed_visits

from kontor.booking.models import Booking
from kontor.booking.references import format_reference
from kontor.desk.services import bookings_for_desk, desk_bookings, desk_office, desk_window
from kontor.offices.models import Office

TODAY = date(2026, 12, 15)
LAST_DAY = date(2026, 12, 29)


async def _seeded(write_session):  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        return await seed_visits(db)


async def _kista(db):  # type: ignore[no-untyped-def]
    return await desk_office(db, "kista")


def _names(visits) -> list[str]:  # type: ignore[no-untyped-def]
    return [visit.name for visit in visits]


async def test_today_and_the_coming_days_in_time_order(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    made = await _seeded(write_session)
    async with read_session() as db:
        kista = await _kista(db)
        assert desk_window(kista, DESK_NOW) == (TODAY, LAST_DAY)
        shown = await bookings_for_desk(db, kista, TODAY, LAST_DAY, "", DESK_NOW)

    # Same time: the catalogue's order (e-services before budget advice). No hold, no cancellation,
    # nothing of Bromma's.
    assert _names(shown.todays) == ["Anna Andersson", "Cecilia Berg", SCRIPT_NAME, "Åsa Öberg"]
    assert [(day.day, _names(day.bookings)) for day in shown.upcoming] == [
        (date(2026, 12, 22), ["David Dahl"]),
        (date(2026, 12, 29), ["Erik Ek"]),
    ]
    assert shown.upcoming_count == 2
    anna, cecilia, _script, asa = shown.todays
    assert anna.reference == format_reference(made["Anna Andersson"].reference)
    assert anna.starts_at == at(15, 9) and anna.starts_at.utcoffset() is not None
    assert (anna.status, anna.status_label, anna.language) == ("checked_in", "Checked in", "en")
    assert anna.need_labels == ["Interpreter"]
    assert cecilia.need_labels == ["Accessibility", "Help with computers"]
    assert (cecilia.status_label, cecilia.service.code) == ("No-show", "budget")
    assert (asa.channel_label, asa.language, asa.status_label) == ("Phone", "fi", "Booked")
    everything = _names(shown.todays) + [b.name for day in shown.upcoming for b in day.bookings]
    for absent in (CANCELLED, HELD, "Ingrid Bromma", "Fredrik Fors"):
        assert absent not in everything


async def test_served_visits_stay_and_the_window_is_respected(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    made = await _seeded(write_session)
    async with write_session() as db, db.begin():
        served = made["Åsa Öberg"].id
        await db.execute(update(Booking).where(Booking.id == served).values(status="served"))
    async with read_session() as db:
        kista = await _kista(db)
        shown = await desk_bookings(db, kista, "", DESK_NOW)
        assert shown.todays[-1].status_label == "Served"
        # A day later, Tuesday's visits are gone and the window reaches three weeks ahead no more.
        only_today = await bookings_for_desk(db, kista, date(2026, 12, 22), date(2026, 12, 22), "", at(22, 8))
        assert _names(only_today.todays) == ["David Dahl"] and only_today.upcoming == []
        later = await bookings_for_desk(db, kista, TODAY, date(2027, 1, 5), "", DESK_NOW)
        assert _names(later.upcoming[-1].bookings) == ["Fredrik Fors"]


async def test_the_day_is_the_office_s_local_day(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        # 00:30 in Stockholm is still the day before in UTC, 23:30 the day before is not today.
        await add_booking(db, "kista", "eservice", at(15, 0, 30), "Nattuggla")
        await add_booking(db, "kista", "eservice", at(14, 23, 30), "Sen kväll")
        await add_booking(db, "kista", "eservice", at(29, 23, 30), "Sista kvällen")
        await add_booking(db, "kista", "eservice", at(30, 0, 10), "För sent")
    async with read_session() as db:
        shown = await desk_bookings(db, await _kista(db), "", DESK_NOW)
    assert _names(shown.todays) == ["Nattuggla"]
    assert [_names(day.bookings) for day in shown.upcoming] == [["Sista kvällen"]]


async def test_search_by_reference_or_part_of_the_name(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    made = await _seeded(write_session)
    reference = format_reference(made["Åsa Öberg"].reference)
    async with read_session() as db:
        kista = await _kista(db)

        async def found(query: str) -> list[str]:
            shown = await bookings_for_desk(db, kista, TODAY, LAST_DAY, query, DESK_NOW)
            return _names(shown.todays) + [b.name for day in shown.upcoming for b in day.bookings]

        for typed in (reference, reference.lower(), reference.replace("-", ""), f"  {reference.lower()} "):
            assert await found(typed) == ["Åsa Öberg"], typed
        assert await found("åsa") == ["Åsa Öberg"]  # not ASCII: folded in Python, on SQLite too
        assert await found("ÖBERG") == ["Åsa Öberg"]
        assert await found("anders") == ["Anna Andersson"]
        assert await found("dahl") == ["David Dahl"]  # the upcoming list is searched too
        assert await found("a") == [
            "Anna Andersson",
            "Cecilia Berg",
            SCRIPT_NAME,  # "alert"
            "Åsa Öberg",
            "David Dahl",
        ]
        assert await found("avbokad") == []  # cancelled
        assert await found(format_reference(made[CANCELLED].reference)) == []
        assert await found("Bromma") == []  # another office's visitor
        assert await found("%") == [] and await found("_") == []
        shown = await bookings_for_desk(db, kista, TODAY, LAST_DAY, "  dahl ", DESK_NOW)
        assert shown.query == "dahl" and shown.todays == []


async def test_only_active_offices_have_a_desk(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        await db.execute(update(Office).where(Office.slug == "tensta").values(active=False))
    async with read_session() as db:
        assert (await desk_office(db, "kista")).slug == "kista"
        assert await desk_office(db, "tensta") is None
        assert await desk_office(db, "atlantis") is None
