"""The pages in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright):
the wizard from start to answer, with and without JavaScript, on a phone-sized screen; a
screenshot of every page under test-output/screenshots/; axe-core (WCAG 2.1 AA) on every page
with no serious or critical violation; and no Content Security Policy violation anywhere.

Without /usr/bin/chromium these tests are skipped with the reason, except in CI (CI=true),
where they fail: .ci/run installs Chromium first."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fixtures.cli import in_ci

from .conftest import ROOT

# Debian's chromium; DEELWIJS_TEST_CHROMIUM names another binary (the test of the skip uses it)
CHROMIUM = Path(os.environ.get("DEELWIJS_TEST_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(os.environ.get("DEELWIJS_TEST_OUTPUT", ROOT / "test-output")) / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_URL = "/__test__/axe.min.js"  # served to the page by the test (route), from its own origin
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}


def launch():
    """Debian's Chromium through Playwright, headless: skipped without it, failed in CI."""
    if not CHROMIUM.exists():
        reason = (f"geen Chromium op {CHROMIUM}: installeer het met "
                  "'apt-get install chromium' om de browsertests te draaien")
        if in_ci():
            pytest.fail(f"{reason}; in CI (CI={os.environ['CI']}) moet het er zijn "
                        "(.ci/run installeert het)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def browser():
    yield from launch()


class Tab:
    """One page with the checks every test wants: CSP violations and script errors are
    collected, axe-core can be run, screenshots land in SCREENSHOTS."""

    def __init__(self, page, base: str):
        self.page, self.base = page, base
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"scriptfout: {exc}"))
        page.on("response", self._response)
        page.route(f"{base}{AXE_URL}", lambda route: route.fulfill(
            status=200, content_type="text/javascript", body=AXE.read_text(encoding="utf-8")))

    def _console(self, msg) -> None:
        # a page answered 404 or 422 on purpose is logged as "Failed to load resource";
        # a failing style sheet or script is caught by _response
        if msg.text.startswith("Failed to load resource"):
            return
        if msg.type == "error" or "Content Security Policy" in msg.text:
            self.problems.append(f"console {msg.type}: {msg.text}")

    def _response(self, response) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            self.problems.append(f"{response.status} voor {response.url}")

    def goto(self, path: str):
        response = self.page.goto(f"{self.base}{path}")
        return response

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def axe(self) -> None:
        """No serious or critical WCAG 2.1 A/AA violation on the page as it is now."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(url=f"{self.base}{AXE_URL}")
        result = self.page.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, "
            "resultTypes: ['violations']})", WCAG)
        bad = [f"{v['id']} ({v['impact']}): {v['help']}: "
               + "; ".join(n["target"][0] for n in v["nodes"][:5])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, f"axe op {self.page.url}:\n" + "\n".join(bad)

    def check_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems)

    def text(self, selector: str) -> str:
        return self.page.locator(selector).inner_text()


@pytest.fixture
def tab(browser, server) -> Iterator[Tab]:
    context = browser.new_context(viewport=PHONE, locale="nl-NL")
    t = Tab(context.new_page(), server)
    yield t
    context.close()


@pytest.fixture
def tab_without_js(browser, server) -> Iterator[Tab]:
    context = browser.new_context(viewport=PHONE, locale="nl-NL", java_script_enabled=False)
    t = Tab(context.new_page(), server)
    yield t
    context.close()


@pytest.mark.parametrize(("path", "name", "status"), [
    ("/", "start", 200),
    ("/mag-ik-dit-delen", "wizard-form", 200),
    ("/api/v1/docs", "api-docs", 200),
    ("/bestaat-niet", "404", 404),
])
def test_every_page_renders_accessibly_without_csp_violations(tab, path, name, status):
    response = tab.goto(path)
    assert response.status == status
    assert tab.page.locator("h1").count() == 1
    assert tab.page.evaluate("() => document.documentElement.lang") == "nl"
    # the theme and the component CSS are applied (not an unstyled page)
    font = tab.page.evaluate("() => getComputedStyle(document.querySelector('h1')).fontFamily")
    assert "Noto" in font or "sans" in font.lower()
    tab.screenshot(name)
    tab.axe()
    tab.check_clean()


def _fill_question(tab: Tab) -> None:
    page = tab.page
    page.select_option("#f-discloser", "jeugdhulp")
    page.select_option("#f-recipient", "school")
    page.fill("#f-age", "14")


def test_the_wizard_from_start_to_answer_on_a_phone(tab):
    page = tab.page
    tab.goto("/mag-ik-dit-delen")
    assert not page.locator("#f-data-hulpverlening").count()  # not for a signaleringsoverleg
    assert not page.get_by_role("button", name="Toon de gegevens voor dit overleg").is_visible()
    _fill_question(tab)
    page.select_option("#f-purpose", "oza")  # htmx refreshes the form in place
    page.locator("#f-data-hulpverlening").wait_for()
    assert page.input_value("#f-age") == "14"  # what was filled in survives the refresh
    page.check("#f-data-hulpverlening")
    page.check("#f-data-verzuim")
    page.check("#f-parents-given")
    page.check("#f-youth-refused")
    tab.axe()
    page.get_by_role("button", name="Mag ik dit delen?").click()
    page.wait_for_url("**/mag-ik-dit-delen")
    page.locator("#antwoord").wait_for()
    assert page.locator("h1").inner_text() == "Het antwoord"
    assert tab.text("#antwoord") == "Nee, dat mag niet"
    assert "Reden: beroepsgeheim" in tab.text("#gegevens-hulpverlening")
    steps = tab.text("#stap-toestemming")
    assert "Vraag toestemming aan de ouders met gezag en de jongere" in steps
    assert "model-convenant" in tab.text("#ruleset")
    # the articles behind the rule open without JavaScript (details)
    page.locator("#gegevens-hulpverlening summary").click()
    assert "Jeugdwet" in tab.text("#gegevens-hulpverlening")
    tab.screenshot("wizard-answer")
    tab.axe()
    # change the answers: the same form comes back, filled in
    page.get_by_role("link", name="Antwoorden aanpassen").click()
    page.locator("#f-age").wait_for()
    assert page.input_value("#f-age") == "14"
    assert page.is_checked("#f-data-hulpverlening") and page.is_checked("#f-youth-refused")
    tab.check_clean()


def test_the_wizard_works_without_javascript(tab_without_js):
    tab = tab_without_js
    page = tab.page
    tab.goto("/mag-ik-dit-delen")
    _fill_question(tab)
    page.select_option("#f-purpose", "oza")
    assert not page.locator("#f-data-hulpverlening").count()  # nothing refreshes by itself
    page.get_by_role("button", name="Toon de gegevens voor dit overleg").click()
    page.locator("#f-data-hulpverlening").wait_for()
    assert page.input_value("#f-age") == "14"
    page.check("#f-data-hulpverlening")
    page.check("#f-parents-given")
    page.check("#f-youth-given")
    page.get_by_role("button", name="Mag ik dit delen?").click()
    page.locator("#antwoord").wait_for()
    assert tab.text("#antwoord") == "Ja, dat mag"
    assert "toestemming" in tab.text("#gegevens-hulpverlening")
    tab.screenshot("wizard-answer-without-js")
    tab.check_clean()


def test_a_form_with_problems_says_so_accessibly(tab):
    page = tab.page
    tab.goto("/mag-ik-dit-delen")
    page.fill("#f-age", "9")  # but no data ticked
    page.get_by_role("button", name="Mag ik dit delen?").click()
    page.locator("#fouten").wait_for()
    assert "Kies ten minste één soort gegevens." in tab.text("#fouten")
    tab.screenshot("wizard-problems")
    tab.axe()
    tab.check_clean()


@pytest.mark.parametrize(("ci", "code", "said"), [("", 0, "SKIPPED"),
                                                ("true", 1, "in CI (CI=true) moet het er zijn")])
def test_without_chromium_the_browser_tests_skip_locally_and_fail_in_ci(tmp_path, ci, code,
                                                                        said):
    env = {**os.environ, "DEELWIJS_TEST_CHROMIUM": str(tmp_path / "geen-chromium"), "CI": ci}
    run = subprocess.run([sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider",
                          f"{__file__}::test_every_page_renders_accessibly_without_csp_violations"
                          "[/-start-200]"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == code, run.stdout
    assert "geen Chromium op" in run.stdout and said in run.stdout, run.stdout
