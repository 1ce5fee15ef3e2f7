"""What a visitor tells when booking, checked: a name, one way to reach them, a language, needs.

Only what the visit needs (DESIGN rule 6). Errors carry English msgids; callers translate them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from kontor.booking.models import Need
from kontor.i18n import LOCALES, N_

NAME_MAX = 120
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{6,40}$")


class BookingError(Exception):
    """Why a booking could not be made or changed. ``message`` is an English msgid (callers translate);
    ``kind`` is one of 'invalid', 'full', 'not_found', 'not_bookable'; ``field`` names the input at fault."""

    def __init__(self, kind: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.field = field


def _contact(email: str | None, phone: str | None) -> tuple[str | None, str | None]:
    email = (email or "").strip() or None
    phone = (phone or "").strip() or None
    if email is None and phone is None:
        raise BookingError("invalid", N_("Give an e-mail address or a phone number."), "email")
    if email is not None and (len(email) > 200 or not _EMAIL.match(email)):
        raise BookingError("invalid", N_("Enter a valid e-mail address, like name@example.se."), "email")
    if phone is not None and (not _PHONE.match(phone) or sum(c.isdigit() for c in phone) < 6):
        raise BookingError("invalid", N_("Enter a valid phone number, like 070-123 45 67."), "phone")
    return email, phone


def _needs(needs: Iterable[str]) -> list[str]:
    known = {need.value for need in Need}
    chosen = set(needs)
    if not chosen <= known:
        raise BookingError("invalid", N_("Choose needs from the list."), "needs")
    return sorted(chosen)


def _validate_person(name: str, language: str) -> str:
    name = name.strip()
    if not name:
        raise BookingError("invalid", N_("Enter your name."), "name")
    if len(name) > NAME_MAX:
        raise BookingError("invalid", N_("The name can be at most 120 characters long."), "name")
    if language not in LOCALES:
        raise BookingError("invalid", N_("Choose Swedish, English or Finnish."), "language")
    return name


@dataclass(frozen=True, slots=True)
class Visitor:
    name: str
    email: str | None
    phone: str | None
    language: str
    needs: list[str]


def check_visitor(
    name: str, email: str | None, phone: str | None, language: str, needs: Iterable[str]
) -> Visitor:
    """The visitor's details, trimmed, or BookingError('invalid') naming the first field at fault."""
    name = _validate_person(name, language)
    email, phone = _contact(email, phone)
    return Visitor(name, email, phone, language, _needs(needs))
