"""/fg/log, /fg/register and /fg/datalekken: the privacy officer's pages (web/pages/fg.py),
and the use cases behind the log and the register (services/log/oversight.py,
services/covenant/processing_register.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from tests.services.helpers import unit_of
from tests.web.db.conftest import log_in
from tests.web.db.scene import *  # noqa: F403 (the scene fixture)

from deelwijs.services.context import Actor
from deelwijs.services.covenant import processing_register
from deelwijs.services.errors import Invalid, NotFound, Refused
from deelwijs.services.log import oversight
from deelwijs.storage import orm


def fg_in(browser) -> None:
    assert log_in(browser, "fg", totp=True).headers["location"] == "/start"


def test_the_log_page_shows_the_regions_entries_newest_first_and_that_the_log_is_sound(
        browser, personas, scene):
    fg_in(browser)
    page = browser.get("/fg/log")
    assert page.status_code == 200
    assert "Verwerkingslog van Testregio" in page.text
    assert "In orde: niets gewijzigd" in page.text
    body = page.text[page.text.index('id="logregels"'):]
    assert body.index("Registreren datalek") < body.index("Registreren jongere en ouders")
    # the log holds no case content and the page shows none
    assert "Zorgen over aanwezigheid" not in page.text and "12 uur" not in page.text


def test_a_tampered_log_is_reported_on_the_log_page(browser, personas, scene, tamper, app,
                                                    world):
    with app.transaction() as s:
        seq = s.scalar(text("SELECT max(seq) FROM log_entry WHERE region_id = :r"),
                       {"r": world.region_id})
    later = ("registered_at + interval '1 hour'" if app.engine.dialect.name == "postgresql"
             else "datetime(registered_at, '+1 hour')")
    tamper(f"UPDATE log_entry SET registered_at = {later} WHERE seq = {seq} "
           f"AND region_id = {world.region_id}")
    fg_in(browser)
    page = browser.get("/fg/log")
    assert page.status_code == 200
    assert "Niet in orde" in page.text and "In orde: niets" not in page.text


def test_the_log_pages_through_the_entries(browser, personas, scene, app, world):
    with app.transaction() as s:
        u = unit_of(app, s)
        u.actor = Actor("fg", region_id=world.region_id)
        first = oversight.log_page(u, page=1, per_page=2)
        second = oversight.log_page(u, page=2, per_page=2)
        total = first["total"]
    assert total >= 4 and first["pages"] == -(-total // 2)
    assert [e["seq"] for e in first["entries"]] == [total - 1, total - 2]
    assert [e["seq"] for e in second["entries"]] == [total - 3, total - 4]
    fg_in(browser)
    far = browser.get("/fg/log?pagina=999")
    assert far.status_code == 200 and 'id="geen-regels"' in far.text
    assert "Deze pagina bestaat niet" in far.text
    for odd in ("abc", "0", "-3", ""):  # anything but a page number: the first page
        page = browser.get(f"/fg/log?pagina={odd}")
        assert page.status_code == 200 and 'id="logregels"' in page.text, odd


def test_the_register_page_shows_the_regions_activities(browser, personas, scene):
    fg_in(browser)
    page = browser.get("/fg/register")
    assert page.status_code == 200
    assert "Register van verwerkingen" in page.text and "art. 30 AVG" in page.text
    assert page.text.count("<details") >= 5
    assert "Verwerkingsverantwoordelijke" in page.text


def test_the_breaches_page_shows_the_regions_breaches(browser, personas, scene):
    fg_in(browser)
    page = browser.get("/fg/datalekken")
    assert page.status_code == 200
    assert "Stichting Onderwijs De Linde" in page.text and "hoog" in page.text.lower()
    assert "te laat" in page.text  # discovered in 2023, never reported to the AP


def test_no_breach_is_said_plainly(browser, personas):
    fg_in(browser)
    page = browser.get("/fg/datalekken")
    assert page.status_code == 200 and 'id="geen-datalekken"' in page.text


@pytest.mark.parametrize("who", ["alice", "admin", "ouder", "jongere"])
def test_the_fg_pages_are_for_the_fg(browser, personas, scene, who):
    log_in(browser, who, totp=who == "admin")
    for path in ("/fg/log", "/fg/register", "/fg/datalekken"):
        page = browser.get(path)
        assert page.status_code == 403 and "Niet toegestaan" in page.text, (who, path)


# --- the use cases (services/log/oversight.py) ------------------------------------------------


def _unit(app, s, actor: Actor):
    u = unit_of(app, s, today=dt.date.today())
    u.actor = actor
    return u


@pytest.mark.parametrize("use_case", [oversight.log_page, oversight.verify_log,
                                      processing_register.register_of])
def test_the_use_cases_refuse_a_professional_a_parent_and_a_youth(app, world, personas,
                                                                  use_case):
    with app.transaction() as s:
        pro = s.get(orm.Professional, world.pros["alice"])
        for actor in (Actor.of(pro, world.region_id),
                      Actor("parent", region_id=world.region_id, account_id=1),
                      Actor("youth", region_id=world.region_id, account_id=1)):
            with pytest.raises(Refused) as refused:
                use_case(_unit(app, s, actor))
            assert refused.value.code == "fg_or_admin_only"


def test_an_fg_reads_only_her_own_region(app, world, personas, scene):
    with app.transaction() as s:
        u = _unit(app, s, Actor("fg", region_id=world.region_id))
        with pytest.raises(Refused) as other:
            oversight.log_page(u, region_id=scene.other_region)
        assert other.value.code == "other_region"
        with pytest.raises(NotFound):
            oversight.log_page(_unit(app, s, Actor.admin()), region_id=424242)
        with pytest.raises(Invalid) as nameless:
            oversight.log_page(_unit(app, s, Actor.admin()))
        assert nameless.value.field == "region"
        assert oversight.log_page(_unit(app, s, Actor("admin", region_id=world.region_id))
                                  )["total"] >= 1


def test_a_page_number_and_size_out_of_range_are_refused(app, world):
    with app.transaction() as s:
        u = _unit(app, s, Actor("fg", region_id=world.region_id))
        for page, per_page, field in ((0, 50, "page"), (True, 50, "page"), (1, 0, "per_page"),
                                      (1, oversight.PER_PAGE_MAX + 1, "per_page")):
            with pytest.raises(Invalid) as bad:
                oversight.log_page(u, page=page, per_page=per_page)
            assert bad.value.field == field


def test_the_log_names_the_organisation_that_processed(browser, personas, scene):
    fg_in(browser)
    page = browser.get("/fg/log").text
    rows = page[page.index('id="logregels"'):]
    assert "Stichting Onderwijs De Linde" in rows and "deelwijs:org:" not in rows
