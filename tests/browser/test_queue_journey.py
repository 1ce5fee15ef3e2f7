"""The walk-in queue in three Chromium pages: the front desk issues a ticket, a counter calls it, and
the waiting-room screen shows the call within a second; axe-core on the screen and the ticket page."""

from __future__ import annotations

import re
import time

import pytest
from tests.browser.conftest import LiveSite
from tests.browser.queue_support import log_in, new_tab
from tests.browser.test_smoke import assert_accessible

pytestmark = pytest.mark.browser


def test_desk_counter_and_screen_in_three_pages(browser, open_site: LiveSite) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    slug = open_site.office
    display, desk, counter, resident = (new_tab(browser, open_site, problems) for _ in range(4))
    try:
        display.goto(f"/offices/{slug}/display")
        assert_accessible(display, "waiting-room screen")

        log_in(counter)
        counter.goto(f"/counter/{slug}")
        counter.locator("input[name='counter']").first.check()
        for box in counter.locator("input[name='services']").all():
            box.check()
        counter.locator("form.counter-setup button[type='submit']").click()
        counter.locator("#counter-next").wait_for()

        log_in(desk)
        desk.goto(f"/desk/{slug}")
        desk.locator(".desk-service-button").first.click()
        code = desk.locator(".ticket-card .ticket-card-code").inner_text().strip()
        assert re.fullmatch(r"[A-Z]\d{3,}", code), code
        ticket_link = desk.locator(".ticket-card a[href^='/tickets/']").first.get_attribute("href")
        assert ticket_link

        # The counter calls the next ticket: ours, the only one waiting at this counter's services.
        counter.locator("#counter-next").click()
        started = time.monotonic()
        display.locator(".display-call.is-newest .display-code", has_text=code).wait_for(timeout=3000)
        elapsed = time.monotonic() - started
        assert elapsed < 1.0, f"the screen showed {code} {elapsed:.2f} s after the call"
        live = display.locator("[aria-live]").all_inner_texts()
        assert any(code in text for text in live), "the call was not announced in a live region"

        resident.goto(ticket_link.split("/print")[0])
        assert code in resident.locator("main").inner_text()
        assert_accessible(resident, "ticket page")
    finally:
        for tab in (display, desk, counter, resident):
            tab.context.close()
    assert not problems, "the browser saw problems:\n" + "\n".join(problems)
