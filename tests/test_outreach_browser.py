"""/alerts, /ask-us and /statistics in a real browser (Chromium via Playwright, as tests/test_browser.py):
axe-core's WCAG 2.1 A/AA rules, no horizontal scrolling on a phone, the Content-Security-Policy blocks
nothing, and the searches made in the session arrive in the "Spørg centeret" form by api/static/ask-us.js.
(Actor pages with their impact charts are checked by tests/test_browser.py with every page type.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.test_browser import (  # noqa: F401 - the fixtures
    BLOCKING_IMPACTS,
    browser,
    describe,
    desktop,
    horizontal_overflow,
    phone,
    run_axe,
    site,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.mark.parametrize("path", ["/alerts?factor=5.1", "/ask-us", "/statistics"])
def test_pages_pass_axe_and_fit_a_phone(path: str, site: str, desktop: Page, phone: Page) -> None:  # noqa: F811
    refused: list[str] = []
    desktop.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    response = desktop.goto(site + path)
    assert response is not None and response.status == 200
    desktop.wait_for_load_state("networkidle")
    assert not refused, refused
    blocking = [v for v in run_axe(desktop) if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, describe(blocking)
    phone.goto(site + path)
    overflow = horizontal_overflow(phone)
    assert overflow["scroll"] <= overflow["width"], overflow


def test_searches_of_the_session_are_attached(site: str, desktop: Page) -> None:  # noqa: F811
    for query in ("tunge løft", "støj i børnehaver"):
        desktop.goto(site + "/search?q=" + query)
    desktop.goto(site + "/ask-us")
    assert desktop.locator("#ask-searches").input_value() == "tunge løft\nstøj i børnehaver"
    desktop.fill("#ask-description", "Hvordan undgår vi tunge løft og støj i børnehaver?")
    desktop.click("button[type=submit] >> text=Send spørgsmålet")
    assert "Tak for dit spørgsmål" in desktop.content()
