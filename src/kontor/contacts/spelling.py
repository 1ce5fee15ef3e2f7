"""Reading a booking reference back on the phone: each character with its word in the caller's
language's telephone alphabet ("A as in Adam"), and digits as words.

The alphabets are the ones people on the phone use in each language: the Swedish telephone
alphabet, ICAO's for English, and the Finnish spelling names the Institute for the Languages of
Finland lists. They are data, not interface text, so they are not in the translation catalogues.
"""

from __future__ import annotations

from kontor.i18n import DEFAULT_LOCALE

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖ"

_ALPHABETS: dict[str, tuple[str, ...]] = {
    "sv": (
        "Adam", "Bertil", "Cesar", "David", "Erik", "Filip", "Gustav", "Helge", "Ivar", "Johan",
        "Kalle", "Ludvig", "Martin", "Niklas", "Olof", "Petter", "Qvintus", "Rudolf", "Sigurd",
        "Tore", "Urban", "Viktor", "Wilhelm", "Xerxes", "Yngve", "Zäta", "Åke", "Ärlig", "Östen",
    ),
    "en": (
        "Alfa", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett",
        "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango",
        "Uniform", "Victor", "Whiskey", "X-ray", "Yankee", "Zulu",
    ),
    "fi": (
        "Aarne", "Bertta", "Celsius", "Daavid", "Eemeli", "Faarao", "Gideon", "Heikki", "Iivari",
        "Jussi", "Kalle", "Lauri", "Matti", "Niilo", "Otto", "Paavo", "Kuu", "Risto", "Sakari",
        "Tyyne", "Urho", "Vihtori", "Kaksois-vee", "Äksä", "Yrjö", "Tseta", "Åke", "Äiti", "Öljy",
    ),
}  # fmt: skip

_DIGITS: dict[str, tuple[str, ...]] = {
    "sv": ("noll", "ett", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "fi": (
        "nolla", "yksi", "kaksi", "kolme", "neljä", "viisi", "kuusi", "seitsemän", "kahdeksan", "yhdeksän",
    ),
}  # fmt: skip

_WORDS: dict[str, dict[str, str]] = {
    locale: {
        **dict(zip(_LETTERS, letters, strict=False)),
        **{str(digit): word for digit, word in enumerate(_DIGITS[locale])},
    }
    for locale, letters in _ALPHABETS.items()
}


def _language(locale: str) -> str:
    language = (locale or "").replace("-", "_").split("_")[0].lower()
    return language if language in _WORDS else DEFAULT_LOCALE


def spell_reference(reference: str, locale: str) -> list[tuple[str, str]]:
    """Each character of ``reference`` (in capitals) with its word in ``locale``: ``("A", "Adam")``.
    Dashes and spaces are left out; a character the alphabet does not know is its own word."""
    words = _WORDS[_language(locale)]
    spelled = []
    for character in reference.upper():
        if character == "-" or character.isspace():
            continue
        spelled.append((character, words.get(character, character)))
    return spelled
