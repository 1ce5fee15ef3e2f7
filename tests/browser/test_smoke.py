"""A citizen's and a manager's first minutes in a real browser (Chromium, JavaScript on), and axe-core
on the public pages: no serious or critical accessibility findings."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from babel.dates import get_day_names
from tests.browser.conftest import LiveSite

pytestmark = pytest.mark.browser

OFFICE_LINKS_JS = """() => [...document.querySelectorAll("a[href^='/offices/']")]
    .map(a => a.getAttribute("href")).filter(h => /^\\/offices\\/[^\\/?#]+$/.test(h)).sort()"""
SERVED_OFFICE_LINKS = re.compile(r'href="(/offices/[^"/?#]+)"')
BLOCKING_IMPACTS = {"serious", "critical"}
SWEDISH_WEEKDAYS = get_day_names("wide", context="stand-alone", locale="sv_SE")  # 0 is Monday


def _axe_report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Any, label: str) -> None:
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, f"axe-core: serious or critical findings on {label}:\n{_axe_report(blocking)}"


def _choose_language(page: Any, code: str) -> None:
    page.locator(f"a[hreflang='{code}']").first.click()
    # Functions, not expression strings: the page's CSP forbids eval, which polling an expression uses.
    page.wait_for_function(f"() => document.documentElement.lang === '{code}'")


# -- axe-core on the public pages ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "path"),
    [
        ("sv", "/"),
        ("en", "/"),
        ("fi", "/"),
        ("sv", "/offices/{office}"),
        ("sv", "/accessibility"),
        ("sv", "/login"),
    ],
)
def test_public_page_has_no_serious_accessibility_findings(page, live_site: LiveSite, language, path):
    if language != "sv":
        page.goto(f"/language/{language}?next=/")
    page.goto(path.format(office=live_site.office))
    assert page.evaluate("document.documentElement.lang") == language
    assert_accessible(page, f"{path} ({language})")


# -- a citizen ------------------------------------------------------------------------------------


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page):
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'main'")


def test_service_filter_updates_the_office_list_in_place(page, live_site: LiveSite):
    page.goto("/")
    everything = page.evaluate(OFFICE_LINKS_JS)
    assert everything, "the finder lists no offices"
    services = [value for value in page.locator("#office-service option").evaluate_all(
        "options => options.map(o => o.value)") if value]  # fmt: skip
    # The page without JavaScript is the reference: pick a service that not every office offers.
    expected: dict[str, list[str]] = {}
    for code in services:
        html = httpx.get(f"{live_site.url}/", params={"service": code}, timeout=10).text
        expected[code] = sorted(set(SERVED_OFFICE_LINKS.findall(html)))
    narrower = [code for code in services if expected[code] != sorted(set(everything))]
    assert narrower, f"no service narrows the list of {len(everything)} offices; the demo city needs one"
    code = narrower[0]
    page.evaluate("window.kontorSamePage = true")

    page.locator("#office-service").select_option(code)

    page.wait_for_function(
        f"() => ({OFFICE_LINKS_JS})().join() === {','.join(expected[code])!r}", timeout=5_000
    )
    assert page.evaluate("window.kontorSamePage === true"), "the filter reloaded the page instead of htmx"
    page.wait_for_url(re.compile(rf"[?&]service={re.escape(code)}"))  # the filtered list has its own URL


def test_office_page_shows_this_weeks_hours(page, live_site: LiveSite):
    page.goto("/")
    page.locator(f"a[href='/offices/{live_site.office}']").first.click()
    page.wait_for_url(f"**/offices/{live_site.office}")
    assert page.locator("h1").count() == 1
    this_week = page.locator("table").first
    weekday = SWEDISH_WEEKDAYS[datetime.now(ZoneInfo("Europe/Stockholm")).weekday()]
    text = this_week.inner_text().lower()
    assert weekday in text, f"this week's table does not mention today ({weekday}):\n{text}"
    assert re.search(r"\b\d{1,2}[:.]\d{2}\b", text), f"this week's table shows no opening time:\n{text}"


def test_language_switch_to_english_and_back(page, live_site: LiveSite):
    page.goto("/")
    assert page.evaluate("document.documentElement.lang") == "sv"
    _choose_language(page, "en")
    assert page.url == f"{live_site.url}/", "the language switch did not come back to the same page"
    assert page.locator("a[hreflang='en'][aria-current]").count() == 1
    _choose_language(page, "sv")
    assert page.locator("a[hreflang='sv'][aria-current]").count() == 1


# -- a manager ------------------------------------------------------------------------------------


def test_manager_logs_in_and_adds_weekly_hours(page, live_site: LiveSite):
    page.goto("/login")
    page.locator("input[name='username']").fill(live_site.username)
    page.locator("input[name='password']").fill(live_site.password)
    page.locator("main form button[type='submit']").first.click()
    page.wait_for_url(lambda url: "/login" not in url)

    page.goto(f"/admin/offices/{live_site.office}")
    form = page.locator("form:has([name='weekday']):has([name='opens']):has([name='closes'])").first
    form.locator("[name='weekday']").select_option("6")  # Sunday: the demo offices are closed then
    form.locator("[name='opens']").fill("07:15")
    form.locator("[name='closes']").fill("08:45")
    kind = form.locator("[name='kind']")
    if kind.evaluate("element => element.tagName") == "SELECT":
        kind.select_option(index=0)
    else:
        kind.first.check()
    form.locator("button[type='submit']").first.click()

    added = page.locator("main tr", has_text="07:15").filter(has_text="08:45")
    added.first.wait_for()
    assert SWEDISH_WEEKDAYS[6] in added.first.inner_text().lower()
