"""The service catalogue (admins) and the audit log (admins: all; managers: their offices)."""

from __future__ import annotations

import re

from sqlalchemy import select
from tests.helpers import logged_in, post_form

from kontor.audit.models import AuditEntry
from kontor.offices.models import Service

PASSPORT = {
    "code": "passport", "letter": "p", "name_sv": "Pass", "name_en": "Passport", "name_fi": "Passi",
    "description_sv": "Ansök om pass.", "duration_minutes": "15", "bookable": "on", "sort_order": "5",
}  # fmt: skip


def service(fetch, code):
    async def work(db):
        return await db.scalar(select(Service).where(Service.code == code))

    return fetch(work)


def test_an_admin_adds_a_service(as_admin, fetch, audit_entries):
    page = as_admin.get("/admin/services")
    assert page.status_code == 200 and "eservice" in page.text
    response = post_form(as_admin, "/admin/services", PASSPORT)
    assert response.status_code == 303
    passport = service(fetch, "passport")
    assert (passport.letter, passport.duration_minutes, passport.bookable, passport.walk_in) == (
        "P",
        15,
        True,
        False,
    )
    assert audit_entries("service.create")[0].changes["code"] == "passport"


def test_a_service_needs_a_free_letter_a_sane_length_and_names(as_admin, fetch):
    bad = {**PASSPORT, "letter": "A", "duration_minutes": "300", "name_fi": "", "code": "Pass port"}
    response = post_form(as_admin, "/admin/services", bad)
    assert response.status_code == 400
    for message in (
        "eservice already uses the letter A",
        "from 5 to 240",
        "Please fill in this field.",
        "lower-case letters",
    ):
        assert message in response.text
    assert service(fetch, "passport") is None
    assert post_form(as_admin, "/admin/services", {**PASSPORT, "letter": "AB"}).status_code == 400
    taken_code = {**PASSPORT, "code": "budget", "letter": "Q"}
    assert post_form(as_admin, "/admin/services", taken_code).status_code == 400


def test_an_admin_edits_a_service(as_admin, fetch, audit_entries):
    assert as_admin.get("/admin/services/budget").status_code == 200
    form = {
        "letter": "B",
        "name_sv": "Budgetrådgivning",
        "name_en": "Budget advice",
        "name_fi": "Budjettineuvonta",
        "duration_minutes": "60",
        "bookable": "on",
        "sort_order": "2",
    }
    assert post_form(as_admin, "/admin/services/budget", form).status_code == 303
    budget = service(fetch, "budget")
    assert (budget.name_sv, budget.duration_minutes, budget.walk_in) == ("Budgetrådgivning", 60, False)
    [entry] = audit_entries("service.update")
    assert entry.changes["duration_minutes"] == {"before": 45, "after": 60}
    # Keeping its own letter is fine; taking another service's is not.
    assert post_form(as_admin, "/admin/services/budget", {**form, "letter": "C"}).status_code == 400
    assert post_form(as_admin, "/admin/services/budget", {**form, "duration_minutes": "4"}).status_code == 400
    assert as_admin.get("/admin/services/no-such-service").status_code == 404


