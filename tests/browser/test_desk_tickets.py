"""The front desk and a resident's ticket in Chromium: one tap issues a ticket, the desk's waiting list
and the resident's page follow live, the desk takes the ticket back; axe-core on the desk, the slip and
the ticket page."""

from __future__ import annotations

import pytest
from tests.browser.conftest import LiveSite
from tests.browser.queue_support import log_in, new_tab
from tests.browser.test_smoke import assert_accessible

pytestmark = pytest.mark.browser


def test_issue_follow_and_take_back_a_ticket(browser, open_site: LiveSite) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    desk, resident = new_tab(browser, open_site, problems), new_tab(browser, open_site, problems)
    try:
        log_in(desk)
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
