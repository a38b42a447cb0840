"""The demo region's personas (services/demo.py): one account per role, linked to the demo's
data, each of which logs in through the web app with the password `deelwijs start` prints
(the FG and the administrator with the code of `deelwijs demo code`); and that code is given
for the demo accounts only."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.services.helpers import TODAY, row_counts
from tests.web.db.conftest import csrf_of, log_in

from deelwijs.domain.consent import age_on
from deelwijs.services import demo
from deelwijs.services.casus import youths
from deelwijs.services.errors import Refused
from deelwijs.storage import orm


@pytest.fixture
def demo_app(app):
    """The services' App holding a small demo region (30 youths, 2 organisations a party)."""
    assert demo.build(app, TODAY, youths_n=30, per_type=2)["created"] is True
    return app


def _account(s, username: str) -> orm.Account:
    return s.scalars(select(orm.Account).where(orm.Account.username == username)).one()


def test_the_demo_has_one_account_per_role_linked_to_its_data(demo_app):
    app = demo_app
    with app.transaction() as s:
        region = s.scalars(select(orm.Region).where(orm.Region.code == demo.REGION)).one()
        made = {p.username: _account(s, p.username) for p in demo.PERSONAS}
        assert {u: a.kind for u, a in made.items()} == {
            "ib": "professional", "leerplicht": "professional", "wijkteam": "professional",
            "fg": "fg", "beheer": "admin", "ouder": "parent", "jongere": "youth"}
        assert {a.region_id for a in made.values() if a.region_id} == {region.id}
        pros = {u: s.get(orm.Professional, made[u].professional_id)
                for u in ("ib", "leerplicht", "wijkteam")}
        orgs = {u: s.get(orm.Organisation, p.organisation_id) for u, p in pros.items()}
        assert (pros["ib"].function, orgs["ib"].party) == ("intern begeleider", "school")
        assert (pros["leerplicht"].function, orgs["leerplicht"].party) == (
            "leerplichtambtenaar", "leerplicht")
        assert (pros["wijkteam"].function, orgs["wijkteam"].party) == ("wijkteamer",
                                                                      "jeugdhulp")
        assert pros["wijkteam"].hats == ["toeleiding", "hulpverlening"]
        # the parent has gezag over a youth under 16 ...
        link = s.scalars(select(orm.AccountSubject).where(
            orm.AccountSubject.account_id == made["ouder"].id)).one()
        guardian = s.get(orm.Guardian, link.guardian_id)
        child = s.get(orm.Youth, link.youth_id)
        assert guardian.has_gezag and guardian.youth_id == child.id
        assert age_on(youths.birth_of(app.keys, child), TODAY) < 16
        # ... whose case the three professionals' organisations take part in
        case = s.scalars(select(orm.Case).where(orm.Case.youth_id == child.id)).first()
        taking_part = set(s.scalars(select(orm.CaseParticipant.organisation_id).where(
            orm.CaseParticipant.case_id == case.id)))
        assert {o.id for o in orgs.values()} <= taking_part
        # the youth's own account: a youth of 16 or older, who decides alone
        own = s.scalars(select(orm.AccountSubject).where(
            orm.AccountSubject.account_id == made["jongere"].id)).one()
        assert own.guardian_id is None
        assert age_on(youths.birth_of(app.keys, s.get(orm.Youth, own.youth_id)), TODAY) >= 16
        # the FG and the administrator have the public demo secret, confirmed
        for username in ("fg", "beheer"):
            account = made[username]
            assert account.totp_confirmed_at is not None
            assert app.keys.unseal(account.totp_sealed) == demo.totp_secret_of(username)
        assert all(a.totp_sealed is None for u, a in made.items() if u not in ("fg", "beheer"))


def test_a_second_build_makes_no_second_set_of_accounts(demo_app):
    counts = row_counts(demo_app.engine)
    assert demo.build(demo_app, TODAY, youths_n=30, per_type=2) == {"created": False}
    assert row_counts(demo_app.engine) == counts
    with demo_app.transaction() as s:
        assert s.scalar(select(func.count()).select_from(orm.Account)) == len(demo.PERSONAS)


