"""Which office a staff page is about, and whether the signed-in user may work there."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import NotFoundException
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.auth import can_work_in_office, current_user, ensure
from kontor.offices.models import Office
from kontor.offices.services import office_by_slug


async def staff_office(request: Request[Any, Any, Any], db: AsyncSession, slug: str) -> Office:
    """The active office ``slug`` (offering loaded) if the signed-in user works there; else 404 or 403."""
    office = await office_by_slug(db, slug)
    if office is None:
        raise NotFoundException(f"No office {slug!r}.")
    ensure(can_work_in_office(current_user(request), office.id))
    return office
