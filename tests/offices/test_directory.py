"""The public pages' snapshot of offices and hours never shows a change late in the process that made
it, and other processes' changes show within the snapshot's age."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from tests.conftest import run_with_engine
from tests.helpers import logged_in, post_form

from kontor.hours.models import Closure
from kontor.offices.models import Office

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _at(client, moment: str) -> None:  # type: ignore[no-untyped-def]
    fixed = datetime.fromisoformat(moment).replace(tzinfo=STOCKHOLM)
    client.app.state.clock = lambda: fixed


def _kista_hours(client, day: str) -> dict:  # type: ignore[no-untyped-def]
    [entry] = client.get(f"/api/v1/offices/kista/hours?from={day}&to={day}").json()
    return entry


def test_a_managers_closure_shows_at_once_on_the_public_pages(client):
    _at(client, "2026-12-14 10:00")
    assert "Medborgarkontor Kista" in client.get("/").text  # the snapshot is now warm
    assert "Open" in client.get("/offices/kista").text
    logged_in(client, "manager")
    form = {"first_day": "2026-12-14", "last_day": "2026-12-14", "reason": "Vattenläcka"}
    assert post_form(client, "/admin/offices/kista/closures", form).status_code == 303

    page = client.get("/offices/kista").text
    assert "Vattenläcka" in page
    assert _kista_hours(client, "2026-12-14") == {
        "date": "2026-12-14",
        "open": False,
        "intervals": [],
        "note": "Vattenläcka",
        "status": "closed",
    }


def test_a_change_committed_by_another_session_in_the_process_shows_at_once(client, settings):
    _at(client, "2026-12-14 10:00")
    assert "Medborgarkontor Tensta" in client.get("/").text

    async def rename(db):  # type: ignore[no-untyped-def]
        office = await db.scalar(select(Office).where(Office.slug == "tensta"))
        office.name = "Medborgarkontor Tensta centrum"

    run_with_engine(settings, rename)
    assert "Medborgarkontor Tensta centrum" in client.get("/").text
    assert client.get("/api/v1/offices/tensta").json()["name"] == "Medborgarkontor Tensta centrum"


def test_a_change_from_elsewhere_shows_when_the_snapshot_ages(client, settings):
    """SQL that bypasses the ORM here stands for another app instance's change."""
    _at(client, "2026-12-14 10:00")
    directory = client.app.state.directory
    directory.max_age = 3600  # no ageing by accident on a slow machine
    assert _kista_hours(client, "2026-12-15")["open"] is True
    assert "Medborgarkontor Bromma" in client.get("/").text

    async def close_quietly(db):  # type: ignore[no-untyped-def]
        await db.execute(text("UPDATE offices SET name = 'Bromma kontor' WHERE slug = 'bromma'"))
        kista = await db.scalar(select(Office.id).where(Office.slug == "kista"))
        # On the connection, past the session: nothing in this process hears of it.
        await (await db.connection()).execute(
            Closure.__table__.insert().values(
                office_id=kista,
                first_day=date(2026, 12, 15),
                last_day=date(2026, 12, 15),
                reason="Strejk",
                created_at=datetime.now(STOCKHOLM),
                updated_at=datetime.now(STOCKHOLM),
            )
        )

    run_with_engine(settings, close_quietly)
    assert "Medborgarkontor Bromma" in client.get("/").text  # still the snapshot
    directory.max_age = 0
    assert "Bromma kontor" in client.get("/").text
    assert _kista_hours(client, "2026-12-15")["note"] == "Strejk"


def test_an_office_taken_out_of_use_leaves_the_finder(client, settings):
    _at(client, "2026-12-14 10:00")
    assert client.get("/offices/bromma").status_code == 200

    async def retire(db):  # type: ignore[no-untyped-def]
        office = await db.scalar(select(Office).where(Office.slug == "bromma"))
        office.active = False

    run_with_engine(settings, retire)
    assert client.get("/offices/bromma").status_code == 404
    assert "Medborgarkontor Bromma" not in client.get("/").text
