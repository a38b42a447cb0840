"""The logged-in pages in real headless Chromium (Debian's /usr/bin/chromium, Playwright), on
a web app served by uvicorn (in a thread) on this test's database with the personas and the
scene: logging in without a second factor (alice) to her start page and her cases; with a
second factor (the FG: the TOTP code computed here from the persona's secret); a login
refused after lock-out; a parent who cannot see another child; the administrator's pages; a
page for another kind of account. A screenshot of every page under
test-output/screenshots/ and axe-core (WCAG 2.1 AA) on every page: no serious or critical
violation, and no Content Security Policy violation or script error.

Without /usr/bin/chromium these tests are skipped with the reason, except in CI (CI=true),
where they fail (as tests/web/test_browser.py)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from tests.web.conftest import free_port
from tests.web.db.conftest import PASSWORD, totp_now
from tests.web.db.scene import *  # noqa: F403 (the scene fixture)
from tests.web.test_browser import PHONE, Tab, launch

from deelwijs.web import create_app


@pytest.fixture(scope="module")
def chromium():
    yield from launch()


@pytest.fixture
def live(app, personas, scene) -> Iterator[str]:
    """The web app on this test's database (SQLite or PostgreSQL, with the personas and the
    scene), served by uvicorn in a thread on a free port; its base URL. Over plain http on
    127.0.0.1, so the session cookie is not Secure here (DEELWIJS_COOKIE_SECURE=false)."""
    web = create_app(dataclasses.replace(app.settings, cookie_secure=False), services=app)
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=free_port(),
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="deelwijs-live", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn startte niet")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def tab(chromium, live) -> Iterator[Tab]:
    context = chromium.new_context(viewport=PHONE, locale="nl-NL")
    t = Tab(context.new_page(), live)
    yield t
    context.close()


def seen(tab: Tab, name: str) -> None:
    """One h1, Dutch, a screenshot, axe-core clean."""
    assert tab.page.locator("h1").count() == 1, tab.page.url
    assert tab.page.evaluate("() => document.documentElement.lang") == "nl"
    tab.screenshot(name)
    tab.axe()


def log_in(tab: Tab, username: str, password: str = PASSWORD) -> None:
    page = tab.page
    tab.goto("/inloggen")
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    page.get_by_role("button", name="Inloggen", exact=True).click()
    page.wait_for_load_state()


def test_a_professional_logs_in_without_a_second_factor_and_reads_her_cases(tab, scene):
    page = tab.page
    tab.goto("/inloggen")
    seen(tab, "inloggen")
    log_in(tab, "alice")
    page.wait_for_url("**/start")
    assert "Welkom, Alice" in tab.text("h1")
    seen(tab, "start-professional")
    page.get_by_role("link", name="Mijn casussen").click()
    page.wait_for_url("**/casussen")
    assert "Zorgen over aanwezigheid van Sem" in tab.text("#casussen")
    assert "Casus van het wijkteam" not in page.content()  # not her organisation's
    seen(tab, "casussen")
    page.get_by_role("link", name="Zorgen over aanwezigheid van Sem").click()
    page.wait_for_url(f"**/casussen/{scene.sem_case}")
    assert "Leerplicht Voorbeeldstad" in tab.text("#deelnemers")
    assert "Leerplicht Voorbeeldstad" in tab.text("#verstrekkingen")
    seen(tab, "casus")
    # a page for another kind of account: the Dutch 403 page
    response = tab.goto("/fg/log")
    assert response.status == 403 and tab.text("h1") == "Niet toegestaan"
    seen(tab, "403")
    tab.check_clean()


def test_the_fg_logs_in_with_a_second_factor_and_reads_log_register_and_breaches(tab):
    page = tab.page
    log_in(tab, "fg")
    page.wait_for_url("**/inloggen/tweede-factor")
    seen(tab, "tweede-factor")
    page.fill("#f-code", totp_now())
    page.get_by_role("button", name="Verder").click()
    page.wait_for_url("**/start")
    seen(tab, "start-fg")
    page.get_by_role("link", name="Verwerkingslog").click()
    page.wait_for_url("**/fg/log")
    assert "In orde" in tab.text("#controle-uitkomst")
    assert tab.page.locator("#logregels tbody tr").count() >= 1
    seen(tab, "fg-log")
    tab.goto("/fg/register")
    assert tab.page.locator("details").count() >= 1
    tab.page.locator("details summary").first.click()
    seen(tab, "fg-register")
    tab.goto("/fg/datalekken")
    assert "Stichting Onderwijs De Linde" in tab.text("#datalekken")
    seen(tab, "fg-datalekken")
    tab.check_clean()


def test_a_login_is_refused_after_lock_out_even_with_the_right_password(tab):
    page = tab.page
    for _ in range(5):
        log_in(tab, "carol", "niet het goede wachtwoord")
        assert "onjuiste gebruikersnaam of wachtwoord" in page.content()
    log_in(tab, "carol")
    assert "/inloggen" in page.url
    assert "tijdelijk geblokkeerd" in page.content()
    seen(tab, "inloggen-geblokkeerd")
    tab.goto("/start")
    page.wait_for_url("**/inloggen?terug=%2Fstart")  # no session
    tab.check_clean()


def test_a_parent_sees_her_own_child_and_not_another(tab, personas):
    page = tab.page
    log_in(tab, "ouder")
    page.wait_for_url("**/start")
    seen(tab, "start-ouder")
    page.get_by_role("link", name="Wie kreeg wat?").click()
    page.wait_for_url("**/mijn-gegevens")
    assert "Sem de Vries" in tab.text("h1")
    assert "Leerplicht Voorbeeldstad" in tab.text("#verstrekkingen")
    seen(tab, "mijn-gegevens")
    response = tab.goto(f"/mijn-gegevens/{personas.youths['lina']}")
    assert response.status == 404
    assert tab.text("h1") == "Niet gevonden"
    assert "Lina" not in page.content() and "Yilmaz" not in page.content()
    seen(tab, "mijn-gegevens-ander-kind")
    tab.check_clean()


def test_the_administrator_lists_organisations_and_makes_an_account(tab, personas):
    page = tab.page
    log_in(tab, "admin")
    page.wait_for_url("**/inloggen/tweede-factor")
    page.fill("#f-code", totp_now())
    page.get_by_role("button", name="Verder").click()
    page.wait_for_url("**/start")
    seen(tab, "start-beheer")
    page.get_by_role("link", name="Organisaties").click()
    page.wait_for_url("**/beheer/organisaties")
    assert "Samenwerkingsverband" in tab.text("#organisaties")
    seen(tab, "beheer-organisaties")
    tab.goto("/beheer/accounts")
    assert "carol" in tab.text("#accounts")
    seen(tab, "beheer-accounts")
    page.select_option("#f-kind", "professional")
    page.fill("#f-username", "dave")
    page.fill("#f-display_name", "Dave Mulder")
    page.select_option("#f-professional", str(personas.pros["dave"]))
    page.fill("#f-password", "Een-goed-wachtwoord-2026")
    page.get_by_role("button", name="Account aanmaken").click()
    page.wait_for_url("**/beheer/accounts?gedaan=aangemaakt")
    assert "Het account is aangemaakt." in tab.text("#gedaan")
    assert "Dave Mulder" in tab.text("#accounts")
    seen(tab, "beheer-account-aangemaakt")
    # a form with a problem says so, accessibly
    page.fill("#f-username", "dave")
    page.fill("#f-display_name", "Nog een Dave")
    page.get_by_role("button", name="Account aanmaken").click()
    page.locator("#fouten").wait_for()
    assert "bestaat al" in tab.text("#fouten")
    seen(tab, "beheer-account-fout")
    tab.check_clean()
