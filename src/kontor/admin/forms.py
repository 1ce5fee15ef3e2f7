"""Reading the administration's HTML forms: typed values out, a message per field for what is wrong.

A form is read field by field; every reader records its error under the field's name and returns
``None``, so one submission reports all its problems at once. ``check()`` raises :class:`FormError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

from kontor.i18n import _

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TIME_PATTERN = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?$")  # browsers may add ":00" seconds
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}$")
# The longest IANA names are about 30 characters; ZoneInfo looks a name up as a file path.
TIMEZONE_MAX_LENGTH = 64


class FormError(ValueError):
    """Invalid input: messages by field name (``""`` for the form as a whole), safe to show."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = dict(errors)


class Form:
    """The submitted values of one form, with readers that validate as they read."""

    def __init__(self, data: Any) -> None:
        self._data = data
        self.errors: dict[str, str] = {}

    def raw(self, name: str) -> str:
        value = self._data.get(name)
        return value.strip() if isinstance(value, str) else ""

    def all(self, name: str) -> list[str]:
        getall = getattr(self._data, "getall", None)
        values = getall(name, []) if getall else [self._data.get(name, "")]
        return [value.strip() for value in values if isinstance(value, str)]

    def values(self) -> dict[str, str | list[str]]:
        """What was typed, to put back into the form when it is shown again; a list for a field
        sent more than once (tick boxes)."""
        found: dict[str, str | list[str]] = {}
        for key in self._data:
            many = self.all(key)
            found[key] = many if len(many) > 1 else self.raw(key)
        return found

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def check(self) -> None:
        if self.errors:
            raise FormError(self.errors)

    def text(self, name: str, *, required: bool = False, max_length: int = 200) -> str:
        # Browsers send a textarea's line breaks as CRLF but count them as one character for maxlength.
        value = self.raw(name).replace("\r\n", "\n")
        if required and not value:
            self.error(name, _("Please fill in this field."))
        elif len(value) > max_length:
            self.error(name, _("At most %(count)s characters, please.", count=max_length))
        return value

    def flag(self, name: str) -> bool:
        return self.raw(name) in {"on", "1", "true", "yes"}

    def time(self, name: str, *, required: bool = True) -> time | None:
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, _("Enter a time as HH:MM, for example 09:30."))
            return None
        match = TIME_PATTERN.match(value)
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            self.error(name, _("Enter a time as HH:MM, for example 09:30."))
            return None
        return time(int(match[1]), int(match[2]))

    def date(self, name: str, *, required: bool = True) -> date | None:
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, _("Enter a date as YYYY-MM-DD."))
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.error(name, _("Enter a date as YYYY-MM-DD."))
            return None

    def integer(self, name: str, *, low: int, high: int, default: int | None = None) -> int | None:
        value = self.raw(name)
        if not value and default is not None:
            return default
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            self.error(name, _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high))
            return None
        return number

    def choice(self, name: str, choices: Mapping[str, Any]) -> Any:
        value = self.raw(name)
        if value not in choices:
            self.error(name, _("Please choose one of the options."))
            return None
        return choices[value]

    def slug(self, name: str) -> str:
        value = self.raw(name).lower()
        if not value or len(value) > 80 or not SLUG_PATTERN.match(value):
            self.error(
                name,
                _(
                    "Use lower-case letters a–z, digits and single hyphens, for example %(example)s.",
                    example="kista-centrum",
                ),
            )
        return value

    def email(self, name: str) -> str:
        value = self.text(name, max_length=200)
        if value and not EMAIL_PATTERN.match(value):
            self.error(name, _("Enter an e-mail address such as name@example.org."))
        return value

    def timezone(self, name: str) -> str:
        value = self.raw(name)
        if not value or len(value) > TIMEZONE_MAX_LENGTH or not value.isascii():
            self.error(name, _("Enter a time zone such as Europe/Stockholm."))
            return value
        try:
            ZoneInfo(value)
        except Exception:  # not only ZoneInfoNotFoundError: an odd name can fail as a file path too
            self.error(name, _("Enter a time zone such as Europe/Stockholm."))
        return value

    def languages(self, checked: str, other: str) -> list[str]:
        """Ticked language codes plus any typed ones ("so, ti"), in the order given, once each."""
        codes = [code.lower() for code in self.all(checked)]
        typed = [part.strip().lower() for part in re.split(r"[,\s]+", self.raw(other)) if part.strip()]
        bad = [code for code in typed if not LANGUAGE_PATTERN.match(code)]
        if bad:
            self.error(other, _("Use two- or three-letter ISO 639 codes, for example so, ti, fa."))
        return list(dict.fromkeys(code for code in codes + typed if LANGUAGE_PATTERN.match(code)))
