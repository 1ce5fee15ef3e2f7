"""The waitlist in Chromium: a resident finds no free time at an office, joins its waitlist from the
booking flow (keyboard only), sees their place in line; a visit is cancelled, its seat rests for the
release delay, the worker's round offers it, and the resident takes it from the offer's link and
lands on their booking. axe-core on the form, the place in line and the offer.

The live server runs on the real clock, so the worker's rounds are given the instants they run at:
the moment of the cancellation, and that moment plus the release delay.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from tests.browser.conftest import LiveSite, _run_apart
from tests.browser.test_smoke import assert_accessible
from tests.waitlist.support import link_token

from kontor.accounts.security import hash_token
from kontor.audit.models import Channel
from kontor.booking import services as booking_services
from kontor.booking.models import Booking, BookingStatus
from kontor.booking.policy import hours_window, slot_policy
from kontor.booking.references import normalize_reference
from kontor.booking.slots import free_slots
from kontor.db.engine import create_engine, writer
from kontor.hours.services import office_hours
from kontor.notify.models import OutboxMessage
from kontor.offices.models import Office, OfficeService, Service
from kontor.settings import Settings
from kontor.waitlist.models import ACTIVE_STATUSES, WaitlistEntry, WaitlistStatus
from kontor.waitlist.services import run_waitlist

pytestmark = pytest.mark.browser

RESIDENT = ("Ella Eriksson", "ella.waitlist@example.se")
BOOKING_PAGE = re.compile(r"/bookings/([A-Z0-9]{4}-[A-Z0-9]{4})\?token=[\w-]+&done=confirmed$")
ENTRY_PAGE = re.compile(r"/waitlist/[\w-]{20,}\?done=joined$")
# The freed seat lies this far ahead: well past any notice, and the offer's hold runs its full length.
FREED_AHEAD = timedelta(days=2)
_FILLERS = itertools.count(1)


@dataclass(frozen=True)
class FullOffice:
    """An office whose every seat of a service is booked over the service's whole horizon."""

    office: str
    service: str
    zone: ZoneInfo
    freed_id: int  # the booking the test cancels
    freed_start: datetime


def _maker(settings: Settings) -> tuple[async_sessionmaker[AsyncSession], AsyncEngine]:
    engine = create_engine(settings)
    return async_sessionmaker(writer(engine), expire_on_commit=False), engine


async def _quiet_offering(db: AsyncSession, office: Office) -> OfficeService:
    """A service the office books whose calendar and line the demo leaves empty, so the test owns both."""
    booked = exists().where(Booking.office_id == office.id, Booking.service_id == OfficeService.service_id)
    waiting = exists().where(
        WaitlistEntry.service_id == OfficeService.service_id, WaitlistEntry.status.in_(ACTIVE_STATUSES)
    )
    offerings = await db.scalars(
        select(OfficeService)
        .join(Service, Service.id == OfficeService.service_id)
        .where(OfficeService.office_id == office.id, ~booked, ~waiting)
        .order_by(Service.code)
    )
    offering = next((o for o in offerings if o.is_bookable), None)
    assert offering is not None, f"the demo's {office.slug} has no bookable service nobody books or waits for"
    return offering


def _filler(
    office: Office, service: Service, start: datetime, end: datetime, seat: int, now: datetime
) -> Booking:
    number = next(_FILLERS)
    return Booking(
        reference=f"WL{number:06d}",
        token_hash=hash_token(f"waitlist-filler-{number}"),
        office_id=office.id,
        service_id=service.id,
        starts_at=start,
        ends_at=end,
        seat=seat,
        status=BookingStatus.BOOKED.value,
        name="Filler",
        email=f"filler{number}@example.se",
        contact_key=f"filler{number}@example.se",
        language="sv",
        needs=[],
        channel=Channel.PHONE.value,
        created_at=now,
        updated_at=now,
    )


