"""What the queue's browser tests share: an office open around the clock on the live server, staff
tabs that collect server errors and JavaScript exceptions, and the desk clerk's login."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from tests.browser.conftest import TIMEOUT_MS, LiveSite

from kontor.db.engine import create_engine, writer
from kontor.hours.models import Closure, ClosureInterval
from kontor.offices.models import Office

CLERK = ("disk.kista", "demo-password")


async def open_all_day(site: LiveSite) -> None:
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


def new_tab(browser: Any, site: LiveSite, problems: list[str]) -> Any:
    context = browser.new_context(base_url=site.url, locale="sv-SE", timezone_id="Europe/Stockholm")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    tab.on("response", lambda r: problems.append(f"{r.status} from {r.url}") if r.status >= 500 else None)
    tab.on(
        "console",
        lambda m: (
            problems.append(f"CSP violation: {m.text}")
            if m.type == "error" and "Content Security Policy" in m.text
            else None
        ),
    )
    return tab


def log_in(tab: Any) -> None:
    tab.goto("/login")
    tab.locator("input[name='username']").fill(CLERK[0])
    tab.locator("input[name='password']").fill(CLERK[1])
    tab.locator("main form button[type='submit']").first.click()
    tab.wait_for_url(lambda url: "/login" not in url)
