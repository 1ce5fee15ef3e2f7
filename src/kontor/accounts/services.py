"""Staff users and API tokens: creating, changing, logging in (the CLI, the demo and the admin pages)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import anyio
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import ApiToken, Role, User, office_memberships
from kontor.accounts.security import hash_password, hash_token, needs_rehash, new_token, verify_password
from kontor.audit import services as audit
from kontor.audit.models import Channel
from kontor.db.base import utcnow
from kontor.i18n import N_, gettext
from kontor.offices.models import Office

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD_LENGTH = 10
OFFICE_ROLES = frozenset({Role.MANAGER, Role.STAFF})


class AccountError(ValueError):
    """Invalid input for an account; the message is safe to show. ``field`` names the form field it
    concerns; the message is an English msgid with ``%(name)s`` placeholders filled from ``params``."""

    def __init__(self, message: str, *, field: str | None = None, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.field = field
        self.params = params

    def translated(self) -> str:
        """The message in the current request's language."""
        return gettext(self.message, **self.params)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def check_password(password: str) -> None:
    """Raise ``AccountError`` when ``password`` is too weak to be set."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            N_("A password needs at least %(count)d characters."), field="password", count=MIN_PASSWORD_LENGTH
        )


def check_username(username: str) -> str:
    """The username as stored (trimmed, lower case); ``AccountError`` when it is not a valid one."""
    username = normalise_username(username)
    if not USERNAME_PATTERN.match(username):
        raise AccountError(
            N_("A username is 2–80 characters: lower-case letters, digits, '.', '_' or '-'."),
            field="username",
        )
    return username


def check_offices_for_role(role: Role, offices: Sequence[object]) -> None:
    if role in OFFICE_ROLES and not offices:
        raise AccountError(N_("Managers and staff belong to at least one office."), field="offices")


def parse_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccountError(
            N_("Unknown role %(role)s: use admin, manager, staff or agent."), field="role", role=str(role)
        ) from None


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
    username = check_username(username)
    role = parse_role(role)
    check_password(password)
    taken = AccountError(N_("The username %(username)s is taken."), field="username", username=username)
    if await db.scalar(select(User.id).where(User.username == username)) is not None:
        raise taken
    offices = await offices_by_slug(db, office_slugs)
    check_offices_for_role(role, offices)
    user = User(
        username=username,
        display_name=display_name.strip()[:160],
        role=role.value,
        password_hash=await anyio.to_thread.run_sync(hash_password, password),
        offices=offices,
    )
    try:
        # A savepoint: another instance may have taken the name since the check above.
        async with db.begin_nested():
            db.add(user)
            await db.flush()
    except IntegrityError:
        raise taken from None
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


async def update_user(
    db: AsyncSession,
    user: User,
    *,
    display_name: str,
    role: Role | str,
    office_slugs: Sequence[str],
    active: bool,
    actor: User,
    channel: Channel,
) -> User:
    """Change a user's name, role, offices and active flag. Administrators cannot demote or deactivate
    themselves, so a city never locks its last administrator out by accident."""
    role = parse_role(role)
    if user.id == actor.id and role != Role.ADMIN:
        raise AccountError(N_("You cannot take away your own administrator role."), field="role")
    if user.id == actor.id and not active:
        raise AccountError(N_("You cannot deactivate your own account."), field="active")
    offices = await offices_by_slug(db, list(office_slugs))
    check_offices_for_role(role, offices)
    before = _snapshot(user)
    user.display_name = display_name.strip()[:160]
    user.role = role.value
    user.offices = offices
    user.active = active
    after = _snapshot(user)
    await db.flush()
    changes = {
        key: {"before": before[key], "after": after[key]} for key in before if before[key] != after[key]
    }
    if changes:
        audit.record(
            db,
            actor=actor,
            channel=channel,
            action="user.update",
            entity="user",
            entity_id=user.id,
            changes=changes,
        )
    return user


def _snapshot(user: User) -> dict[str, object]:
    return {
        "display_name": user.display_name,
        "role": user.role,
        "offices": sorted(office.slug for office in user.offices),
        "active": user.active,
    }


async def set_password(
    db: AsyncSession, user: User, password: str, *, actor: User | str, channel: Channel
) -> None:
    """Give ``user`` a new password; the audit entry says that it changed, never what to."""
    check_password(password)
    user.password_hash = await anyio.to_thread.run_sync(hash_password, password)
    await db.flush()
    audit.record(db, actor=actor, channel=channel, action="user.password", entity="user", entity_id=user.id)


async def authenticate(db: AsyncSession, username: str, password: str) -> User | None:
    """The active user with this username and password, or ``None``. An unknown username costs the same
    argon2 verification as a known one, so timing does not tell which usernames exist."""
    user = await db.scalar(select(User).where(User.username == normalise_username(username)))
    stored = user.password_hash if user is not None else None
    # argon2 takes tens of milliseconds: off the event loop.
    if not await anyio.to_thread.run_sync(verify_password, stored, password):
        return None
    if user is None or not user.active:
        return None
    return user


async def record_login(db: AsyncSession, user: User, password: str, *, channel: Channel) -> None:
    """Note the login, and upgrade the stored hash when the argon2 parameters have grown since."""
    user.last_login_at = utcnow()
    if needs_rehash(user.password_hash):
        user.password_hash = await anyio.to_thread.run_sync(hash_password, password)
    audit.record(db, actor=user, channel=channel, action="user.login", entity="user", entity_id=user.id)
    await db.flush()


async def list_users(
    db: AsyncSession, *, role: str | None = None, office_slug: str | None = None
) -> list[User]:
    query = select(User).order_by(User.username)
    if role:
        query = query.where(User.role == role)
    if office_slug:
        query = query.where(
            User.id.in_(
                select(office_memberships.c.user_id)
                .join(Office, Office.id == office_memberships.c.office_id)
                .where(Office.slug == office_slug)
            )
        )
    return list(await db.scalars(query))


async def offices_by_slug(db: AsyncSession, slugs: list[str] | tuple[str, ...]) -> list[Office]:
    wanted = [slug.strip() for slug in slugs if slug.strip()]
    if not wanted:
        return []
    offices = list(await db.scalars(select(Office).where(Office.slug.in_(wanted)).order_by(Office.name)))
    missing = sorted(set(wanted) - {office.slug for office in offices})
    if missing:
        raise AccountError(N_("Unknown office: %(slugs)s."), field="offices", slugs=", ".join(missing))
    return offices


async def create_api_token(
    db: AsyncSession, *, name: str, user: User, actor: User | str, channel: Channel
) -> tuple[ApiToken, str]:
    """A new bearer token for ``user``. The token itself is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 120:
        raise AccountError(N_("Give the token a name of 1–120 characters."), field="name")
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


async def revoke_api_token(
    db: AsyncSession, api_token: ApiToken, *, actor: User | str, channel: Channel
) -> None:
    """Revoke a token for good; revoking it again changes nothing."""
    if api_token.revoked_at is not None:
        return
    api_token.revoked_at = utcnow()
    await db.flush()
    audit.record(
        db,
        actor=actor,
        channel=channel,
        action="token.revoke",
        entity="api_token",
        entity_id=api_token.id,
        changes={"name": api_token.name, "user": api_token.user.username},
    )


async def list_api_tokens(db: AsyncSession) -> list[ApiToken]:
    return list(
        await db.scalars(
            select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
        )
    )
