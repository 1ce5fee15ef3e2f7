"""The waitlist of a service: residents who found no free time join its line for one office (or any
office) and a range of dates; as seats free up, the worker offers each to the first in line whose
office and dates fit it, held for a short while; an offer not taken in time goes to the next.

Fair, first come first served: a line is served in the order its entries joined (``created_at``,
then ``id``), each entry getting the earliest free seat it fits among those not yet offered to
someone before it, so a seat never goes to a later entry while an earlier one that fits it waits.
An entry holds one offer at a time.

An offered seat is a held booking (:mod:`kontor.booking.holds`) made as a resident's booking is: it
takes only seats the web may take (none kept for the phone before their release, no cancelled seat
still resting) and the unique seat index has the last word when a resident or another worker takes
the seat first. Two workers never serve one line at once: a line is claimed by one transaction (an
advisory lock of its service on PostgreSQL, the single writer on SQLite), and its entries are locked
with ``FOR UPDATE SKIP LOCKED``, so one that a resident is taking or leaving meanwhile waits for the
next round instead of being offered a seat under their feet.

Clock-free: ``now`` is always given.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import contains_eager

from kontor.accounts.security import hash_token, new_token
from kontor.audit.history import record_change
from kontor.audit.models import Channel
from kontor.booking import holds
from kontor.booking.models import Booking, BookingEvent, BookingStatus
from kontor.booking.notices import tell_resident
from kontor.booking.policy import BookingRules, contact_keys, hours_window, slot_policy
from kontor.booking.seats import seat_counts_on
from kontor.booking.slots import free_slots
from kontor.booking.visitor import BookingError, check_visitor
from kontor.db.engine import WRITE_OPTION
from kontor.hours.services import office_hours
from kontor.i18n import N_
from kontor.offices.models import Office, OfficeService, Service
from kontor.offices.services import active_offices, bookable_offering
from kontor.settings import Settings
from kontor.waitlist.messages import queue_joined_messages, queue_offer_messages
from kontor.waitlist.models import ACTIVE_STATUSES, WaitlistEntry, WaitlistStatus

__all__ = [
    "OFFER_ACTOR",
    "JoinError",
    "date_limits",
    "decline_offer",
    "end_past",
    "find_entry",
    "join",
    "lapse_offers",
    "leave",
    "offer_running",
    "offer_seats",
    "offered_booking",
    "place_in_line",
    "run_waitlist",
    "take_offer",
]

log = logging.getLogger(__name__)

# Who holds an offered seat and lets a lapsed one go, in the booking's history.
OFFER_ACTOR = "waitlist"
# The first key of PostgreSQL's two-key advisory lock that claims a service's line ("WLST").
_LINE_LOCK = 0x574C5354
_LINE_ORDER = (WaitlistEntry.created_at, WaitlistEntry.id)
_TOKEN_MAX = 200

_WAITING = WaitlistStatus.WAITING.value
_OFFERED = WaitlistStatus.OFFERED.value


class JoinError(Exception):
    """Why joining was refused: English msgids by form field (callers translate them, filling in
    ``first`` and ``last``, the dates one may choose between)."""

    def __init__(self, errors: dict[str, str], first: date | None = None, last: date | None = None) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors
        self.first = first
        self.last = last


def _is_postgres(db: AsyncSession) -> bool:
    return db.get_bind().dialect.name == "postgresql"


def _finish(entry: WaitlistEntry, status: WaitlistStatus, now: datetime) -> None:
    entry.status = status.value
    entry.finished_at = now


# -- joining -------------------------------------------------------------------------------------


def date_limits(
    service: Service, office: Office | None, now: datetime, default_timezone: str
) -> tuple[date, date]:
    """The dates a resident may wait for: from today at the office (in the city's zone for any office)
    to the end of the service's booking horizon, as far as free times are ever shown."""
    zone = ZoneInfo(office.timezone if office is not None else default_timezone)
    today = now.astimezone(zone).date()
    return today, today + timedelta(days=service.horizon_days)


async def _line_of(
    db: AsyncSession, service_code: str, office_slug: str | None
) -> tuple[Service | None, Office | None, dict[str, str]]:
    """The service and (unless any office will do) the office whose line is joined, or the errors."""
    service = await db.scalar(select(Service).where(Service.code == service_code)) if service_code else None
    if service is None:
        return None, None, {"service": N_("Choose a service.")}
    offerings = list(
        await db.scalars(
            select(OfficeService)
            .join(Office, Office.id == OfficeService.office_id)
            .where(OfficeService.service_id == service.id, Office.active.is_(True))
            .options(contains_eager(OfficeService.office))
        )
    )
    bookable = [offering for offering in offerings if offering.is_bookable]
    if not bookable:
        return service, None, {"service": N_("This service cannot be booked online. Choose another service.")}
    if not office_slug:
        return service, None, {}
    offering = next((o for o in bookable if o.office.slug == office_slug), None)
    if offering is None:
        message = N_(
            "This office does not take bookings for this service. Choose another office, or any office."
        )
        return service, None, {"office": message}
    return service, offering.office, {}


def _date_errors(earliest: date | None, latest: date | None, first: date, last: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if earliest is None:
        errors["earliest"] = N_("Enter the first date you can come, as year-month-day.")
    elif earliest < first:
        errors["earliest"] = N_("The first date cannot be in the past.")
    elif earliest > last:
        errors["earliest"] = N_("Choose a first date no later than %(last)s.")
    if latest is None:
        errors["latest"] = N_("Enter the last date you can come, as year-month-day.")
    elif latest > last:
        errors["latest"] = N_(
            "Choose a last date no later than %(last)s: times are not given out further ahead."
        )
    elif earliest is not None and "earliest" not in errors and latest < earliest:
        errors["latest"] = N_("The last date cannot be before the first date.")
    elif latest < first:
        errors["latest"] = N_("The last date cannot be in the past.")
    return errors


async def _in_line_already(db: AsyncSession, service_id: int, keys: list[str]) -> bool:
    """Whether the contact waits (or holds an offer) in the service's line already."""
    if _is_postgres(db):
        # Two joins of one contact at once wait for each other, so the second sees the first (on SQLite,
        # writers take turns anyway). Sorted, so two requests never lock in opposite order.
        for key in sorted(keys):
            await db.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"waitlist:{key}"))))
    found = await db.scalar(
        select(func.count()).where(
            WaitlistEntry.service_id == service_id,
            WaitlistEntry.contact_key.in_(keys),
            WaitlistEntry.status.in_(ACTIVE_STATUSES),
        )
    )
    return bool(found)


