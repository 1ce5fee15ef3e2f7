"""The city's service catalogue: the kinds of errand every office can offer."""

from __future__ import annotations

import re
from typing import Any

from litestar.exceptions import NotFoundException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import User
from kontor.admin.forms import Form
from kontor.admin.services import add_unique, record_change
from kontor.i18n import _
from kontor.offices.models import Service

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")
LETTER_PATTERN = re.compile(r"^[A-Z]$")
MIN_MINUTES, MAX_MINUTES = 5, 240
# Online booking: the latest a visit can be booked (minutes before it) and how far ahead (days).
NOTICE_LIMITS = (0, 7 * 24 * 60)
HORIZON_LIMITS = (1, 366)
# A new service's values when the form leaves them empty (the columns' defaults).
DEFAULT_NOTICE_MINUTES, DEFAULT_HORIZON_DAYS = 120, 60


async def service_by_code(db: AsyncSession, code: str) -> Service:
    service = await db.scalar(select(Service).where(Service.code == code))
    if service is None:
        raise NotFoundException(f"No service {code!r}.")
    return service


async def _read(db: AsyncSession, form: Form, editing: Service | None) -> dict[str, Any]:
    letter = form.raw("letter").upper()
    if not LETTER_PATTERN.match(letter):
        form.error("letter", _("The ticket letter is one capital letter A–Z."))
    else:
        taken = await db.scalar(select(Service).where(Service.letter == letter))
        if taken is not None and taken is not editing:
            form.error(
                "letter",
                _("%(service)s already uses the letter %(letter)s.", service=taken.code, letter=letter),
            )
    return {
        "letter": letter,
        "name_sv": form.text("name_sv", required=True, max_length=160),
        "name_en": form.text("name_en", required=True, max_length=160),
        "name_fi": form.text("name_fi", required=True, max_length=160),
        "description_sv": form.text("description_sv", max_length=4000),
        "description_en": form.text("description_en", max_length=4000),
        "description_fi": form.text("description_fi", max_length=4000),
        "duration_minutes": form.integer("duration_minutes", low=MIN_MINUTES, high=MAX_MINUTES),
        "bookable": form.flag("bookable"),
        "walk_in": form.flag("walk_in"),
        "sort_order": form.integer("sort_order", low=-1000, high=1000, default=0),
        "min_notice_minutes": form.integer(
            "min_notice_minutes",
            low=NOTICE_LIMITS[0],
            high=NOTICE_LIMITS[1],
            default=editing.min_notice_minutes if editing else DEFAULT_NOTICE_MINUTES,
        ),
        "horizon_days": form.integer(
            "horizon_days",
            low=HORIZON_LIMITS[0],
            high=HORIZON_LIMITS[1],
            default=editing.horizon_days if editing else DEFAULT_HORIZON_DAYS,
        ),
    }


async def create_service(db: AsyncSession, form: Form, user: User) -> Service:
    """Add a service to the catalogue; its code (used by the API) and letter are unique."""
    code = form.raw("code").lower()
    if not CODE_PATTERN.match(code):
        form.error("code", _("A code is 2–40 characters: lower-case letters, digits, '-' or '_'."))
    elif await db.scalar(select(Service.id).where(Service.code == code)) is not None:
        form.error("code", _("The code %(code)s is taken.", code=code))
    values = await _read(db, form, None)
    form.check()
    service = Service(code=code, **values)
    await add_unique(db, service, "code", lambda: _("The code %(code)s is taken.", code=code))
    record_change(db, user, "service.create", "service", service.id, None, {"code": code, **values})
    return service


async def update_service(db: AsyncSession, service: Service, form: Form, user: User) -> dict[str, Any]:
    """Save the catalogue entry (not its code, which integrations rely on)."""
    values = await _read(db, form, service)
    form.check()
    changes = {
        field: {"before": getattr(service, field), "after": value}
        for field, value in values.items()
        if getattr(service, field) != value
    }
    if not changes:
        return changes
    for field, change in changes.items():
        setattr(service, field, change["after"])
    await db.flush()
    record_change(db, user, "service.update", "service", service.id, None, {"code": service.code, **changes})
    return changes
