"""Staff calendar feeds: who may have which, creating and revoking them, finding one by its token,
and the visits it shows.

A feed's address carries a random token of its own (stored hashed, DESIGN rule 7), so a calendar
client reads it without logging in. Whether its owner may still see what it shows is decided again
at every read: taking someone off an office, changing their role or deactivating them closes their
feeds at once. Office and counter feeds show the resident's name, which the office's staff greet
them by; an agent's feed shows no name, and no feed shows an e-mail address or a phone number.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Row, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from kontor.accounts.auth import can_work_in_office
from kontor.accounts.models import Role, User
from kontor.accounts.security import hash_token, new_token, token_matches
from kontor.audit.models import Channel
from kontor.audit.services import record
from kontor.booking.models import Booking, BookingEvent, BookingStatus
from kontor.calendars.bookings_feed import FeedContent, FeedVisit
from kontor.calendars.models import CalendarFeed
from kontor.i18n import DEFAULT_LOCALE, LOCALES, N_, _, current_locale
from kontor.offices.models import Counter, Office, OfficeService, Service


class FeedKind(StrEnum):
    OFFICE = "office"
    COUNTER = "counter"
    AGENT = "agent"


# The visits a feed shows: from this long before today to this long after it.
FEED_PAST = timedelta(days=90)
FEED_AHEAD = timedelta(days=366)
MAX_FEEDS = 20  # unrevoked feeds per user
LABEL_MAX = 120
DEFAULT_ZONE = "Europe/Stockholm"
# Visits expected or dealt with. A cancelled visit leaves the feed: that is how a subscribed client
# learns to remove it. A hold is not a booking yet, an expired hold never was one.
FEED_STATUSES = (
    BookingStatus.BOOKED.value,
    BookingStatus.CHECKED_IN.value,
    BookingStatus.SERVED.value,
    BookingStatus.NO_SHOW.value,
)
# The changes that raise a visit's SEQUENCE, as in booking.notices.calendar_sequence.
SEQUENCE_ACTIONS = ("rescheduled", "cancelled")
_AGENT_ROLES = frozenset({Role.AGENT.value, Role.ADMIN.value})
_OFFICE_ROLES = frozenset({Role.ADMIN.value, Role.MANAGER.value, Role.STAFF.value})


class FeedError(Exception):
    """Why a feed could not be made. ``code`` is 'invalid', 'forbidden' or 'limit'; ``message`` an
    English msgid (callers translate); ``field`` the keyword argument of ``create_feed`` at fault."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def _may_hold(user: User, kind: str, office: Office | None, counter: Counter | None) -> bool:
    if not user.active:
        return False
    if kind == FeedKind.AGENT:
        return user.role in _AGENT_ROLES
    if office is None or not office.active or not can_work_in_office(user, office.id):
        return False
    if kind == FeedKind.COUNTER:
        return counter is not None and counter.active and counter.office_id == office.id
    return kind == FeedKind.OFFICE


def feed_allowed(feed: CalendarFeed) -> bool:
    """Whether the feed's owner may see what it shows now (the feed's user, office and counter loaded)."""
    return _may_hold(feed.user, feed.kind, feed.office, feed.counter)