async def _fill_office(site: LiveSite) -> FullOffice:
    """Book every seat of every slot of a quiet service at the site's office, as far ahead as residents
    may book it (as tests/waitlist/support.py ``fill`` does for the small city)."""
    assert site.settings is not None
    maker, engine = _maker(site.settings)
    try:
        async with maker() as db, db.begin():
            office = (await db.scalars(select(Office).where(Office.slug == site.office))).one()
            offering = await _quiet_offering(db, office)
            service = await db.get(Service, offering.service_id)
            assert service is not None
            now = datetime.now(UTC)
            hours = await office_hours(db, office, *hours_window(office, service, now))
            first, last = hours_window(office, service, now)
            slots = free_slots(
                hours, slot_policy(offering, hours, staff=True), first, last, now, include_full=True
            )
            assert slots, f"{service.code} has no slots at {office.slug}"
            fillers = [
                _filler(office, service, slot.start, slot.end, seat, now)
                for slot in slots
                for seat in range(1, offering.seats + 1)
            ]
            db.add_all(fillers)
            await db.flush()
            # Seat 1 is never kept for the phone, so a resident may take it once it is free again.
            freed = next(f for f in fillers if f.seat == 1 and f.starts_at >= now + FREED_AHEAD)
            return FullOffice(office.slug, service.code, ZoneInfo(office.timezone), freed.id, freed.starts_at)
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Offer:
    token: str
    expires_at: datetime


async def _offer_after_cancellation(site: LiveSite, full: FullOffice, email: str) -> Offer:
    """Cancel the freed booking through the booking service; a round of the worker at once offers its
    resting seat to nobody, a round once the release delay has passed offers it to the resident."""
    assert site.settings is not None
    maker, engine = _maker(site.settings)
    try:
        cancelled_at = datetime.now(UTC)
        async with maker() as db, db.begin():
            booking = await db.get(Booking, full.freed_id)
            assert booking is not None
            await booking_services.cancel(
                db, booking, channel=Channel.WEB, actor="resident", now=cancelled_at
            )

        await run_waitlist(maker, site.settings, cancelled_at)
        assert await _offer_messages(maker, email) == [], "a seat was offered while it still rested"

        later = cancelled_at + timedelta(minutes=site.settings.cancel_release_minutes, seconds=30)
        await run_waitlist(maker, site.settings, later)
        [message] = await _offer_messages(maker, email)
        async with maker() as db:
            entry = (await db.scalars(select(WaitlistEntry).where(WaitlistEntry.email == email))).one()
            assert entry.status == WaitlistStatus.OFFERED and entry.offer_expires_at is not None
            return Offer(link_token(message.body), entry.offer_expires_at)
    finally:
        await engine.dispose()


async def _offer_messages(maker: async_sessionmaker[AsyncSession], email: str) -> list[OutboxMessage]:
    async with maker() as db:
        query = select(OutboxMessage).where(
            OutboxMessage.kind == "waitlist_offer", OutboxMessage.recipient == email
        )
        return list(await db.scalars(query))


async def _outcome(site: LiveSite, reference: str, freed_id: int) -> tuple[Booking, Booking, WaitlistEntry]:
    """The booking with the reference the page showed, the cancelled booking, and the resident's entry."""
    assert site.settings is not None
    maker, engine = _maker(site.settings)
    try:
        async with maker() as db:
            booking = (await db.scalars(select(Booking).where(Booking.reference == reference))).one()
            cancelled = await db.get(Booking, freed_id)
            assert cancelled is not None
            entry = (await db.scalars(select(WaitlistEntry).where(WaitlistEntry.email == RESIDENT[1]))).one()
            return booking, cancelled, entry
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def full_office(live_site: LiveSite) -> FullOffice:
    return _run_apart(_fill_office, live_site)


def _fact(page: Any, scope: str, term: str) -> str:
    """The text of a ``<dd>`` by its ``<dt>``, in the section ``scope``."""
    return page.locator(f"{scope} dt:text-is('{term}') + dd").inner_text().strip()


