"""A cancelled seat refilled from the waitlist: offered to the first in line once it has rested, passed
on to the second when the first lets the offer run out, and booked by the second; and the same line
served by two workers at once, which never offer one seat twice or one entry two seats."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kontor.audit.models import Channel
from kontor.booking import services as booking_services
from kontor.booking.holds import sweep_expired_holds
from kontor.booking.models import Booking, BookingEvent, BookingStatus
from kontor.booking.visitor import BookingError
from kontor.notify.models import OutboxMessage
from kontor.waitlist import services
from kontor.waitlist.models import WaitlistEntry
from tests.waitlist.support import NOW, TUESDAY, at, entries, fill, join, link_token, makers, offers, outbox

NINE = at(15, "09:00")


async def _full_tuesday_and_two_in_line(write_session, settings) -> int:  # type: ignore[no-untyped-def]
    """Kista's Tuesday fully booked, 09:00 by a resident through the booking service; Anna and then
    Bo wait for a time at Kista that day. The 09:00 booking's id."""
    async with write_session() as db, db.begin():
        await fill(db, [TUESDAY], free=[("kista", NINE)])
        booking, _token = await booking_services.book(
            db, office_slug="kista", service_code="eservice", start=NINE, name="Cecilia",
            email="cecilia@example.se", channel=Channel.WEB, actor="resident", now=NOW,
        )  # fmt: skip
        await join(db, settings, "Anna", "kista", TUESDAY, TUESDAY, now=NOW + timedelta(minutes=1))
        await join(db, settings, "Bo", "kista", TUESDAY, TUESDAY, now=NOW + timedelta(minutes=2))
        return booking.id


