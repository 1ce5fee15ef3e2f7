"""Plural texts in templates: the form for the number, in the reader's language, with every value
the template passes (not only ``num``)."""

import pytest

from kontor.i18n import current_locale
from kontor.web.templating import build_environment


@pytest.mark.parametrize(
    ("locale", "n", "expected"),
    [("sv", 1, "1 minut"), ("sv", 5, "5 minuter"), ("fi", 5, "5 minuuttia"), ("en", 1, "1 minute")],
)
def test_the_plural_form_follows_the_number_and_the_language(locale: str, n: int, expected: str) -> None:
    token = current_locale.set(locale)
    try:
        text = build_environment().from_string('{{ ngettext("%(num)s minute", "%(num)s minutes", n) }}')
        assert text.render(n=n) == expected
    finally:
        current_locale.reset(token)


def test_a_plural_text_takes_values_besides_the_number() -> None:
    token = current_locale.set("en")
    try:
        template = build_environment().from_string(
            '{{ ngettext("%(num)s ticket at %(office)s", "%(num)s tickets at %(office)s", 2, office=name) }}'
        )
        # Autoescaped like any other value.
        assert template.render(name="<Kista>") == "2 tickets at &lt;Kista&gt;"
    finally:
        current_locale.reset(token)
