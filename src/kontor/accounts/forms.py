"""What the account forms send, read from the posted form data, and their errors by field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kontor.accounts import services
from kontor.accounts.models import Role, User
from kontor.accounts.services import AccountError, check_password
from kontor.i18n import N_, gettext

Errors = dict[str, str]

_ROLE_NAMES = {
    Role.ADMIN: N_("Administrator"),
    Role.MANAGER: N_("Office manager"),
    Role.STAFF: N_("Front-desk and counter staff"),
    Role.AGENT: N_("Contact-center agent"),
}


def role_names() -> dict[str, str]:
    """Each role's name in the reader's language, by role value."""
    return {role.value: gettext(name) for role, name in _ROLE_NAMES.items()}


def text(form: Any, name: str, limit: int = 500) -> str:
    """A single text field; anything else (a file, a missing field) reads as empty."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def texts(form: Any, name: str) -> list[str]:
    return [value.strip() for value in form.getall(name, []) if isinstance(value, str) and value.strip()]


def whole_number(value: str, digits: int = 9) -> int | None:
    """An id as a form sends it: at most ``digits`` ASCII digits, so it fits the database's integers.
    ``str.isdigit()`` is no test: it accepts ``"¹"``, which ``int()`` refuses."""
    if not value or len(value) > digits or not (value.isascii() and value.isdecimal()):
        return None
    return int(value)


def raw(form: Any, name: str, limit: int = 1024) -> str:
    """A password: taken as typed, spaces included."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


@dataclass
class UserForm:
    username: str = ""
    display_name: str = ""
    role: str = Role.STAFF.value
    offices: list[str] = field(default_factory=list)
    active: bool = True

    @classmethod
    def from_form(cls, form: Any) -> UserForm:
        return cls(
            username=text(form, "username", 80),
            display_name=text(form, "display_name", 160),
            role=text(form, "role", 20),
            offices=texts(form, "offices"),
            active=form.get("active") == "on",
        )

    @classmethod
    def from_user(cls, user: User) -> UserForm:
        return cls(
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            offices=[office.slug for office in user.offices],
            active=user.active,
        )


def new_password(form: Any) -> str:
    """The new password from ``password`` and ``password_confirm``; ``AccountError`` if they differ
    or it is too short."""
    password = raw(form, "password")
    if not password:
        raise AccountError(N_("Enter a password."), field="password")
    check_password(password)
    if password != raw(form, "password_confirm"):
        raise AccountError(N_("The two passwords are not the same."), field="password_confirm")
    return password


def new_user_errors(form: UserForm, data: Any) -> Errors:
    """Every mistake in a new-user form that can be seen without the database, so the person fixes
    them in one go; the service still checks everything (and what needs the database) itself."""
    errors: Errors = {}
    checks = [
        lambda: services.check_username(form.username),
        lambda: services.check_offices_for_role(services.parse_role(form.role), form.offices),
        lambda: new_password(data),
    ]
    for check in checks:
        try:
            check()
        except AccountError as exc:
            errors.setdefault(exc.field or "username", exc.translated())
    return errors


def error_for(exc: AccountError, default_field: str) -> Errors:
    return {exc.field or default_field: exc.translated()}
