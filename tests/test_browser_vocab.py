"""The vocabulary editor in a real browser (Debian's headless Chromium via Playwright, against `amv serve`).

An editor logs in, edits a concept's label through the form and sees it on the concept page; an invalid
edit shows its message next to the field with the input kept; the concept autocomplete adds a concept
found by its label; axe-core finds no serious or critical WCAG 2.1 A/AA violation on the form, before
and after an error. Skipped without chromium or axe-core, like tests/test_browser.py (whose browser
fixture and helpers this module uses).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from graph.accounts import Role
from tests.serve_util import serve_copy
from tests.test_browser import DESKTOP, browser, describe, run_axe, saved_on_failure  # noqa: F401 - browser: fixture

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

EDITOR = "redaktion@example.org"
PASSWORD = "en lang og god adgangskode"
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def site(browser: Browser, initialised_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # noqa: F811
    """`amv serve` on a private copy of the initialised store, with an editor; yields its base URL."""
    data_dir = tmp_path_factory.mktemp("browser-vocab") / "data"
    with serve_copy(initialised_dir, data_dir, [(EDITOR, "Rut Redaktør", Role.editor, PASSWORD)]) as base:
        yield base


def blocking(page: Page) -> list[dict[str, object]]:
    return [v for v in run_axe(page) if v["impact"] in BLOCKING]


def test_editor_edits_a_label_and_an_invalid_edit_is_explained_at_the_field(
    browser: Browser,  # noqa: F811
    site: str,
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        with saved_on_failure(page, "vocab-editor"):
            page.goto(f"{site}/login?next=/vocab/factors/5.1")
            page.fill("#login-email", EDITOR)
            page.fill("#login-password", PASSWORD)
            page.click("form.login button[type=submit]")
            page.wait_for_url("**/vocab/factors/5.1")
            with page.expect_navigation():
                page.get_by_role("link", name="Redigér begrebet").click()
            assert page.url.endswith("/editor/concepts/factors/5.1")
            found = blocking(page)
            assert not found, describe(found)

            # A valid edit: a new English preferred label, seen on the concept page.
            page.fill("#prefLabel\\.en", "noise at work")
            page.fill("#reason", "Tydeligere engelsk betegnelse")
            with page.expect_navigation():
                page.click("button[value=apply]")
            assert page.url.endswith("/vocab/factors/5.1")
            page.goto(f"{site}/vocab/factors/5.1?lang=en")  # the language is remembered from here on
            assert page.locator("main h1").inner_text() == "noise at work"
            assert page.get_by_text("Tydeligere engelsk betegnelse").is_visible()  # in the history

            # An invalid edit: a cycle. The message is next to the field, in English; the input is kept.
            page.goto(f"{site}/editor/concepts/factors/5.1")
            page.fill("#broader", "5\n5.1.1")
            with page.expect_navigation():
                page.click("button[value=apply]")
            error = page.locator("#broader-error")
            assert error.is_visible() and "cycle in the hierarchy" in error.inner_text()
            assert page.input_value("#broader") == "5\n5.1.1"
            assert page.get_attribute("#broader", "aria-invalid") == "true"
            assert page.locator(".ve-errors a[href='#field-broader']").is_visible()
            found = blocking(page)
            assert not found, describe(found)

            # The autocomplete: find a concept by its label and add its code as a new line.
            search = page.locator("#field-related .ve-picker input")
            search.fill("vibrationer")
            page.wait_for_function(
                "() => [...document.querySelectorAll('#field-related datalist option')].some(o => o.value === '5.2')",
                timeout=10_000,
            )
            search.fill("5.2")
            page.locator("#field-related .ve-picker button").click()
            assert page.input_value("#related").splitlines()[-1] == "5.2"
    finally:
        context.close()