async def create_feed(
    db: AsyncSession,
    user: User,
    *,
    kind: str,
    office_id: int | None = None,
    counter_id: int | None = None,
    service_ids: Sequence[int] = (),
    label: str = "",
    now: datetime,
    channel: Channel = Channel.WEB,
) -> tuple[CalendarFeed, str]:
    """Make a feed for ``user`` and return it with its token, which is shown this once and never
    stored. Office and counter feeds: staff and managers of the office, admins of any active office.
    An agent's feed of their own bookings: agents and admins. Raises FeedError."""
    try:
        feed_kind = FeedKind(kind)
    except ValueError:
        raise FeedError("invalid", N_("Choose what the feed shows."), "kind") from None
    label = " ".join(label.split())
    if len(label) > LABEL_MAX:
        raise FeedError("invalid", N_("The feed's name can be at most 120 characters long."), "label")
    office, counter = await _place(db, user, feed_kind, office_id, counter_id)
    services = await _services(db, office, service_ids)
    # On PostgreSQL two requests at once wait for each other here; SQLite's writers take turns anyway.
    await db.execute(select(User.id).where(User.id == user.id).with_for_update())
    held = await db.scalar(
        select(func.count()).where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
    )
    if (held or 0) >= MAX_FEEDS:
        raise FeedError("limit", N_("You have 20 calendar feeds, the most there can be: revoke one first."))
    token = new_token()
    feed = CalendarFeed(
        user_id=user.id,
        kind=feed_kind.value,
        office_id=office.id if office else None,
        counter_id=counter.id if counter else None,
        service_ids=[service.id for service in services],
        label=label or _default_label(user, feed_kind, office, counter, services),
        token_hash=hash_token(token),
        created_at=now,
    )
    db.add(feed)
    await db.flush()
    # Loaded as they are, for the page that shows the new feed (no lazy loads in async code).
    for key, value in (("user", user), ("office", office), ("counter", counter)):
        set_committed_value(feed, key, value)
    changes = {
        "kind": feed.kind,
        "office": office.slug if office else None,
        "counter": counter.number if counter else None,
        "services": [service.code for service in services],
        "label": feed.label,
    }
    record(
        db, actor=user, channel=channel, action="calendar_feed.created", entity="calendar_feed",
        entity_id=feed.id, office_id=feed.office_id, changes=changes,
    )  # fmt: skip
    await db.flush()
    return feed, token


async def _place(
    db: AsyncSession, user: User, kind: FeedKind, office_id: int | None, counter_id: int | None
) -> tuple[Office | None, Counter | None]:
    """The feed's office and counter, checked against what ``user`` may see."""
    if not user.active:
        raise FeedError("forbidden", N_("This account is deactivated."), "kind")
    if kind == FeedKind.AGENT:
        if user.role not in _AGENT_ROLES:
            raise FeedError("forbidden", N_("Only the contact center has feeds of its own bookings."), "kind")
        if office_id is not None:
            raise FeedError("invalid", N_("A feed of your own bookings shows every office."), "office_id")
        if counter_id is not None:
            raise FeedError("invalid", N_("A feed of your own bookings shows every office."), "counter_id")
        return None, None
    if user.role not in _OFFICE_ROLES:
        raise FeedError("forbidden", N_("Only an office's staff have feeds of its visits."), "kind")
    office = await db.get(Office, office_id) if office_id is not None else None
    if office is None or not _may_hold(user, FeedKind.OFFICE, office, None):
        raise FeedError("invalid", N_("Choose one of your offices."), "office_id")
    if kind == FeedKind.OFFICE:
        if counter_id is not None:
            raise FeedError("invalid", N_("An office's feed is not one counter's."), "counter_id")
        return office, None
    counter = await db.get(Counter, counter_id) if counter_id is not None else None
    if counter is None or not _may_hold(user, kind, office, counter):
        raise FeedError("invalid", N_("Choose one of the office's open counters."), "counter_id")
    return office, counter


async def _services(db: AsyncSession, office: Office | None, service_ids: Sequence[int]) -> list[Service]:
    """The chosen services, checked: ones the office offers, or for an agent's feed, any service."""
    wanted = sorted(set(service_ids))
    if not wanted:
        return []
    query = select(Service).where(Service.id.in_(wanted)).order_by(Service.sort_order, Service.id)
    if office is not None:
        query = query.join(OfficeService, OfficeService.service_id == Service.id).where(
            OfficeService.office_id == office.id, OfficeService.active.is_(True)
        )
    found = list(await db.scalars(query))
    if len(found) != len(wanted):
        raise FeedError("invalid", N_("Choose services the office offers."), "service_ids")
    return found


def _default_label(
    user: User, kind: FeedKind, office: Office | None, counter: Counter | None, services: list[Service]
) -> str:
    """A name for the feed in the creator's language, e.g. "Medborgarkontor Kista – Lucka 1"."""
    if kind == FeedKind.AGENT:
        label = _("Visits booked by %(name)s", name=user.label)
    else:
        assert office is not None
        label = office.name
        if counter is not None:
            label += " – " + (counter.name or _("Counter %(number)s", number=counter.number))
    if services:
        locale = current_locale.get()
        label += ": " + ", ".join(service.name(locale) for service in services)
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


