"""Logging in and out, the second factor, lock-out, CSRF and the account page (web/auth.py)."""

from __future__ import annotations

from sqlalchemy import select
from tests.web.db.conftest import (
    PASSWORD,
    TOTP_SECRET,
    csrf_of,
    log_in,
    totp_now,
)

from deelwijs.storage import orm


def events(app, account_id: int) -> list[str]:
    with app.transaction() as s:
        return list(s.scalars(select(orm.AccountEvent.event).where(
            orm.AccountEvent.account_id == account_id).order_by(orm.AccountEvent.id)))


def test_a_page_that_needs_a_login_sends_to_the_login_page_and_back(browser, personas):
    response = browser.get("/start")
    assert response.status_code == 303
    assert response.headers["location"] == "/inloggen?terug=%2Fstart"
    page = browser.get("/inloggen?terug=%2Faccount")
    assert 'name="terug" value="/account"' in page.text
    landed = browser.post("/inloggen", data={"csrf": csrf_of(page.text), "username": "alice",
                                             "password": PASSWORD, "terug": "/account"})
    assert landed.status_code == 303 and landed.headers["location"] == "/account"


def test_login_as_a_professional_lands_on_the_start_page_with_their_tasks(browser, personas,
                                                                         app):
    response = log_in(browser, "alice")
    assert response.status_code == 303 and response.headers["location"] == "/start"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-deelwijs=")
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    start = browser.get("/start")
    assert start.status_code == 200
    assert "Mijn casussen" in start.text and "Uitloggen" in start.text
    assert events(app, personas.accounts["alice"])[-1] == "login"


