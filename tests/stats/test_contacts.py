"""The contact center's figures from hand-built contacts whose right answers are known: outcomes per
office, categories, booked visits that took place, call-backs on time; edges, DST days, empty ranges."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kontor.contacts.models import Category
from kontor.stats.contacts import (
    CategoryContacts,
    ContactVisits,
    OfficeCallbacks,
    OfficeContacts,
    OutcomeCounts,
    callbacks_on_time,
    contact_categories,
    contact_outcomes,
    visits_from_contacts,
)
from kontor.stats.query import StatsQuery
from tests.stats.support_b import EDGE_IDS, EDGES, FIRST, LAST, at, booking, contact, move_office, store

NOW = at("2026-03-05", "12:00")  # Thursday noon of the week FIRST..LAST


def _outcomes(**counts: int) -> OutcomeCounts:
    return OutcomeCounts.of(counts)


def _query(city: Any, **overrides: Any) -> StatsQuery:
    arguments: dict[str, Any] = {
        "first": FIRST,
        "last": LAST,
        "office_ids": (city.kista.id, city.tensta.id, city.bromma.id),
    } | overrides
    return StatsQuery(**arguments)


async def _week(city: Any, write_session: Any) -> None:
    """The week's calls. Kista: 2 solved, 5 booked visits (4 bookings: served, checked in, no-show, still
    to come; one booking logged twice), 1 forwarded, 5 call-backs created in the week (+1 created the week
    before, due in it). Tensta: 1 forwarded, 1 call-back. Bromma: none. Not routed: 1 in, 1 just after."""
    kista, tensta = city.kista.id, city.tensta.id
    eservice = city.services["eservice"].id
    served, checked_in, no_show, upcoming = (
        booking(kista, eservice, at(day, "10:00"), status=status)
        for day, status in (
            ("2026-03-04", "served"),
            ("2026-03-05", "checked_in"),
            ("2026-03-05", "no_show"),
            ("2026-03-12", "booked"),
        )
    )
    await store(write_session, served, checked_in, no_show, upcoming)

    def visit(booked: Any, day: str) -> Any:
        return contact(
            kista, at(day, "11:00"), outcome="visit_booked", category="eservices", service_id=eservice,
            booking_id=booked.id,
        )  # fmt: skip

    def callback(
        office: int, created: str, due: str, done: str | None = None, category: str = "benefits"
    ) -> Any:
        return contact(
            office, at(*created.split()), outcome="callback", category=category,
            callback_due_at=at(*due.split()), callback_done_at=at(*done.split()) if done else None,
        )  # fmt: skip

    await store(
        write_session,
        contact(kista, at("2026-03-02", "09:00"), outcome="solved", category="information"),
        contact(kista, at("2026-03-06", "16:00"), outcome="solved", category="eservices"),
        contact(kista, at("2026-03-01", "23:59"), outcome="solved", category="information"),  # the day before
        visit(served, "2026-03-02"),
        visit(served, "2026-03-03"),  # a second call about the same booking
        visit(checked_in, "2026-03-03"),
        visit(no_show, "2026-03-04"),
        visit(upcoming, "2026-03-05"),
        contact(kista, at("2026-03-04", "15:00"), outcome="forwarded", category="housing"),
        callback(kista, "2026-03-02 09:00", "2026-03-03 12:00", "2026-03-03 12:00"),  # on the dot: on time
        callback(kista, "2026-03-02 10:00", "2026-03-03 12:00", "2026-03-03 12:01"),  # late
        callback(kista, "2026-03-03 09:00", "2026-03-04 12:00"),  # open, overdue at NOW
        callback(kista, "2026-03-04 09:00", "2026-03-06 12:00"),  # open, not yet due at NOW
        callback(
            kista, "2026-02-27 15:00", "2026-03-02 09:00", "2026-03-02 08:00"
        ),  # asked for the week before
        callback(kista, "2026-03-06 10:00", "2026-03-09 12:00"),  # due the week after
        contact(tensta, at("2026-03-03", "10:00"), outcome="forwarded", category="housing"),
        callback(tensta, "2026-03-02 10:00", "2026-03-03 10:00", "2026-03-02 14:00", category="budget"),
        contact(None, at("2026-03-06", "23:30"), outcome="solved", category="other"),
        contact(None, at("2026-03-07", "00:00"), outcome="solved", category="other"),  # the day after
    )


KISTA = _outcomes(solved=2, visit_booked=5, forwarded=1, callback=5)
TENSTA = _outcomes(forwarded=1, callback=1)
UNROUTED = _outcomes(solved=1)


@pytest.mark.parametrize(
    ("unrouted_zone", "rows", "total"),
    [
        (
            None,
            {"kista": KISTA, "tensta": TENSTA, "bromma": OutcomeCounts()},
            _outcomes(solved=2, visit_booked=5, forwarded=2, callback=6),
        ),
        (
            "Europe/Stockholm",
            {"kista": KISTA, "tensta": TENSTA, "bromma": OutcomeCounts(), None: UNROUTED},
            _outcomes(solved=3, visit_booked=5, forwarded=2, callback=6),
        ),
        # In Helsinki the late call on Friday is Saturday already.
        (
            "Europe/Helsinki",
            {"kista": KISTA, "tensta": TENSTA, "bromma": OutcomeCounts(), None: OutcomeCounts()},
            _outcomes(solved=2, visit_booked=5, forwarded=2, callback=6),
        ),
    ],
)
async def test_contacts_by_office_and_outcome(
    city, write_session, read_session, unrouted_zone, rows, total
) -> None:  # type: ignore[no-untyped-def]
    await _week(city, write_session)
    names = {city.kista.id: "kista", city.tensta.id: "tensta", city.bromma.id: "bromma", None: None}
    async with read_session() as db:
        found = await contact_outcomes(db, _query(city), unrouted_zone=unrouted_zone)
    assert {names[row.office_id]: row.counts for row in found.by_office} == rows
    assert [row.office_id for row in found.by_office][:3] == [city.kista.id, city.tensta.id, city.bromma.id]
    assert found.total == total
    assert KISTA.total == 13


async def test_contacts_by_category_and_outcome(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    await _week(city, write_session)
    async with read_session() as db:
        found = await contact_categories(db, _query(city))
        with_unrouted = await contact_categories(db, _query(city), unrouted_zone="Europe/Stockholm")
    assert found == (
        CategoryContacts("information", _outcomes(solved=1)),
        CategoryContacts("eservices", _outcomes(solved=1, visit_booked=5)),
        CategoryContacts("forms", OutcomeCounts()),
        CategoryContacts("benefits", _outcomes(callback=5)),
        CategoryContacts("housing", _outcomes(forwarded=2)),
        CategoryContacts("budget", _outcomes(callback=1)),
        CategoryContacts("other", OutcomeCounts()),
    )
    assert [row.category for row in found] == [category.value for category in Category]
    assert with_unrouted[-1] == CategoryContacts("other", _outcomes(solved=1))


async def test_a_category_outside_the_catalogue_is_still_counted_after_the_known_ones(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    await store(write_session, contact(city.kista.id, at("2026-03-03", "10:00"), category="parking"))
    async with read_session() as db:
        found = await contact_categories(db, _query(city))
    assert found[-1] == CategoryContacts("parking", _outcomes(solved=1))
    assert len(found) == len(Category) + 1


async def test_visits_booked_by_the_contact_center_and_how_many_took_place(
    city, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    await _week(city, write_session)
    async with read_session() as db:
        found = await visits_from_contacts(db, _query(city))
    assert found == (
        # Four bookings (one logged in two calls); served and checked in took place; one is to come.
        ContactVisits(city.kista.id, booked=4, visited=2, pending=1, share=0.5),
        ContactVisits(city.tensta.id, booked=0, visited=0, pending=0, share=None),
        ContactVisits(city.bromma.id, booked=0, visited=0, pending=0, share=None),
    )


async def test_call_backs_due_in_the_range_and_done_on_time(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    await _week(city, write_session)
    async with read_session() as db:
        found = await callbacks_on_time(db, _query(city), now=NOW)
        later = await callbacks_on_time(db, _query(city), now=at("2026-03-07", "12:00"))
    assert found == (
        OfficeCallbacks(
            city.kista.id, due=5, done=3, on_time=2, late=1, open=2, overdue=1, on_time_share=0.4
        ),
        OfficeCallbacks(
            city.tensta.id, due=1, done=1, on_time=1, late=0, open=0, overdue=0, on_time_share=1.0
        ),
        OfficeCallbacks(
            city.bromma.id, due=0, done=0, on_time=0, late=0, open=0, overdue=0, on_time_share=None
        ),
    )
    assert later[0].overdue == 2  # the Friday call-back is overdue by Saturday


@pytest.mark.parametrize(
    ("services", "kista", "visits"),
    [
        (("eservice",), _outcomes(visit_booked=5), 4),  # only the calls that booked a visit name a service
        (("budget",), OutcomeCounts(), 0),
    ],
)
async def test_a_service_filter_keeps_contacts_about_those_services(
    city, write_session, read_session, services, kista, visits
) -> None:  # type: ignore[no-untyped-def]
    await _week(city, write_session)
    query = _query(city, service_ids=tuple(city.services[code].id for code in services))
    async with read_session() as db:
        outcomes = await contact_outcomes(db, query, unrouted_zone="Europe/Stockholm")
        booked = await visits_from_contacts(db, query)
        callbacks = await callbacks_on_time(db, query, now=NOW)
    assert outcomes.by_office[0] == OfficeContacts(city.kista.id, kista)
    assert outcomes.total == kista
    assert booked[0].booked == visits
    assert all(row.due == 0 for row in callbacks)


@pytest.mark.parametrize(
    ("first", "last", "office_ids"),
    [(date(2026, 4, 1), date(2026, 4, 30), "all"), (FIRST, LAST, "none")],
)
async def test_an_empty_range_has_zeros_and_no_shares(
    city, write_session, read_session, first, last, office_ids
) -> None:  # type: ignore[no-untyped-def]
    await _week(city, write_session)
    ids = (city.kista.id, city.tensta.id, city.bromma.id) if office_ids == "all" else ()
    query = StatsQuery(first, last, ids)
    async with read_session() as db:
        outcomes = await contact_outcomes(db, query)
        categories = await contact_categories(db, query)
        booked = await visits_from_contacts(db, query)
        callbacks = await callbacks_on_time(db, query, now=NOW)
    assert outcomes.by_office == tuple(OfficeContacts(office_id, OutcomeCounts()) for office_id in ids)
    assert outcomes.total == OutcomeCounts()
    assert all(row.counts == OutcomeCounts() for row in categories)
    assert booked == tuple(ContactVisits(office_id, 0, 0, 0, None) for office_id in ids)
    assert callbacks == tuple(OfficeCallbacks(office_id, 0, 0, 0, 0, 0, 0, None) for office_id in ids)


@pytest.mark.parametrize(("first", "last", "zone", "instant", "inside"), EDGES, ids=EDGE_IDS)
async def test_a_contact_counts_on_its_office_s_local_days(  # type: ignore[no-untyped-def]
    city,
    write_session,
    read_session,
    first: date,
    last: date,
    zone: ZoneInfo,
    instant: datetime,
    inside: bool,
) -> None:
    """The day a call was logged dates it for the outcomes; the day a call-back is due dates it there."""
    await move_office(write_session, city.kista.id, zone)
    eservice = city.services["eservice"].id
    visit = booking(city.kista.id, eservice, at("2026-01-15", "10:00"), status="served")
    await store(write_session, visit)
    await store(
        write_session,
        contact(city.kista.id, instant, outcome="visit_booked", service_id=eservice, booking_id=visit.id),
        contact(
            city.kista.id, at("2026-01-01", "10:00"), outcome="callback",
            callback_due_at=instant, callback_done_at=instant,
        ),
        contact(None, instant, outcome="solved"),
    )  # fmt: skip
    query = StatsQuery(first, last, (city.kista.id,))
    async with read_session() as db:
        outcomes = await contact_outcomes(db, query, unrouted_zone=zone.key)
        booked = await visits_from_contacts(db, query)
        callbacks = await callbacks_on_time(db, query, now=NOW)
    counted = int(inside)
    assert outcomes.by_office == (
        OfficeContacts(city.kista.id, _outcomes(visit_booked=counted)),
        OfficeContacts(None, _outcomes(solved=counted)),
    )
    assert booked[0] == ContactVisits(city.kista.id, counted, counted, 0, 1.0 if inside else None)
    assert (callbacks[0].due, callbacks[0].on_time) == (counted, counted)
