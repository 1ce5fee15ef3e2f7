"""Calendars in Chromium: a resident finds the office's opening hours as a calendar to subscribe to
(keyboard only), and a front-desk clerk makes a feed of the office's visits, reads it as a calendar
client would, and revokes it; axe-core on each page."""

from __future__ import annotations

import re

import httpx
import pytest
from icalendar import Calendar
from tests.browser.conftest import LiveSite
from tests.browser.queue_support import log_in, new_tab
from tests.browser.test_smoke import assert_accessible

pytestmark = pytest.mark.browser


def _on_site(site: LiveSite, url: str) -> str:
    """A link the page gives (made from the configured public address) on the test's server."""
    return site.url + re.sub(r"^https?://[^/]+", "", url)


def _office_slug(site: LiveSite) -> str:
    return httpx.get(f"{site.url}/api/v1/offices", timeout=10).json()[0]["slug"]


def test_a_resident_subscribes_to_an_offices_hours_with_the_keyboard(browser, live_site: LiveSite) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    tab = new_tab(browser, live_site, problems)
    try:
        slug = _office_slug(live_site)
        tab.goto(f"/offices/{slug}")
        subscribe = tab.locator("a[href^='webcal://']")
        assert subscribe.count() == 1
        assert re.search(rf"/offices/{slug}/hours\.ics\?lang=sv$", subscribe.get_attribute("href") or "")
        # The instructions open from the keyboard, and the address is there to copy.
        summary = tab.locator("#subscribe-heading ~ details summary")
        summary.focus()
        tab.keyboard.press("Enter")
        address = tab.locator("#hours-feed-url")
        address.wait_for(state="visible")
        assert_accessible(tab, "office page with the hours feed's instructions")

        hours_url = _on_site(live_site, address.input_value())
        feed = httpx.get(hours_url, timeout=10)
        assert feed.status_code == 200 and feed.headers["content-type"] == "text/calendar; charset=utf-8"
        calendar = Calendar.from_ical(feed.content)
        assert calendar.walk("VTIMEZONE") and any("RRULE" in event for event in calendar.walk("VEVENT"))
        again = httpx.get(hours_url, headers={"If-None-Match": feed.headers["etag"]}, timeout=10)
        assert again.status_code == 304
    finally:
        tab.context.close()
    assert problems == []


def test_a_clerk_makes_a_feed_of_the_office_reads_it_and_revokes_it(browser, live_site: LiveSite) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    tab = new_tab(browser, live_site, problems)
    try:
        log_in(tab)
        tab.goto("/staff")
        tab.locator("a[href='/staff/calendars']").first.click()
        tab.wait_for_url(re.compile(r"/staff/calendars$"))
        assert_accessible(tab, "calendar feeds page")

        tab.locator("#target").select_option(index=0)  # the clerk's office, all its visits
        tab.locator("#label").fill("Kistas besök")
        tab.locator("main form button[type='submit']").first.click()
        address = tab.locator("#feed-url")
        address.wait_for()
        url = _on_site(live_site, address.input_value())
        assert re.search(r"/feeds/[A-Za-z0-9_-]{30,}\.ics$", url)
        assert tab.locator("a[href^='webcal://']").count() == 1
        assert_accessible(tab, "new calendar feed")

        feed = httpx.get(url, timeout=10)  # as a calendar client: no cookie, no Accept header
        assert feed.status_code == 200
        assert str(Calendar.from_ical(feed.content)["X-WR-CALNAME"]) == "Kistas besök"

        tab.goto("/staff/calendars")
        row = tab.locator("tr", has_text="Kistas besök")
        row.locator("button[type='submit']").click()
        tab.locator("p.notice[role='status']").wait_for()
        assert tab.locator("tr", has_text="Kistas besök").count() == 0
        assert httpx.get(url, timeout=10).status_code == 404
    finally:
        tab.context.close()
    assert problems == []
