"""/casussen and /casussen/{id}: a professional's cases (web/pages/cases.py)."""

from __future__ import annotations

from sqlalchemy import func, select
from tests.web.db.conftest import log_in
from tests.web.db.scene import *  # noqa: F403 (the scene fixture)

from deelwijs.storage import orm


def reads(app, handeling: str) -> int:
    """Entries in the processing log of this kind of read (the body keeps it as text)."""
    with app.transaction() as s:
        rows = s.scalars(select(orm.LogEntry)).all()
        from deelwijs.services.log import audit
        return sum(1 for r in rows if (audit.body_of(r) or {}).get("handelingNaam") == handeling)


def test_a_professional_sees_the_cases_of_her_organisation_only(browser, personas, scene, app):
    log_in(browser, "alice")
    page = browser.get("/casussen")
    assert page.status_code == 200
    assert "Zorgen over aanwezigheid van Sem" in page.text
    assert f'href="/casussen/{scene.sem_case}"' in page.text
    assert "Casus van het wijkteam" not in page.text
    assert f'href="/casussen/{scene.bob_case}"' not in page.text
    assert reads(app, "Raadplegen lijst casussen") == 1  # the case about Sem shown


def test_the_wijkteam_sees_its_own_case_and_not_the_schools(browser, personas, scene):
    log_in(browser, "bob")
    page = browser.get("/casussen").text
    assert "Casus van het wijkteam" in page and "Zorgen over aanwezigheid van Sem" not in page


def test_a_professional_of_no_case_sees_that_there_is_none(browser, personas, scene):
    log_in(browser, "sport")
    page = browser.get("/casussen")
    assert page.status_code == 200 and 'id="geen-casussen"' in page.text
    assert "Zorgen over" not in page.text


def test_the_case_page_shows_participants_meetings_and_disclosures_and_logs_the_read(
        browser, personas, scene, app):
    log_in(browser, "carol")
    page = browser.get(f"/casussen/{scene.sem_case}")
    assert page.status_code == 200
    text = page.text
    assert "<h1 class=\"utrecht-heading-1\">Zorgen over aanwezigheid van Sem</h1>" in text
    for org in ("Stichting Onderwijs De Linde", "Leerplicht Voorbeeldstad",
                "Samenwerkingsverband Passend Onderwijs Voorbeeldregio"):
        assert org in text
    assert "Overleg op 2023-09-01" in text and "Verzuim" in text
    assert "2023-10-02" in text and "verzuim: ja" in text
    assert reads(app, "Inzien casus") == 1


def test_an_unknown_or_malformed_case_id_is_the_dutch_404_page(browser, personas, scene):
    log_in(browser, "alice")
    for path in ("/casussen/999999", "/casussen/abc", "/casussen/-1",
                 "/casussen/1234567890123456789"):
        page = browser.get(path)
        assert page.status_code == 404, path
        assert "Niet gevonden" in page.text and "onbekende casus" in page.text
        assert "Traceback" not in page.text


def test_another_organisations_case_shows_nothing_of_it(browser, personas, scene):
    """The status is the matrix's (404 once h-access lands; test_matrix_pages.py); whatever
    it is, the page shows nothing of the case."""
    log_in(browser, "alice")
    page = browser.get(f"/casussen/{scene.bob_case}")
    assert page.status_code in (404, 422)
    assert "Casus van het wijkteam" not in page.text


def test_the_case_pages_are_not_for_other_kinds_of_account(browser, personas, scene):
    log_in(browser, "ouder")
    for path in ("/casussen", f"/casussen/{scene.sem_case}"):
        page = browser.get(path)
        assert page.status_code == 403 and "niet voor uw soort account" in page.text
        assert "Zorgen over" not in page.text


def test_reading_the_case_list_writes_one_read_per_case_shown(browser, personas, scene, app):
    log_in(browser, "alice")
    with app.transaction() as s:
        before = s.scalar(select(func.count()).select_from(orm.LogEntry))
    browser.get("/casussen")
    with app.transaction() as s:
        assert s.scalar(select(func.count()).select_from(orm.LogEntry)) == before + 1