def test_the_audit_log_filters_and_shows_who_did_what(client, city):
    logged_in(client, "manager")
    post_form(client, "/admin/offices/kista/counters", {"name": "Lucka 3"})
    logged_in(client, "bromma_manager")
    post_form(client, "/admin/offices/bromma/counters", {"name": "Lucka B3"})

    logged_in(client, "admin")
    everything = client.get("/admin/audit")
    assert everything.status_code == 200
    assert "counter.add" in everything.text and "Lucka 3" in everything.text and "Lucka B3" in everything.text
    kista_only = client.get("/admin/audit?office=kista")
    assert "Lucka 3" in kista_only.text and "Lucka B3" not in kista_only.text
    by_actor = client.get("/admin/audit?actor=bromma_manager&action=counter.add")
    assert "Lucka B3" in by_actor.text and "Lucka 3<" not in by_actor.text
    fragment = client.get("/admin/audit?office=bromma", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and 'id="audit-results"' in fragment.text

    logged_in(client, "manager")
    mine = client.get("/admin/audit")
    assert mine.status_code == 200
    assert "Lucka 3" in mine.text and "Lucka B3" not in mine.text
    assert "Lucka B3" not in client.get("/admin/audit?office=bromma").text


def test_the_audit_log_pages_fifty_entries_newest_first(as_admin, city, fetch):
    async def add(db):
        for n in range(60):
            changes = {"n": f"entry-{n:03}"}
            db.add(
                AuditEntry(actor="admin", channel="web", action="test.entry", entity="test", changes=changes)
            )

    fetch(add)
    first = as_admin.get("/admin/audit?action=test.entry")
    assert first.text.count("entry-0") == 50
    assert "entry-059" in first.text and "entry-009" not in first.text
    assert "page=2" in first.text
    second = as_admin.get("/admin/audit?action=test.entry&page=2")
    assert second.text.count("entry-0") == 10 and "entry-000" in second.text
    assert "page=1" in second.text and "page=3" not in second.text


# --- online booking: notice and horizon -----------------------------------------------------------

BUDGET = {
    "letter": "B", "name_sv": "Budget- och skuldrådgivning", "name_en": "Budget and debt advice",
    "name_fi": "Budjetti- ja velkaneuvonta", "duration_minutes": "45", "bookable": "on", "sort_order": "2",
}  # fmt: skip
TUESDAY_SLOTS = {"service": "budget", "from": "2026-12-22", "to": "2026-12-22"}


def test_an_admin_sets_the_notice_and_horizon_of_booking(as_admin, fetch, audit_entries):
    page = as_admin.get("/admin/services/budget")
    assert (
        'name="min_notice_minutes" value="120"' in page.text and 'name="horizon_days" value="60"' in page.text
    )
    assert len(as_admin.get("/api/v1/offices/kista/slots", params=TUESDAY_SLOTS).json()) == 4

    form = {**BUDGET, "min_notice_minutes": "0", "horizon_days": "2"}
    assert post_form(as_admin, "/admin/services/budget", form).status_code == 303
    budget = service(fetch, "budget")
    assert (budget.min_notice_minutes, budget.horizon_days) == (0, 2)
    [entry] = audit_entries("service.update")
    assert entry.changes["min_notice_minutes"] == {"before": 120, "after": 0}
    assert entry.changes["horizon_days"] == {"before": 60, "after": 2}
    assert "duration_minutes" not in entry.changes
    # Tuesday is three days after the admin's Saturday: beyond a two-day horizon.
    assert as_admin.get("/api/v1/offices/kista/slots", params=TUESDAY_SLOTS).json() == []
    assert 'name="horizon_days" value="2"' in as_admin.get("/admin/services/budget").text

    # Left out, they stay as they are.
    assert post_form(as_admin, "/admin/services/budget", BUDGET).status_code == 303
    assert (service(fetch, "budget").min_notice_minutes, service(fetch, "budget").horizon_days) == (0, 2)


def test_a_new_service_gets_the_notice_and_horizon_given_or_the_defaults(as_admin, fetch, audit_entries):
    page = as_admin.get("/admin/services")
    assert (
        'name="min_notice_minutes" value="120"' in page.text and 'name="horizon_days" value="60"' in page.text
    )
    form = {**PASSPORT, "min_notice_minutes": "1440", "horizon_days": "366"}
    assert post_form(as_admin, "/admin/services", form).status_code == 303
    passport = service(fetch, "passport")
    assert (passport.min_notice_minutes, passport.horizon_days) == (1440, 366)
    assert audit_entries("service.create")[0].changes["horizon_days"] == 366
    assert (
        post_form(as_admin, "/admin/services", {**PASSPORT, "code": "visa", "letter": "V"}).status_code == 303
    )
    visa = service(fetch, "visa")
    assert (visa.min_notice_minutes, visa.horizon_days) == (120, 60)


def test_notice_and_horizon_must_be_in_range(as_admin, fetch, audit_entries):
    cases = [
        ({"min_notice_minutes": "-1"}, "min_notice_minutes", "from 0 to 10080"),
        ({"min_notice_minutes": "10081"}, "min_notice_minutes", "from 0 to 10080"),
        ({"min_notice_minutes": "two hours"}, "min_notice_minutes", "from 0 to 10080"),
        ({"horizon_days": "0"}, "horizon_days", "from 1 to 366"),
        ({"horizon_days": "367"}, "horizon_days", "from 1 to 366"),
    ]
    for typed, field, message in cases:
        response = post_form(as_admin, "/admin/services/budget", {**BUDGET, **typed})
        assert response.status_code == 400, typed
        assert f"Enter a whole number {message}." in response.text
        # Next to its field: the message is the field's description.
        assert re.search(rf'id="service-{field}"[^>]*aria-invalid="true"', response.text)
        assert re.search(rf'id="service-{field}-error">Enter a whole number {message}', response.text)
        assert f'value="{typed[field]}"' in response.text
    added = post_form(as_admin, "/admin/services", {**PASSPORT, "horizon_days": "400"})
    assert added.status_code == 400 and "from 1 to 366" in added.text
    budget = service(fetch, "budget")
    assert (budget.min_notice_minutes, budget.horizon_days) == (120, 60)
    assert service(fetch, "passport") is None and audit_entries("service.update") == []
