"""The retention page: admins see the settings with their environment variables, the last purge and
what is due now, and can purge at once (noted in the worker's row of the job, as the worker notes its
own runs); managers are refused, visitors sent to log in."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from kontor.app import create_app
from kontor.audit.models import AuditEntry
from kontor.booking.models import Booking
from kontor.retention import purge
from kontor.retention.purge import JOB_NAME, record_run
from kontor.worker.models import WorkerJob
from tests.conftest import ENGLISH, run_with_engine
from tests.helpers import logged_in, post_form
from tests.retention.rows import CUTOFF, DAY, NAME, NOW, booking, ticket

LATER = NOW + timedelta(minutes=5)
CONFIRMED = {"confirm": "yes"}


@pytest.fixture(autouse=True)
def fixed_clock(app: Any) -> None:
    app.state.clock = lambda: NOW


def _job(settings: Any) -> WorkerJob | None:
    async def work(db: Any) -> WorkerJob | None:
        return await db.get(WorkerJob, JOB_NAME)

    return run_with_engine(settings, work)  # type: ignore[return-value]


def _due_rows(city: Any, settings: Any) -> None:
    """Two visits and a ticket past the retention period, and an upcoming visit."""

    async def work(db: Any) -> None:
        db.add_all(
            [
                booking(city, ends=CUTOFF - DAY),
                booking(city, ends=CUTOFF - 2 * DAY, status="no_show"),
                booking(city, ends=NOW + DAY, status="booked"),
                ticket(city, issued=CUTOFF - DAY),
            ]
        )

    run_with_engine(settings, work)


def _row(page: str, label: str) -> str:
    """The table row that starts with ``label``, for reading its count."""
    start = page.index(f'<th scope="row">{label}</th>')
    return page[start : page.index("</tr>", start)]


def test_an_admin_sees_the_settings_and_that_no_purge_has_run(client, city, settings) -> None:  # type: ignore[no-untyped-def]
    _due_rows(city, settings)
    page = logged_in(client, "admin").get("/admin/retention")
    assert page.status_code == 200
    for variable in (
        "KONTOR_RETENTION_DAYS",
        "KONTOR_CONTACT_RETENTION_DAYS",
        "KONTOR_REMINDER_HOURS",
        "KONTOR_WAITLIST_OFFER_MINUTES",
    ):
        assert f"<code>{variable}</code>" in page.text
    assert "<td>30</td>" in _row(
        page.text, "Days after a visit that the personal data of bookings, tickets and messages is kept"
    )
    assert "<td>24</td>" in _row(
        page.text, "Hours before a visit that the reminder is sent (0: no reminders)"
    )
    assert "Never: no purge has run yet." in page.text
    due = page.text[page.text.index("Due for purging now") :]
    assert "<td>2</td>" in _row(due, "Bookings") and "<td>1</td>" in _row(due, "Walk-in tickets")
    assert 'action="/admin/retention/purge"' in page.text and 'name="_csrf_token"' in page.text
    assert NAME not in page.text
    assert 'href="/admin/retention"' in client.get("/admin").text


def test_the_settings_shown_are_those_of_the_app(settings, city) -> None:  # type: ignore[no-untyped-def]
    changed = dataclasses.replace(settings, retention_days=90, waitlist_offer_minutes=45)
    with TestClient(create_app(changed), base_url="http://testserver.local") as other:
        other.headers.update(ENGLISH)
        page = logged_in(other, "admin").get("/admin/retention").text
    assert "<td>90</td>" in page and "<td>45</td>" in page


def test_purge_now_runs_and_shows_its_counts(client, city, settings) -> None:  # type: ignore[no-untyped-def]
    _due_rows(city, settings)
    logged_in(client, "admin")

    response = post_form(client, "/admin/retention/purge", CONFIRMED)

    assert response.status_code == 303 and response.headers["location"] == "/admin/retention?purged=done"
    # The sessions store stamps expiry by the real clock; the test's clock is weeks ahead of it, so the
    # purge found the admin's own session expired.
    page = logged_in(client, "admin").get(response.headers["location"]).text
    assert "The purge has run." in page and "Never" not in page
    last = page[page.index("Last purge") : page.index("Due for purging now")]
    assert "<td>2</td>" in _row(last, "Bookings") and "<td>1</td>" in _row(last, "Walk-in tickets")
    due = page[page.index("Due for purging now") :]
    assert "<td>0</td>" in _row(due, "Bookings")
    job = _job(settings)
    assert job is not None
    assert (job.runs, job.last_finished_at, job.last_error) == (1, NOW, "")
    assert job.last_result == dict.fromkeys(purge.KIND_LABELS, 0) | {
        "bookings": 2,
        "tickets": 1,
        "sessions": 1,
    }

    async def entries(db: Any) -> list[AuditEntry]:
        return list(await db.scalars(select(AuditEntry).where(AuditEntry.action == "retention.purged")))

    (entry,) = run_with_engine(settings, entries)  # type: ignore[misc]
    assert (entry.actor, entry.channel) == ("admin", "web")

    client.app.state.clock = lambda: LATER
    post_form(logged_in(client, "admin"), "/admin/retention/purge", CONFIRMED)
    job = _job(settings)
    assert job is not None and (job.runs, job.last_finished_at) == (2, LATER)
    assert job.last_result["bookings"] == 0


def test_a_failed_purge_is_shown_with_its_error_type(client, city, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async def broken(*_args: Any, **_kwargs: Any) -> dict[str, int]:
        raise RuntimeError(f"could not blank {NAME}")

    monkeypatch.setattr(purge, "purge_personal_data", broken)
    logged_in(client, "admin")
    response = post_form(client, "/admin/retention/purge", CONFIRMED)
    assert response.headers["location"] == "/admin/retention?purged=failed"
    page = client.get(response.headers["location"]).text
    assert "The purge failed." in page and "<code>RuntimeError</code>" in page and NAME not in page
    job = _job(settings)
    assert job is not None and (job.last_error, job.last_result, job.runs) == ("RuntimeError", {}, 1)


def test_managers_are_refused_and_visitors_sent_to_log_in(client, city, settings) -> None:  # type: ignore[no-untyped-def]
    _due_rows(city, settings)
    anonymous = client.get("/admin/retention", follow_redirects=False)
    assert anonymous.status_code in (302, 303) and anonymous.headers["location"].startswith("/login?next=")
    assert post_form(client, "/admin/retention/purge", CONFIRMED).status_code in (401, 403)
    logged_in(client, "manager")
    assert client.get("/admin/retention").status_code == 403
    assert post_form(client, "/admin/retention/purge", CONFIRMED).status_code == 403
    assert _job(settings) is None

    async def names(db: Any) -> set[str]:
        return set(await db.scalars(select(Booking.name)))

    assert run_with_engine(settings, names) == {NAME}


async def test_record_run_makes_the_row_and_then_counts_on(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    """As the worker will: a run noted before the worker made the job's row makes it; later runs add
    to it and leave its schedule and lock alone."""
    first = datetime(2027, 1, 5, 3, 0, tzinfo=UTC)
    await record_run(write_session, JOB_NAME, first, {"bookings": 3})
    async with write_session() as db, db.begin():
        job = await db.get(WorkerJob, JOB_NAME)
        assert job is not None
        job.next_run_at, job.locked_until, job.locked_by = first + DAY, first + DAY, "worker-1"
    await record_run(write_session, JOB_NAME, first + DAY, {"bookings": 0}, started_at=first, error="OSError")
    async with read_session() as db:
        job = await db.get(WorkerJob, JOB_NAME)
    assert job is not None
    assert (job.runs, job.last_started_at, job.last_finished_at) == (2, first, first + DAY)
    assert (job.last_result, job.last_error) == ({"bookings": 0}, "OSError")
    assert (job.next_run_at, job.locked_until, job.locked_by) == (first + DAY, first + DAY, "worker-1")


def test_purge_now_asks_for_a_tick_first(client, city, settings) -> None:  # type: ignore[no-untyped-def]
    _due_rows(city, settings)
    logged_in(client, "admin")
    response = post_form(client, "/admin/retention/purge", {})
    assert response.status_code == 422
    assert (
        "Tick the box to confirm" in response.text
        and 'aria-describedby="purge-confirm-error"' in response.text
    )
    assert _job(settings) is None
    due = response.text[response.text.index("Due for purging now") :]
    assert "<td>2</td>" in _row(due, "Bookings")
