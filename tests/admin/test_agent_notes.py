"""The office's notes for the contact center: kept by its managers on the admin page, seen by staff only."""

from __future__ import annotations

from sqlalchemy import select
from tests.helpers import logged_in, post_form

from kontor.admin.services import AGENT_NOTES_MAX
from kontor.offices.models import Office

# Kista's details as tests.factories makes them.
DETAILS = {
    "name": "Medborgarkontor Kista",
    "street": "Kistagången 1",
    "postal_code": "164 40",
    "city": "Kista",
    "phone": "08-000 00 01",
    "email": "kista@example.org",
    "languages": ["sv", "en", "fi", "ar"],
    "accessibility": "Hiss och hörslinga.",
    "timezone": "Europe/Stockholm",
}
NOTES = "Tigrinya on Tuesdays. Lift at the east entrance. Book 40 minutes for housing benefit."


def agent_notes(fetch, slug="kista"):
    async def work(db):
        return await db.scalar(select(Office.agent_notes).where(Office.slug == slug))

    return fetch(work)


def test_a_manager_keeps_notes_for_the_contact_center(as_manager, fetch, audit_entries):
    form = as_manager.get("/admin/offices/kista?lang=en").text
    assert 'name="agent_notes"' in form and "Notes for the contact center" in form
    response = post_form(as_manager, "/admin/offices/kista/details", {**DETAILS, "agent_notes": NOTES})
    assert response.status_code == 303
    assert agent_notes(fetch) == NOTES
    [entry] = audit_entries("office.update")
    assert entry.changes == {"agent_notes": {"before": "", "after": NOTES}}
    assert NOTES in as_manager.get("/admin/offices/kista").text


def test_the_notes_are_not_on_public_pages(as_manager, fetch):
    post_form(as_manager, "/admin/offices/kista/details", {**DETAILS, "agent_notes": NOTES})
    assert agent_notes(fetch) == NOTES
    for path in ("/offices/kista", "/api/v1/offices/kista", "/"):
        assert "Tigrinya on Tuesdays" not in as_manager.get(path).text, path


def test_an_admin_edits_any_offices_notes(as_admin, city, fetch):
    form = {**DETAILS, "name": "Medborgarkontor Bromma", "district": str(city.bromma.district_id)}
    response = post_form(as_admin, "/admin/offices/bromma/details", {**form, "agent_notes": "Ramp."})
    assert response.status_code == 303
    assert agent_notes(fetch, "bromma") == "Ramp."


def test_another_offices_manager_is_refused(client, fetch, audit_entries):
    bromma_manager = logged_in(client, "bromma_manager")
    response = post_form(bromma_manager, "/admin/offices/kista/details", {**DETAILS, "agent_notes": "x"})
    assert response.status_code == 403
    assert bromma_manager.get("/admin/offices/kista").status_code == 403
    assert agent_notes(fetch) == "" and audit_entries("office.update") == []


def test_the_notes_are_escaped(as_manager):
    script = '<script>alert("kista")</script> & <b>bold</b>'
    post_form(as_manager, "/admin/offices/kista/details", {**DETAILS, "agent_notes": script})
    page = as_manager.get("/admin/offices/kista").text
    assert "<script>alert" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&#34;kista&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page


def test_line_breaks_count_once_and_the_length_is_limited(as_manager, fetch, audit_entries):
    lines = "a" * (AGENT_NOTES_MAX - 3) + "\r\nbc"  # as a browser sends a textarea: 4000 characters
    response = post_form(as_manager, "/admin/offices/kista/details", {**DETAILS, "agent_notes": lines})
    assert response.status_code == 303
    assert agent_notes(fetch) == "a" * (AGENT_NOTES_MAX - 3) + "\nbc"

    too_long = "b" * (AGENT_NOTES_MAX + 1)
    response = post_form(
        as_manager,
        "/admin/offices/kista/details?lang=en",
        {**DETAILS, "agent_notes": too_long},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400 and "<html" not in response.text
    assert f"At most {AGENT_NOTES_MAX} characters" in response.text
    assert 'id="details-agent_notes-error"' in response.text
    assert too_long in response.text  # what was typed is kept in the form
    assert agent_notes(fetch).endswith("\nbc") and len(audit_entries("office.update")) == 1