async def join(
    db: AsyncSession,
    *,
    service_code: str,
    office_slug: str | None,
    earliest: date | None,
    latest: date | None,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    language: str = "sv",
    needs: Iterable[str] = (),
    settings: Settings,
    now: datetime,
) -> tuple[WaitlistEntry, str]:
    """Put a resident at the end of the service's line for an office (``office_slug``) or any office
    (None), for the office-local dates earliest..latest; the entry and its private token (returned
    only here), with the message of joining queued. JoinError names every field at fault.

    One contact waits at most once per service: a second entry would only take a second turn."""
    service, office, errors = await _line_of(db, service_code, office_slug)
    first = last = None
    if service is not None and "service" not in errors:
        first, last = date_limits(service, office, now, settings.default_timezone)
        errors |= _date_errors(earliest, latest, first, last)
    try:
        visitor = check_visitor(name, email, phone, language, needs)
    except BookingError as error:
        errors.setdefault(error.field or "name", error.message)
        visitor = None
    if visitor is not None and service is not None:
        keys = contact_keys(visitor.email, visitor.phone)
        if await _in_line_already(db, service.id, keys):
            errors.setdefault(
                "email" if visitor.email else "phone",
                N_(
                    "You are already on the waitlist for this service. The link in the message we sent "
                    "you shows your place in line, and lets you leave it."
                ),
            )
    if errors:
        raise JoinError(errors, first, last)
    assert service is not None and visitor is not None and earliest is not None and latest is not None
    token = new_token()
    entry = WaitlistEntry(
        created_at=now,
        office_id=office.id if office is not None else None,
        service_id=service.id,
        earliest=earliest,
        latest=latest,
        name=visitor.name,
        email=visitor.email,
        phone=visitor.phone,
        contact_key=contact_keys(visitor.email, visitor.phone)[0],
        language=visitor.language,
        needs=visitor.needs,
        token_hash=hash_token(token),
        status=_WAITING,
        offers=0,
    )
    entry.office, entry.service = office, service
    db.add(entry)
    await db.flush()
    queue_joined_messages(db, entry, settings=settings, token=token, now=now)
    return entry, token


