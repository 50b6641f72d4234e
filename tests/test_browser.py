"""The pages in a real browser: Debian's headless Chromium, driven by Playwright, against `amv serve`.

A user's path through the graph by clicking links, the language switch, axe-core's WCAG 2.1 A/AA rules on
every page type, no horizontal scrolling on a 375 px phone, and the pages without JavaScript.

Needs `chromium` on PATH and axe-core in node_modules (`npm ci`). Without them the tests are skipped,
unless AMV_REQUIRE_BROWSER=1 (set by .ci/run): then a missing browser is a failure.
On failure a full-page screenshot of each failing page goes to test-artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import httpx
import pytest

from graph.accounts import Role
from tests.serve_util import serve_copy

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

REPO = Path(__file__).resolve().parent.parent
AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "test-artifacts"
REQUIRE_BROWSER = os.environ.get("AMV_REQUIRE_BROWSER") == "1"
CONTRIBUTOR = "bidrag@example.org"
PASSWORD = "en lang og god adgangskode"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
PHONE = {"width": 375, "height": 800}
DESKTOP = {"width": 1280, "height": 900}
RECORD_ID = r"[0-9a-z]{8}"


def unavailable(reason: str) -> NoReturn:
    """Skip locally; fail where the browser tests are required (CI)."""
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason}, and AMV_REQUIRE_BROWSER=1 says the browser tests must run", pytrace=False)
    pytest.skip(f"{reason} (set AMV_REQUIRE_BROWSER=1 to make this a failure)")


# -- fixtures: one browser and one `amv serve` per module -------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the Python package playwright is not installed (pip install -e '.[test]')")
    executable = shutil.which("chromium")
    if executable is None:
        unavailable("no chromium on PATH (apt-get install chromium)")
    if not AXE_JS.is_file():
        unavailable(f"axe-core is missing at {AXE_JS.relative_to(REPO)} (run npm ci)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def site(browser: Browser, initialised_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`amv serve` on a private copy of the initialised store; yields its base URL."""
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    with serve_copy(initialised_dir, data_dir, [(CONTRIBUTOR, "Bo Bidrag", Role.contributor, PASSWORD)]) as base:
        yield base


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no language cookie) at desktop size."""
    ctx = browser.new_context(viewport=DESKTOP)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def desktop(browser: Browser) -> Iterator[Page]:
    ctx = browser.new_context(viewport=DESKTOP)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def phone(browser: Browser) -> Iterator[Page]:
    ctx = browser.new_context(viewport=PHONE)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


# -- helpers ---------------------------------------------------------------------------------------------


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    try:
        page.screenshot(path=str(path), full_page=True)
    except Exception as error:  # a failed screenshot must not hide the real failure
        print(f"could not save a screenshot of {name}: {error}")
    return path


@contextmanager
def saved_on_failure(page: Page, name: str) -> Iterator[None]:
    """Save a full-page screenshot of `page` when the block fails, then let the failure through."""
    try:
        yield
    except pytest.skip.Exception:
        raise
    except BaseException:
        screenshot(page, name)
        raise


def h1(page: Page) -> str:
    return " ".join(page.locator("main h1").inner_text().split())


def section(page: Page, heading: str) -> Locator:
    """The <section> in <main> whose heading starts with `heading` (a count may follow it)."""
    title = page.get_by_role("heading", name=re.compile("^" + re.escape(heading)))
    return page.locator("main section").filter(has=title)


def property_values(page: Page, label: str) -> Locator:
    """The <dd>s that follow the <dt> `label` in the properties list of a record page."""
    return page.locator(
        f"xpath=//main//dl[contains(@class,'properties')]/dd[preceding-sibling::dt[1][normalize-space()='{label}']]"
    )


def link_texts(scope: Locator, limit: int) -> list[str]:
    return [" ".join(t.split()) for t in scope.locator("a[href]").all_inner_texts()[:limit]]


def run_axe(page: Page) -> list[dict[str, Any]]:
    # Evaluated through the DevTools protocol, not as a <script> tag: our Content-Security-Policy forbids
    # inline script, and the pages are tested with that policy in force.
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(
        """async (tags) => {
             const result = await axe.run(document, {runOnly: tags});
             return result.violations.map(v => ({
               id: v.id, impact: v.impact, help: v.help,
               targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')), count: v.nodes.length}));
           }""",
        AXE_TAGS,
    )


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {v['id']} ({v['impact']}, {v['count']} element(s)): {v['help']} — e.g. {'; '.join(v['targets'])}"
        for v in violations
    )


def horizontal_overflow(page: Page) -> dict[str, Any]:
    """How far the page is wider than the viewport, and the elements that stick out furthest."""
    return page.evaluate(
        """() => {
             const width = document.documentElement.clientWidth;
             const wide = [];
             for (const el of document.body.querySelectorAll('*')) {
               const r = el.getBoundingClientRect();
               if (r.width > 0 && r.right > width + 1) {
                 wide.push({right: Math.round(r.right), el: el.tagName.toLowerCase() +
                   (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : ''),
                   text: (el.textContent || '').trim().slice(0, 60)});
               }
             }
             wide.sort((a, b) => b.right - a.right);
             return {scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth,
                     width: width, widest: wide.slice(0, 5)};
           }"""
    )


# -- 1. a user's path through the graph, by clicking ------------------------------------------------------


def test_user_follows_links_from_home_to_an_event(context: BrowserContext, site: str) -> None:
    """home → factor → problem → solution → actor → event, trying other links where one leads nowhere."""
    page = context.new_page()
    path: list[str] = []  # the kinds of page we passed through

    def follow(scope: Locator, text: str, kind: str, url_pattern: str) -> None:
        with page.expect_navigation():
            scope.get_by_role("link", name=text, exact=True).first.click()
        assert re.fullmatch(re.escape(site) + url_pattern, page.url), f"{page.url} is not a {kind} page"
        assert h1(page) == text, f"the link {text!r} leads to a page with the heading {h1(page)!r}"
        path.append(kind)

    def back() -> None:
        page.go_back()
        path.pop()

    def to_an_event() -> None:
        organised = section(page, "Arrangementer, aktøren holder")
        events = link_texts(organised, limit=1)
        if not events:  # the actor organises nothing: the main menu leads to every event
            follow(page.locator("header.site nav"), "Arrangementer", "events", r"/events")
            organised = page.locator("main li.event")
            events = link_texts(organised, limit=1)
            assert events, "the events page lists no events"
        follow(organised, events[0], "event", rf"/id/event/{RECORD_ID}")

    def find_a_path() -> bool:
        factors = section(page, "Find viden efter arbejdsmiljøfaktor")
        factor_names = link_texts(factors, limit=10)
        assert factor_names, "the home page lists no work-environment factors"
        for factor in factor_names:
            follow(factors, factor, "concept", r"/vocab/factors/[0-9.]+")
            problems = section(page, "Arbejdsmiljøproblemer")
            for problem in link_texts(problems, limit=3):
                follow(problems, problem, "problem", rf"/id/problem/{RECORD_ID}")
                solutions = section(page, "Løsninger på problemet")
                for solution in link_texts(solutions, limit=3):
                    follow(solutions, solution, "solution", rf"/id/solution/{RECORD_ID}")
                    offered_by = property_values(page, "tilbydes af")
                    for actor in link_texts(offered_by, limit=1):
                        follow(offered_by, actor, "actor", rf"/id/actor/{RECORD_ID}")
                        to_an_event()
                        return True
                    back()
                back()
            back()
        return False

    with saved_on_failure(page, "user-path"):
        page.goto(site + "/")
        assert h1(page) == "Arbejdsmiljøviden"
        assert find_a_path(), "no factor → problem → solution → actor path in the data"
        assert path in (
            ["concept", "problem", "solution", "actor", "event"],
            ["concept", "problem", "solution", "actor", "events", "event"],
        ), path
        # The event page says what it is and offers the calendar file.
        assert page.locator("main .kind").inner_text() == "Arrangement"
        assert page.get_by_role("link", name="Føj til kalender (.ics)").is_visible()


# -- 2. the language switch ------------------------------------------------------------------------------


def test_language_switch_is_remembered_while_navigating(context: BrowserContext, site: str) -> None:
    page = context.new_page()
    html = page.locator("html")
    with saved_on_failure(page, "language"):
        page.goto(site + "/")
        assert html.get_attribute("lang") == "da"
        assert page.get_by_role("heading", name="Find viden efter arbejdsmiljøfaktor").is_visible()

        with page.expect_navigation():
            page.locator("header.site").get_by_role("link", name="English").click()
        assert html.get_attribute("lang") == "en"
        assert page.get_by_role("heading", name="Browse by work-environment factor").is_visible()
        assert page.get_by_role("heading", name="Upcoming events").is_visible()
        assert page.locator("header.site").get_by_role("link", name="Dansk").is_visible()

        # A plain link without ?lang=: the cookie keeps the page in English.
        with page.expect_navigation():
            page.locator("header.site nav").get_by_role("link", name="Events", exact=True).click()
        assert page.url == site + "/events"
        assert html.get_attribute("lang") == "en"
        assert h1(page) == "Events"
        assert page.get_by_role("heading", name=re.compile("^Upcoming events")).is_visible()

        with page.expect_navigation():
            page.locator("header.site").get_by_role("link", name="Dansk").click()
        assert html.get_attribute("lang") == "da"
        assert h1(page) == "Arrangementer"

        with page.expect_navigation():
            page.locator("header.site nav").get_by_role("link", name="Aktører", exact=True).click()
        assert page.url == site + "/actors"
        assert html.get_attribute("lang") == "da"
        assert h1(page) == "Aktører"


# -- 3. accessibility (axe-core, WCAG 2.1 A/AA) and small screens, per page type --------------------------


def first_link(html: str, pattern: str) -> str:
    match = re.search(rf'href="({pattern})"', html)
    assert match, f"no link matching {pattern}"
    return match.group(1)


@pytest.fixture(scope="module")
def page_urls(site: str) -> dict[str, str]:
    """One URL of each page type, found by following the links of the site itself."""
    with httpx.Client(base_url=site, timeout=30) as client:
        home = client.get("/").text
        factor = first_link(home, r"/vocab/factors/[0-9.]+")
        concept = client.get(factor).text
        urls = {
            "home": "/",
            "concept": factor,
            "scheme": "/vocab/factors",
            "item": first_link(home, rf"/id/item/{RECORD_ID}"),
            "problem": first_link(concept, rf"/id/problem/{RECORD_ID}"),
            "solution": first_link(concept, rf"/id/solution/{RECORD_ID}"),
            "actor": first_link(client.get("/actors").text, rf"/id/actor/{RECORD_ID}"),
            "event": first_link(client.get("/events").text, rf"/id/event/{RECORD_ID}"),
            "actors": "/actors",
            "events": "/events",
            "search": "/search?q=støj",
            "notfound": "/id/problem/zzzzzzzz",
            "ontology": "/ontology",
        }
        for optional in ("coverage", "items", "about", "sparql"):
            if client.get(f"/{optional}").status_code == 200:
                urls[optional] = f"/{optional}"
    return urls


PAGE_TYPES = [
    "home",
    "concept",
    "scheme",
    "item",
    "problem",
    "solution",
    "actor",
    "event",
    "actors",
    "events",
    "search",
    "notfound",
    "ontology",
    "coverage",
    "items",
    "about",
    "sparql",
]


@pytest.mark.parametrize("kind", PAGE_TYPES)
def test_page_passes_axe_and_fits_a_phone(
    kind: str, page_urls: dict[str, str], site: str, desktop: Page, phone: Page
) -> None:
    if kind not in page_urls:
        pytest.skip(f"/{kind} does not answer 200 yet")
    url = site + page_urls[kind]
    problems: list[str] = []
    refused: list[str] = []  # what the Content-Security-Policy blocked: a page relying on it is broken
    desktop.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)

    response = desktop.goto(url)
    assert response is not None
    assert response.status == (404 if kind == "notfound" else 200), f"{url} answered {response.status}"
    desktop.wait_for_load_state("networkidle")
    if refused:
        problems.append(f"the Content-Security-Policy blocked parts of {url}:\n" + "\n".join(refused[:5]))
    violations = run_axe(desktop)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        screenshot(desktop, f"{kind}-desktop")
        problems.append(f"axe finds serious or critical WCAG 2.1 A/AA violations on {url}:\n{describe(blocking)}")

    phone.goto(url)
    overflow = horizontal_overflow(phone)
    if overflow["scroll"] > overflow["width"]:
        screenshot(phone, f"{kind}-375px")
        widest = "\n".join(f"  <{w['el']}> reaches {w['right']} px: {w['text']!r}" for w in overflow["widest"])
        problems.append(f"{url} scrolls sideways at {PHONE['width']} px (page {overflow['scroll']} px wide):\n{widest}")
    assert not problems, "\n".join(problems)


# -- 5. without JavaScript ------------------------------------------------------------------------------


def test_search_and_scheme_tree_work_without_javascript(browser: Browser, site: str) -> None:
    ctx = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = ctx.new_page()
    try:
        with saved_on_failure(page, "no-javascript"):
            page.goto(site + "/")
            form = page.locator("main form[role=search]")
            form.get_by_label("Søg i Arbejdsmiljøviden").fill("støj")
            with page.expect_navigation():
                form.get_by_role("button", name="Søg").click()
            assert re.fullmatch(re.escape(site) + r"/search\?q=st(ø|%C3%B8)j", page.url), page.url
            assert h1(page) == "Søgeresultater: „støj“"
            assert page.locator("main section.results a[href]").count() > 0, "the search found nothing"

            with page.expect_navigation():
                page.locator("header.site nav").get_by_role("link", name="Begreber", exact=True).click()
            # The first branch that starts closed (a handle: a `details:not([open])` locator would move on).
            closed = page.locator("main ul.tree details:not([open])").first.element_handle()
            assert closed is not None, "the tree has no closed branch"
            summary = closed.query_selector(":scope > summary")
            inner_link = closed.query_selector(":scope > ul a")
            assert summary is not None and inner_link is not None
            assert not inner_link.is_visible(), "a closed branch of the tree shows its narrower concepts"
            summary.click()
            assert closed.get_attribute("open") is not None, "clicking the summary did not open the branch"
            assert inner_link.is_visible()
            summary.click()
            assert closed.get_attribute("open") is None, "clicking the summary again did not close the branch"
    finally:
        ctx.close()


def test_contributor_submits_through_the_form_fixes_an_error_and_sees_it_pending(
    context: BrowserContext, site: str
) -> None:
    page = context.new_page()
    with saved_on_failure(page, "submit-form"):
        page.goto(f"{site}/submit/problem")
        assert "/login" in page.url
        page.fill("#login-email", CONTRIBUTOR)
        page.fill("#login-password", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_url("**/submit/problem")
        assert not [v for v in run_axe(page) if v["impact"] in ("serious", "critical")], describe(run_axe(page))
        page.fill("#title\\.da", "Tunge løft ved varemodtagelsen")
        page.fill("#description\\.da", "Kasser over 20 kg løftes fra pallen uden hjælpemidler.")
        page.click("form.submission button[type=submit]")
        # No factor chosen: the field says so, and what was typed is still there.
        assert page.locator("#factors-error").is_visible()
        assert page.input_value("#title\\.da") == "Tunge løft ved varemodtagelsen"
        assert not [v for v in run_axe(page) if v["impact"] in ("serious", "critical")], describe(run_axe(page))
        options = page.locator("#factors option")
        value = next(
            options.nth(i).get_attribute("value")
            for i in range(options.count())
            if options.nth(i).get_attribute("value", timeout=1000).endswith("/factors/1.1")
        )
        page.select_option("#factors", value)
        page.click("form.submission button[type=submit]")
        page.wait_for_url("**/my/submissions**")
        row = page.locator("tr", has_text="Tunge løft ved varemodtagelsen")
        assert "Venter på godkendelse" in row.inner_text()
        # Not public while pending: the search does not find it.
        page.goto(f"{site}/search?q=varemodtagelsen")
        assert page.locator("a", has_text="Tunge løft ved varemodtagelsen").count() == 0


def test_api_docs_render_under_the_content_security_policy(desktop: Page, site: str) -> None:
    """/docs is Swagger UI from our own static files: it renders the operations with the CSP in force."""
    refused: list[str] = []
    desktop.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    desktop.goto(site + "/docs")
    desktop.locator(".opblock-tag", has_text="submissions").first.click()  # groups start folded: the API is big
    desktop.locator(".opblock-summary-path", has_text="/api/submissions").first.wait_for(timeout=15_000)
    assert not refused, refused[:3]
