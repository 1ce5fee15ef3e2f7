"""Booking references: short, easy to read aloud on the phone, and without look-alike characters."""

from __future__ import annotations

import secrets

# Without B/8, G/6, I/1, O/Q/0, S/5 or Z/2: no character can be misread as another.
ALPHABET = "ACDEFHJKLMNPRTUVWXY3479"
LENGTH = 8
_GROUP = 4
_ALLOWED = frozenset(ALPHABET)


def new_reference() -> str:
    """A random reference as stored, e.g. "ACDE4779" (23**8, about 7.8e10, possibilities)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def format_reference(reference: str) -> str:
    """The stored reference as shown: "ACDE-4779"."""
    return f"{reference[:_GROUP]}-{reference[_GROUP:]}"


def normalize_reference(text: str) -> str | None:
    """The stored form of a reference as typed (any case, with or without dash or spaces), or None when
    it cannot be a reference at all."""
    cleaned = "".join(text.split()).replace("-", "").upper()
    if len(cleaned) != LENGTH or not set(cleaned) <= _ALLOWED:
        return None
    return cleaned
