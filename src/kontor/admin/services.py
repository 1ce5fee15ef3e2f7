"""Districts and offices in the administration: who may see which, creating them, editing details."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.exceptions import NotFoundException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import can_manage_office, ensure
from kontor.accounts.models import Role, User
from kontor.admin.forms import Form, FormError
from kontor.audit import services as audit
from kontor.audit.models import Channel
from kontor.i18n import _
from kontor.offices.models import District, Office

# Languages offered as tick boxes; others can be typed as ISO codes.
COMMON_LANGUAGES = (
    "sv",
    "en",
    "fi",
    "ar",
    "so",
    "ti",
    "fa",
    "ku",
    "tr",
    "pl",
    "es",
    "bs",
    "hr",
    "sr",
    "ru",
    "uk",
)


# The office's notes for the contact center: local knowledge that staff see, never the public.
AGENT_NOTES_MAX = 4000


def is_admin(user: User) -> bool:
    return user.role == Role.ADMIN


async def managed_office(db: AsyncSession, user: User, slug: str) -> Office:
    """The office ``slug`` if ``user`` may administer it: 404 when it does not exist, else 403."""
    office = await db.scalar(select(Office).where(Office.slug == slug))
    if office is None:
        raise NotFoundException(f"No office {slug!r}.")
    ensure(can_manage_office(user, office.id))
    return office


async def offices_for(db: AsyncSession, user: User) -> list[Office]:
    """Every office for an admin; a manager's own offices otherwise."""
    query = select(Office).order_by(Office.name)
    if not is_admin(user):
        query = query.where(Office.id.in_(user.office_ids))
    return list(await db.scalars(query))


async def districts(db: AsyncSession) -> list[District]:
    return list(await db.scalars(select(District).order_by(District.name)))


async def lock_office(db: AsyncSession, office: Office) -> None:
    """Hold the office's row until the transaction ends, so two editors checking its hours (or
    numbering its counters) one after the other see each other's changes. SQLite's write
    transactions are serial already and SQLAlchemy leaves FOR UPDATE out there."""
    await db.execute(select(Office.id).where(Office.id == office.id).with_for_update())


def record_change(
    db: AsyncSession,
    user: User,
    action: str,
    entity: str,
    entity_id: object,
    office_id: int | None,
    changes: dict[str, Any],
) -> None:
    audit.record(
        db,
        actor=user,
        channel=Channel.WEB,
        action=action,
        entity=entity,
        entity_id=entity_id,
        office_id=office_id,
        changes=changes,
    )


async def add_unique(db: AsyncSession, item: object, field: str, message: Callable[[], str]) -> None:
    """Add and flush ``item`` in a savepoint, so a unique clash (say, a slug taken by a concurrent
    request) becomes a form error and leaves the rest of the transaction usable."""
    try:
        async with db.begin_nested():
            db.add(item)
            await db.flush()
    except IntegrityError:
        raise FormError({field: message()}) from None


async def create_district(db: AsyncSession, form: Form, user: User) -> District:
    slug = form.slug("district_slug")
    name = form.text("district_name", required=True, max_length=120)
    form.check()
    if await db.scalar(select(District.id).where(District.slug == slug)) is not None:
        raise FormError({"district_slug": _("The address name %(slug)s is taken.", slug=slug)})
    district = District(slug=slug, name=name)
    await add_unique(
        db, district, "district_slug", lambda: _("The address name %(slug)s is taken.", slug=slug)
    )
    record_change(db, user, "district.create", "district", district.id, None, {"slug": slug, "name": name})
    return district


async def create_office(db: AsyncSession, form: Form, user: User, default_timezone: str) -> Office:
    slug = form.slug("slug")
    name = form.text("name", required=True, max_length=160)
    district_id = form.choice("district", {str(d.id): d.id for d in await districts(db)})
    form.check()
    if await db.scalar(select(Office.id).where(Office.slug == slug)) is not None:
        raise FormError({"slug": _("The address name %(slug)s is taken.", slug=slug)})
    office = Office(
        slug=slug, name=name, district_id=district_id, timezone=default_timezone, languages=["sv"]
    )
    await add_unique(db, office, "slug", lambda: _("The address name %(slug)s is taken.", slug=slug))
    record_change(
        db,
        user,
        "office.create",
        "office",
        office.id,
        office.id,
        {"slug": slug, "name": name, "district_id": district_id},
    )
    return office


async def update_details(db: AsyncSession, office: Office, form: Form, user: User) -> dict[str, Any]:
    """Save the office's contact details and its notes for the contact center; only admins change its
    district and whether it is active. Returns the changes (field: before/after), also written to the
    audit log."""
    wanted: dict[str, Any] = {
        "name": form.text("name", required=True, max_length=160),
        "street": form.text("street", max_length=200),
        "postal_code": form.text("postal_code", max_length=20),
        "city": form.text("city", max_length=100),
        "phone": form.text("phone", max_length=40),
        "email": form.email("email"),
        "languages": form.languages("languages", "other_languages"),
        "accessibility": form.text("accessibility", max_length=4000),
        "directions": form.text("directions", max_length=4000),
        "timezone": form.timezone("timezone"),
        "agent_notes": form.text("agent_notes", max_length=AGENT_NOTES_MAX),
    }
    if is_admin(user):
        wanted["active"] = form.flag("active")
        wanted["district_id"] = form.choice("district", {str(d.id): d.id for d in await districts(db)})
    form.check()
    changes = {
        field: {"before": getattr(office, field), "after": value}
        for field, value in wanted.items()
        if getattr(office, field) != value
    }
    for field, change in changes.items():
        setattr(office, field, change["after"])
    if changes:
        await db.flush()
        record_change(db, user, "office.update", "office", office.id, office.id, changes)
    return changes