# -- the resident's page -------------------------------------------------------------------------


async def find_entry(db: AsyncSession, token: str, *, for_update: bool = False) -> WaitlistEntry | None:
    """The entry whose own token or whose offer's token ``token`` is, or None. ``for_update`` locks
    it (PostgreSQL) until the transaction ends, so the worker leaves it alone meanwhile."""
    if not token or len(token) > _TOKEN_MAX:
        return None
    digest = hash_token(token)
    query = select(WaitlistEntry).where(
        or_(WaitlistEntry.token_hash == digest, WaitlistEntry.offer_token_hash == digest)
    )
    if for_update:
        query = query.with_for_update(of=WaitlistEntry)
    return await db.scalar(query)


async def place_in_line(db: AsyncSession, entry: WaitlistEntry) -> int | None:
    """The entry's number in the line of its service (1: next to be offered a seat it fits), counting
    the waiting entries that joined before it and could take the same seats: those for its office and
    those for any office (for an entry of any office, every one). None when it does not wait."""
    if entry.status != _WAITING:
        return None
    ahead = select(func.count()).where(
        WaitlistEntry.service_id == entry.service_id,
        WaitlistEntry.status == _WAITING,
        or_(
            WaitlistEntry.created_at < entry.created_at,
            and_(WaitlistEntry.created_at == entry.created_at, WaitlistEntry.id < entry.id),
        ),
    )
    if entry.office_id is not None:
        ahead = ahead.where(
            or_(WaitlistEntry.office_id.is_(None), WaitlistEntry.office_id == entry.office_id)
        )
    return int(await db.scalar(ahead) or 0) + 1


async def offered_booking(db: AsyncSession, entry: WaitlistEntry) -> Booking | None:
    """The booking of the entry's current (or taken) offer."""
    if entry.offered_booking_id is None:
        return None
    return await db.get(Booking, entry.offered_booking_id)


def offer_running(entry: WaitlistEntry, now: datetime) -> bool:
    """Whether a seat is held for the entry just now."""
    return entry.status == _OFFERED and entry.offer_expires_at is not None and entry.offer_expires_at > now


async def take_offer(
    db: AsyncSession, entry: WaitlistEntry, *, settings: Settings, now: datetime
) -> tuple[Booking, str]:
    """Book the seat offered to the entry with the details it was given, as the resident's own web
    booking (the limit of visits per contact applies); the booking and its new private token, with
    the confirmations queued. The entry is BOOKED. BookingError when the offer is no longer held."""
    if entry.status == WaitlistStatus.BOOKED:  # sent twice (a double click, a reload)
        raise BookingError(
            "taken",
            N_(
                "You have taken this time already. "
                "The link to your booking is in the confirmation we sent you."
            ),
        )
    booking = await offered_booking(db, entry) if offer_running(entry, now) else None
    if booking is None or booking.status != BookingStatus.HELD:
        raise BookingError(
            "expired",
            N_(
                "This offer is no longer held for you, so the time was not booked. "
                "You can join the waitlist again."
            ),
        )
    await holds.confirm(
        db, booking, name=entry.name, email=entry.email, phone=entry.phone, language=entry.language,
        needs=entry.needs, channel=Channel.WEB, actor="resident", now=now,
        rules=BookingRules.from_settings(settings),
    )  # fmt: skip
    # The hold's token was never told to anyone: the resident's link to the booking is made now.
    token = new_token()
    booking.token_hash = hash_token(token)
    _finish(entry, WaitlistStatus.BOOKED, now)
    await db.flush()
    await tell_resident(db, booking, "booked", settings=settings, token=token, now=now)
    return booking, token


