"""The contact center's main journey in Chromium: a call comes in through a screen-pop URL, the
agent finds the earliest visit at any office, books it for the caller with a summary, reads the
reference back, and the office's front desk shows the visit with the agent's summary; axe-core on
the console, the read-back and the desk."""

from __future__ import annotations

import re

import httpx
import pytest
from tests.browser.conftest import LiveSite
from tests.browser.queue_support import new_tab
from tests.browser.test_smoke import assert_accessible

pytestmark = pytest.mark.browser

CALLER = "070-555 12 34"
SUMMARY = "Needs help applying for a parking permit online; has no BankID yet."


def _log_in(tab, username: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto("/login")
    tab.locator("input[name='username']").fill(username)
    tab.locator("input[name='password']").fill("demo-password")
    tab.locator("main form button[type='submit']").first.click()
    tab.wait_for_url(lambda url: "/login" not in url)


def _office_slug(site: LiveSite, name: str) -> str:
    offices = httpx.get(f"{site.url}/api/v1/offices", timeout=10).json()
    return next(office["slug"] for office in offices if office["name"] == name)


def test_a_call_becomes_a_visit_and_the_desk_sees_the_summary(browser, live_site: LiveSite) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    agent, desk = new_tab(browser, live_site, problems), new_tab(browser, live_site, problems)
    try:
        _log_in(agent, "agent")
        # The telephony system opens the console with the caller's number (screen pop).
        agent.goto(f"/agent?phone={CALLER.replace(' ', '%20')}")
        assert agent.locator("#caller .agent-nothing").count() >= 1  # a first-time caller
        assert_accessible(agent, "agent console, screen pop")

        # The service picker swaps the free times in place (htmx); the earliest comes first.
        agent.locator("#search-service").select_option("eservices")
        first = agent.locator("#agent-results input[name='slot']").first
        first.wait_for()
        slot = agent.locator("#agent-results label.agent-slot").first
        office_name = slot.locator(".agent-slot-office").inner_text().strip()
        assert agent.locator("#agent-results .agent-walk-in, #agent-results .agent-office").count() >= 1
        assert_accessible(agent, "agent console with free times")

        first.check()
        agent.locator("#book-name").fill("Sven Svensson")
        assert agent.locator("#book-phone").input_value() == CALLER
        agent.locator("#book-category").select_option("eservices")
        agent.locator("#book-summary").fill(SUMMARY)
        agent.locator("button.agent-book-button").click()
        agent.wait_for_url(re.compile(r"/agent/bookings/[A-Z0-9]{4}-[A-Z0-9]{4}\?booked=1"))
        reference = re.search(r"/agent/bookings/([A-Z0-9-]{9})", agent.url).group(1)  # type: ignore[union-attr]
        # Read back in the caller's language (Swedish here): each character with its word.
        spelled = [text.split("–") for text in agent.locator("ol.agent-spelled li").all_inner_texts()]
        assert [character.strip() for character, _word in spelled] == list(reference.replace("-", ""))
        assert all(word.strip() for _character, word in spelled)
        assert_accessible(agent, "read-back of the booking")

        # The office's front desk sees the visit, with the agent's summary, without asking again.
        _log_in(desk, "admin")
        desk.goto(f"/desk/{_office_slug(live_site, office_name)}?q={reference}")
        row = desk.locator("tr.desk-visit", has_text=reference)
        row.wait_for()
        handoff = desk.locator("tr.desk-handoff", has_text=SUMMARY)
        assert handoff.count() == 1
        assert_accessible(desk, "front desk with a hand-off")

        # The caller calls again: the console finds the booking by the number.
        agent.goto(f"/agent?phone={CALLER.replace(' ', '%20')}")
        assert agent.locator(".agent-bookings .agent-reference", has_text=reference).count() == 1
    finally:
        for tab in (agent, desk):
            tab.context.close()
    assert not problems, "the browser saw problems:\n" + "\n".join(problems)
