"""/mijn-gegevens: a parent's or youth's "who received what" (web/pages/parent.py), from the
inzage use case (services/rights/requests.py). Sem is 12 in 2026 (born 2014-06-15): he may
ask himself, and his mother with gezag may ask for him (model covenant ages: 12 and 16)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.services.helpers import unit_of
from tests.web.db.conftest import log_in
from tests.web.db.scene import *  # noqa: F403 (the scene fixture)

from deelwijs.services import accounts
from deelwijs.storage import orm


def inzage_requests(app, youth_id: int) -> list[orm.RightsRequest]:
    with app.transaction() as s:
        rows = s.scalars(select(orm.RightsRequest).where(
            orm.RightsRequest.youth_id == youth_id, orm.RightsRequest.kind == "inzage")).all()
        for r in rows:
            s.expunge(r)
        return list(rows)


def test_a_parent_with_gezag_sees_who_received_what_about_her_child(browser, personas, scene,
                                                                    app, builder):
    log_in(browser, "ouder")
    page = browser.get("/mijn-gegevens")
    assert page.status_code == 200
    text = page.text
    assert "Wie kreeg wat over Sem de Vries?" in text
    assert "van Stichting Onderwijs De Linde aan Leerplicht Voorbeeldstad" in text
    assert "verzuimgegevens" in text and "Uw rechten" in text
    assert "Fatima de Vries (moeder, met gezag)" in text
    # the inzage is recorded as a request of the mother, and logged
    (request,) = inzage_requests(app, personas.youths["sem"])
    assert request.requester == "parent"
    assert request.guardian_id == builder.guardians(personas.youths["sem"])[0]
    # the same page at the child's own address
    again = browser.get(f"/mijn-gegevens/{personas.youths['sem']}")
    assert again.status_code == 200 and "Sem de Vries" in again.text
    assert 'href="/mijn-gegevens"' in again.text


def test_a_youth_sees_what_was_shared_about_himself(browser, personas, scene, app):
    log_in(browser, "jongere")
    page = browser.get("/mijn-gegevens")
    assert page.status_code == 200
    assert "Wie kreeg wat over u?" in page.text and "gevraagd door de jongere zelf" in page.text
    (request,) = inzage_requests(app, personas.youths["sem"])
    assert request.requester == "youth" and request.guardian_id is None


def test_another_parents_child_is_unknown(browser, personas, scene, app):
    log_in(browser, "ouder")
    page = browser.get(f"/mijn-gegevens/{personas.youths['lina']}")
    assert page.status_code == 404
    assert "Niet gevonden" in page.text and "onbekende jongere" in page.text
    assert "Lina" not in page.text and "Yilmaz" not in page.text
    assert inzage_requests(app, personas.youths["lina"]) == []  # nothing recorded


def test_the_other_parent_sees_her_own_child_and_not_sem(browser, personas, scene):
    log_in(browser, personas.usernames["ouder_ander"])
    own = browser.get("/mijn-gegevens")
    assert own.status_code == 200 and "Lina Yilmaz" in own.text
    assert "Er zijn geen gegevens gedeeld." in own.text
    sem = browser.get(f"/mijn-gegevens/{personas.youths['sem']}")
    assert sem.status_code == 404 and "Sem" not in sem.text


def test_a_parent_without_gezag_is_refused_and_sees_nothing(browser, personas, scene, app):
    """The use case refuses (403 `no_gezag`, its message says why); the brief for this page
    said 404, the service layer (and h-access's require_subject) answers 403: the lead
    decides. Either way nothing of the child is shown and nothing is recorded."""
    log_in(browser, "ouder2")
    for path in ("/mijn-gegevens", f"/mijn-gegevens/{personas.youths['sem']}"):
        page = browser.get(path)
        assert page.status_code == 403, path
        assert "geen gezag" in page.text and "Sem" not in page.text
    assert inzage_requests(app, personas.youths["sem"]) == []


def test_a_parent_of_two_children_chooses_one(browser, personas, scene, app, builder):
    noor = builder.youth(name="Noor de Vries", guardians=(
        {"name": "Fatima de Vries", "relation": "moeder", "gezag": True},))
    with app.transaction() as s:
        account = s.get(orm.Account, personas.accounts["ouder"])
        accounts.link_subject(unit_of(app, s), account, builder.guardians(noor)[0])
    log_in(browser, "ouder")
    page = browser.get("/mijn-gegevens")
    assert page.status_code == 200 and 'id="kinderen"' in page.text
    assert f'href="/mijn-gegevens/{personas.youths["sem"]}"' in page.text
    assert f'href="/mijn-gegevens/{noor}"' in page.text
    assert "Sem de Vries" not in page.text  # choosing is no inzage yet
    assert inzage_requests(app, personas.youths["sem"]) == []
    assert "Noor de Vries" in browser.get(f"/mijn-gegevens/{noor}").text


def test_an_account_without_a_child_is_told_so(browser, personas, app):
    with app.transaction() as s:
        s.query(orm.AccountSubject).filter_by(account_id=personas.accounts["ouder"]).delete()
    log_in(browser, "ouder")
    page = browser.get("/mijn-gegevens")
    assert page.status_code == 200 and 'id="geen-kinderen"' in page.text


@pytest.mark.parametrize("path", ["/mijn-gegevens/abc", "/mijn-gegevens/999999"])
def test_a_malformed_or_unknown_child_is_unknown(browser, personas, path):
    log_in(browser, "ouder")
    page = browser.get(path)
    assert page.status_code == 404 and "onbekende jongere" in page.text


@pytest.mark.parametrize("who", ["alice", "fg", "admin"])
def test_mijn_gegevens_is_for_parents_and_youths(browser, personas, scene, who):
    log_in(browser, who, totp=who in ("fg", "admin"))
    for path in ("/mijn-gegevens", f"/mijn-gegevens/{personas.youths['sem']}"):
        page = browser.get(path)
        assert page.status_code == 403 and "Sem" not in page.text, (who, path)


def test_the_inzage_is_logged_in_the_parents_account_not_as_the_operator(browser, personas,
                                                                         scene, app):
    from deelwijs.services.log import audit

    with app.transaction() as s:
        before = s.scalar(select(orm.LogEntry.seq).order_by(orm.LogEntry.seq.desc()).limit(1))
    log_in(browser, "ouder")
    assert browser.get("/mijn-gegevens").status_code == 200
    with app.transaction() as s:
        rows = s.scalars(select(orm.LogEntry).where(orm.LogEntry.seq > before)).all()
        users = {audit.body_of(r)["gebruiker"] for r in rows}
    assert users == {f"account:{personas.accounts['ouder']}"}