async def _release(
    db: AsyncSession, entry: WaitlistEntry, *, channel: Channel, actor: str, now: datetime
) -> None:
    """Let the seat held for the entry's offer go: its hold expires at once, so the seat is free for
    the next in line (or anyone) without waiting for the hold to run out."""
    booking = await offered_booking(db, entry)
    if booking is None or booking.status != BookingStatus.HELD:
        return  # taken already, or run out and swept
    # A hold let go is never a cancelled booking: it expires (kontor.booking.services.cancel).
    released = await db.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == BookingStatus.HELD.value)
        .values(status=BookingStatus.EXPIRED.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if released.rowcount:
        await db.refresh(booking)
        changes = {"status": [BookingStatus.HELD.value, BookingStatus.EXPIRED.value]}
        record_change(
            db, BookingEvent, "released", channel=channel, actor=actor, now=now,
            changes=changes, booking_id=booking.id,
        )  # fmt: skip


async def leave(db: AsyncSession, entry: WaitlistEntry, *, now: datetime) -> WaitlistEntry:
    """Take the entry out of the line at the resident's wish, letting go of a seat offered to it.
    Leaving twice, or after the entry ended otherwise, changes nothing."""
    if entry.status not in ACTIVE_STATUSES:
        return entry
    if entry.status == _OFFERED:
        await _release(db, entry, channel=Channel.WEB, actor="resident", now=now)
    _finish(entry, WaitlistStatus.LEFT, now)
    await db.flush()
    return entry


async def decline_offer(db: AsyncSession, entry: WaitlistEntry, *, now: datetime) -> WaitlistEntry:
    """Say no to the seat offered: the entry leaves the line and the seat goes to the next in it at
    the worker's next round. Declining twice changes nothing; BookingError when nothing is offered."""
    if entry.status == WaitlistStatus.LEFT:
        return entry
    if entry.status != _OFFERED:
        raise BookingError(
            "invalid", N_("No time is offered to you just now, so there is nothing to decline.")
        )
    return await leave(db, entry, now=now)


# -- the worker's round --------------------------------------------------------------------------


@asynccontextmanager
async def _reading(session_maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A transaction that only reads: on SQLite it takes no writer's lock, even when the session
    maker's engine begins every transaction as a writer (the worker is given the app's writer)."""
    async with session_maker() as db, db.begin():
        await db.connection(execution_options={WRITE_OPTION: False})
        yield db


@asynccontextmanager
async def _writing(session_maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A transaction that writes: on SQLite it begins IMMEDIATE, so it is the only writer."""
    async with session_maker() as db, db.begin():
        await db.connection(execution_options={WRITE_OPTION: True})
        yield db


async def lapse_offers(db: AsyncSession, now: datetime) -> int:
    """Offers not taken by their deadline: the entry leaves the line (LAPSED) and its seat is free
    again at once. Entries someone is changing just now are left to the next round."""
    entries = await db.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.status == _OFFERED, WaitlistEntry.offer_expires_at <= now)
        .order_by(*_LINE_ORDER)
        .with_for_update(skip_locked=True, of=WaitlistEntry)
    )
    lapsed = 0
    for entry in list(entries):
        await _release(db, entry, channel=Channel.SYSTEM, actor=OFFER_ACTOR, now=now)
        _finish(entry, WaitlistStatus.LAPSED, now)
        lapsed += 1
    await db.flush()
    return lapsed


