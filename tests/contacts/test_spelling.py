"""Reading a reference back on the phone: the words of each language's telephone alphabet."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontor.booking.references import ALPHABET, format_reference
from kontor.contacts.spelling import spell_reference


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "sv",
            [("A", "Adam"), ("C", "Cesar"), ("D", "David"), ("E", "Erik"),
             ("4", "fyra"), ("7", "sju"), ("7", "sju"), ("9", "nio")],
        ),
        (
            "en",
            [("A", "Alfa"), ("C", "Charlie"), ("D", "Delta"), ("E", "Echo"),
             ("4", "four"), ("7", "seven"), ("7", "seven"), ("9", "nine")],
        ),
        (
            "fi",
            [("A", "Aarne"), ("C", "Celsius"), ("D", "Daavid"), ("E", "Eemeli"),
             ("4", "neljä"), ("7", "seitsemän"), ("7", "seitsemän"), ("9", "yhdeksän")],
        ),
    ],
)  # fmt: skip
def test_a_reference_read_back(locale: str, expected: list[tuple[str, str]]) -> None:
    assert spell_reference("ACDE-4779", locale) == expected


@pytest.mark.parametrize(
    ("character", "sv", "en", "fi"),
    [
        ("F", "Filip", "Foxtrot", "Faarao"),
        ("H", "Helge", "Hotel", "Heikki"),
        ("J", "Johan", "Juliett", "Jussi"),
        ("K", "Kalle", "Kilo", "Kalle"),
        ("L", "Ludvig", "Lima", "Lauri"),
        ("M", "Martin", "Mike", "Matti"),
        ("N", "Niklas", "November", "Niilo"),
        ("P", "Petter", "Papa", "Paavo"),
        ("R", "Rudolf", "Romeo", "Risto"),
        ("T", "Tore", "Tango", "Tyyne"),
        ("U", "Urban", "Uniform", "Urho"),
        ("V", "Viktor", "Victor", "Vihtori"),
        ("W", "Wilhelm", "Whiskey", "Kaksois-vee"),
        ("X", "Xerxes", "X-ray", "Äksä"),
        ("Y", "Yngve", "Yankee", "Yrjö"),
        ("Z", "Zäta", "Zulu", "Tseta"),
        ("3", "tre", "three", "kolme"),
        ("0", "noll", "zero", "nolla"),
        ("1", "ett", "one", "yksi"),
        ("Ö", "Östen", "Ö", "Öljy"),  # not in the English alphabet: passed through
        ("?", "?", "?", "?"),
    ],
)
def test_each_locales_word(character: str, sv: str, en: str, fi: str) -> None:
    for locale, word in (("sv", sv), ("en", en), ("fi", fi)):
        assert spell_reference(character, locale) == [(character, word)]


def test_case_spaces_and_unknown_locales() -> None:
    assert spell_reference("ac de", "en") == [("A", "Alfa"), ("C", "Charlie"), ("D", "Delta"), ("E", "Echo")]
    assert spell_reference("A", "en-GB") == [("A", "Alfa")]
    assert spell_reference("A", "de") == [("A", "Adam")]  # the default language
    assert spell_reference("", "sv") == []


@given(st.text(alphabet=ALPHABET, min_size=8, max_size=8), st.sampled_from(["sv", "en", "fi"]))
def test_every_reference_character_has_its_own_word(stored: str, locale: str) -> None:
    spelled = spell_reference(format_reference(stored), locale)
    assert "".join(character for character, _word in spelled) == stored
    assert all(word != character for character, word in spelled)
    words = {character: word for character, word in spell_reference(ALPHABET, locale)}
    assert len(set(words.values())) == len(ALPHABET)
