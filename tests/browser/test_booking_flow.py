"""A resident books a visit in a real browser (Chromium, JavaScript on): from an office page through
the service, the calendar and a time to the held booking's page; axe-core on every step of /book."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.browser.conftest import LiveSite
from tests.browser.test_smoke import assert_accessible

pytestmark = pytest.mark.browser

BOOKING_PAGE = re.compile(r"/bookings/[A-Z0-9]{4}-[A-Z0-9]{4}\?token=[\w-]+$")


def _first_bookable_service(page: Any) -> str:
    href = page.locator("main a[href^='/book?service=']").first.get_attribute("href")
    assert href, "the office page has no 'Book a visit' link"
    return re.search(r"service=([^&]+)", href).group(1)  # type: ignore[union-attr]


def test_book_a_visit_from_the_office_page(page, live_site: LiveSite):
    page.goto(f"/offices/{live_site.office}")
    page.locator("main a[href^='/book?service=']").first.click()
    page.wait_for_url(re.compile(rf"/book\?service=[^&]+&office={live_site.office}$"))
    assert page.locator("h1").count() == 1
    assert page.locator(".booking-steps li").nth(2).get_attribute("aria-current") == "step"  # 3 Time
    days = page.locator("a.calendar-day")
    assert days.count() > 0, "the demo office has no free times in the calendar's month"

    # Another day than the one chosen, with the keyboard: htmx swaps calendar and times in place.
    page.evaluate("window.kontorSamePage = true")
    target = days.nth(1) if days.count() > 1 else days.first
    day_id = target.get_attribute("id")
    target.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"day={day_id.removeprefix('day-')}"))  # type: ignore[union-attr]
    page.locator(f"#{day_id}[aria-current='true']").wait_for()
    assert page.evaluate("window.kontorSamePage === true"), "choosing a day reloaded the page"
    assert page.evaluate("document.activeElement.id") == day_id, "focus left the chosen day"

    # A time, with the keyboard: the hold takes the resident to the booking's own page.
    page.locator("button.time-button").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(BOOKING_PAGE)


def test_every_step_of_booking_has_no_serious_accessibility_findings(page, live_site: LiveSite):
    page.goto(f"/offices/{live_site.office}")
    service = _first_bookable_service(page)
    for path in ("/book", f"/book?service={service}", f"/book?service={service}&office={live_site.office}"):
        page.goto(path)
        assert page.evaluate("document.documentElement.lang") == "sv"
        assert_accessible(page, path)
    # The district filter swaps the office list with htmx; the page stays accessible afterwards.
    page.goto(f"/book?service={service}")
    district = page.locator("#booking-district option").nth(1).get_attribute("value")
    page.locator("#booking-district").select_option(district)
    page.wait_for_url(re.compile(rf"district={district}"))
    assert_accessible(page, f"/book?service={service}&district={district}")


def test_book_confirm_move_and_cancel_a_visit(page, live_site: LiveSite):
    """The whole journey in Swedish, checked with axe at every page: details, confirmation, a new
    time, cancellation."""
    page.goto(f"/offices/{live_site.office}")
    page.locator("main a[href^='/book?service=']").first.click()
    page.locator("button.time-button").first.click()
    page.wait_for_url(BOOKING_PAGE)
    assert_accessible(page, "the details of a held time")

    page.fill("#visitor-name", "Anna Andersson")
    page.fill("#visitor-email", "anna.browser@example.se")
    page.check("#need-computer_help")
    page.locator(".visitor-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"done=confirmed"))
    reference = page.locator("dd.reference").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", reference)
    assert page.locator("[role=status]").count() == 1
    assert "Anna Andersson" in page.locator("main").inner_text()
    assert_accessible(page, "the confirmation")
    calendar = page.locator(f"a[href^='/bookings/{reference}.ics']").get_attribute("href")
    assert page.request.get(calendar).headers["content-type"].startswith("text/calendar")

    page.locator("a[href*='reschedule=']").click()
    page.wait_for_url(re.compile(r"reschedule="))
    assert_accessible(page, "choosing a new time")
    page.locator("button.time-button").last.click()
    page.wait_for_url(re.compile(r"done=rescheduled"))
    assert page.locator("dd.reference").inner_text() == reference

    page.locator("details.confirm-cancel summary").click()
    page.locator("details.confirm-cancel button[type=submit]").click()
    page.wait_for_url(re.compile(r"done=cancelled"))
    assert page.locator("a[href*='reschedule=']").count() == 0
    assert_accessible(page, "the cancelled booking")