async def end_past(db: AsyncSession, settings: Settings, now: datetime) -> int:
    """Waiting entries whose last date has passed at their office (the city's zone for any office)
    leave the line as ENDED."""
    # Today in any zone is at most a day past today in UTC: only these can have ended.
    candidates = await db.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.status == _WAITING, WaitlistEntry.latest <= now.astimezone(UTC).date())
        .with_for_update(skip_locked=True, of=WaitlistEntry)
    )
    ended = 0
    for entry in list(candidates):
        zone = ZoneInfo(entry.office.timezone if entry.office is not None else settings.default_timezone)
        if entry.latest < now.astimezone(zone).date():
            _finish(entry, WaitlistStatus.ENDED, now)
            ended += 1
    await db.flush()
    return ended


@dataclass(slots=True)
class _FreeSeats:
    """A slot with seats a resident could take, and how many of them are not offered yet."""

    office: Office
    start: datetime
    day: date  # the local date at the office
    left: int


def _fits(entry: WaitlistEntry, seats: _FreeSeats) -> bool:
    return (entry.office_id is None or entry.office_id == seats.office.id) and (
        entry.earliest <= seats.day <= entry.latest
    )


async def _free_seats(
    db: AsyncSession, entries: list[WaitlistEntry], settings: Settings, now: datetime
) -> list[_FreeSeats]:
    """The free slots a resident could book that some entry of the line could want, earliest first
    (by office name when two start together), as the booking pages count them."""
    service = entries[0].service
    office_ids = {entry.office_id for entry in entries}
    first, last = min(e.earliest for e in entries), max(e.latest for e in entries)
    release_delay = timedelta(minutes=settings.cancel_release_minutes)
    found: list[_FreeSeats] = []
    for office in await active_offices(db):
        offering = bookable_offering(office, service.code)
        if offering is None or (None not in office_ids and office.id not in office_ids):
            continue
        hours = await office_hours(db, office, *hours_window(office, service, now))
        taken = await seat_counts_on(db, office, offering, first, last, now, release_delay=release_delay)
        zone = ZoneInfo(office.timezone)
        for slot in free_slots(
            hours, slot_policy(offering, hours), first, last, now, taken.taken, taken_public=taken.public
        ):
            found.append(_FreeSeats(office, slot.start, slot.start.astimezone(zone).date(), slot.seats_left))
    found.sort(key=lambda seats: (seats.start, seats.office.name))
    return found


async def _hold_seat(
    db: AsyncSession, service: Service, seats: _FreeSeats, settings: Settings, now: datetime
) -> Booking | None:
    """Hold a seat of the slot for an offer, as a resident's hold; None when the seat went meanwhile
    (a resident, or another worker, was faster; the database decides) or the slot is no longer
    bookable. The hold runs as long as the offer, and never past the visit's start."""
    hold = min(timedelta(minutes=settings.waitlist_offer_minutes), seats.start - now)
    if hold <= timedelta(0):
        return None
    rules = dataclasses.replace(BookingRules.from_settings(settings), hold=hold)
    try:
        async with db.begin_nested():
            booking, _token = await holds.hold(
                db, office_slug=seats.office.slug, service_code=service.code, start=seats.start,
                channel=Channel.WEB, actor=OFFER_ACTOR, now=now, rules=rules,
            )  # fmt: skip
    except (BookingError, IntegrityError):
        return None
    return booking


def _offer(
    db: AsyncSession, entry: WaitlistEntry, booking: Booking, settings: Settings, now: datetime
) -> None:
    token = new_token()
    entry.status = _OFFERED
    entry.offered_booking_id = booking.id
    entry.offered_at = now
    entry.offer_expires_at = booking.hold_expires_at
    entry.offers = (entry.offers or 0) + 1
    entry.offer_token_hash = hash_token(token)
    queue_offer_messages(db, entry, booking, settings=settings, token=token, now=now)


