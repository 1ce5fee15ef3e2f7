"""The walk-in queue in three Chromium pages: the front desk issues a ticket, a counter calls it, and
the waiting-room screen shows the call within a second; axe-core on the screen and the ticket page."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tests.browser.conftest import TIMEOUT_MS, LiveSite, _run_apart
from tests.browser.test_smoke import assert_accessible

from kontor.db.engine import create_engine, writer
from kontor.hours.models import Closure, ClosureInterval
from kontor.offices.models import Office

pytestmark = pytest.mark.browser

CLERK = ("disk.kista", "demo-password")


async def _open_all_day(site: LiveSite) -> None:
    """The live server runs on the real clock: keep the office open whenever the test happens to run."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    assert site.settings is not None
    engine = create_engine(site.settings)
    try:
        async with async_sessionmaker(writer(engine))() as db, db.begin():
            office = await db.scalar(select(Office).where(Office.slug == site.office))
            assert office is not None
            today = datetime.now(ZoneInfo(office.timezone)).date()
            closure = Closure(
                office_id=office.id,
                first_day=today - timedelta(days=1),
                last_day=today + timedelta(days=1),
                reason="Browser test",
            )
            db.add(closure)
            await db.flush()
            db.add(
                ClosureInterval(
                    closure_id=closure.id, opens=clock(0, 0), closes=clock(23, 59), kind="drop_in"
                )
            )
    finally:
        await engine.dispose()


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


def _log_in(tab: Any) -> None:
    tab.goto("/login")
    tab.locator("input[name='username']").fill(CLERK[0])
    tab.locator("input[name='password']").fill(CLERK[1])
    tab.locator("main form button[type='submit']").first.click()
    tab.wait_for_url(lambda url: "/login" not in url)


def test_desk_counter_and_screen_in_three_pages(browser, open_site: LiveSite) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    slug = open_site.office
    display, desk, counter, resident = (_tab(browser, open_site, problems) for _ in range(4))
    try:
        display.goto(f"/offices/{slug}/display")
        assert_accessible(display, "waiting-room screen")

        _log_in(counter)
        counter.goto(f"/counter/{slug}")
        counter.locator("input[name='counter']").first.check()
        for box in counter.locator("input[name='services']").all():
            box.check()
        counter.locator("form.counter-setup button[type='submit']").click()
        counter.locator("#counter-next").wait_for()

        _log_in(desk)
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
