"""Languages: the request's locale, gettext catalogues (compiled on demand) and Babel formatting."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES: tuple[str, ...] = ("sv", "en", "fi")
DEFAULT_LOCALE = "sv"
LANGUAGE_NAMES = {"sv": "Svenska", "en": "English", "fi": "Suomi"}
LOCALE_COOKIE = "kontor_lang"
CATALOG_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"

current_locale: ContextVar[str] = ContextVar("kontor_locale", default=DEFAULT_LOCALE)


def compile_catalog(locale: str) -> Path | None:
    """Compile ``messages.po`` to ``.mo`` when the ``.mo`` is missing or older, so a fresh checkout
    runs without a separate build step."""
    po_path = CATALOG_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo_path = po_path.with_suffix(".mo")
    if not po_path.exists():
        return None
    if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=locale)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp.replace(mo_path)
    return mo_path


@functools.cache
def translations(locale: str) -> NullTranslations:
    if compile_catalog(locale) is None:
        return NullTranslations()
    return Translations.load(str(CATALOG_DIR), [locale], DOMAIN)


def gettext(message: str, **variables: object) -> str:
    text = translations(current_locale.get()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(current_locale.get()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


def plural_form(singular: str, plural: str, n: int) -> str:
    """The translated form for ``n``, not yet filled in: Jinja's ``ngettext`` fills it in itself, with
    ``num`` and whatever else the template passes."""
    return translations(current_locale.get()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    return message


def negotiate(cookie: str | None, accept_language: str | None, query: str | None = None) -> str:
    """The locale to use: an explicit ``?lang=``, then the cookie, then Accept-Language, then Swedish."""
    for explicit in (query, cookie):
        if explicit in LOCALES:
            return explicit  # type: ignore[return-value]
    for tag in _accept_language(accept_language or ""):
        primary = tag.split("-")[0].split("_")[0].lower()
        if primary in LOCALES:
            return primary
        if primary in {"nb", "nn", "no", "da"}:  # Scandinavians read Swedish better than English
            return "sv"
    return DEFAULT_LOCALE


def _accept_language(header: str) -> Iterable[str]:
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        if not tag or tag == "*":
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _q, _i, tag in sorted(weighted)]


@functools.cache
def babel_locale(locale: str) -> Locale:
    return Locale.parse({"sv": "sv_SE", "en": "en_GB", "fi": "fi_FI"}.get(locale, locale))


def format_date(value: date, format: str = "long") -> str:
    """Dates in the reader's language: "fredag 21 augusti", "perjantai 21. elokuuta"."""
    if type(value) is date:  # a datetime would be cut to its date
        return _format_date(value, format, current_locale.get())
    return babel_dates.format_date(value, format=format, locale=babel_locale(current_locale.get()))


@functools.lru_cache(maxsize=4096)
def _format_date(value: date, format: str, locale: str) -> str:
    return babel_dates.format_date(value, format=format, locale=babel_locale(locale))


def format_day(value: date) -> str:
    """Weekday and date without the year, the way offices write it on their doors."""
    return _format_day(value, current_locale.get())


# Pages show the same few weeks of dates over and over, and Babel's formatting is the costly part.
@functools.lru_cache(maxsize=4096)
def _format_day(value: date, locale: str) -> str:
    pattern = _DAY_PATTERNS.get(locale, "EEEE d MMMM")
    return babel_dates.format_date(value, format=pattern, locale=babel_locale(locale))


# Stand-alone weekday (cccc) in Finnish: "perjantai 21. elokuuta", not the essive "perjantaina".
_DAY_PATTERNS = {"sv": "EEEE d MMMM", "en": "EEEE d MMMM", "fi": "cccc d. MMMM"}


def format_weekday(value: date, width: str = "wide") -> str:
    return babel_dates.format_date(
        value, format="cccc" if width == "wide" else "ccc", locale=babel_locale(current_locale.get())
    )


def format_time(value: time | datetime, tz: ZoneInfo | None = None) -> str:
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    return babel_dates.format_time(value, format="HH:mm", locale=babel_locale(current_locale.get()))


def format_datetime(value: datetime, tz: ZoneInfo | None = None, format: str = "medium") -> str:
    return babel_dates.format_datetime(
        value, format=format, tzinfo=tz, locale=babel_locale(current_locale.get())
    )


def format_number(value: float) -> str:
    return babel_numbers.format_decimal(value, locale=babel_locale(current_locale.get()))


def weekday_names(width: str = "wide") -> list[str]:
    """Monday first, in the reader's language."""
    names = babel_locale(current_locale.get()).days["stand-alone"][width]
    return [names[i] for i in range(7)]


def language_name(code: str) -> str:
    """A language's name in the reader's language (for "languages spoken at this office")."""
    name = babel_locale(current_locale.get()).languages.get(code, code)
    return name[:1].upper() + name[1:] if current_locale.get() != "fi" else name