async def user_feeds(db: AsyncSession, user: User) -> list[CalendarFeed]:
    """The user's unrevoked feeds, newest first, with their offices and counters."""
    found = await db.scalars(
        select(CalendarFeed)
        .where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.created_at.desc(), CalendarFeed.id.desc())
    )
    return list(found)


async def revoke_feed(
    db: AsyncSession, user: User, feed_id: int, *, now: datetime, channel: Channel = Channel.WEB
) -> CalendarFeed | None:
    """Revoke one of the user's own feeds; its address stops working at once. None when there is no
    such unrevoked feed of theirs (someone else's is left alone)."""
    # Conditional, so two revocations at once record one audit entry, not two.
    result = await db.execute(
        update(CalendarFeed)
        .where(CalendarFeed.id == feed_id, CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        return None
    feed = await db.get(CalendarFeed, feed_id, populate_existing=True)
    assert feed is not None
    record(
        db, actor=user, channel=channel, action="calendar_feed.revoked", entity="calendar_feed",
        entity_id=feed.id, office_id=feed.office_id, changes={"kind": feed.kind, "label": feed.label},
    )  # fmt: skip
    await db.flush()
    return feed


async def feed_for_token(db: AsyncSession, token: str) -> CalendarFeed | None:
    """The feed with this token, if it still shows anything: not revoked, its owner active and still
    allowed to see it. Reads only (the caller decides whether to note ``last_used_at``)."""
    if not token:
        return None
    feed = (
        (
            await db.scalars(
                select(CalendarFeed)
                .where(CalendarFeed.token_hash == hash_token(token))
                .options(joinedload(CalendarFeed.user).joinedload(User.offices))
            )
        )
        .unique()
        .first()
    )
    if feed is None or feed.revoked_at is not None or not token_matches(token, feed.token_hash):
        return None
    return feed if feed_allowed(feed) else None


async def feed_visits(
    db: AsyncSession, feed: CalendarFeed, *, now: datetime, locale: str, public_url: str | None = None
) -> FeedContent:
    """What the feed shows: its visits from ``FEED_PAST`` before today to ``FEED_AHEAD`` after it, in
    two queries (the visits with their offices and services, then their SEQUENCEs, grouped).
    ``public_url`` gives each visit a link to the office's desk (an agent's: to the contact center)."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    agent = feed.kind == FeedKind.AGENT
    zone_name, _window_shown, shown = _scope(feed, now)
    # Only the columns the feed shows: never e-mail or phone, and no name in an agent's feed.
    columns = [
        Booking.id, Booking.reference, Booking.starts_at, Booking.ends_at, Booking.status,
        Booking.needs, Booking.language, Booking.channel, Booking.updated_at,
        Office.id.label("office_id"), Office.name.label("office_name"), Office.street, Office.postal_code,
        Office.city, Office.timezone, Service.name_sv, getattr(Service, f"name_{locale}").label("service"),
    ]  # fmt: skip
    if not agent:
        columns.append(Booking.name)
    rows = (
        await db.execute(
            select(*columns)
            .join(Office, Office.id == Booking.office_id)
            .join(Service, Service.id == Booking.service_id)
            .where(*shown)
            .order_by(Booking.starts_at, Booking.reference)
        )
    ).all()
    sequences = await _sequences(db, shown) if rows else {}
    locations: dict[int, str] = {}
    visits = [_visit(row, sequences.get(row.id, 0), locations, named=not agent) for row in rows]
    title = feed.label or (feed.office.name if feed.office else "kontor")
    return FeedContent(title=title, timezone=zone_name, visits=visits, desk_url=_desk_url(feed, public_url))


def _scope(
    feed: CalendarFeed, now: datetime
) -> tuple[str, tuple[datetime, datetime], list[ColumnElement[bool]]]:
    """The feed's time zone, its window (UTC) and the conditions that pick its visits at ``now``."""
    if feed.kind == FeedKind.AGENT:
        offices = feed.user.offices
        zone_name = offices[0].timezone if offices else DEFAULT_ZONE
        whose = Booking.created_by_id == feed.user_id
    else:
        assert feed.office is not None
        zone_name = feed.office.timezone
        whose = Booking.office_id == feed.office_id
    first, last = _window(now, ZoneInfo(zone_name))
    shown: list[ColumnElement[bool]] = [whose, Booking.status.in_(FEED_STATUSES)]
    shown += [Booking.starts_at >= first, Booking.starts_at < last]
    if feed.service_ids:
        shown.append(Booking.service_id.in_(feed.service_ids))
    return zone_name, (first, last), shown


async def feed_version(
    db: AsyncSession, feed: CalendarFeed, *, now: datetime, public_url: str | None = None
) -> str:
    """A digest input that changes whenever what the feed shows does, read without reading the
    visits: a calendar client polling a feed it already has costs three small queries, not a year of
    bookings. Every change of a booking stamps its ``updated_at`` (a move, a cancellation, a
    check-in); a visit that leaves the feed or is deleted changes the count and the sum of ids; a
    renamed office or service changes the names read here; a new day moves the window."""
    _zone, window, shown = _scope(feed, now)
    count, latest, ids = (
        await db.execute(
            select(func.count(), func.max(Booking.updated_at), func.sum(Booking.id)).where(*shown)
        )
    ).one()
    names = (
        await db.execute(
            select(Service.id, Service.name_sv, Service.name_en, Service.name_fi).order_by(Service.id)
        )
    ).all()
    offices = (
        await db.execute(
            select(
                Office.id,
                Office.slug,
                Office.name,
                Office.street,
                Office.postal_code,
                Office.city,
                Office.timezone,
            )
            .where(Office.id == feed.office_id if feed.office_id is not None else true())
            .order_by(Office.id)
        )
    ).all()
    about = (feed.id, feed.token_hash, feed.kind, feed.label, feed.service_ids, public_url, window)
    return repr((about, count, latest, ids, [tuple(row) for row in names], [tuple(row) for row in offices]))


def _window(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """From local midnight ``FEED_PAST`` before today to local midnight ``FEED_AHEAD`` after it, in UTC."""
    today = now.astimezone(zone).date()
    first = datetime.combine(today - FEED_PAST, time(), zone)
    last = datetime.combine(today + FEED_AHEAD, time(), zone)
    return first.astimezone(UTC), last.astimezone(UTC)


def _visit(row: Row[Any], sequence: int, locations: dict[int, str], *, named: bool) -> FeedVisit:
    location = locations.get(row.office_id)
    if location is None:  # once per office: "Medborgarkontor Kista, Kistagången 1, 164 40 Kista"
        place = Office(name=row.office_name, street=row.street, postal_code=row.postal_code, city=row.city)
        location = locations[row.office_id] = ", ".join(part for part in (place.name, place.address) if part)
    return FeedVisit(
        reference=row.reference,
        sequence=sequence,
        start=row.starts_at,
        end=row.ends_at,
        timezone=row.timezone,
        service=row.service or row.name_sv,
        office=row.office_name,
        location=location,
        needs=tuple(row.needs or ()),
        language=row.language,
        name=row.name if named else None,
        channel=row.channel,
        status=row.status,
        stamp=row.updated_at,
    )


async def _sequences(db: AsyncSession, shown: list[ColumnElement[bool]]) -> dict[int, int]:
    """The SEQUENCE of every visit the feed shows, by booking id, in one grouped query."""
    found = await db.execute(
        select(BookingEvent.booking_id, func.count())
        .join(Booking, Booking.id == BookingEvent.booking_id)
        .where(*shown, BookingEvent.action.in_(SEQUENCE_ACTIONS))
        .group_by(BookingEvent.booking_id)
    )
    return {booking_id: int(count) for booking_id, count in found.all()}


def _desk_url(feed: CalendarFeed, public_url: str | None) -> str | None:
    if not public_url:
        return None
    base = public_url.rstrip("/")
    if feed.kind == FeedKind.AGENT or feed.office is None:
        return f"{base}/agent"
    return f"{base}/desk/{feed.office.slug}"
