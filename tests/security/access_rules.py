"""Who may use which route: the expected answers, written from the role model in DESIGN.md.

Every route of the app (but OPTIONS, HEAD, ``/static`` and ``/schema``) has an entry here, so a new
route cannot be added without saying who may use it (``test_access_matrix`` fails until it is).

The role model (DESIGN.md, "Who uses it"):

- the public (no account) finds offices, books, manages a booking by its private link, follows a
  ticket and watches the waiting-room screen; the public API answers anyone;
- ``staff`` run the front desk and the counters of their own offices, nothing else;
- ``manager`` does what staff do in their own offices and edits those offices (hours, closures,
  services offered, counters); what managers see of the audit log and the outbox is their offices';
- ``agent`` reads every office and books in any, but runs no queue and edits nothing; the contact
  center's console and API are theirs (and admins');
- ``admin`` does everything, city-wide: districts, offices, the service catalogue, users, tokens.

A path is written as the app spells it without the parameter types (``/desk/{slug}``); ``fill`` says
what goes into the other parameters. ``MISSING`` stands for an id that does not exist: the allowed get
past the guard and are then told 404 (or see their form refused), which writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Outcomes compared by the matrix.
OK = "ok"  # 2xx, a redirect elsewhere than /login, or 400/404/409/415/422 after the guard
LOGIN = "login"  # 401, or a 303 to /login
FORBIDDEN = "forbidden"  # 403

# Who asks. Sessions for pages, bearer tokens for the API.
ANONYMOUS = "anonymous"
ROLES = (ANONYMOUS, "staff", "manager", "bromma_manager", "agent", "admin")
ROLE_OF = {
    "staff": "staff",
    "manager": "manager",
    "bromma_manager": "manager",
    "agent": "agent",
    "admin": "admin",
}
OFFICES_OF = {"staff": {"kista"}, "manager": {"kista"}, "bromma_manager": {"bromma"}}
# Kista and Tensta share a district: a district grants nothing, only the office itself does.
OFFICES = ("kista", "tensta", "bromma")

# Levels of access.
PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed in"  # any staff account
OFFICE_WORK = "office work"  # desk and counter: admins; staff and managers of that office
OFFICE_ADMIN = "office admin"  # admins; managers of that office
MANAGERS = "managers"  # admins and every manager, who are shown their own offices' part only
ADMIN = "admin"  # admins only
API_PUBLIC = "api public"  # the JSON API anyone may use (bearer token optional)
API_OFFICE_WORK = "api office work"  # the queue API: a bearer token of the office's staff, or an admin's
AGENT_WORK = "agent work"  # the contact center: agents and admins (the console's pages and its API)
API_OFFICE_OR_AGENT = "api office or agent"  # an office's call-backs: its staff, agents, admins
API_OFFICE_STAFF = "api office staff"  # a call-back marked done: its office's staff, and admins

MISSING = "999999"


@dataclass(frozen=True)
class Rule:
    access: str
    # Values of path parameters other than ``slug``: a literal, MISSING, or an id seeded by the matrix
    # (``"@user"``: a staff user; ``"@message"``: an outbox message of the office tried).
    fill: dict[str, str] = field(default_factory=dict)
    query: str = ""
    form: dict[str, Any] | None = None  # a page's POST: these fields and the CSRF token
    json: Any = None  # an API POST's JSON body; None sends none
    # A live stream: only the status and headers are read, then the connection is closed.
    stream: bool = False
    # Tried with a second session of the role's login, which the request may end (logging out).
    own_session: bool = False
    # The office whose access the case is about comes from this parameter's seeded id, not the path.
    office_of: str | None = None
    # Cases (role, office or None) where the app disagrees with DESIGN.md: why, for an xfail.
    known: dict[tuple[str, str | None], str] = field(default_factory=dict)


def _public(**kwargs: Any) -> Rule:
    return Rule(PUBLIC, **kwargs)


# A form the office pages refuse (400) before writing: a counter name longer than allowed, a service
# offered neither for booking nor for walk-ins.
_TOO_LONG = {"name": "x" * 81}
_OFFERED_NEITHER_WAY = {"offered_eservice": "on"}

RULES: dict[tuple[str, str], Rule] = {
    # -- public pages ----------------------------------------------------------------------------
    ("GET", "/"): _public(),
    ("GET", "/accessibility"): _public(),
    ("GET", "/language/{code}"): _public(fill={"code": "en"}),
    ("GET", "/healthz"): _public(),
    ("GET", "/readyz"): _public(),
    ("GET", "/offices/{slug}"): _public(),
    ("GET", "/offices/{slug}/display"): _public(),
    ("GET", "/offices/{slug}/hours.ics"): _public(),
    # A staff feed's secret address is its only credential: an unknown one is 404 to everyone.
    ("GET", "/feeds/{name}"): _public(fill={"name": "no-such-feed.ics"}),
    ("GET", "/offices/{slug}/display/events"): _public(stream=True),
    ("GET", "/book"): _public(),
    ("POST", "/book/hold"): _public(form={}),
    ("GET", "/bookings/{reference}"): _public(fill={"reference": "ZZZZ-9999"}, query="token=nope"),
    ("POST", "/bookings/{reference}/confirm"): _public(fill={"reference": "ZZZZ-9999"}, form={}),
    ("POST", "/bookings/{reference}/cancel"): _public(fill={"reference": "ZZZZ-9999"}, form={}),
    ("POST", "/bookings/{reference}/reschedule"): _public(fill={"reference": "ZZZZ-9999"}, form={}),
    ("POST", "/bookings/{reference}/forget"): _public(fill={"reference": "ZZZZ-9999"}, form={}),
    ("GET", "/bookings/forgotten"): _public(),
    ("POST", "/tickets/{token}/phone"): _public(
        fill={"token": "no-such-ticket"}, form={"phone": "0701234567"}
    ),
    ("POST", "/tickets/{token}/phone/remove"): _public(fill={"token": "no-such-ticket"}, form={}),
    ("GET", "/waitlist"): _public(),
    ("POST", "/waitlist"): _public(form={}),
    ("GET", "/waitlist/{token}"): _public(fill={"token": "nope"}),
    ("POST", "/waitlist/{token}/take"): _public(fill={"token": "nope"}, form={}),
    ("POST", "/waitlist/{token}/decline"): _public(fill={"token": "nope"}, form={}),
    ("POST", "/waitlist/{token}/leave"): _public(fill={"token": "nope"}, form={}),
    ("GET", "/tickets/{token}"): _public(fill={"token": "no-such-ticket"}),
    ("GET", "/tickets/{token}/print"): _public(fill={"token": "no-such-ticket"}),
    ("GET", "/tickets/{token}/events"): _public(fill={"token": "no-such-ticket"}, stream=True),
    ("GET", "/login"): _public(),
    ("POST", "/login"): _public(form={}),
    ("POST", "/logout"): _public(form={}, own_session=True),
    # -- the public JSON API -----------------------------------------------------------------------
    ("GET", "/api/v1/offices"): Rule(API_PUBLIC),
    ("GET", "/api/v1/offices/{slug}"): Rule(API_PUBLIC),
    ("GET", "/api/v1/offices/{slug}/hours"): Rule(API_PUBLIC),
    ("GET", "/api/v1/offices/{slug}/slots"): Rule(API_PUBLIC, query="service=eservice"),
    ("GET", "/api/v1/offices/{slug}/queue"): Rule(API_PUBLIC),
    ("GET", "/api/v1/availability"): Rule(API_PUBLIC, query="service=eservice"),
    ("POST", "/api/v1/bookings"): Rule(API_PUBLIC, json={}),
    ("GET", "/api/v1/bookings/{reference}"): Rule(API_PUBLIC, fill={"reference": "ZZZZ-9999"}),
    ("POST", "/api/v1/bookings/{reference}/cancel"): Rule(API_PUBLIC, fill={"reference": "ZZZZ-9999"}),
    ("POST", "/api/v1/bookings/{reference}/reschedule"): Rule(
        API_PUBLIC, fill={"reference": "ZZZZ-9999"}, json={"start": "2030-01-08T10:00:00+01:00"}
    ),
    ("GET", "/api/v1/tickets/{token}"): Rule(API_PUBLIC, fill={"token": "no-such-ticket"}),
    # -- the queue API: staff bearer tokens ---------------------------------------------------------
    # A service the office lacks: the allowed are told 422 after the guard, and nothing is issued.
    ("POST", "/api/v1/offices/{slug}/tickets"): Rule(API_OFFICE_WORK, json={"service": "no-such-service"}),
    ("POST", "/api/v1/offices/{slug}/counters/{counter}/next"): Rule(API_OFFICE_WORK, fill={"counter": "99"}),
    # -- the contact center's API: agents' bearer tokens ---------------------------------------------
    # Neither a number nor a reference: 422 after the guard, and no lookup is logged.
    ("GET", "/api/v1/callers"): Rule(AGENT_WORK),
    ("POST", "/api/v1/contacts"): Rule(AGENT_WORK, json={}),
    # Whose contact it is decides after the guard: an unknown id is 404 for every token.
    ("GET", "/api/v1/contacts/{contact_id}"): Rule(SIGNED_IN, fill={"contact_id": MISSING}),
    ("GET", "/api/v1/offices/{slug}/callbacks"): Rule(API_OFFICE_OR_AGENT),
    ("POST", "/api/v1/callbacks/{contact_id}/done"): Rule(
        API_OFFICE_STAFF, fill={"contact_id": MISSING}, json={}
    ),
    ("GET", "/api/v1/webhooks"): Rule(AGENT_WORK),
    ("POST", "/api/v1/webhooks"): Rule(AGENT_WORK, json={}),
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): Rule(AGENT_WORK, fill={"webhook_id": MISSING}),
    # -- the contact center's console ----------------------------------------------------------------
    ("GET", "/agent"): Rule(AGENT_WORK),
    ("GET", "/agent/bookings/{reference}"): Rule(AGENT_WORK, fill={"reference": "ZZZZ-9999"}),
    # An empty form: refused (422) before anything is booked or logged.
    ("POST", "/agent/bookings"): Rule(AGENT_WORK, form={}),
    ("POST", "/agent/bookings/{reference}/cancel"): Rule(
        AGENT_WORK, fill={"reference": "ZZZZ-9999"}, form={}
    ),
    ("POST", "/agent/bookings/{reference}/reschedule"): Rule(
        AGENT_WORK, fill={"reference": "ZZZZ-9999"}, form={}
    ),
    ("POST", "/agent/contacts"): Rule(AGENT_WORK, form={}),
    # -- staff pages -------------------------------------------------------------------------------
    ("GET", "/staff"): Rule(SIGNED_IN),
    # Everyone signed in keeps their own calendar feeds; what a feed may show is checked on creation.
    ("GET", "/staff/calendars"): Rule(SIGNED_IN),
    ("POST", "/staff/calendars"): Rule(SIGNED_IN, form={}),
    ("POST", "/staff/calendars/{feed_id}/revoke"): Rule(SIGNED_IN, fill={"feed_id": MISSING}, form={}),
    ("GET", "/desk/{slug}"): Rule(OFFICE_WORK),
    ("GET", "/desk/{slug}/events"): Rule(OFFICE_WORK, stream=True),
    # No service chosen: refused (422) before a ticket is issued.
    ("POST", "/desk/{slug}/tickets"): Rule(OFFICE_WORK, form={}),
    ("POST", "/desk/{slug}/bookings/{reference}/check-in"): Rule(
        OFFICE_WORK, fill={"reference": "ZZZZ-9999"}, form={}
    ),
    ("POST", "/desk/{slug}/tickets/{ticket_id}/cancel"): Rule(
        OFFICE_WORK, fill={"ticket_id": MISSING}, form={}
    ),
    ("GET", "/desk/{slug}/callbacks"): Rule(OFFICE_WORK),
    ("POST", "/desk/{slug}/callbacks/{contact_id}/done"): Rule(
        OFFICE_WORK, fill={"contact_id": MISSING}, form={}
    ),
    ("GET", "/counter/{slug}"): Rule(OFFICE_WORK),
    ("GET", "/counter/{slug}/events"): Rule(OFFICE_WORK, query="counter=1", stream=True),
    # No counter chosen: the setup form again (422), or back to the counter page (303); no change.
    ("POST", "/counter/{slug}/shift"): Rule(OFFICE_WORK, form={}),
    ("POST", "/counter/{slug}/close"): Rule(OFFICE_WORK, form={}),
    ("POST", "/counter/{slug}/next"): Rule(OFFICE_WORK, form={}),
    ("POST", "/counter/{slug}/tickets/{ticket_id}/call"): Rule(
        OFFICE_WORK, fill={"ticket_id": MISSING}, form={}
    ),
    ("POST", "/counter/{slug}/tickets/{ticket_id}/recall"): Rule(
        OFFICE_WORK, fill={"ticket_id": MISSING}, form={}
    ),
    ("POST", "/counter/{slug}/tickets/{ticket_id}/served"): Rule(
        OFFICE_WORK, fill={"ticket_id": MISSING}, form={}
    ),
    ("POST", "/counter/{slug}/tickets/{ticket_id}/no-show"): Rule(
        OFFICE_WORK, fill={"ticket_id": MISSING}, form={}
    ),
    ("POST", "/counter/{slug}/tickets/{ticket_id}/transfer"): Rule(
        OFFICE_WORK, fill={"ticket_id": MISSING}, form={}
    ),
    # The alarm goes out to the office's other staff pages; no counter named, nothing else changes.
    ("POST", "/counter/{slug}/alarm"): Rule(OFFICE_WORK, form={}),
    # -- an office's administration ----------------------------------------------------------------
    ("GET", "/admin"): Rule(MANAGERS),
    ("GET", "/admin/offices/{slug}"): Rule(OFFICE_ADMIN),
    ("POST", "/admin/offices/{slug}/details"): Rule(OFFICE_ADMIN, form={}),
    ("POST", "/admin/offices/{slug}/offering"): Rule(OFFICE_ADMIN, form=_OFFERED_NEITHER_WAY),
    ("POST", "/admin/offices/{slug}/counters"): Rule(OFFICE_ADMIN, form=_TOO_LONG),
    ("POST", "/admin/offices/{slug}/counters/{counter_id}"): Rule(
        OFFICE_ADMIN, fill={"counter_id": MISSING}, form={}
    ),
    ("POST", "/admin/offices/{slug}/hours"): Rule(OFFICE_ADMIN, form={}),
    ("POST", "/admin/offices/{slug}/hours/{interval_id}/delete"): Rule(
        OFFICE_ADMIN, fill={"interval_id": MISSING}, form={}
    ),
    # Copying Monday's hours to Tuesday–Friday does change them for the allowed; no other case
    # depends on an office's weekly hours.
    ("POST", "/admin/offices/{slug}/hours/copy-monday"): Rule(OFFICE_ADMIN, form={}),
    ("POST", "/admin/offices/{slug}/closures"): Rule(OFFICE_ADMIN, form={}),
    ("POST", "/admin/offices/{slug}/closures/{closure_id}/delete"): Rule(
        OFFICE_ADMIN, fill={"closure_id": MISSING}, form={}
    ),
    # -- the audit log and the outbox: managers see their offices' entries -------------------------
    ("GET", "/admin/audit"): Rule(MANAGERS),
    ("GET", "/admin/outbox"): Rule(MANAGERS),
    ("GET", "/admin/retention"): Rule(ADMIN),
    ("POST", "/admin/retention/purge"): Rule(ADMIN, form={}),
    ("GET", "/admin/outbox/{message_id}"): Rule(
        OFFICE_ADMIN, fill={"message_id": "@message"}, office_of="message_id"
    ),
    # The seeded messages were sent already: sending again is refused without a change (303).
    ("POST", "/admin/outbox/{message_id}/retry"): Rule(
        OFFICE_ADMIN, fill={"message_id": "@message"}, office_of="message_id", form={}
    ),
    # -- city-wide administration ------------------------------------------------------------------
    ("POST", "/admin/districts"): Rule(ADMIN, form={}),
    ("POST", "/admin/offices"): Rule(ADMIN, form={}),
    ("GET", "/admin/services"): Rule(ADMIN),
    ("POST", "/admin/services"): Rule(ADMIN, form={}),
    ("GET", "/admin/services/{code}"): Rule(ADMIN, fill={"code": "eservice"}),
    ("POST", "/admin/services/{code}"): Rule(ADMIN, fill={"code": "no-such-service"}, form={}),
    ("GET", "/admin/users"): Rule(ADMIN),
    ("GET", "/admin/users/new"): Rule(ADMIN),
    ("POST", "/admin/users/new"): Rule(ADMIN, form={}),
    ("GET", "/admin/users/{user_id}"): Rule(ADMIN, fill={"user_id": "@user"}),
    ("POST", "/admin/users/{user_id}"): Rule(ADMIN, fill={"user_id": MISSING}, form={}),
    ("POST", "/admin/users/{user_id}/password"): Rule(ADMIN, fill={"user_id": MISSING}, form={}),
    ("GET", "/admin/tokens"): Rule(ADMIN),
    # No user chosen: the token form again (400), no token made.
    ("POST", "/admin/tokens"): Rule(ADMIN, form={}),
    ("POST", "/admin/tokens/{token_id}/revoke"): Rule(ADMIN, fill={"token_id": MISSING}, form={}),
    ("GET", "/admin/webhooks"): Rule(ADMIN),
    # Nothing filled in: the form again (400), no webhook made.
    ("POST", "/admin/webhooks"): Rule(ADMIN, form={}),
    ("POST", "/admin/webhooks/{webhook_id}/delete"): Rule(ADMIN, fill={"webhook_id": MISSING}, form={}),
}


def expected(access: str, role: str, office: str | None) -> str:
    """The answer DESIGN.md's role model gives ``role`` at ``access`` for ``office``."""
    if access in (PUBLIC, API_PUBLIC):
        return OK
    if role == ANONYMOUS:
        return LOGIN
    kind = ROLE_OF[role]
    own = office in OFFICES_OF.get(role, set())
    if kind == "admin" or access == SIGNED_IN:
        return OK
    if access in (OFFICE_WORK, API_OFFICE_WORK):
        return OK if kind in ("staff", "manager") and own else FORBIDDEN
    if access == AGENT_WORK:
        return OK if kind == "agent" else FORBIDDEN
    if access == API_OFFICE_OR_AGENT:
        return OK if kind == "agent" or (kind in ("staff", "manager") and own) else FORBIDDEN
    if access == API_OFFICE_STAFF:
        return OK if kind in ("staff", "manager") else FORBIDDEN
    if access == OFFICE_ADMIN:
        return OK if kind == "manager" and own else FORBIDDEN
    if access == MANAGERS:
        return OK if kind == "manager" else FORBIDDEN
    return FORBIDDEN


