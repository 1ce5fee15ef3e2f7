"""The demo's queue at Kista: a fortnight of served tickets, and a working morning when the demo
starts during opening hours; seeded once however often the demo runs."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from kontor.demo.seed import seed_demo
from kontor.offices.services import office_by_slug
from kontor.queue.models import CounterShift, Ticket, TicketStatus
from kontor.queue.views import queue_snapshot

TODAY = date(2026, 12, 15)  # a Tuesday
STOCKHOLM = ZoneInfo("Europe/Stockholm")


async def _seed(write_session, now):  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        return await seed_demo(db, TODAY, now)


async def _statuses(read_session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    async with read_session() as db:
        rows = await db.execute(select(Ticket.status, func.count()).group_by(Ticket.status))
        return dict(rows.all())


async def test_history_gives_the_estimates_real_service_times(write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    report = await _seed(write_session, None)
    statuses = await _statuses(read_session)
    assert set(statuses) == {TicketStatus.SERVED.value}
    assert report.created["tickets"] == statuses[TicketStatus.SERVED.value] > 50
    async with read_session() as db:
        served = list(await db.scalars(select(Ticket)))
        assert all(t.called_at is not None and t.issued_at <= t.called_at < t.served_at for t in served)
        assert all(t.day < TODAY for t in served)
        # Numbers count per service and day without gaps, as real issuing would leave them.
        per_day: dict[tuple[int, date], list[int]] = {}
        for ticket in served:
            per_day.setdefault((ticket.service_id, ticket.day), []).append(ticket.number)
        assert all(sorted(numbers) == list(range(1, len(numbers) + 1)) for numbers in per_day.values())
        assert await db.scalar(select(func.count()).select_from(CounterShift)) == 0


async def test_a_demo_started_in_opening_hours_has_people_waiting(write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 12, 15, 11, 0, tzinfo=STOCKHOLM)
    await _seed(write_session, now)
    statuses = await _statuses(read_session)
    assert statuses[TicketStatus.WAITING.value] == 6
    assert statuses[TicketStatus.CALLED.value] == 1
    async with read_session() as db:
        office = await office_by_slug(db, "rinkeby-kista")
        assert office is not None
        snapshot = await queue_snapshot(db, office, now)
        assert snapshot.is_open and snapshot.waiting == 6
        assert [call.counter_number for call in snapshot.called] == [1]
        assert await db.scalar(select(func.count()).select_from(CounterShift)) == 2

    again = await _seed(write_session, now + timedelta(minutes=5))
    assert again.created.get("tickets", 0) == 0
    assert await _statuses(read_session) == statuses