def _hhmm(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def test_a_resident_joins_the_waitlist_and_takes_the_freed_seat(
    page: Any, live_site: LiveSite, full_office: FullOffice
) -> None:
    name, email = RESIDENT
    full = full_office

    # No free time at the office: the booking flow says so and points to the waitlist.
    page.goto(f"/book?service={full.service}&office={full.office}")
    assert page.locator("button.time-button").count() == 0
    assert page.locator("#times-heading").inner_text().strip() == "Inga lediga tider den här månaden"
    join_link = page.locator(".booking-times a[href^='/waitlist?']")
    assert (
        join_link.inner_text().strip() == "Ställ dig på väntelistan: vi erbjuder dig en tid när en blir ledig"
    )
    join_link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/waitlist\?service={full.service}&office={full.office}$"))

    # The form comes filled in with the service, the office and the whole horizon.
    assert page.locator("h1").inner_text().strip() == "Ställ dig på väntelistan"
    assert page.locator("#waitlist-service").input_value() == full.service
    assert page.locator("#waitlist-office").input_value() == full.office
    earliest = page.locator("#waitlist-earliest").input_value()
    latest = page.locator("#waitlist-latest").input_value()
    assert earliest <= full.freed_start.astimezone(full.zone).date().isoformat() <= latest
    assert page.locator("#waitlist-language").input_value() == "sv"
    assert_accessible(page, "the waitlist's form")

    # Name and e-mail by keyboard; Enter in the e-mail field sends the form.
    page.locator("#waitlist-name").focus()
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "waitlist-email"
    page.keyboard.type(email)
    page.keyboard.press("Enter")
    page.wait_for_url(ENTRY_PAGE)

    status = page.locator("[role=status]").inner_text()
    assert "Du står på väntelistan." in status and f"Vi skickar en bekräftelse till {email}." in status
    assert "Du är nummer 1 i kön till den här tjänsten." in page.locator("main").inner_text()
    assert _fact(page, ".booking-summary", "Status") == "I kön"
    assert page.locator("button:text-is('Ta den här tiden')").count() == 0
    assert_accessible(page, "the place in line")

    # A visit is cancelled; its seat rests, then the worker offers it to the first in line.
    offer = _run_apart(_offer_after_cancellation, live_site, full, email)

    page.goto(f"/waitlist/{offer.token}")
    assert page.locator("#offer-heading").inner_text().strip() == "En tid är ledig för dig"
    offered_time = _fact(page, "section[aria-labelledby='offer-heading']", "Tid")
    assert _hhmm(full.freed_start, full.zone) in offered_time
    deadline = page.locator("section[aria-labelledby='offer-heading'] p strong").inner_text()
    assert deadline.startswith("Vi reserverar tiden åt dig till ")
    assert deadline.rstrip(".").endswith(_hhmm(offer.expires_at, full.zone)), deadline
    assert_accessible(page, "the offer")

    page.locator("button:text-is('Ta den här tiden')").click()
    page.wait_for_url(BOOKING_PAGE)
    reference = BOOKING_PAGE.search(page.url).group(1)  # type: ignore[union-attr]
    assert "Ditt besök är bokat." in page.locator("[role=status]").inner_text()
    assert _fact(page, ".booking-summary", "Tid") == offered_time
    assert _fact(page, ".booking-summary", "Namn") == name
    assert _fact(page, ".booking-summary", "Status") == "Bokad"

    # The resident holds the very seat the cancellation freed, booked in their name.
    booking, cancelled, entry = _run_apart(_outcome, live_site, normalize_reference(reference), full.freed_id)
    assert cancelled.status == BookingStatus.CANCELLED
    assert (entry.status, entry.offered_booking_id) == (WaitlistStatus.BOOKED, booking.id)
    assert (booking.status, booking.name, booking.email) == (BookingStatus.BOOKED, name, email)
    slot = (booking.office_id, booking.service_id, booking.starts_at, booking.seat)
    assert slot == (cancelled.office_id, cancelled.service_id, cancelled.starts_at, cancelled.seat)
