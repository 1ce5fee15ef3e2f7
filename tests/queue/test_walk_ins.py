"""Walk-in tickets at the front desk: issued only while the office is open to walk-ins, and only for
a service the office takes walk-ins for; a refusal writes nothing, not even a number (DESIGN rule 4)."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import update
from tests.queue.steps import NOW, at, in_transaction, nothing_issued, office

from kontor.audit.models import Channel
from kontor.hours.models import WeeklyHours
from kontor.offices.models import OfficeService
from kontor.queue.errors import OfficeClosed, UnknownService
from kontor.queue.models import Ticket
from kontor.queue.tickets import issue_walk_in


async def _walk_in(write_session, service: str, now, slug: str = "kista") -> Ticket:  # type: ignore[no-untyped-def]
    async def work(db):  # type: ignore[no-untyped-def]
        ticket, _token = await issue_walk_in(
            db,
            office=await office(db, slug),
            service_code=service,
            now=now,
            channel=Channel.DESK,
            actor="desk",
        )
        return ticket

    return await in_transaction(write_session, work)


async def _refused_but_committed(write_session, service: str, now, refusal, slug: str = "kista") -> None:  # type: ignore[no-untyped-def]
    # The caller's transaction goes on and commits: the refusal itself must have written nothing.
    async def work(db):  # type: ignore[no-untyped-def]
        with pytest.raises(refusal):
            await issue_walk_in(
                db,
                office=await office(db, slug),
                service_code=service,
                now=now,
                channel=Channel.DESK,
                actor="desk",
            )

    await in_transaction(write_session, work)


# Kista: Tuesday 09:00–12:00 and 13:00–17:00, Wednesday also 17:00–19:00; Christmas Eve is a holiday.
OPENING = [
    pytest.param(at(15, 8, 59), False, id="before-opening"),
    pytest.param(at(15, 9), True, id="at-opening"),
    pytest.param(at(15, 11, 59), True, id="before-lunch"),
    pytest.param(at(15, 12), False, id="lunch"),
    pytest.param(at(15, 13), True, id="after-lunch"),
    pytest.param(at(15, 16, 59), True, id="last-minute"),
    pytest.param(at(15, 17), False, id="at-closing"),
    pytest.param(at(16, 18), True, id="wednesday-evening"),
    pytest.param(at(20, 11), False, id="sunday"),
    pytest.param(at(24, 10), False, id="christmas-eve"),
]


@pytest.mark.parametrize(("now", "open_"), OPENING)
async def test_walk_in_tickets_are_issued_only_while_the_office_is_open(
    city, write_session, read_session, now, open_
) -> None:  # type: ignore[no-untyped-def]
    if open_:
        ticket = await _walk_in(write_session, "eservice", now)
        assert (ticket.code, ticket.kind, ticket.issued_at) == ("A001", "walk_in", now)
        return
    await _refused_but_committed(write_session, "eservice", now, OfficeClosed)
    assert await nothing_issued(read_session)


async def test_walk_ins_are_refused_during_appointment_only_hours(city, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    # Tensta opens on Saturdays for booked visits only: the door is not open to walk-ins then.
    async def saturday_appointments(db):  # type: ignore[no-untyped-def]
        db.add(
            WeeklyHours(
                office_id=city.tensta.id, weekday=5, opens=time(10), closes=time(13), kind="appointment"
            )
        )

    await in_transaction(write_session, saturday_appointments)
    await _refused_but_committed(write_session, "eservice", at(19, 11), OfficeClosed, slug="tensta")
    assert await nothing_issued(read_session)


async def _no_walk_in_offering(db, city) -> None:  # type: ignore[no-untyped-def]
    await db.execute(
        update(OfficeService)
        .where(
            OfficeService.office_id == city.kista.id, OfficeService.service_id == city.services["consumer"].id
        )
        .values(walk_in=False)
    )


async def _inactive_offering(db, city) -> None:  # type: ignore[no-untyped-def]
    await db.execute(
        update(OfficeService)
        .where(
            OfficeService.office_id == city.kista.id, OfficeService.service_id == city.services["consumer"].id
        )
        .values(active=False)
    )


NOT_WALK_IN = [
    pytest.param("kista", "budget", None, id="booked-visits-only-service"),
    pytest.param("kista", "passport", None, id="unknown-service"),
    pytest.param("tensta", "finnish", None, id="not-offered-here"),
    pytest.param("kista", "consumer", _no_walk_in_offering, id="office-takes-no-walk-ins-for-it"),
    pytest.param("kista", "consumer", _inactive_offering, id="offering-switched-off"),
]


@pytest.mark.parametrize(("slug", "service", "change"), NOT_WALK_IN)
async def test_walk_in_tickets_only_for_the_offices_walk_in_services(
    city, write_session, read_session, slug, service, change
) -> None:  # type: ignore[no-untyped-def]
    if change is not None:
        await in_transaction(write_session, lambda db: change(db, city))
    await _refused_but_committed(write_session, service, NOW, UnknownService, slug=slug)
    assert await nothing_issued(read_session)
