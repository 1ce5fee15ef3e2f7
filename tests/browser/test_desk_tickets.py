"""The front desk and a resident's ticket in Chromium: one tap issues a ticket, the desk's waiting list
and the resident's page follow live, the desk takes the ticket back; axe-core on the desk, the slip and
the ticket page."""

from __future__ import annotations

from typing import Any

import pytest
from tests.browser.conftest import TIMEOUT_MS, LiveSite, _run_apart
from tests.browser.test_queue_journey import _open_all_day
from tests.browser.test_smoke import assert_accessible

pytestmark = pytest.mark.browser

CLERK = ("disk.kista", "demo-password")


@pytest.fixture(scope="module")
def open_site(live_site: LiveSite) -> LiveSite:
    _run_apart(_open_all_day, live_site)
    return live_site


def _tab(browser: Any, site: LiveSite, problems: list[str]) -> Any:
    context = browser.new_context(base_url=site.url, locale="sv-SE", timezone_id="Europe/Stockholm")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    tab.on("response", lambda r: problems.append(f"{r.status} from {r.url}") if r.status >= 500 else None)
    return tab


def test_issue_follow_and_take_back_a_ticket(browser, open_site: LiveSite) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    desk, resident = _tab(browser, open_site, problems), _tab(browser, open_site, problems)
    try:
        desk.goto("/login")
        desk.locator("input[name='username']").fill(CLERK[0])
        desk.locator("input[name='password']").fill(CLERK[1])
        desk.locator("main form button[type='submit']").first.click()
        desk.wait_for_url(lambda url: "/login" not in url)
        desk.goto(f"/desk/{open_site.office}")
        assert_accessible(desk, "front desk")

        desk.locator("input[name='needs_help']").check()
        desk.locator(".desk-service-button").first.click()
        card = desk.locator("#desk-new-ticket .ticket-card")
        code = card.locator(".ticket-card-code").inner_text().strip()
        assert card.locator("svg.qr-code").count() == 1
        # The choices were for that resident; the next one starts afresh.
        assert not desk.locator("input[name='needs_help']").is_checked()
        assert_accessible(desk, "front desk with a new ticket")
        # The waiting list learns of the ticket through the live stream, not through the tap's answer.
        row = desk.locator("#desk-waiting tr", has_text=code)
        row.wait_for(timeout=3000)
        assert row.locator(".desk-help-mark").count() == 1
        # That live update also refreshed the buttons, and left the card where it was.
        assert card.locator(".ticket-card-code").inner_text().strip() == code

        slip = card.locator("a[href*='/print?desk=1']").get_attribute("href")
        assert slip
        resident.goto(slip)
        assert code in resident.locator("main").inner_text()
        assert_accessible(resident, "ticket slip")
        resident.goto(slip.split("/print")[0])
        assert_accessible(resident, "ticket page")
        status = resident.locator("#ticket-status")
        assert "Waiting" in status.inner_text() or "Väntar" in status.inner_text()

        card.locator("[data-dismiss]").click()
        assert desk.locator("#desk-new-ticket .ticket-card").count() == 0

        desk.on("dialog", lambda dialog: dialog.accept())
        row.locator("button.desk-cancel").click()
        row.wait_for(state="detached", timeout=3000)
        status.locator(".ticket-state-done").wait_for(timeout=3000)
    finally:
        for tab in (desk, resident):
            tab.context.close()
    assert not problems, "the browser saw problems:\n" + "\n".join(problems)
