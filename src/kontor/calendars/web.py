"""Calendar feeds on the web: an office's opening hours (public), staff feeds of bookings behind a
secret link, and the staff page where a user creates and revokes their feeds.

All feeds answer with ETag and Last-Modified and 304 to a client whose copy is current
(:mod:`kontor.calendars.http`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kontor.accounts.auth import current_user, requires_login
from kontor.accounts.forms import Errors, text, texts, whole_number
from kontor.accounts.models import Role, User
from kontor.audit.models import Channel
from kontor.calendars import bookings_feed, feeds, hours_feed
from kontor.calendars.http import FeedAnswer, calendar_response, etag_of
from kontor.calendars.links import staff_feed_url, webcal_url
from kontor.calendars.models import CalendarFeed
from kontor.db.write_queue import staff_transaction
from kontor.hours.rules import OfficeHours
from kontor.hours.services import current_time
from kontor.i18n import N_, _, current_locale
from kontor.offices.models import Office, Service
from kontor.web.templating import page

Db = NamedDependency[AsyncSession]
FEEDS_PAGE = "/staff/calendars"
# The public feed may sit in a shared cache for a while; opening hours do not change by the minute.
PUBLIC_HEADERS = {"Cache-Control": "public, max-age=900"}
# A staff feed's link is its key: no shared cache keeps it, no referrer carries it on, no search
# engine lists it. Calendar clients revalidate with If-None-Match.
PRIVATE_HEADERS = {
    "Cache-Control": "private, no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
# Bump when the feed's format changes, so clients fetch it again though no visit changed.
FEED_FORMAT = "bookings-feed-1"
# The latest body of recent feeds, by feed id with its ETag: clients that poll without
# If-None-Match (some do) get the same bytes without a rebuild. Per process, at most this many
# bytes (a year of a busy office is about 6 MB), the least recently built dropped first.
BUILT_BYTES = 48 * 1024 * 1024
_built: dict[int, tuple[str, bytes]] = {}
FETCH_STAMPED_EVERY = timedelta(hours=1)
FEED_NOT_FOUND = "No calendar feed at this address. It may have been revoked."
NOTICES = {"revoked": N_("The calendar feed was revoked. Its link no longer works.")}


def _ics_name(value: str) -> str | None:
    """``value`` without its ".ics" (any case), or None when it does not end so."""
    return value[:-4] if value.lower().endswith(".ics") and len(value) > 4 else None


@functools.lru_cache(maxsize=256)
def _hours_feed(
    about: hours_feed.HoursFeedOffice, hours: OfficeHours, first: date, last: date, locale: str
) -> tuple[bytes, str]:
    """An office's hours feed and its ETag, built once per version of its hours (the arguments are
    frozen values, so any change of the hours, the office or the window is a new key)."""
    body = hours_feed.hours_calendar(about, hours, first, last, locale=locale)
    return body, etag_of(body)


# -- the office's opening hours --------------------------------------------------------------------


@get("/offices/{slug:str}/hours.ics", name="office_hours_feed", include_in_schema=False, cache=False)
async def office_hours_feed(
    request: Request[Any, Any, Any], db_session: Db, slug: FromPath[str]
) -> Response[bytes]:
    directory = request.app.state.directory
    office = await directory.office(db_session, slug)
    if office is None:
        raise NotFoundException(f"No office with the address {slug!r}.")
    now = current_time(request.app.state)
    locale = current_locale.get()
    first, last = hours_feed.feed_window(now.astimezone(ZoneInfo(office.timezone)).date())
    hours = await directory.office_hours(db_session, office, first, last)
    public_url = request.app.state.settings.public_url.rstrip("/")
    about = hours_feed.HoursFeedOffice(
        slug=office.slug,
        name=office.name,
        timezone=office.timezone,
        address=office.address,
        url=f"{public_url}/offices/{office.slug}",
    )
    body, etag = _hours_feed(about, hours, first, last, locale)
    answer = FeedAnswer(
        key=f"hours:{office.slug}:{locale}",
        etag=etag,
        build=lambda: body,
        headers={**PUBLIC_HEADERS, "Vary": "Accept-Language, Cookie"},
        filename=f"{office.slug}-hours.ics",
    )
    return await calendar_response(request, answer, now)


# -- staff feeds -------------------------------------------------------------------------------------


@get("/feeds/{name:str}", name="staff_feed", include_in_schema=False, cache=False)
async def staff_feed(
    request: Request[Any, Any, Any], db_session: Db, name: FromPath[str], lang: FromQuery[str | None] = None
) -> Response[bytes]:
    token = _ics_name(name)
    feed = await feeds.feed_for_token(db_session, token) if token else None
    if feed is None:
        raise NotFoundException(FEED_NOT_FOUND)
    now = current_time(request.app.state)
    await _mark_fetched(request, feed, now)
    # The owner's language unless the link asks for another: a calendar client sends no cookie.
    locale = current_locale.get() if lang else (feed.user.language or current_locale.get())
    public_url = request.app.state.settings.public_url
    # The ETag comes from a digest of the feed's version (three small queries): a client whose copy is
    # current gets its 304 without a year of visits being read, let alone written out.
    etag = etag_of(
        await feeds.feed_version(db_session, feed, now=now, public_url=public_url), locale, FEED_FORMAT
    )

    async def build() -> bytes:
        cached = _built.get(feed.id)
        if cached is not None and cached[0] == etag:
            return cached[1]
        content = await feeds.feed_visits(db_session, feed, now=now, locale=locale, public_url=public_url)
        body = bookings_feed.bookings_calendar(content, locale=locale)
        _built.pop(feed.id, None)
        _built[feed.id] = (etag, body)
        while sum(len(kept) for _etag, kept in _built.values()) > BUILT_BYTES and len(_built) > 1:
            _built.pop(next(iter(_built)))
        return body

    answer = FeedAnswer(
        key=f"feed:{feed.id}:{locale}", etag=etag, build=build, headers=PRIVATE_HEADERS, filename="kontor.ics"
    )
    return await calendar_response(request, answer, now)


async def _mark_fetched(request: Request[Any, Any, Any], feed: CalendarFeed, now: datetime) -> None:
    """Stamp when the feed was last fetched, so its owner can tell a forgotten feed from a used one:
    at most once an hour per feed, not on every poll. On SQLite in the app's write line."""
    if feed.last_used_at is not None and now - feed.last_used_at < FETCH_STAMPED_EVERY:
        return
    async with staff_transaction(request.app.state) as db:
        await db.execute(update(CalendarFeed).where(CalendarFeed.id == feed.id).values(last_used_at=now))


