"""Creating staff users and API tokens (used by the CLI, the demo and the admin pages)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import ApiToken, Role, User
from kontor.accounts.security import hash_password, hash_token, new_token
from kontor.audit import services as audit
from kontor.audit.models import Channel
from kontor.offices.models import Office

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """Invalid input for an account; the message is safe to show."""


async def create_user(
    db: AsyncSession,
    *,
    username: str,
    role: Role | str,
    password: str,
    office_slugs: list[str] | tuple[str, ...] = (),
    display_name: str = "",
    actor: User | str,
    channel: Channel,
) -> User:
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise AccountError("A username is 2–80 characters: lower-case letters, digits, '.', '_' or '-'.")
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(f"Unknown role {role!r}: use admin, manager, staff or agent.") from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if await db.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"The username {username!r} is taken.")
    offices = await offices_by_slug(db, office_slugs)
    if role in {Role.MANAGER, Role.STAFF} and not offices:
        raise AccountError("Managers and staff belong to at least one office.")
    user = User(
        username=username,
        display_name=display_name.strip(),
        role=role.value,
        password_hash=hash_password(password),
        offices=offices,
    )
    db.add(user)
    await db.flush()
    audit.record(
        db,
        actor=actor,
        channel=channel,
        action="user.create",
        entity="user",
        entity_id=user.id,
        changes={"username": username, "role": role.value, "offices": [o.slug for o in offices]},
    )
    return user


async def offices_by_slug(db: AsyncSession, slugs: list[str] | tuple[str, ...]) -> list[Office]:
    wanted = [slug.strip() for slug in slugs if slug.strip()]
    if not wanted:
        return []
    offices = list(await db.scalars(select(Office).where(Office.slug.in_(wanted))))
    missing = sorted(set(wanted) - {office.slug for office in offices})
    if missing:
        raise AccountError(f"Unknown office: {', '.join(missing)}.")
    return offices


async def create_api_token(
    db: AsyncSession, *, name: str, user: User, actor: User | str, channel: Channel
) -> tuple[ApiToken, str]:
    """A new bearer token for ``user``. The token itself is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 120:
        raise AccountError("A token needs a name of at most 120 characters.")
    token = new_token("kontor_")
    api_token = ApiToken(name=name, user_id=user.id, token_hash=hash_token(token), prefix=token[:12])
    db.add(api_token)
    await db.flush()
    audit.record(
        db,
        actor=actor,
        channel=channel,
        action="token.create",
        entity="api_token",
        entity_id=api_token.id,
        changes={"name": name, "user": user.username},
    )
    return api_token, token
