"""What the agent console's pages share: the guard, the audit transaction a look at a person's data
writes, the labels the templates show, and answers no cache may keep."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import current_user, requires_role
from kontor.accounts.models import Role, User
from kontor.booking.policy import BookingRules
from kontor.booking.references import format_reference
from kontor.contacts import console
from kontor.contacts.services import CATEGORY_LABELS, OUTCOME_LABELS, SUMMARY_MAX
from kontor.db.write_queue import staff_transaction
from kontor.desk.services import NEED_LABELS
from kontor.hours.names import day_note
from kontor.hours.rules import HoursKind
from kontor.i18n import LOCALES, _

Db = NamedDependency[AsyncSession]
AGENTS = [requires_role(Role.AGENT, Role.ADMIN)]
NO_STORE = {"Cache-Control": "no-store"}


@dataclass
class FormState:
    """A form as it is drawn: its values, and the errors by field when it came back refused."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def agent(request: Request[Any, Any, Any]) -> User:
    user = current_user(request)
    assert user is not None  # the guard saw to it
    return user


def no_store(response: Template) -> Template:
    # The caller's name, number and bookings: no browser or proxy may keep a copy.
    response.headers.update(NO_STORE)
    return response


def see_other(path: str) -> Redirect:
    return Redirect(path, status_code=303, headers=NO_STORE)


@contextlib.asynccontextmanager
async def audit_transaction(request: Request[Any, Any, Any]) -> AsyncIterator[AsyncSession]:
    """A short write transaction of its own, for the audit entry of a look at a person's data: the
    page stays a read, and the entry stays whatever the rest of the request does. On SQLite it waits
    its turn in the write line as staff (a POST's own turn is re-entered; roll its transaction back
    first)."""
    async with staff_transaction(request.app.state) as db:
        yield db


def release_delay(request: Request[Any, Any, Any]) -> timedelta:
    return BookingRules.from_settings(request.app.state.settings).release_delay


def labels() -> dict[str, Any]:
    """The words and helpers the console's templates use, in the reader's language."""
    return {
        "category_labels": {key: _(label) for key, label in CATEGORY_LABELS.items()},
        "outcome_labels": {key: _(label) for key, label in OUTCOME_LABELS.items()},
        "call_outcomes": console.CALL_OUTCOMES,
        "status_labels": {key: _(label) for key, label in console.STATUS_LABELS.items()},
        "channel_labels": {key: _(label) for key, label in console.CHANNEL_LABELS.items()},
        "need_labels": {key: _(label) for key, label in NEED_LABELS.items()},
        "languages": LOCALES,
        "summary_max": SUMMARY_MAX,
        "mask_email": console.mask_email,
        "slot_value": console.slot_value,
        "office_zone": console.office_zone,
        "format_reference": format_reference,
        "day_note": day_note,
        "APPOINTMENT": HoursKind.APPOINTMENT,
    }