# Not access-controlled routes of their own: static files and the OpenAPI schema.
_NOT_COVERED = re.compile(r"^/(static|schema)(/|$)")
_TYPED = re.compile(r"\{(\w+):[^}]+\}")


def covered_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route of ``app`` this table must cover, paths without parameter types."""
    found = set()
    for route in app.routes:
        path = _TYPED.sub(r"{\1}", route.path)
        if _NOT_COVERED.match(path):
            continue
        for handler in route.route_handlers:
            for method in getattr(handler, "http_methods", ()):
                if method not in ("OPTIONS", "HEAD"):
                    found.add((method, path))
    return found


def fill_path(path: str, rule: Rule, office: str | None, seeded: Mapping[str, Any]) -> str:
    """The path (and query) to request: ``slug`` is ``office`` (Kista when none), the other parameters
    come from the rule; an ``@`` id not in ``seeded``, or a parameter the rule does not fill, is MISSING."""
    values = {"slug": office or "kista"}
    for name, value in rule.fill.items():
        if value.startswith("@"):
            found = seeded.get(value[1:], MISSING)
            value = str(found[office] if isinstance(found, Mapping) else found)
        values[name] = value
    filled = re.sub(r"\{(\w+)\}", lambda match: values.get(match.group(1), MISSING), path)
    return f"{filled}?{rule.query}" if rule.query else filled
