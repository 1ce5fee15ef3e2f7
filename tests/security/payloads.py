"""Hostile strings for the security tests: markup that runs script when a page shows it unescaped,
template syntax, and the odd characters, numbers, dates and times that break parsers and databases.

``MARKUP`` is what a resident or a colleague may type into any free-text field; ``UNSAFE`` are the
fragments that may never reach a page as they were typed (an escaped page shows ``&lt;script&gt;``).
"""

from __future__ import annotations

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE_BREAK = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{7*7}}"
TEXTAREA_BREAK = "</textarea><svg/onload=alert(1)>"
JAVASCRIPT_URL = "javascript:alert(1)"

MARKUP = (SCRIPT, ATTRIBUTE_BREAK, TEMPLATE, TEXTAREA_BREAK, JAVASCRIPT_URL)

# Each is the start of an element or attribute the markup above would inject.
UNSAFE = ("<script>alert(1)", "<img src=x onerror", "<svg/onload", "onerror=alert(1)>")

# Characters that have broken text handling somewhere: NUL (PostgreSQL refuses it in text), other
# controls, a right-to-left override, a byte-order mark, line breaks, an emoji outside the BMP,
# decomposed and full-width letters, quotes for SQL and for attributes.
ODD_TEXT = (
    "\x00",
    "A\x00B",
    "\x07\x08\x1b[31m\x7f",
    "\u202eevil\u202c",
    "\ufeffbom",
    "line\r\nbreak",
    "\U0001f600",
    "A\u0308ngstro\u0308m",
    "\uff21\uff22\uff23",
    "' OR '1'='1' --",
    '"; DROP TABLE users; --',
    "%00%27%22",
    "../../../etc/passwd",
    "${7*7}",
    "   ",
    "",
)

NUMBERS = (
    "-1",
    "0",
    "2147483648",
    "9223372036854775808",
    "-9223372036854775809",
    "1e309",
    "NaN",
    "inf",
    "1.5",
    "0x10",
    "\u0661\u0662",
    "\u00b9",
    "12abc",
)

DATES = (
    "0000-00-00",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "2026-13-01",
    "31/12/2026",
    "2026-12-15T09:00",
)

TIMES = ("24:00", "25:61", "23:59:60", "-1:00", "00:00", "9:5", "12")

DATETIMES = (
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-12:00",
    "2026-12-15T09:00:00",
    "2026-12-15T09:00:00+99:00",
    "2026-12-15 09:00:00+01:00",
)

LONG_TEXT = ("x" * 5_000, "\u00e5" * 70_000, "<b>" * 2_000)

EVERYTHING = MARKUP + ODD_TEXT + NUMBERS + DATES + TIMES + DATETIMES + LONG_TEXT
