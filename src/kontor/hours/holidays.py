"""Swedish public and de facto holidays (the `holidays` package), cached per year.

De facto holidays (midsommarafton, julafton, nyårsafton) are days the offices treat like
public holidays; ordinary Sundays are not holidays here, the weekly hours decide them.
"""

import functools
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

import holidays as holidays_pkg

__all__ = [
    "CATEGORIES",
    "HOLIDAY_NAMES_SV",
    "HOLIDAY_NAME_SEPARATOR",
    "holiday_names_in_year",
    "swedish_holidays",
]

CATEGORIES = ("public", "de_facto")
# The package joins the names of holidays falling on the same date (e.g. "Nationaldagen; Pingstdagen").
HOLIDAY_NAME_SEPARATOR = "; "
# Every name the package gives for these categories from 1953 (where its calendar starts) to 2100,
# listed for the translators; a test checks the list against the installed package.
HOLIDAY_NAMES_SV: frozenset[str] = frozenset(
    {
        "Nyårsdagen",
        "Trettondedag jul",
        "Marie bebådelsedag",  # up to 1989 in the package
        "Långfredagen",
        "Påskdagen",
        "Annandag påsk",
        "Första maj",
        "Kristi himmelsfärdsdag",
        "Pingstdagen",
        "Annandag pingst",  # up to 2004
        "Nationaldagen",  # from 2005
        "Midsommarafton",
        "Midsommardagen",
        "Alla helgons dag",
        "Julafton",
        "Juldagen",
        "Annandag jul",
        "Nyårsafton",
    }
)


def _calendar(year: int) -> holidays_pkg.HolidayBase:
    return holidays_pkg.Sweden(years=year, categories=CATEGORIES, language="sv", include_sundays=False)


@functools.lru_cache(maxsize=64)
def holiday_names_in_year(year: int) -> Mapping[date, str]:
    """The year's holidays (read-only); cached because every day lookup on a hot path lands here."""
    return MappingProxyType(dict(_calendar(year).items()))


def swedish_holidays(first: date, last: date) -> dict[date, str]:
    """Holidays from first to last inclusive, with Swedish names so callers can say why a day is closed."""
    if last < first:
        raise ValueError(f"last ({last}) is before first ({first})")
    return {
        day: name
        for year in range(first.year, last.year + 1)
        for day, name in holiday_names_in_year(year).items()
        if first <= day <= last
    }