# -- the staff page of one's feeds ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """One choice of what a new feed shows: ``value`` as the form sends it ("office:3", "counter:7",
    "agent"), ``group`` the office it belongs to (for the select's optgroup)."""

    value: str
    label: str
    group: str


async def _targets(db: AsyncSession, user: User) -> tuple[list[Target], list[Service]]:
    """What ``user`` may make a feed of, and the services the filter offers (those of those offices)."""
    choices: list[Target] = []
    if user.role in {Role.AGENT, Role.ADMIN}:
        choices.append(Target("agent", _("The visits I booked for callers"), _("Contact center")))
    if user.role == Role.AGENT:
        return choices, []
    query = (
        select(Office)
        .where(Office.active.is_(True))
        .options(selectinload(Office.counters), selectinload(Office.offerings))
        .order_by(Office.name)
    )
    if user.role != Role.ADMIN:
        query = query.where(Office.id.in_([office.id for office in user.offices]))
    offices = list((await db.scalars(query)).unique())
    service_ids: set[int] = set()
    for office in offices:
        choices.append(
            Target(f"office:{office.id}", _("All visits at %(office)s", office=office.name), office.name)
        )
        for counter in sorted(office.counters, key=lambda c: c.number):
            if counter.active:
                label = counter.name or _("Counter %(number)s", number=counter.number)
                choices.append(Target(f"counter:{counter.id}", f"{office.name} – {label}", office.name))
        service_ids |= {o.service_id for o in office.offerings if o.active and o.bookable}
    services = []
    if service_ids:
        services = list(
            await db.scalars(
                select(Service).where(Service.id.in_(service_ids)).order_by(Service.sort_order, Service.code)
            )
        )
    return choices, services


async def _feeds_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    user: User,
    *,
    values: dict[str, Any] | None = None,
    errors: Errors | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Template:
    targets, services = await _targets(db, user)
    context = {
        "feeds": await feeds.user_feeds(db, user),
        "targets": targets,
        "services": services,
        "values": values or {"target": targets[0].value if targets else "", "services": []},
        "errors": errors or {},
        "notice": _(NOTICES[notice]) if notice in NOTICES else None,
        "tz": ZoneInfo(request.app.state.settings.default_timezone),
        "kind_labels": {kind: _(label) for kind, label in KIND_LABELS.items()},
    }
    response = page(request, "calendars/feeds.html", context, status_code=status_code)
    response.set_header("Cache-Control", "no-store")
    return response


# The form's field that a FeedError's field (create_feed's argument) stands for.
FORM_FIELDS = {"service_ids": "services", "label": "label"}
KIND_LABELS = {
    "office": N_("An office's visits"),
    "counter": N_("A counter's visits"),
    "agent": N_("Visits I booked"),
}


@get(FEEDS_PAGE, name="staff.calendars", guards=[requires_login], cache=False)
async def feeds_page(
    request: Request[Any, Any, Any], db_session: Db, notice: FromQuery[str | None] = None
) -> Template:
    user = current_user(request)
    assert user is not None  # the guard saw to it
    return await _feeds_page(request, db_session, user, notice=notice)


def _parse_target(value: str) -> tuple[str, int | None]:
    kind, _sep, number = value.partition(":")
    if kind == "agent" and not number:
        return kind, None
    if kind in {"office", "counter"}:
        found = whole_number(number)
        if found is not None:
            return kind, found
    return "", None


@post(FEEDS_PAGE, name="staff.calendars.create", guards=[requires_login])
async def create_feed(request: Request[Any, Any, Any], db_write: NamedDependency[AsyncSession]) -> Template:
    user = current_user(request)
    assert user is not None
    form = await request.form()
    values = {
        "target": text(form, "target", 40),
        "label": text(form, "label", 200),
        "services": texts(form, "services"),
    }
    kind, number = _parse_target(values["target"])
    service_ids = [n for n in (whole_number(v) for v in values["services"][:50]) if n is not None]
    try:
        if not kind:
            raise feeds.FeedError("target", N_("Choose what the calendar should show."), "target")
        if len(service_ids) != len(values["services"]):
            raise feeds.FeedError("services", N_("Choose services from the list."), "services")
        feed, token = await feeds.create_feed(
            db_write,
            user,
            kind=kind,
            office_id=number if kind == "office" else None,
            counter_id=number if kind == "counter" else None,
            service_ids=service_ids,
            label=values["label"],
            now=current_time(request.app.state),
            channel=Channel.WEB,
        )
    except feeds.FeedError as exc:
        errors = {FORM_FIELDS.get(exc.field or "", "target"): _(exc.message)}
        return await _feeds_page(request, db_write, user, values=values, errors=errors, status_code=422)
    url = staff_feed_url(request.app.state.settings.public_url, token)
    response = page(
        request,
        "calendars/feed_created.html",
        {"feed": feed, "url": url, "webcal_url": webcal_url(url)},
        status_code=201,
    )
    # The link is on this page and nowhere else: no cache may keep a copy.
    response.set_header("Cache-Control", "no-store")
    return response


@post(f"{FEEDS_PAGE}/{{feed_id:int}}/revoke", name="staff.calendars.revoke", guards=[requires_login])
async def revoke_feed(
    request: Request[Any, Any, Any], db_write: NamedDependency[AsyncSession], feed_id: FromPath[int]
) -> Redirect:
    user = current_user(request)
    assert user is not None
    revoked = await feeds.revoke_feed(
        db_write, user, feed_id, now=current_time(request.app.state), channel=Channel.WEB
    )
    if revoked is None:
        raise NotFoundException(_("There is no such calendar feed."))
    return Redirect(f"{FEEDS_PAGE}?notice=revoked", status_code=303)


ROUTES: list = [office_hours_feed, staff_feed, feeds_page, create_feed, revoke_feed]

__all__ = ["ROUTES"]
