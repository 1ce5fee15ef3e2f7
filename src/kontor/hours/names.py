"""Holiday names in the reader's language.

The `holidays` package names Swedish holidays in Swedish; the msgids here are their English names,
so the catalogues translate them like any other text. A Swedish reader sees the package's own name.
"""

from __future__ import annotations

from types import MappingProxyType

from kontor import i18n
from kontor.hours.holidays import HOLIDAY_NAME_SEPARATOR
from kontor.i18n import N_

__all__ = ["HOLIDAY_MSGIDS", "holiday_label"]

HOLIDAY_MSGIDS = MappingProxyType(
    {
        "Nyårsdagen": N_("New Year's Day"),
        "Trettondedag jul": N_("Epiphany"),
        "Marie bebådelsedag": N_("Annunciation Day"),
        "Långfredagen": N_("Good Friday"),
        "Påskdagen": N_("Easter Sunday"),
        "Annandag påsk": N_("Easter Monday"),
        "Första maj": N_("May Day"),
        "Kristi himmelsfärdsdag": N_("Ascension Day"),
        "Pingstdagen": N_("Whit Sunday"),
        "Annandag pingst": N_("Whit Monday"),
        "Nationaldagen": N_("National Day of Sweden"),
        "Midsommarafton": N_("Midsummer Eve"),
        "Midsommardagen": N_("Midsummer Day"),
        "Alla helgons dag": N_("All Saints' Day"),
        "Julafton": N_("Christmas Eve"),
        "Juldagen": N_("Christmas Day"),
        "Annandag jul": N_("Boxing Day"),
        "Nyårsafton": N_("New Year's Eve"),
    }
)


def holiday_label(sv_name: str) -> str:
    """The holiday's name for the current locale. Names the package joined ("Nationaldagen;
    Pingstdagen") are translated one by one; names not in the table pass through unchanged."""
    if i18n.current_locale.get() == "sv":
        return sv_name
    parts = sv_name.split(HOLIDAY_NAME_SEPARATOR)
    return HOLIDAY_NAME_SEPARATOR.join(
        i18n.gettext(HOLIDAY_MSGIDS[part]) if part in HOLIDAY_MSGIDS else part for part in parts
    )


def day_note(note: str | None, holiday: str | None) -> str | None:
    """Why a day differs from the weekly hours, for the reader: a closure's reason as the office
    wrote it, else the holiday's name in the reader's language."""
    if note and note != holiday:
        return note
    return holiday_label(holiday) if holiday else None
