"""/beheer/organisaties and /beheer/accounts: the administrator's pages (web/pages/beheer.py).
Every form carries the session's CSRF token; nothing changes without it."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from tests.web.db.conftest import PASSWORD, csrf_of, log_in
from tests.web.db.scene import *  # noqa: F403 (the scene fixture)

from deelwijs.services import accounts
from deelwijs.storage import orm


def admin_in(browser) -> str:
    """Log in as the administrator; the session's CSRF token."""
    assert log_in(browser, "admin", totp=True).headers["location"] == "/start"
    return csrf_of(browser.get("/beheer/accounts").text)


def account(app, username: str) -> orm.Account | None:
    with app.transaction() as s:
        row = accounts.by_username(s, username)
        if row is not None:
            s.expunge(row)
        return row


def test_the_organisations_page_shows_party_and_signature(browser, personas, scene):
    admin_in(browser)
    page = browser.get("/beheer/organisaties")
    assert page.status_code == 200
    text = page.text
    assert "Organisaties" in text and "Testregio" in text
    assert "Voetbalvereniging VV Voorwaarts" in text  # no party, and listed as such
    row = text[text.index("Leerplicht Voorbeeldstad"):]
    assert "leerplicht" in row[:300] and "2020-01-01" in row[:300]
    school = text[text.index("Stichting Onderwijs De Linde"):]
    assert "machtiging aan Samenwerkingsverband" in school[:600]
    assert "Andere regio" not in text


def test_the_accounts_page_lists_the_regions_accounts_only(browser, personas, scene):
    admin_in(browser)
    page = browser.get("/beheer/accounts")
    assert page.status_code == 200
    for name in ("alice", "carol", "ouder", "jongere"):
        assert f">{name}<" in page.text
    assert "fg.elders" not in page.text  # another region's account


def test_the_administrator_makes_a_professionals_account(browser, personas, app):
    csrf = admin_in(browser)
    made = browser.post("/beheer/accounts", data={
        "csrf": csrf, "kind": "professional", "username": "Dave", "display_name": "Dave Mulder",
        "professional": str(personas.pros["dave"]), "password": "Een-goed-wachtwoord-2026"})
    assert made.status_code == 303
    assert made.headers["location"] == "/beheer/accounts?gedaan=aangemaakt"
    page = browser.get(made.headers["location"])
    assert "Het account is aangemaakt." in page.text and "Dave Mulder" in page.text
    row = account(app, "dave")
    assert row.kind == "professional" and row.professional_id == personas.pros["dave"]
    fresh = TestClient(browser.app, base_url="https://testserver", follow_redirects=False)
    assert log_in(fresh, "dave", "Een-goed-wachtwoord-2026").headers["location"] == "/start"


def test_the_administrator_makes_a_parents_account_for_a_guardian(browser, personas, app,
                                                                   builder):
    csrf = admin_in(browser)
    guardian = builder.guardians(personas.youths["lina"])[0]
    made = browser.post("/beheer/accounts", data={
        "csrf": csrf, "kind": "parent", "username": "ayse", "display_name": "Ayse Yilmaz",
        "guardian": str(guardian), "professional": str(personas.pros["dave"])})
    assert made.status_code == 303
    row = account(app, "ayse")
    assert row.kind == "parent" and row.professional_id is None and row.password_hash is None
    with app.transaction() as s:
        assert [x.youth_id for x in accounts.subjects(s, row.id)] == [personas.youths["lina"]]


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"username": "alice"}, "username", "bestaat al"),
    ({"username": "x"}, "username", "gebruikersnaam"),
    ({"display_name": ""}, "display_name", "naam"),
    ({"password": "kort"}, "password", "12"),
    ({"professional": ""}, "professional", "onbekende professional"),
    ({"professional": "999999"}, "professional", "onbekende professional"),
    ({"kind": "parent", "guardian": "abc"}, "guardian", "is een nummer"),
    ({"kind": "youth", "youth": "424242"}, "youth", "onbekende jongere"),
    ({"kind": "koning"}, "kind", "onbekende soort account"),
])
def test_a_bad_account_form_comes_back_with_its_problem_and_nothing_is_made(
        browser, personas, app, form, field, message):
    csrf = admin_in(browser)
    data = {"csrf": csrf, "kind": "professional", "username": "nieuw",
            "display_name": "Nieuw Account", "professional": str(personas.pros["dave"]),
            "password": "Een-goed-wachtwoord-2026", **form}
    with app.transaction() as s:
        before = s.query(orm.Account).count()
    page = browser.post("/beheer/accounts", data=data)
    assert page.status_code in (404, 422), page.text
    assert 'id="fouten"' in page.text and message in page.text
    assert f'href="#f-{field}"' in page.text and 'aria-invalid="true"' in page.text
    assert 'value="Een-goed-wachtwoord-2026"' not in page.text  # a password is not echoed
    with app.transaction() as s:
        assert s.query(orm.Account).count() == before