async def test_a_cancelled_seat_goes_down_the_line_until_it_is_taken(
    city, settings, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    booking_id = await _full_tuesday_and_two_in_line(write_session, settings)
    assert (await services.run_waitlist(write_session, settings, NOW + timedelta(minutes=3)))["offered"] == 0

    cancelled_at = NOW + timedelta(minutes=10)
    async with write_session() as db, db.begin():
        booking = await db.get(Booking, booking_id)
        await booking_services.cancel(db, booking, channel=Channel.WEB, actor="resident", now=cancelled_at)

    # The cancelled seat rests first (slot trading), then goes to the first in line.
    resting = await services.run_waitlist(write_session, settings, cancelled_at + timedelta(minutes=1))
    assert resting == {"offered": 0, "lapsed": 0, "ended": 0}
    first_offer = cancelled_at + timedelta(minutes=settings.cancel_release_minutes + 1)
    assert await services.run_waitlist(write_session, settings, first_offer) == {
        "offered": 1,
        "lapsed": 0,
        "ended": 0,
    }
    assert await offers(read_session) == {"Anna": ("kista", NINE), "Bo": None}

    # Anna lets the hour pass: the seat is hers no longer, and Bo is offered it in the same round.
    lapse = first_offer + timedelta(minutes=settings.waitlist_offer_minutes)
    assert await services.run_waitlist(write_session, settings, lapse) == {
        "offered": 1,
        "lapsed": 1,
        "ended": 0,
    }
    assert await offers(read_session) == {"Anna": None, "Bo": ("kista", NINE)}
    line = await entries(read_session)
    assert (line["Anna"].status, line["Anna"].finished_at, line["Bo"].status) == ("lapsed", lapse, "offered")
    offered = await outbox(read_session, "waitlist_offer")
    assert [m.recipient for m in offered] == ["anna@example.se", "bo@example.se"]

    # Bo takes it with the link of the offer.
    taken_at = lapse + timedelta(minutes=5)
    async with write_session() as db, db.begin():
        entry = await services.find_entry(db, link_token(offered[1].body), for_update=True)
        assert entry is not None and entry.name == "Bo"
        booked, token = await services.take_offer(db, entry, settings=settings, now=taken_at)

    line = await entries(read_session)
    assert (line["Bo"].status, line["Bo"].finished_at) == ("booked", taken_at)
    async with read_session() as db:
        holders = list(
            await db.scalars(
                select(Booking).where(
                    Booking.starts_at == NINE,
                    Booking.office_id == city.kista.id,
                    Booking.status.not_in(("cancelled", "expired")),
                )
            )
        )
        assert [(b.id, b.status, b.name, b.email, b.seat) for b in holders] == [
            (booked.id, "booked", "Bo", "bo@example.se", 1)
        ]
        found = await booking_services.find_by_reference(db, booked.reference, token)
        assert found is not None and found.id == booked.id
        history = [
            (e.action, e.channel, e.actor)
            for e in await db.scalars(select(BookingEvent).order_by(BookingEvent.id))
            if e.booking_id in {booked.id, line["Anna"].offered_booking_id}
        ]
    # Anna's hold was let go by the waitlist; Bo's was held by it and confirmed by Bo on the web.
    assert ("released", "system", "waitlist") in history
    assert history[-2:] == [("held", "web", "waitlist"), ("confirmed", "web", "resident")]
    confirmations = await outbox(read_session, "booked")
    assert sorted(m.channel for m in confirmations) == ["email"]
    assert confirmations[0].recipient == "bo@example.se" and token in confirmations[0].body


async def test_an_offer_taken_too_late_books_nothing(city, settings, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        await fill(db, [TUESDAY], free=[("kista", NINE)])
        _entry, token = await join(db, settings, "Anna", "kista", TUESDAY, TUESDAY)
    await services.run_waitlist(write_session, settings, NOW)
    too_late = NOW + timedelta(minutes=settings.waitlist_offer_minutes)

    async with write_session() as db, db.begin():
        entry = await services.find_entry(db, token, for_update=True)
        with pytest.raises(BookingError, match="no longer held for you") as refused:
            await services.take_offer(db, entry, settings=settings, now=too_late)
        assert refused.value.kind == "expired"

    async with read_session() as db:
        assert (
            await db.scalar(
                select(func.count()).where(
                    Booking.status == BookingStatus.BOOKED.value,
                    Booking.starts_at == NINE,
                    Booking.office_id == city.kista.id,
                )
            )
            == 0
        )
        assert await db.scalar(select(func.count()).where(OutboxMessage.kind == "booked")) == 0


async def test_declining_lets_the_seat_go_to_the_next_at_once(
    city, settings, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        await fill(db, [TUESDAY], free=[("kista", NINE)])
        _anna, anna_token = await join(db, settings, "Anna", "kista", TUESDAY, TUESDAY)
        await join(db, settings, "Bo", "kista", TUESDAY, TUESDAY, now=NOW + timedelta(seconds=1))
    await services.run_waitlist(write_session, settings, NOW)

    async with write_session() as db, db.begin():
        entry = await services.find_entry(db, anna_token, for_update=True)
        await services.decline_offer(db, entry, now=NOW + timedelta(minutes=2))
        await services.decline_offer(db, entry, now=NOW + timedelta(minutes=3))  # a second click

    assert (await entries(read_session))["Anna"].status == "left"
    assert (await services.run_waitlist(write_session, settings, NOW + timedelta(minutes=3)))["offered"] == 1
    assert await offers(read_session) == {"Anna": None, "Bo": ("kista", NINE)}


async def test_two_workers_at_once_never_offer_twice(city, settings, write_session, read_session) -> None:  # type: ignore[no-untyped-def]
    """More free seats than entries: a worker that did not claim the line would offer an entry the
    next seat after losing the first to the other worker, and so a second one."""
    free = [("kista", at(15, hhmm)) for hhmm in ("09:00", "09:20", "09:40", "10:00", "10:20")]
    async with write_session() as db, db.begin():
        await fill(db, [TUESDAY], free=free)
    (first, first_engine), (second, second_engine) = makers(settings), makers(settings)
    try:
        for round_number in range(3):
            # Each round's line joins now; the last round's offers have lapsed by the time it is served.
            joined = NOW + timedelta(minutes=61 * round_number)
            async with write_session() as db, db.begin():
                for n in range(3):
                    name = f"R{round_number}P{n}"
                    office = "kista" if n % 2 else None
                    await join(
                        db, settings, name, office, TUESDAY, TUESDAY, now=joined + timedelta(seconds=n)
                    )
            round_at = joined + timedelta(minutes=1)
            counts = await asyncio.gather(
                services.run_waitlist(first, settings, round_at),
                services.run_waitlist(second, settings, round_at),
            )

            assert sum(c["offered"] for c in counts) == 3
            held = [seat for seat in (await offers(read_session)).values() if seat is not None]
            assert len(held) == len(set(held)) == 3
            async with read_session() as db:
                live = await db.scalar(
                    select(func.count()).where(
                        Booking.status == BookingStatus.HELD.value, Booking.hold_expires_at > round_at
                    )
                )
                most = await db.scalar(select(func.max(WaitlistEntry.offers)))
            assert (live, most) == (3, 1)
    finally:
        await first_engine.dispose()
        await second_engine.dispose()
    statuses = {name: entry.status for name, entry in (await entries(read_session)).items()}
    assert statuses == {f"R{r}P{n}": "lapsed" if r < 2 else "offered" for r in range(3) for n in range(3)}


async def test_the_hold_sweeper_and_the_waitlist_agree_on_a_lapsed_offer(
    city, settings, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        await fill(db, [TUESDAY], free=[("kista", NINE)])
        await join(db, settings, "Anna", "kista", TUESDAY, TUESDAY)
        await join(db, settings, "Bo", "kista", TUESDAY, TUESDAY, now=NOW + timedelta(seconds=1))
    await services.run_waitlist(write_session, settings, NOW)
    deadline = NOW + timedelta(minutes=settings.waitlist_offer_minutes)

    # The hold runs out with the offer: the background sweeper may mark it expired first.
    assert await sweep_expired_holds(write_session, deadline) == 1
    assert await services.run_waitlist(write_session, settings, deadline) == {
        "offered": 1,
        "lapsed": 1,
        "ended": 0,
    }

    assert await offers(read_session) == {"Anna": None, "Bo": ("kista", NINE)}


async def test_an_offer_beyond_the_contacts_limit_is_refused_and_kept(
    city, settings, write_session, read_session
) -> None:  # type: ignore[no-untyped-def]
    async with write_session() as db, db.begin():
        for start in (at(15, "09:00"), at(15, "09:20")):
            await booking_services.book(
                db, office_slug="kista", service_code="eservice", start=start, name="Anna",
                email="anna@example.se", channel=Channel.WEB, actor="resident", now=NOW,
            )  # fmt: skip
        _entry, token = await join(db, settings, "Anna", "kista", TUESDAY, TUESDAY)
    await services.run_waitlist(write_session, settings, NOW)

    async with write_session() as db, db.begin():
        entry = await services.find_entry(db, token, for_update=True)
        with pytest.raises(BookingError) as refused:
            await services.take_offer(db, entry, settings=settings, now=NOW + timedelta(minutes=1))
    assert refused.value.kind == "limit"
    # Cancelling a visit within the hold lets the resident take the offer after all.
    assert await offers(read_session) == {"Anna": ("kista", at(15, "09:40"))}
