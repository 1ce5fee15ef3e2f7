"""The catalogues are complete: every message in the code is translated to sv, en and fi, none fuzzy."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from kontor import i18n

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    path = i18n.CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"no catalogue for {locale}: run `nox -s i18n`"
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _extracted() -> set[str]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_catalogue_is_complete(locale: str) -> None:
    catalog = _catalog(locale)
    untranslated = [
        m.id for m in catalog if m.id and not (m.string[0] if isinstance(m.string, tuple) else m.string)
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"{locale}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{locale}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_catalogue_covers_the_code(locale: str) -> None:
    """A message added to a template or module without `nox -s i18n` (and a translation) fails here."""
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(locale) if m.id}
    missing = sorted(_extracted() - known)
    assert not missing, f"{locale}: {len(missing)} messages not in the catalogue, e.g. {missing[:5]}"


@pytest.mark.parametrize(
    ("locale", "message", "expected"),
    [("sv", "Find an office", "Hitta kontor"), ("fi", "Find an office", "Etsi toimipiste")],
)
def test_translations_are_used(locale: str, message: str, expected: str) -> None:
    token = i18n.current_locale.set(locale)
    try:
        assert i18n.gettext(message) == expected
    finally:
        i18n.current_locale.reset(token)