def test_the_login_name_is_not_case_sensitive(browser, personas):
    assert log_in(browser, "  ALICE ").headers["location"] == "/start"


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(browser, personas, app):
    wrong = log_in(browser, "alice", "not the password at all")
    unknown = log_in(browser, "nobody.here", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    message = "onjuiste gebruikersnaam of wachtwoord"
    assert message in wrong.text and message in unknown.text
    assert "set-cookie" not in wrong.headers or "deelwijs=" not in wrong.headers.get(
        "set-cookie", "").replace("deelwijs_csrf", "")
    assert events(app, personas.accounts["alice"]) == ["created", "login_refused"]


def test_after_five_refusals_the_account_is_locked_even_for_the_right_password(
        browser, personas, app):
    for _ in range(5):
        assert log_in(browser, "carol", "wrong password here").status_code == 401
    refused = log_in(browser, "carol", PASSWORD)
    assert refused.status_code == 401
    assert "tijdelijk geblokkeerd" in refused.text
    assert "locked" in events(app, personas.accounts["carol"])
    with app.transaction() as s:
        assert s.get(orm.Account, personas.accounts["carol"]).locked_until is not None


def test_the_login_form_needs_its_csrf_cookie(browser, personas):
    browser.get("/inloggen")
    response = browser.post("/inloggen", data={"csrf": "forged", "username": "alice",
                                               "password": PASSWORD})
    assert response.status_code == 403
    assert "formulier is verlopen" in response.text


def test_an_fg_gives_a_code_after_the_password(browser, personas, app):
    first = log_in(browser, "fg")
    assert first.status_code == 303
    assert first.headers["location"].startswith("/inloggen/tweede-factor")
    # halfway: no page is open yet
    assert browser.get("/start").headers["location"] == "/inloggen/tweede-factor"
    form = browser.get("/inloggen/tweede-factor")
    wrong = browser.post("/inloggen/tweede-factor", data={"csrf": csrf_of(form.text),
                                                          "code": "000000"})
    assert wrong.status_code == 401 and "code klopt niet" in wrong.text
    done = browser.post("/inloggen/tweede-factor", data={"csrf": csrf_of(form.text),
                                                         "code": totp_now()})
    assert done.status_code == 303 and done.headers["location"] == "/start"
    start = browser.get("/start")
    assert start.status_code == 200 and "Verwerkingslog" in start.text
    assert events(app, personas.accounts["fg"])[1:] == [
        "password_ok", "second_factor_refused", "second_factor", "login"]


def test_a_code_is_used_only_once(web, personas):
    from fastapi.testclient import TestClient

    code = totp_now()
    with TestClient(web, base_url="https://testserver", follow_redirects=False) as one:
        assert log_in(one, "fg", totp=True, code=code).headers["location"] == "/start"
    with TestClient(web, base_url="https://testserver", follow_redirects=False) as two:
        replay = log_in(two, "fg", totp=True, code=code)
    assert replay.status_code == 401 and "al gebruikt" in replay.text


def test_an_fg_without_a_second_factor_must_set_one_up_first(browser, personas, app):
    with app.transaction() as s:
        account = s.get(orm.Account, personas.accounts["admin"])
        account.totp_sealed = None
        account.totp_confirmed_at = None
    landed = log_in(browser, "admin")
    assert landed.headers["location"] == "/account/tweede-factor"
    assert browser.get("/start").headers["location"] == "/account/tweede-factor"
    page = browser.get("/account/tweede-factor")
    assert page.status_code == 200 and "Tweede stap instellen" in page.text
    secret = page.text.split('name="secret" value="')[1].split('"')[0]
    wrong = browser.post("/account/tweede-factor", data={"csrf": csrf_of(page.text),
                                                         "secret": secret, "code": "123456"})
    assert wrong.status_code == 422
    ok = browser.post("/account/tweede-factor", data={"csrf": csrf_of(page.text),
                                                      "secret": secret,
                                                      "code": totp_now(secret)})
    assert ok.status_code == 303
    assert browser.get("/start").status_code == 200
    assert "totp_enrolled" in events(app, personas.accounts["admin"])


def test_logout_ends_the_session_and_needs_the_csrf_token(browser, personas, app):
    log_in(browser, "alice")
    start = browser.get("/start")
    refused = browser.post("/uitloggen", data={"csrf": "wrong"})
    assert refused.status_code == 403
    assert browser.get("/start").status_code == 200
    cookie = browser.cookies.get("__Host-deelwijs")
    out = browser.post("/uitloggen", data={"csrf": csrf_of(start.text)})
    assert out.status_code == 303
    browser.cookies.set("__Host-deelwijs", cookie)  # an old cookie, replayed
    assert browser.get("/start").status_code == 303
    assert events(app, personas.accounts["alice"])[-1] == "logout"


def test_no_open_redirect_after_login(browser, personas):
    page = browser.get("/inloggen")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = browser.post("/inloggen", data={"csrf": csrf_of(page.text),
                                                   "username": "alice", "password": PASSWORD,
                                                   "terug": target})
        assert response.headers["location"] == "/start", target


def test_switching_hats_is_explicit_and_recorded(browser, personas, app):
    log_in(browser, "bob")
    page = browser.get("/account")
    assert "Pet wisselen" in page.text
    response = browser.post("/account/pet", data={"csrf": csrf_of(page.text),
                                                  "hat": "toeleiding"})
    assert response.status_code == 303
    assert '<option value="toeleiding" selected>' in browser.get("/account").text
    refused = browser.post("/account/pet", data={"csrf": csrf_of(page.text),
                                                 "hat": "coordinatie"})
    assert refused.status_code == 422
    assert "hat" in events(app, personas.accounts["bob"])
    me = browser.get("/api/v1/me", headers={"x-csrf-token": csrf_of(page.text)})
    assert me.json()["actor"]["hat"] == "toeleiding"


def test_a_personal_access_token_acts_as_its_account_until_revoked(browser, personas, web):
    log_in(browser, "carol")
    page = browser.get("/account")
    made = browser.post("/account/tokens", data={"csrf": csrf_of(page.text), "name": "zaaksysteem"})
    assert made.status_code == 201
    token = made.text.split('id="nieuw-token">')[1].split("<")[0]
    assert token.startswith("dw_")
    from fastapi.testclient import TestClient

    with TestClient(web, base_url="https://testserver") as system:
        me = system.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["account"]["username"] == "carol"
        assert me.json()["actor"]["kind"] == "professional"
        page = browser.get("/account")
        token_id = page.text.split("/account/tokens/")[1].split("/")[0]
        browser.post(f"/account/tokens/{token_id}/intrekken",
                     data={"csrf": csrf_of(page.text)})
        gone = system.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
        assert gone.status_code == 401
        assert gone.headers["content-type"] == "application/problem+json"
        assert gone.json()["code"] == "unauthenticated"
        assert gone.headers["www-authenticate"].startswith("Bearer")


def test_the_api_without_an_account_answers_401(browser, personas):
    response = browser.get("/api/v1/me")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_a_password_change_needs_the_current_password(browser, personas):
    log_in(browser, "alice")
    page = browser.get("/account")
    new = "Een-nieuw-wachtwoord-42"
    wrong = browser.post("/account/wachtwoord", data={
        "csrf": csrf_of(page.text), "current": "nope", "password": new, "again": new})
    assert wrong.status_code == 422 and "huidige wachtwoord klopt niet" in wrong.text
    short = browser.post("/account/wachtwoord", data={
        "csrf": csrf_of(page.text), "current": PASSWORD, "password": "kort", "again": "kort"})
    assert short.status_code == 422 and "minstens 12 tekens" in short.text
    ok = browser.post("/account/wachtwoord", data={
        "csrf": csrf_of(page.text), "current": PASSWORD, "password": new, "again": new})
    assert ok.status_code == 200 and "gewijzigd" in ok.text


def test_secret_used_for_the_fixtures_is_a_valid_base32_totp_secret():
    import pyotp

    assert len(pyotp.TOTP(TOTP_SECRET).now()) == 6
