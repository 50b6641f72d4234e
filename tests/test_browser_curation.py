"""The concept picker in a real browser (Debian's Chromium via Playwright, against `amv serve`): typing Danish
or English finds a concept with its place in the hierarchy, the keyboard alone chooses and removes concepts,
axe-core finds no serious or critical WCAG 2.1 A/AA violation with the list open, and what is chosen is
posted as the concept's IRI through the unchanged form.

Skipped like tests/test_browser.py when Chromium or axe-core is missing (a failure with AMV_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.test_browser import (  # noqa: F401 - browser and site are fixtures used by name
    CONTRIBUTOR,
    PASSWORD,
    browser,
    context,
    describe,
    run_axe,
    saved_on_failure,
    site,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

NOISE = "https://w3id.org/arbejdsmiljoviden/vocab/factors/5.1"
IMPULSE_NOISE = "https://w3id.org/arbejdsmiljoviden/vocab/factors/5.1.3"


def log_in(page: Page, base: str, target: str) -> None:
    page.goto(f"{base}{target}")
    page.fill("#login-email", CONTRIBUTOR)
    page.fill("#login-password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"**{target}")


def chosen(page: Page) -> list[str]:
    """The values the form will post for the factors (the hidden select is the form's source of truth)."""
    return page.eval_on_selector("#factors", "s => Array.from(s.selectedOptions).map(o => o.value)")


def test_concept_picker_by_keyboard_with_paths_and_no_accessibility_violations(
    context: BrowserContext,  # noqa: F811 - the fixture
    site: str,  # noqa: F811 - the fixture
) -> None:
    page = context.new_page()
    with saved_on_failure(page, "concept-picker"):
        log_in(page, site, "/submit/problem")
        picker = page.get_by_role("combobox", name="Arbejdsmiljøfaktorer")
        assert picker.get_attribute("aria-expanded") == "false"

        # Danish: the noise concept with its path; the list is announced and axe is content with it open.
        picker.fill("støj")
        listbox = page.get_by_role("listbox")
        noise = listbox.locator(f'[role="option"][data-value="{NOISE}"]')
        noise.wait_for()
        assert picker.get_attribute("aria-expanded") == "true"
        assert "fysisk arbejdsmiljø › støj" in noise.inner_text()
        status = page.locator("#field-factors [role=status]")
        page.wait_for_function("s => /\\d+ forslag/.test(s.textContent)", arg=status.element_handle())
        blocking = [v for v in run_axe(page) if v["impact"] in ("serious", "critical")]
        assert not blocking, describe(blocking)

        # English finds the same concept.
        picker.fill("noise")
        listbox.locator(f'[role="option"][data-value="{NOISE}"]').wait_for()

        # Keyboard only: arrow down, Enter chooses (without submitting the form), Escape closes.
        picker.fill("")
        picker.press_sequentially("impuls")
        listbox.locator(f'[role="option"][data-value="{IMPULSE_NOISE}"]').wait_for()
        picker.press("ArrowDown")
        active = picker.get_attribute("aria-activedescendant")
        assert active and page.locator(f"#{active}").get_attribute("data-value") == IMPULSE_NOISE
        assert page.locator(f"#{active}").get_attribute("aria-selected") == "true"
        picker.press("Enter")
        assert page.url.endswith("/submit/problem"), "Enter in the picker must not submit the form"
        assert chosen(page) == [IMPULSE_NOISE]
        assert page.locator("li.picker-chip").inner_text().startswith("5.1.3 impulsstøj")
        picker.press_sequentially("støj")
        listbox.locator(f'[role="option"][data-value="{NOISE}"]').wait_for()
        picker.press("Escape")
        assert listbox.is_hidden() and picker.get_attribute("aria-expanded") == "false"
        picker.press("ArrowDown")
        picker.press("Enter")
        assert sorted(chosen(page)) == sorted([NOISE, IMPULSE_NOISE])

        # Remove chips with the keyboard: Backspace in the empty field removes the last chip; each chip's
        # button removes its concept and gives the focus back to the field.
        picker.press("Backspace")
        assert chosen(page) == [NOISE]
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Fjern 5.1 støj"
        page.keyboard.press("Enter")
        assert chosen(page) == []
        assert page.evaluate("document.activeElement.id") == "factors-picker"

        # Choose noise again and send: the form posts its IRI, unchanged.
        picker.press_sequentially("larm")
        listbox.locator(f'[role="option"][data-value="{NOISE}"]').wait_for()
        picker.press("ArrowDown")
        picker.press("Enter")
        page.fill("#title\\.da", "Larm fra trykluftværktøj")
        page.fill("#description\\.da", "Værktøjet giver korte, kraftige lydtoppe.")
        page.click("form.submission button[type=submit]")
        page.wait_for_url("**/my/submissions**")
        page.locator("tr", has_text="Larm fra trykluftværktøj").get_by_role("link", name="Se").click()
        assert f"<{NOISE}>" in page.locator("ol.versions pre").first.text_content()
        assert page.locator(".preview-banner").is_visible()
        blocking = [v for v in run_axe(page) if v["impact"] in ("serious", "critical")]
        assert not blocking, describe(blocking)