def test_personas_lists_each_with_its_public_password_and_who_it_is(demo_app):
    shown = demo.personas(demo_app)
    assert [p["username"] for p in shown] == [p.username for p in demo.PERSONAS]
    assert {p["username"]: p["password"] for p in shown} == {
        p.username: f"demo-wachtwoord-{p.username}" for p in demo.PERSONAS}
    assert {p["username"] for p in shown if p["second_factor"]} == {"fg", "beheer"}
    by_name = {p["username"]: p["name"] for p in shown}
    assert "intern begeleider bij Stichting Onderwijs" in by_name["ib"]
    assert "(petten: toeleiding, hulpverlening)" in by_name["wijkteam"]
    assert by_name["fg"] == "F. de Voorbeeld, privacyfunctionaris (FG) van de demoregio"


def test_personas_is_empty_without_a_demo_region(app):
    assert demo.personas(app) == []


@pytest.mark.parametrize("persona", demo.PERSONAS, ids=lambda p: p.username)
def test_every_persona_logs_in_through_the_web_app(demo_app, web, persona):
    """As a newcomer does after `python3 dev.py start`: the printed name and password, and
    for the FG and the administrator the code of `python3 dev.py code NAME`."""
    shown = {p["username"]: p for p in demo.personas(demo_app)}[persona.username]
    with TestClient(web, base_url="https://testserver", raise_server_exceptions=False,
                    follow_redirects=False) as browser:
        response = log_in(browser, shown["username"], shown["password"])
        assert response.status_code == 303, response.text
        if persona.second_factor:
            assert response.headers["location"] == "/inloggen/tweede-factor"
            form = browser.get("/inloggen/tweede-factor")
            code, _ = demo.code(demo_app, persona.username)
            response = browser.post("/inloggen/tweede-factor",
                                    data={"csrf": csrf_of(form.text), "code": code})
            assert response.status_code == 303, response.text
        assert response.headers["location"] == "/start"
        page = browser.get("/start")
        assert page.status_code == 200
        assert shown["name"].split(",")[0] in page.text  # "Welkom, <display name>"
        me = browser.get("/api/v1/me")
        assert me.status_code == 200
        assert me.json()["account"]["username"] == persona.username


def test_the_code_is_the_current_totp_code_of_the_demo_secret(demo_app):
    now = dt.datetime(2026, 3, 2, 9, 0, 10)
    code, left = demo.code(demo_app, "FG ", now)
    assert code == pyotp.TOTP(demo.totp_secret_of("fg")).at(now.replace(tzinfo=dt.UTC))
    assert left == 20


@pytest.mark.parametrize(("username", "says"), [
    ("piet", "'piet' is geen demo-account; een code geeft dit alleen voor fg en beheer"),
    ("ib", "ib logt in zonder code; alleen fg en beheer hebben een tweede stap"),
    ("", "'' is geen demo-account"),
])
def test_the_code_is_refused_for_a_name_that_is_no_demo_account_with_a_code(demo_app,
                                                                           username, says):
    with pytest.raises(Refused) as refused:
        demo.code(demo_app, username)
    assert (refused.value.code, refused.value.field) == ("not_demo", "username")
    assert refused.value.message.startswith(says)


def test_the_code_is_refused_for_an_fg_outside_the_demo_region(app, personas):
    """The persona fixture's `fg` (of the test region, with a secret of its own): a real
    account's code is never shown."""
    with pytest.raises(Refused) as refused:
        demo.code(app, "fg")
    assert refused.value.code == "not_demo"


def test_the_code_is_refused_once_the_demo_fg_set_up_a_secret_of_its_own(demo_app):
    with demo_app.transaction() as s:
        _account(s, "fg").totp_sealed = demo_app.keys.seal(pyotp.random_base32())
    with pytest.raises(Refused) as refused:
        demo.code(demo_app, "fg")
    assert refused.value.code == "not_demo"
    assert "geen demo-account met de openbare democode" in refused.value.message
