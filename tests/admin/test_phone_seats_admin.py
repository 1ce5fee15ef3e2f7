"""Seats kept for phone bookings, and when they are released to online booking, in the offering form."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update
from tests.helpers import post_form

from kontor.offices.models import OfficeService, Service

OFFERING = {
    "offered_eservice": "on", "bookable_eservice": "on", "walk_in_eservice": "on", "seats_eservice": "3",
    "offered_budget": "on", "bookable_budget": "on", "seats_budget": "1",
    "offered_consumer": "on", "walk_in_consumer": "on",
    "offered_finnish": "on", "bookable_finnish": "on", "walk_in_finnish": "on", "seats_finnish": "1",
}  # fmt: skip
PATH = "/admin/offices/kista/offering?lang=en"


def phone_rules(fetch, office_id):
    """Per service code: (seats, phone_seats, phone_release_hours)."""

    async def work(db):
        rows = await db.execute(
            select(
                Service.code,
                OfficeService.seats,
                OfficeService.phone_seats,
                OfficeService.phone_release_hours,
            )
            .join(Service, Service.id == OfficeService.service_id)
            .where(OfficeService.office_id == office_id)
        )
        return {code: tuple(rest) for code, *rest in rows}

    return fetch(work)


def test_a_manager_keeps_seats_for_phone_bookings(as_manager, city, fetch, audit_entries):
    page = as_manager.get("/admin/offices/kista?lang=en").text
    assert "Seats kept for phone bookings" in page and "Released to online booking" in page
    assert 'name="phone_seats_eservice"' in page and 'name="phone_release_hours_eservice"' in page
    assert 'name="phone_seats_consumer"' not in page  # walk-in only: nothing to keep
    assert re.search(r'id="offering-phone_release_hours_eservice"[^>]*value="48"', page)  # the default

    form = {**OFFERING, "phone_seats_eservice": "2", "phone_release_hours_eservice": "24"}
    assert post_form(as_manager, PATH, form).status_code == 303
    rules = phone_rules(fetch, city.kista.id)
    assert rules["eservice"] == (3, 2, 24)
    assert rules["budget"] == (1, 0, 48)
    [entry] = audit_entries("offering.update")
    assert set(entry.changes) == {"eservice"}
    before, after = entry.changes["eservice"]["before"], entry.changes["eservice"]["after"]
    assert (before["phone_seats"], before["phone_release_hours"]) == (0, 48)
    assert (after["seats"], after["phone_seats"], after["phone_release_hours"]) == (3, 2, 24)

    page = as_manager.get("/admin/offices/kista").text
    assert re.search(r'id="offering-phone_seats_eservice"[^>]*value="2"', page)
    assert re.search(r'id="offering-phone_release_hours_eservice"[^>]*value="24"', page)


def test_left_empty_the_numbers_stay_as_they_were(as_manager, city, fetch, audit_entries):
    form = {**OFFERING, "phone_seats_eservice": "1", "phone_release_hours_eservice": "72"}
    assert post_form(as_manager, PATH, form).status_code == 303
    assert post_form(as_manager, PATH, {**OFFERING, "phone_seats_eservice": ""}).status_code == 303
    assert phone_rules(fetch, city.kista.id)["eservice"] == (3, 1, 72)
    assert len(audit_entries("offering.update")) == 1  # the second form changed nothing


def test_all_seats_can_be_kept_and_released_at_the_slot(as_manager, city, fetch):
    form = {**OFFERING, "phone_seats_eservice": "3", "phone_release_hours_eservice": "0"}
    assert post_form(as_manager, PATH, form).status_code == 303
    assert phone_rules(fetch, city.kista.id)["eservice"] == (3, 3, 0)


EKS = "Help with e-services has 3 seats per slot: keep from 0 to 3 of them for phone bookings."
HOURS = "Release of the phone seats for Help with e-services: enter a whole number of hours from 0 to 720."


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"phone_seats_eservice": "4"}, "phone_seats_eservice", EKS),
        ({"phone_seats_eservice": "-1"}, "phone_seats_eservice", EKS),
        ({"phone_seats_eservice": "one"}, "phone_seats_eservice", EKS),
        (
            {"seats_eservice": "1", "phone_seats_eservice": "2"},
            "phone_seats_eservice",
            "Help with e-services has 1 seats per slot: keep from 0 to 1 of them for phone bookings.",
        ),
        ({"phone_release_hours_eservice": "721"}, "phone_release_hours_eservice", HOURS),
        ({"phone_release_hours_eservice": "-1"}, "phone_release_hours_eservice", HOURS),
        ({"phone_release_hours_eservice": "1.5"}, "phone_release_hours_eservice", HOURS),
    ],
)
def test_wrong_numbers_are_refused_and_nothing_is_written(
    as_manager, city, fetch, audit_entries, typed, field, message
):
    response = post_form(as_manager, PATH, {**OFFERING, **typed})
    assert response.status_code == 400
    assert message in response.text
    assert re.search(rf'id="offering-{field}"[^>]*aria-invalid="true"', response.text)
    assert f'value="{typed[field]}"' in response.text  # what was typed is shown again
    assert phone_rules(fetch, city.kista.id)["eservice"] == (1, 0, 48)
    assert audit_entries("offering.update") == []


def test_fewer_seats_than_were_kept_is_refused(as_manager, city, fetch):
    async def keep_two(db):
        await db.execute(
            update(OfficeService)
            .where(
                OfficeService.office_id == city.kista.id,
                OfficeService.service_id == city.services["eservice"].id,
            )
            .values(seats=3, phone_seats=2)
        )

    fetch(keep_two)
    # The kept seats are left as they were, but the seats per slot drop below them.
    response = post_form(
        as_manager, PATH, {**OFFERING, "seats_eservice": "1"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400 and "<html" not in response.text
    assert "keep from 0 to 1 of them for phone bookings" in response.text
    assert phone_rules(fetch, city.kista.id)["eservice"] == (3, 2, 48)