def test_the_account_forms_need_the_sessions_csrf_token(browser, personas, scene, app):
    admin_in(browser)
    for path in ("/beheer/accounts", f"/beheer/accounts/{personas.accounts['carol']}/"
                 "uitschakelen", f"/beheer/accounts/{personas.accounts['carol']}/ontgrendelen"):
        page = browser.post(path, data={"csrf": "vervalst", "kind": "fg", "username": "x.y",
                                        "display_name": "X"})
        assert page.status_code == 403 and "formulier is verlopen" in page.text, path
    assert account(app, "x.y") is None
    assert account(app, "carol").disabled_at is None


def test_unlocking_a_locked_account_lets_it_log_in_again(browser, personas, app):
    other = TestClient(browser.app, base_url="https://testserver", follow_redirects=False)
    for _ in range(5):
        log_in(other, "carol", "verkeerd wachtwoord")
    assert "tijdelijk geblokkeerd" in log_in(other, "carol").text
    csrf = admin_in(browser)
    page = browser.get("/beheer/accounts").text
    carol = page[page.index(f'id="account-{personas.accounts["carol"]}"'):]
    assert "geblokkeerd" in carol[:600] and "Ontgrendelen" in carol[:1200]
    done = browser.post(f"/beheer/accounts/{personas.accounts['carol']}/ontgrendelen",
                        data={"csrf": csrf})
    assert done.status_code == 303 and done.headers["location"].endswith("gedaan=ontgrendeld")
    assert "ontgrendeld" in browser.get(done.headers["location"]).text
    assert log_in(other, "carol").headers["location"] == "/start"


def test_disabling_an_account_ends_its_sessions(browser, personas, app):
    carol = TestClient(browser.app, base_url="https://testserver", follow_redirects=False)
    log_in(carol, "carol")
    assert carol.get("/casussen").status_code == 200
    csrf = admin_in(browser)
    done = browser.post(f"/beheer/accounts/{personas.accounts['carol']}/uitschakelen",
                        data={"csrf": csrf})
    assert done.status_code == 303
    assert account(app, "carol").disabled_at is not None
    assert carol.get("/casussen").status_code == 303  # back to the login page
    assert log_in(carol, "carol").status_code == 401
    page = browser.get("/beheer/accounts").text
    row = page[page.index(f'id="account-{personas.accounts["carol"]}"'):]
    assert "uitgeschakeld" in row[:600]


@pytest.mark.parametrize("action", ["ontgrendelen", "uitschakelen"])
def test_an_account_of_another_region_or_none_at_all_is_unknown(browser, personas, scene, app,
                                                                action):
    csrf = admin_in(browser)
    for target in (scene.other_account, 999999, "abc"):
        page = browser.post(f"/beheer/accounts/{target}/{action}", data={"csrf": csrf})
        assert page.status_code == 404 and "onbekend account" in page.text, target
        assert "fg.elders" not in page.text
    with app.transaction() as s:
        assert s.get(orm.Account, scene.other_account).disabled_at is None


def test_the_administrator_does_not_disable_herself_from_the_list(browser, personas):
    admin_in(browser)
    page = browser.get("/beheer/accounts").text
    own = page[page.index(f'id="account-{personas.accounts["admin"]}"'):]
    own = own[:own.index("</tr>")]
    assert "Uitschakelen" not in own


def test_an_account_for_every_region_has_no_regional_page(app, world, web):
    """An installation-wide administrator (no region) gets a Dutch page saying the pages show
    one region, not a crash."""
    from tests.services.helpers import unit_of

    with app.transaction() as s:
        row = accounts.create(unit_of(app, s), username="root.beheer", display_name="Beheer",
                              kind="admin", password=PASSWORD)
        row.totp_sealed = app.keys.seal("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        row.totp_confirmed_at = dt.datetime(2026, 1, 1)
    with TestClient(web, base_url="https://testserver", follow_redirects=False,
                    raise_server_exceptions=False) as client:
        assert log_in(client, "root.beheer", totp=True).headers["location"] == "/start"
        for path in ("/beheer/organisaties", "/beheer/accounts"):
            page = client.get(path)
            assert page.status_code == 404 and "één regio" in page.text, path


@pytest.mark.parametrize("who", ["alice", "fg", "ouder"])
def test_only_an_administrator_makes_an_account(browser, personas, app, who):
    log_in(browser, personas.usernames[who], totp=who == "fg")
    csrf = csrf_of(browser.get("/start").text)
    page = browser.post("/beheer/accounts", data={
        "csrf": csrf, "kind": "admin", "username": "stiekem", "display_name": "Stiekem",
        "password": "Een-goed-wachtwoord-2026"})
    assert page.status_code == 403 and "Niet toegestaan" in page.text
    assert account(app, "stiekem") is None