async def _waiting(db: AsyncSession, service_id: int, *, claim: bool) -> list[WaitlistEntry]:
    """The line of a service, first come first served; ``claim`` locks its entries, passing over
    those someone is changing just now (PostgreSQL; on SQLite the writer is alone anyway)."""
    query = (
        select(WaitlistEntry)
        .where(WaitlistEntry.service_id == service_id, WaitlistEntry.status == _WAITING)
        .order_by(*_LINE_ORDER)
    )
    if claim:
        query = query.with_for_update(skip_locked=True, of=WaitlistEntry)
    return list(await db.scalars(query))


async def _serve_line(db: AsyncSession, service_id: int, settings: Settings, now: datetime) -> int:
    """Offer the free seats of one service to its line, first come first served; how many were
    offered. Another worker serving the same line just now: this one leaves it to them."""
    if _is_postgres(db) and not await db.scalar(
        select(func.pg_try_advisory_xact_lock(_LINE_LOCK, service_id))
    ):
        return 0
    entries = await _waiting(db, service_id, claim=True)
    if not entries:
        return 0
    service = entries[0].service
    free = await _free_seats(db, entries, settings, now)
    offered = 0
    for entry in entries:
        for seats in free:
            if seats.left <= 0 or not _fits(entry, seats):
                continue
            booking = await _hold_seat(db, service, seats, settings, now)
            if booking is None:
                seats.left = 0  # the database says the slot has no seat for a resident left
                continue
            seats.left -= 1
            _offer(db, entry, booking, settings, now)
            offered += 1
            break
        if not any(seats.left > 0 for seats in free):
            break
    await db.flush()
    return offered


async def _has_work(db: AsyncSession, service_id: int, settings: Settings, now: datetime) -> bool:
    """Whether some waiting entry of the line fits a free seat."""
    entries = await _waiting(db, service_id, claim=False)
    if not entries:
        return False
    free = await _free_seats(db, entries, settings, now)
    return any(_fits(entry, seats) for entry in entries for seats in free)


async def offer_seats(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> int:
    """Serve every line with a free seat for someone in it, each in a transaction of its own; how
    many seats were offered. The lines are looked at first without a writer's lock: in the usual
    round nothing has come free, and on SQLite that round then keeps no writer waiting."""
    async with _reading(session_maker) as db:
        service_ids = sorted(
            await db.scalars(
                select(WaitlistEntry.service_id).where(WaitlistEntry.status == _WAITING).distinct()
            )
        )
        busy = [service_id for service_id in service_ids if await _has_work(db, service_id, settings, now)]
    offered = 0
    for service_id in busy:
        async with _writing(session_maker) as db:
            offered += await _serve_line(db, service_id, settings, now)
    return offered


async def _anything_due(db: AsyncSession, now: datetime) -> bool:
    """Whether an offer has run out, or a waiting entry's last date may have passed."""
    due = or_(
        and_(WaitlistEntry.status == _OFFERED, WaitlistEntry.offer_expires_at <= now),
        and_(WaitlistEntry.status == _WAITING, WaitlistEntry.latest <= now.astimezone(UTC).date()),
    )
    return bool(await db.scalar(select(exists().where(due))))


async def run_waitlist(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> dict[str, int]:
    """The worker's round: offers not taken in time lapse (their seats free again), entries past
    their last date end, then the free seats are offered to the lines. Counts only, never who."""
    lapsed = ended = 0
    async with _reading(session_maker) as db:
        due = await _anything_due(db, now)
    if due:
        async with _writing(session_maker) as db:
            lapsed = await lapse_offers(db, now)
            ended = await end_past(db, settings, now)
    offered = await offer_seats(session_maker, settings, now)
    if offered or lapsed or ended:
        log.info("waitlist: %d offered, %d lapsed, %d ended", offered, lapsed, ended)
    return {"offered": offered, "lapsed": lapsed, "ended": ended}
