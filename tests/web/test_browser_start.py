"""A newcomer after `python3 dev.py start`, in real headless Chromium (tests/web/test_browser.py
says how it is found, and when these tests skip): `deelwijs start` on a fresh DEELWIJS_VAR
(with a small demo region made first by `deelwijs demo`, so that start finds it), then the
printed address over plain http://127.0.0.1, a login as a persona with the printed password,
and as the FG with the code of `deelwijs demo code fg`; the session cookie is kept by the
browser, so the start page opens."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fixtures.cli import run_script

from .conftest import deelwijs_script, free_port, serve_env, stop, wait_until_up
from .test_browser import SCREENSHOTS, browser  # noqa: F401 (the module's Chromium)


@pytest.fixture(scope="module")
def started(tmp_path_factory) -> Iterator[tuple[str, Path, str]]:
    """`deelwijs start` on a free port: (its address, its DEELWIJS_VAR, what it printed)."""
    root = tmp_path_factory.mktemp("start")
    var = root / "var"
    made = run_script(deelwijs_script(), "demo", "--youths", "4", env=serve_env(var),
                      cwd=root, timeout=300)
    assert made.returncode == 0, made.stderr
    port = free_port()
    log = root / "start.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(deelwijs_script()), "start", "--port", str(port)],
                                env=serve_env(var), stdout=out, stderr=subprocess.DEVNULL,
                                text=True, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/", proc, log, timeout=120)
        yield base, var, log.read_text()
    finally:
        stop(proc)


@pytest.fixture
def page(browser, started):  # noqa: F811 (the imported fixture)
    context = browser.new_context(viewport={"width": 1000, "height": 900}, locale="nl-NL")
    yield context.new_page()
    context.close()


def _log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/inloggen")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Inloggen", exact=True).click()


def test_a_persona_logs_in_with_the_printed_password(page, started):
    base, _, printed = started
    assert re.search(r"^  ib +demo-wachtwoord-ib +\S", printed, re.M)
    _log_in(page, base, "ib", "demo-wachtwoord-ib")
    page.wait_for_url(f"{base}/start")
    assert page.locator("h1").inner_text().startswith("Welkom,")
    cookie = {c["name"]: c for c in page.context.cookies()}["deelwijs"]
    assert cookie["httpOnly"] and not cookie["secure"] and cookie["sameSite"] == "Lax"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "start-ib.png"), full_page=True)


def test_the_fg_logs_in_with_the_code_of_demo_code(page, started):
    base, var, printed = started
    assert "python3 dev.py code fg" in printed
    _log_in(page, base, "fg", "demo-wachtwoord-fg")
    page.wait_for_url(f"{base}/inloggen/tweede-factor")
    code = run_script(deelwijs_script(), "demo", "code", "fg", env=serve_env(var),
                      cwd=var.parent)
    assert code.returncode == 0, code.stderr
    page.fill("input[name=code]", code.stdout.strip())
    page.get_by_role("button", name="Verder").click()
    page.wait_for_url(f"{base}/start")
    assert "F. de Voorbeeld" in page.locator("h1").inner_text()


def test_a_wrong_password_is_refused_in_dutch(page, started):
    base, _, _ = started
    _log_in(page, base, "ouder", "demo-wachtwoord-fout")
    page.wait_for_load_state()
    assert "onjuiste gebruikersnaam of wachtwoord" in page.content()
    assert page.url == f"{base}/inloggen"
