"""OpenID Connect (web/oidc.py): logging in through a provider, against the small provider of
tests/web/oidc_provider.py (a real HTTP server on 127.0.0.1, started by these tests), and
systems calling the API with its client-credentials access tokens."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.services.helpers import unit_of
from tests.web.db.conftest import csrf_of, totp_now
from tests.web.oidc_provider import (
    API_AUDIENCE,
    CLIENT_ID,
    CLIENT_SECRET,
    SYSTEMS,
    LocalProvider,
    new_key,
)

from deelwijs.services import accounts
from deelwijs.services.errors import Invalid, Refused
from deelwijs.storage import orm
from deelwijs.web import create_app

LINKED = "medewerker-4711"


@pytest.fixture(scope="module")
def provider_server() -> Iterator[LocalProvider]:
    server = LocalProvider()
    yield server
    server.close()


@pytest.fixture
def idp(provider_server) -> LocalProvider:
    provider_server.reset()
    return provider_server


@pytest.fixture
def oidc_web(app, idp):
    """The web app with the local provider as its identity provider."""
    settings = dataclasses.replace(app.settings, oidc_issuer=idp.issuer,
                                   oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET,
                                   oidc_api_audience=API_AUDIENCE,
                                   oidc_mfa_acr=("urn:test:loa:hoog",))
    return create_app(settings=settings, services=app)


@pytest.fixture
def client(oidc_web) -> Iterator[TestClient]:
    with TestClient(oidc_web, base_url="https://testserver", raise_server_exceptions=False,
                    follow_redirects=False) as c:
        yield c


def link(app, personas, key: str, subject: str) -> None:
    with app.transaction() as s:
        admin = s.get(orm.Account, personas.accounts["admin"])
        u = unit_of(app, s, accounts.actor_for(s, admin))
        accounts.link_oidc(u, s.get(orm.Account, personas.accounts[key]), subject)


def events(app, account_id: int | None, name: str | None = None) -> list[orm.AccountEvent]:
    with app.transaction() as s:
        query = select(orm.AccountEvent).where(
            orm.AccountEvent.account_id.is_(None) if account_id is None
            else orm.AccountEvent.account_id == account_id)
        if name is not None:
            query = query.where(orm.AccountEvent.event == name)
        rows = list(s.scalars(query.order_by(orm.AccountEvent.id)))
        s.expunge_all()
        return rows


def to_provider(client: TestClient, terug: str | None = None):
    """Start the login: the app's redirect to the provider's authorization endpoint."""
    started = client.get("/inloggen/oidc" + (f"?terug={terug}" if terug else ""))
    assert started.status_code == 303, started.text
    return started


def back_from_provider(idp: LocalProvider, started) -> str:
    """The browser at the provider: it approves and sends back; the path and query to open
    at Deelwijs."""
    answer = requests.get(started.headers["location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert (back.scheme, back.netloc, back.path) == ("https", "testserver",
                                                     "/inloggen/oidc/terug")
    return f"{back.path}?{back.query}"


def oidc_login(client: TestClient, idp: LocalProvider, terug: str | None = None):
    return client.get(back_from_provider(idp, to_provider(client, terug)))


# --- logging in ------------------------------------------------------------------------------


def test_the_login_page_offers_the_organisations_login_when_a_provider_is_set(client, browser):
    assert 'href="/inloggen/oidc"' in client.get("/inloggen").text
    assert "/inloggen/oidc" not in browser.get("/inloggen").text


def test_the_login_goes_to_the_provider_with_pkce_state_and_nonce(client, idp, personas):
    started = to_provider(client)
    url = urlsplit(started.headers["location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{idp.issuer}/authorize"
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert q["client_id"] == CLIENT_ID and q["response_type"] == "code"
    assert q["redirect_uri"] == "https://testserver/inloggen/oidc/terug"
    assert q["scope"] == "openid profile email"
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert len(q["state"]) >= 32 and len(q["nonce"]) >= 32
    cookie = started.headers["set-cookie"]
    assert cookie.startswith("deelwijs_oidc=")
    assert "HttpOnly" in cookie and "Secure" in cookie and "Path=/inloggen/oidc" in cookie
    # neither the state, the nonce nor the verifier can be read from the cookie
    value = client.cookies.get("deelwijs_oidc")
    assert q["state"] not in value and q["nonce"] not in value


def test_a_linked_person_logs_in_and_lands_where_they_were_going(client, idp, personas, app):
    link(app, personas, "alice", f"{idp.issuer} {LINKED}")
    landed = oidc_login(client, idp, terug="/account")
    assert landed.status_code == 303 and landed.headers["location"] == "/account"
    assert "__Host-deelwijs=" in landed.headers["set-cookie"]
    page = client.get("/account")
    assert page.status_code == 200 and "Alice" in page.text
    login = events(app, personas.accounts["alice"], "login")
    assert [e.detail["method"] for e in login] == ["oidc"]
    # the provider saw the PKCE verifier and the client's secret (the code was exchanged)
    assert [p for p, _ in idp.seen].count("/token") == 1
    me = client.get("/api/v1/me")
    assert me.json()["account"]["username"] == "alice"


def test_the_way_back_works_once(client, idp, personas, app):
    link(app, personas, "alice", f"{idp.issuer} {LINKED}")
    back = back_from_provider(idp, to_provider(client))
    assert client.get(back).status_code == 303
    again = client.get(back)
    assert again.status_code == 400
    assert "verlopen of niet in deze browser begonnen" in again.text


def test_an_unknown_subject_is_refused_and_no_account_is_made(client, idp, personas, app):
    with app.transaction() as s:
        before = s.scalar(select(func.count()).select_from(orm.Account))
    refused = oidc_login(client, idp)
    assert refused.status_code == 403
    assert "nog niet aan een account in Deelwijs gekoppeld" in refused.text
    assert f"{idp.issuer} {LINKED}" in refused.text  # the code to give the administrator
    assert "__Host-deelwijs=" not in refused.headers.get("set-cookie", "")
    assert client.get("/start").status_code == 303  # not logged in
    with app.transaction() as s:
        assert s.scalar(select(func.count()).select_from(orm.Account)) == before
    [event] = [e for e in events(app, None, "oidc_refused")
               if e.detail.get("reason") == "unknown_subject"]
    assert event.detail["subject"] == f"{idp.issuer} {LINKED}"


def test_a_state_that_does_not_match_is_refused(client, idp, personas, app):
    link(app, personas, "alice", f"{idp.issuer} {LINKED}")
    back = back_from_provider(idp, to_provider(client))
    path, _, query = back.partition("?")
    q = {k: v[0] for k, v in parse_qs(query).items()}
    refused = client.get(path, params={"code": q["code"], "state": "een-andere-state"})
    assert refused.status_code == 400 and "de controle op" in refused.text
    assert client.get("/start").status_code == 303
    assert [e.detail["reason"] for e in events(app, None, "oidc_refused")] == ["state"]


def test_a_login_not_started_in_this_browser_is_refused(client, idp, personas, app,
                                                        oidc_web):
    link(app, personas, "alice", f"{idp.issuer} {LINKED}")
    back = back_from_provider(idp, to_provider(client))
    with TestClient(oidc_web, base_url="https://testserver", follow_redirects=False) as other:
        refused = other.get(back)
    assert refused.status_code == 400
    assert "niet in deze browser begonnen" in refused.text


@pytest.mark.parametrize("claims, why", [
    ({"nonce": "een-andere-nonce"}, "a nonce of another login"),
    ({"nonce": None}, "no nonce"),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 3900}, "expired"),
    ({"aud": "een-andere-client", "azp": "een-andere-client"}, "for another client"),
    ({"iss": "https://nep-provider.example"}, "another issuer"),
])
def test_an_id_token_that_does_not_hold_is_refused(client, idp, personas, app, claims, why):
    link(app, personas, "alice", f"{idp.issuer} {LINKED}")
    idp.id_claims = claims
    refused = oidc_login(client, idp)
    assert refused.status_code == 401, why
    assert "kon niet worden gecontroleerd" in refused.text
    assert "__Host-deelwijs=" not in refused.headers.get("set-cookie", "")
    assert [e.detail["reason"] for e in events(app, None, "oidc_refused")] == ["id_token"]
    assert events(app, personas.accounts["alice"], "login") == []


@pytest.mark.parametrize("kid", ["sleutel-1", "onbekende-sleutel"])
def test_an_id_token_signed_with_another_key_is_refused(client, idp, personas, app, kid):
    link(app, personas, "alice", f"{idp.issuer} {LINKED}")
    rogue = new_key(kid)
    idp.sign_key = rogue
    refused = oidc_login(client, idp)
    assert refused.status_code == 401 and "kon niet worden gecontroleerd" in refused.text
    assert events(app, personas.accounts["alice"], "login") == []


def test_the_provider_refusing_is_a_dutch_page(client, idp, personas, app):
    idp.deny = True
    refused = oidc_login(client, idp)
    assert refused.status_code == 401
    assert "niet afgerond (access_denied)" in refused.text
    assert [e.detail["reason"] for e in events(app, None, "oidc_refused")] == [
        "provider_error"]


def test_a_code_the_provider_does_not_exchange_is_a_dutch_page(client, idp, personas, app):
    back = back_from_provider(idp, to_provider(client))
    idp.codes.clear()  # the provider forgot the code (or it was used already)
    refused = client.get(back)
    assert refused.status_code == 502
    assert "wisselde de inlogcode niet in" in refused.text
    assert "Traceback" not in refused.text


def test_a_disabled_or_locked_account_is_refused(client, idp, personas, app):
    link(app, personas, "alice", f"{idp.issuer} {LINKED}")
    with app.transaction() as s:
        s.get(orm.Account, personas.accounts["alice"]).locked_until = (
            accounts.utcnow() + accounts.Policy().lock)
    locked = oidc_login(client, idp)
    assert locked.status_code == 403 and "tijdelijk geblokkeerd" in locked.text
    with app.transaction() as s:
        admin = s.get(orm.Account, personas.accounts["admin"])
        accounts.disable(unit_of(app, s, accounts.actor_for(s, admin)),
                         s.get(orm.Account, personas.accounts["alice"]))
    disabled = oidc_login(client, idp)
    assert disabled.status_code == 403 and "uitgeschakeld" in disabled.text
    assert [e.detail["reason"] for e in events(
        app, personas.accounts["alice"], "oidc_refused")] == ["locked", "disabled"]


def test_an_fg_gives_the_totp_code_after_a_login_without_mfa(client, idp, personas, app):
    link(app, personas, "fg", f"{idp.issuer} {LINKED}")
    halfway = oidc_login(client, idp, terug="/account")
    assert halfway.status_code == 303
    assert halfway.headers["location"] == "/inloggen/tweede-factor?terug=%2Faccount"
    assert client.get("/start").headers["location"] == "/inloggen/tweede-factor"
    form = client.get("/inloggen/tweede-factor")
    done = client.post("/inloggen/tweede-factor", data={"csrf": csrf_of(form.text),
                                                         "code": totp_now(),
                                                         "terug": "/account"})
    assert done.status_code == 303 and done.headers["location"] == "/account"
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize("claims", [{"amr": ["pwd", "mfa"]}, {"amr": ["otp"]},
                                    {"acr": "urn:test:loa:hoog"}])
def test_the_providers_second_factor_counts(client, idp, personas, app, claims):
    link(app, personas, "fg", f"{idp.issuer} {LINKED}")
    idp.id_claims = claims
    landed = oidc_login(client, idp)
    assert landed.status_code == 303 and landed.headers["location"] == "/start"
    assert client.get("/start").status_code == 200
    [login] = events(app, personas.accounts["fg"], "login")
    assert login.detail["method"] == "oidc+mfa"


def test_an_acr_not_configured_does_not_count(client, idp, personas, app):
    link(app, personas, "fg", f"{idp.issuer} {LINKED}")
    idp.id_claims = {"acr": "urn:test:loa:laag"}
    assert oidc_login(client, idp).headers["location"] == "/inloggen/tweede-factor"


def test_without_a_provider_the_oidc_pages_say_so(browser, personas):
    for path in ("/inloggen/oidc", "/inloggen/oidc/terug?code=x&state=y"):
        page = browser.get(path)
        assert page.status_code == 404 and "niet ingesteld" in page.text


def test_an_unreachable_provider_is_a_dutch_page(app, personas):
    settings = dataclasses.replace(app.settings, oidc_issuer="http://127.0.0.1:9",
                                   oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET)
    with TestClient(create_app(settings=settings, services=app), base_url="https://testserver",
                    raise_server_exceptions=False, follow_redirects=False) as c:
        page = c.get("/inloggen/oidc")
    assert page.status_code == 502 and "niet bereikbaar" in page.text


# --- systems: client credentials on the API --------------------------------------------------


def system_token(idp: LocalProvider, client_id: str = "schoolsysteem") -> str:
    answer = requests.post(f"{idp.issuer}/token", data={"grant_type": "client_credentials"},
                           auth=(client_id, SYSTEMS[client_id]), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def api_me(client: TestClient, token: str):
    return client.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})


def test_a_linked_systems_access_token_acts_as_its_account(client, idp, personas, app):
    link(app, personas, "alice", f"{idp.issuer} client:schoolsysteem")
    me = api_me(client, system_token(idp))
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["account"]["username"] == "alice" and body["by_token"] is True
    assert body["actor"]["organisation_id"] == personas.orgs["school"]


def test_an_unlinked_systems_access_token_is_refused(client, idp, personas, app):
    link(app, personas, "alice", f"{idp.issuer} client:schoolsysteem")
    me = api_me(client, system_token(idp, "ander-systeem"))
    assert me.status_code == 401
    assert me.headers["content-type"] == "application/problem+json"
    assert me.json()["code"] == "unauthenticated"


def bad_access_token(idp: LocalProvider, app, personas, change: str) -> str:
    now = int(time.time())
    system = "schoolsysteem"
    if change == "forged":
        idp.sign_key = new_key()
        return idp.access_token(system, system)
    if change == "expired":
        return idp.access_token(system, system, exp=now - 3600, iat=now - 3900)
    if change == "audience":
        return idp.access_token(system, system, aud="een-andere-api")
    if change == "issuer":
        return idp.access_token(system, system, iss="https://nep-provider.example")
    if change == "id_token":  # an ID token is no access token, whatever its audience
        idp.user["sub"] = system
        return idp.id_token(API_AUDIENCE, "een-nonce")
    if change == "own_client":  # Deelwijs's own client is no system, even when linked
        link(app, personas, "bob", f"{idp.issuer} client:{CLIENT_ID}")
        return idp.access_token(CLIENT_ID, "x")
    if change == "disabled":
        with app.transaction() as s:
            admin = s.get(orm.Account, personas.accounts["admin"])
            accounts.disable(unit_of(app, s, accounts.actor_for(s, admin)),
                             s.get(orm.Account, personas.accounts["alice"]))
        return system_token(idp)
    assert change == "garbage"
    return "een.geen-jwt.token"


@pytest.mark.parametrize("change", ["forged", "expired", "audience", "issuer", "id_token",
                                    "own_client", "disabled", "garbage"])
def test_an_access_token_that_does_not_hold_is_refused(client, idp, personas, app, change):
    link(app, personas, "alice", f"{idp.issuer} client:schoolsysteem")
    me = api_me(client, bad_access_token(idp, app, personas, change))
    assert me.status_code == 401, change
    assert me.json()["code"] == "unauthenticated"


def test_personal_access_tokens_still_work_beside_oidc(client, idp, personas, app):
    with app.transaction() as s:
        account = s.get(orm.Account, personas.accounts["carol"])
        token, _ = accounts.new_token(unit_of(app, s, accounts.actor_for(s, account)),
                                      account, "cli")
    assert api_me(client, token).json()["account"]["username"] == "carol"
    assert api_me(client, "dw_onbekend").status_code == 401


# --- linking (services/accounts.link_oidc) ----------------------------------------------------


def test_an_administrator_links_and_unlinks_and_the_events_say_so(app, personas, idp):
    subject = f"{idp.issuer} {LINKED}"
    link(app, personas, "alice", subject)
    link(app, personas, "alice", subject)  # again: nothing changes
    with app.transaction() as s:
        assert s.get(orm.Account, personas.accounts["alice"]).oidc_subject == subject
    link(app, personas, "alice", "")
    with app.transaction() as s:
        assert s.get(orm.Account, personas.accounts["alice"]).oidc_subject is None
    assert [e.event for e in events(app, personas.accounts["alice"])
            if e.event.startswith("oidc")] == ["oidc_linked", "oidc_unlinked"]


@pytest.mark.parametrize("subject", ["zonder-issuer", "https://idp.example", "ftp://x y",
                                     "https://idp.example a\nb", "https://x " + "a" * 400])
def test_a_malformed_subject_is_refused(app, personas, subject):
    with pytest.raises(Invalid) as caught:
        link(app, personas, "alice", subject)
    assert caught.value.code == "invalid_oidc_subject" and caught.value.field == "subject"


def test_one_subject_links_one_account(app, personas, idp):
    link(app, personas, "alice", f"{idp.issuer} {LINKED}")
    with pytest.raises(Invalid) as caught:
        link(app, personas, "bob", f"{idp.issuer} {LINKED}")
    assert caught.value.code == "duplicate"


def test_only_an_administrator_links(app, personas, idp):
    with app.transaction() as s, pytest.raises(Refused):
        alice = s.get(orm.Account, personas.accounts["alice"])
        accounts.link_oidc(unit_of(app, s, accounts.actor_for(s, alice)), alice,
                           f"{idp.issuer} {LINKED}")


# --- the settings ------------------------------------------------------------------------------


def test_the_oidc_settings_come_from_the_environment(monkeypatch, tmp_path):
    from deelwijs.settings import load

    secret = tmp_path / "oidc-secret"
    secret.write_text("uit-een-bestand\n", encoding="utf-8")
    monkeypatch.setenv("DEELWIJS_WITNESS_FILE", "uit")
    monkeypatch.setenv("DEELWIJS_OIDC_ISSUER", " https://login.regio.example/realms/dw ")
    monkeypatch.setenv("DEELWIJS_OIDC_CLIENT_ID", "deelwijs")
    monkeypatch.setenv("DEELWIJS_OIDC_CLIENT_SECRET_FILE", str(secret))
    monkeypatch.setenv("DEELWIJS_OIDC_MFA_ACR", "urn:loa:substantieel, urn:loa:hoog,")
    monkeypatch.setenv("DEELWIJS_OIDC_API_AUDIENCE", "deelwijs-api")
    monkeypatch.setenv("DEELWIJS_PUBLIC_URL", "https://deelwijs.regio.example/")
    loaded = load()
    assert loaded.oidc_issuer == "https://login.regio.example/realms/dw"
    assert (loaded.oidc_client_id, loaded.oidc_client_secret) == ("deelwijs", "uit-een-bestand")
    assert loaded.oidc_mfa_acr == ("urn:loa:substantieel", "urn:loa:hoog")
    assert loaded.oidc_api_audience == "deelwijs-api"
    assert loaded.public_url == "https://deelwijs.regio.example"
    for name in ("DEELWIJS_OIDC_MFA_ACR", "DEELWIJS_OIDC_API_AUDIENCE"):
        monkeypatch.delenv(name)
    assert (load().oidc_mfa_acr, load().oidc_api_audience) == ((), None)


def test_behind_a_proxy_the_redirect_address_is_the_public_one(app, idp):
    settings = dataclasses.replace(app.settings, oidc_issuer=idp.issuer,
                                   oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET,
                                   public_url="https://deelwijs.regio.example")
    with TestClient(create_app(settings=settings, services=app), base_url="https://intern:8000",
                    follow_redirects=False) as c:
        started = c.get("/inloggen/oidc")
    q = parse_qs(urlsplit(started.headers["location"]).query)
    assert q["redirect_uri"] == ["https://deelwijs.regio.example/inloggen/oidc/terug"]
