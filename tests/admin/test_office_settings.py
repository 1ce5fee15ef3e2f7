"""Details, services offered and counters of an office; adding offices and districts."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from tests.helpers import post_form

from kontor.audit.models import Channel
from kontor.booking.models import Booking
from kontor.booking.services import book
from kontor.offices.models import Counter, District, Office, OfficeService, Service

KISTA_DETAILS = {
    "name": "Medborgarkontor Kista", "street": "Kistagången 1", "postal_code": "164 40", "city": "Kista",
    "phone": "08-000 00 01", "email": "kista@example.org", "languages": ["sv", "en", "ti"],
    "other_languages": "de", "accessibility": "Hiss.", "directions": "Tunnelbana till Kista.",
    "timezone": "Europe/Stockholm",
}  # fmt: skip


def office(fetch, slug):
    async def work(db):
        return await db.scalar(select(Office).where(Office.slug == slug))

    return fetch(work)


def offering(fetch, office_id):
    async def work(db):
        rows = await db.execute(
            select(Service.code, OfficeService.active, OfficeService.bookable, OfficeService.walk_in)
            .join(Service, Service.id == OfficeService.service_id)
            .where(OfficeService.office_id == office_id)
        )
        return {code: (active, bookable, walk_in) for code, active, bookable, walk_in in rows}

    return fetch(work)


def counters(fetch, office_id):
    async def work(db):
        rows = await db.scalars(
            select(Counter).where(Counter.office_id == office_id).order_by(Counter.number)
        )
        return [(c.number, c.name, c.active) for c in rows]

    return fetch(work)


def test_a_manager_edits_the_details(as_manager, fetch, audit_entries):
    response = post_form(as_manager, "/admin/offices/kista/details", KISTA_DETAILS)
    assert response.status_code == 303
    kista = office(fetch, "kista")
    assert kista.languages == ["sv", "en", "ti", "de"]
    assert kista.directions == "Tunnelbana till Kista."
    assert kista.active  # a manager's form has no "active" box, and leaving it out changes nothing
    [entry] = audit_entries("office.update")
    assert entry.changes["languages"] == {
        "before": ["sv", "en", "fi", "ar"],
        "after": ["sv", "en", "ti", "de"],
    }
    assert "name" not in entry.changes


def test_invalid_details_are_refused(as_manager, fetch):
    bad = {
        **KISTA_DETAILS,
        "name": "",
        "timezone": "Europe/Kista",
        "email": "not-an-address",
        "other_languages": "x1",
    }
    response = post_form(as_manager, "/admin/offices/kista/details", bad)
    assert response.status_code == 400
    for message in ("Please fill in this field.", "Europe/Stockholm", "name@example.org", "ISO 639"):
        assert message in response.text
    assert office(fetch, "kista").timezone == "Europe/Stockholm"


def test_an_admin_can_deactivate_an_office(as_admin, city, fetch):
    form = {**KISTA_DETAILS, "district": str(city.bromma.district_id)}
    assert post_form(as_admin, "/admin/offices/kista/details", form).status_code == 303
    kista = office(fetch, "kista")
    assert not kista.active
    assert kista.district_id == city.bromma.district_id


def test_the_offering_is_saved_in_one_form(as_manager, city, fetch, audit_entries):
    # Kista offers all four; drop consumer advice, stop booking for e-services, keep the rest.
    form = {
        "offered_eservice": "on", "walk_in_eservice": "on",
        "offered_budget": "on", "bookable_budget": "on", "walk_in_budget": "on",
        "offered_finnish": "on", "bookable_finnish": "on", "walk_in_finnish": "on",
    }  # fmt: skip
    response = post_form(as_manager, "/admin/offices/kista/offering", form)
    assert response.status_code == 303
    assert offering(fetch, city.kista.id) == {
        "eservice": (True, False, True),
        "budget": (True, True, True),  # walk-in is ruled out by the catalogue: not on the form, not changed
        "consumer": (False, True, False),
        "finnish": (True, True, True),
    }
    [entry] = audit_entries("offering.update")
    assert set(entry.changes) == {"eservice", "consumer"}


def test_an_offered_service_needs_booking_or_walk_in(as_manager, city, fetch):
    form = {"offered_eservice": "on", "offered_consumer": "on", "bookable_consumer": "on"}
    response = post_form(as_manager, "/admin/offices/kista/offering", form)
    assert response.status_code == 400
    assert "for booking, for walk-ins or both" in response.text
    assert offering(fetch, city.kista.id)["eservice"] == (True, True, True)


def test_offering_a_service_for_the_first_time(as_admin, city, fetch):
    # Tensta offers e-services and consumer advice; add budget advice, bookable there.
    form = {
        "offered_eservice": "on",
        "bookable_eservice": "on",
        "walk_in_eservice": "on",
        "offered_consumer": "on",
        "walk_in_consumer": "on",
        "offered_budget": "on",
        "bookable_budget": "on",
    }
    assert post_form(as_admin, "/admin/offices/tensta/offering", form).status_code == 303
    assert offering(fetch, city.tensta.id)["budget"] == (True, True, False)
    page = as_admin.get("/admin/offices/tensta?lang=en").text
    assert "Not bookable in the catalogue" in page  # consumer advice cannot be booked anywhere


def test_counters_are_added_renamed_and_taken_out_of_use(as_manager, city, fetch, audit_entries):
    response = post_form(as_manager, "/admin/offices/kista/counters", {"name": "Lucka 3 (rullstol)"})
    assert response.status_code == 303
    assert counters(fetch, city.kista.id)[-1] == (3, "Lucka 3 (rullstol)", True)
    assert audit_entries("counter.add")[0].changes["number"] == 3

    async def counter_id(db):
        return await db.scalar(
            select(Counter.id).where(Counter.office_id == city.kista.id, Counter.number == 1)
        )

    path = f"/admin/offices/kista/counters/{fetch(counter_id)}"
    assert post_form(as_manager, path, {"action": "rename", "name": "Entrédisken"}).status_code == 303
    assert post_form(as_manager, path, {"action": "deactivate"}).status_code == 303
    assert counters(fetch, city.kista.id)[0] == (1, "Entrédisken", False)
    assert post_form(as_manager, path, {"action": "reactivate"}).status_code == 303
    assert counters(fetch, city.kista.id)[0] == (1, "Entrédisken", True)
    # A number is never reused: the next counter is 4 even with 3 taken out of use.
    assert post_form(as_manager, "/admin/offices/kista/counters", {"name": ""}).status_code == 303
    assert [n for n, _name, _active in counters(fetch, city.kista.id)] == [1, 2, 3, 4]


def test_a_counter_of_another_office_is_not_found(as_manager, city, fetch):
    async def bromma_counter(db):
        return await db.scalar(select(Counter.id).where(Counter.office_id == city.bromma.id))

    response = post_form(
        as_manager, f"/admin/offices/kista/counters/{fetch(bromma_counter)}", {"action": "deactivate"}
    )
    assert response.status_code == 404


def test_an_admin_adds_a_district_and_an_office(as_admin, fetch, audit_entries):
    response = post_form(
        as_admin, "/admin/districts", {"district_name": "Skärholmen", "district_slug": "skarholmen"}
    )
    assert response.status_code == 303

    async def district(db):
        return await db.scalar(select(District).where(District.slug == "skarholmen"))

    skarholmen = fetch(district)
    assert skarholmen.name == "Skärholmen"
    response = post_form(
        as_admin,
        "/admin/offices",
        {"name": "Medborgarkontor Skärholmen", "slug": "skarholmen", "district": str(skarholmen.id)},
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/offices/skarholmen")
    created = office(fetch, "skarholmen")
    assert (created.name, created.district_id, created.timezone) == (
        "Medborgarkontor Skärholmen",
        skarholmen.id,
        "Europe/Stockholm",
    )
    assert as_admin.get("/admin/offices/skarholmen").status_code == 200
    assert len(audit_entries("district.create")) == 1 and len(audit_entries("office.create")) == 1


def test_slugs_must_be_well_formed_and_unique(as_admin, city, fetch):
    district = str(city.kista.district_id)
    taken = post_form(as_admin, "/admin/offices", {"name": "Kista 2", "slug": "kista", "district": district})
    assert taken.status_code == 400
    assert "is taken" in taken.text
    assert 'id="office-slug"' in taken.text and 'aria-invalid="true"' in taken.text
    malformed = post_form(
        as_admin, "/admin/offices", {"name": "X", "slug": "Kista Centrum", "district": district}
    )
    assert malformed.status_code == 400
    assert "lower-case letters" in malformed.text
    twice = post_form(as_admin, "/admin/districts", {"district_name": "B", "district_slug": "bromma"})
    assert twice.status_code == 400 and "is taken" in twice.text

    async def offices(db):
        return len(list(await db.scalars(select(Office))))

    assert fetch(offices) == 3


# --- seats per slot ---------------------------------------------------------------------------

STOCKHOLM = ZoneInfo("Europe/Stockholm")
KISTA_OFFERING = {
    "offered_eservice": "on", "bookable_eservice": "on", "walk_in_eservice": "on", "seats_eservice": "1",
    "offered_budget": "on", "bookable_budget": "on", "seats_budget": "1",
    "offered_consumer": "on", "walk_in_consumer": "on",
    "offered_finnish": "on", "bookable_finnish": "on", "walk_in_finnish": "on", "seats_finnish": "1",
}  # fmt: skip
TUESDAY_SLOTS = {"service": "eservice", "from": "2026-12-22", "to": "2026-12-22"}


def seats(fetch, office_id):
    async def work(db):
        rows = await db.execute(
            select(Service.code, OfficeService.seats)
            .join(Service, Service.id == OfficeService.service_id)
            .where(OfficeService.office_id == office_id)
        )
        return dict(rows.all())

    return fetch(work)


def book_visits(fetch, *starts):
    """Book e-service visits at Kista (booked on 14 December, before the admin's clock)."""

    async def work(db):
        made = []
        for number, start in enumerate(starts):
            booking, _token = await book(
                db, office_slug="kista", service_code="eservice", start=start, name=f"Besökare {number}",
                email=f"visitor{number}@example.se", channel=Channel.WEB, actor="resident",
                now=datetime(2026, 12, 14, 8, tzinfo=STOCKHOLM),
            )  # fmt: skip
            made.append((booking.id, booking.seat))
        return made

    return fetch(work)


def test_a_manager_sets_the_seats_per_slot(as_manager, city, fetch, audit_entries):
    page = as_manager.get("/admin/offices/kista")
    assert 'name="seats_eservice"' in page.text and 'name="seats_consumer"' not in page.text  # walk-in only
    response = post_form(
        as_manager, "/admin/offices/kista/offering", {**KISTA_OFFERING, "seats_eservice": "3"}
    )
    assert response.status_code == 303
    assert seats(fetch, city.kista.id) == {"eservice": 3, "budget": 1, "consumer": 1, "finnish": 1}
    [entry] = audit_entries("offering.update")
    assert set(entry.changes) == {"eservice"}
    assert (entry.changes["eservice"]["before"]["seats"], entry.changes["eservice"]["after"]["seats"]) == (
        1,
        3,
    )
    assert 'value="3"' in as_manager.get("/admin/offices/kista").text
    # Booking sees it at once: three visits fit in each slot now.
    slots = as_manager.get("/api/v1/offices/kista/slots", params=TUESDAY_SLOTS).json()
    assert {slot["seats_left"] for slot in slots} == {3}


def test_seats_are_a_whole_number_from_1_to_50(as_manager, city, fetch, audit_entries):
    for typed in ("0", "51", "many", "2.5"):
        response = post_form(
            as_manager, "/admin/offices/kista/offering", {**KISTA_OFFERING, "seats_eservice": typed}
        )
        assert response.status_code == 400, typed
        assert "Seats for Help with e-services: enter a whole number from 1 to 50." in response.text
        assert 'id="offering-seats_eservice-error"' in response.text
        assert re.search(r'id="offering-seats_eservice"[^>]*aria-invalid="true"', response.text)
        assert f'value="{typed}"' in response.text  # what was typed is shown again
    fragment = post_form(
        as_manager,
        "/admin/offices/kista/offering",
        {**KISTA_OFFERING, "seats_budget": "99"},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 400 and "<html" not in fragment.text
    assert 'id="offering-seats_budget-error"' in fragment.text
    assert seats(fetch, city.kista.id)["eservice"] == 1 and audit_entries("offering.update") == []
    # Left out or empty, the number stays as it was.
    unchanged = {key: value for key, value in KISTA_OFFERING.items() if key != "seats_budget"}
    assert (
        post_form(as_manager, "/admin/offices/kista/offering", unchanged | {"seats_eservice": ""}).status_code
        == 303
    )
    assert seats(fetch, city.kista.id) == {"eservice": 1, "budget": 1, "consumer": 1, "finnish": 1}


def test_seats_cannot_drop_below_the_visits_booked(as_manager, city, fetch):
    two = {**KISTA_OFFERING, "seats_eservice": "2"}
    assert post_form(as_manager, "/admin/offices/kista/offering", two).status_code == 303
    past = datetime(2026, 12, 15, 9, tzinfo=STOCKHOLM)  # before the admin's clock (19 December)
    coming = datetime(2026, 12, 22, 9, tzinfo=STOCKHOLM)
    made = book_visits(fetch, past, past, coming, coming)
    assert [seat for _id, seat in made] == [1, 2, 1, 2]

    response = post_form(as_manager, "/admin/offices/kista/offering", KISTA_OFFERING)
    assert response.status_code == 400
    assert "use 2 seats in one slot" in response.text
    assert seats(fetch, city.kista.id)["eservice"] == 2

    async def cancel_coming_second_seat(db):
        await db.execute(update(Booking).where(Booking.id == made[3][0]).values(status="cancelled"))

    fetch(cancel_coming_second_seat)
    # Only past visits use the second seat now: they do not hold the number up.
    assert post_form(as_manager, "/admin/offices/kista/offering", KISTA_OFFERING).status_code == 303
    assert seats(fetch, city.kista.id)["eservice"] == 1
