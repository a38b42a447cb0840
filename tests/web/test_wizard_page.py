""""Mag ik dit delen?": the form, its choices per ruleset and purpose, the answer with its reasons,
articles and next steps, and its errors. In process; nothing is stored (there is no database)."""

from __future__ import annotations

import html as htmllib
import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from deelwijs.domain import codes
from deelwijs.rules import loader
from deelwijs.web import wizard

from .conftest import assert_security_headers
from .test_web_pages import assert_clean_html

URL = "/mag-ik-dit-delen"


def form(**fields) -> dict:
    """A filled-in form as the browser posts it (ticked boxes only, defaults ticked)."""
    data = {"_form": "1", "ruleset": "model-convenant", "discloser": "school", "hat": "",
            "recipient": "jeugdhulp", "age": "10", "purpose": "signalering",
            "data": ["gedrag"], "parents": "none", "youth": "none", "task": "both",
            "recipient_domain": "", "written": "1", "prior": "1", "discloser_acceded": "1",
            "discloser_mandate": "1", "recipient_acceded": "1", "recipient_mandate": "1"}
    for name, value in fields.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def text(page: str) -> str:
    return htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def checkboxes(page: str, name: str) -> list[str]:
    return re.findall(rf'type="checkbox" id="[^"]+" name="{name}" value="([^"]+)"', page)


def options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]* name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"', select)


def test_the_form_offers_parties_hats_purposes_and_the_built_in_rulesets(client):
    page = client.get(URL).text
    assert options(page, "discloser") == list(codes.PARTIES)
    assert options(page, "recipient") == list(codes.PARTIES)
    assert options(page, "hat") == ["", *codes.HATS]
    assert options(page, "ruleset") == loader.builtin_ids()
    assert set(options(page, "purpose")) == set(codes.PURPOSES)
    # consent ages from the ruleset
    assert "Onder 12 jaar geven de ouders met gezag toestemming" in text(page)
    assert "vanaf 16 jaar de jongere zelf" in text(page)
    # hats are for wijkteam professionals only, and the form says so
    assert "jeugdhulpaanbieder of de gemeente (college, sociaal domein)" in text(page)
    # the age is asked, never guessed
    assert re.search(r'name="age" value=""', page)


def test_categories_are_offered_per_purpose(client):
    signalering = checkboxes(client.get(URL, params={"purpose": "signalering"}).text, "data")
    oza = checkboxes(client.get(URL, params={"purpose": "oza"}).text, "data")
    verzuim = checkboxes(client.get(URL, params={"purpose": "verzuimmelding"}).text, "data")
    meldcode = checkboxes(client.get(URL, params={"purpose": "meldcode"}).text, "data")
    rs = loader.model()
    needed = rs.purposes["signalering"].categories
    assert signalering == [c for c in codes.CATEGORIES if c in needed]
    assert "hulpverlening" not in signalering and "hulpverlening" in oza
    assert "justitie" not in oza
    assert verzuim == ["identificatie", "onderwijspositie", "verzuim"]
    assert meldcode == list(codes.CATEGORIES)


def test_a_regional_ruleset_brings_its_overleg_names_and_its_narrower_matrix(client):
    page = client.get(URL, params={"ruleset": "voorbeeldregio", "purpose": "een_plan"}).text
    region = loader.resolve("voorbeeldregio")
    assert set(region.overleg_types) <= set(options(page, "purpose"))
    assert "gezondheid" in checkboxes(client.get(URL, params={"purpose": "een_plan"}).text,
                                      "data")
    assert "gezondheid" not in checkboxes(page, "data")  # the region narrowed een_plan
    tom = checkboxes(client.get(URL, params={"ruleset": "voorbeeldregio",
                                             "purpose": "TOM-tafel"}).text, "data")
    assert tom == wizard.offered_categories(region, "oza")
    # an overleg name of another ruleset falls back to the purpose it stands for
    page = client.get(URL, params={"purpose": "TOM-tafel"}).text
    assert re.search(r'<option value="oza" selected>', page)


def test_a_checked_category_the_purpose_does_not_need_stays_visible_and_is_marked(client):
    page = client.get(URL, params=[("_form", "1"), ("purpose", "signalering"),
                                   ("data", "hulpverlening")]).text
    assert "hulpverlening" in checkboxes(page, "data")
    assert "(niet nodig voor dit overleg)" in text(page)


def test_the_answer_says_yes_per_category_with_grounds_articles_and_the_ruleset(client):
    r = client.post(URL, data=form(age="8", data=["gedrag", "leerresultaten"],
                                   parents="given", recipient="jeugdhulp"))
    assert r.status_code == 200
    assert_security_headers(r)
    assert_clean_html(r.text)
    page = text(r.text)
    assert "Ja, dat mag" in page
    assert "Gedrag op school" in page and "Leerresultaten" in page
    assert "Grondslag: toestemming (art. 6 lid 1 sub a AVG)" in page
    assert "AVG" in page  # the articles behind the rules
    rs = loader.model()
    assert f"ruleset model-convenant, versie {rs.version}" in page
    assert rs.digest in page
    assert "Leg de verstrekking vast in het verwerkingenlogboek" in page
    assert "niets opgeslagen" in page


def test_the_answer_says_no_and_whose_consent_would_change_it(client):
    r = client.post(URL, data=form(discloser="jeugdhulp", recipient="school", age="14",
                                   purpose="oza", data=["hulpverlening", "verzuim"],
                                   parents="given", youth="refused"))
    page = text(r.text)
    assert r.status_code == 200
    assert "Nee, dat mag niet" in page
    assert "Reden: beroepsgeheim" in page
    assert "Vraag toestemming aan de ouders met gezag en de jongere" in page
    assert "inhoud van de jeugdhulp en verzuimgegevens" in page
    assert "Bespreek de casus anoniem" in page
    assert "Leg uw afweging vast" not in page  # a weighing would change nothing here


@pytest.mark.parametrize(("age", "who"), [("9", "de ouders met gezag"),
                                          ("13", "de ouders met gezag en de jongere"),
                                          ("17", "de jongere")])
def test_whose_consent_to_ask_follows_the_rulesets_consent_ages(client, age, who):
    page = text(client.post(URL, data=form(age=age, data=["gedrag"])).text)
    assert f"Vraag toestemming aan {who} " in page


def test_a_partial_answer_and_purpose_binding(client):
    page = text(client.post(URL, data=form(purpose="signalering", age="10",
                                           data=["verzuim", "hulpverlening"])).text)
    assert "Gedeeltelijk" in page
    assert "niet nodig voor het doel" in page  # hulpverlening in signalering


def test_the_raad_route_asks_to_record_the_weighing(client):
    page = text(client.post(URL, data=form(discloser="jeugdhulp", recipient="raad",
                                           purpose="raadsonderzoek", age="12",
                                           data=["thuissituatie"])).text)
    assert "Nee" in page and "Leg uw afweging vast" in page
    page = text(client.post(URL, data=form(discloser="jeugdhulp", recipient="raad",
                                           purpose="raadsonderzoek", age="12",
                                           data=["thuissituatie"],
                                           weighing_documented="1")).text)
    assert "Ja, dat mag" in page and "wettelijke bevoegdheid" in page
    assert "Leg uw afweging schriftelijk vast" in page  # the obligation


def test_safety_worries_point_to_the_meldcode_with_a_prefilled_question(client):
    r = client.post(URL, data=form(age="7", data=["veiligheid"]))
    page = text(r.text)
    assert "Gebruik de meldcode" in page
    link = htmllib.unescape(re.search(r'href="(/mag-ik-dit-delen\?[^"]*)"[^>]*>Wat mag ik '
                                      r'melden', r.text).group(1))
    query = dict(parse_qsl(urlsplit(link).query))
    assert query["purpose"] == "meldcode" and query["recipient"] == "veilig_thuis"
    answer = text(client.post(URL, data=form(**{k: v for k, v in parse_qsl(
        urlsplit(link).query)})).text)
    assert "Ja, dat mag" in answer and "meldrecht" in answer.lower()


def test_change_your_answers_gives_back_the_same_form(client):
    posted = form(discloser="gemeente", hat="toeleiding", recipient="jeugdhulp", age="15",
                  purpose="toeleiding", data=["thuissituatie", "gezondheid"],
                  parents="given", youth="given", help_request_domains=["jeugd", "wonen"],
                  vital_interest="1", recipient_mandate=None)
    r = client.post(URL, data=posted)
    edit = htmllib.unescape(re.search(r'href="(/mag-ik-dit-delen\?[^"]*)"[^>]*>Antwoorden '
                                      r'aanpassen', r.text).group(1))
    page = client.get(edit).text
    assert re.search(r'<option value="gemeente" selected>', page)
    assert re.search(r'<option value="toeleiding" selected>', page)
    assert re.search(r'name="age" value="15"', page)
    assert re.search(r'value="gezondheid" checked', page)
    assert re.search(r'id="f-vital_interest" name="vital_interest" value="1" checked', page)
    assert not re.search(r'name="recipient_mandate" value="1" checked', page)
    assert re.search(r'name="discloser_mandate" value="1" checked', page)
    assert re.search(r'name="help_request_domains" value="wonen" checked', page)
    # and posting it again gives the same answer
    again = dict(parse_qsl(urlsplit(edit).query))
    again_lists = parse_qsl(urlsplit(edit).query)
    data = {k: v for k, v in again.items() if k not in ("data", "help_request_domains")}
    data["data"] = [v for k, v in again_lists if k == "data"]
    data["help_request_domains"] = [v for k, v in again_lists if k == "help_request_domains"]
    assert text(client.post(URL, data=data).text) == text(r.text)


def test_the_answer_shows_the_request_for_the_api(client):
    r = client.post(URL, data=form(ruleset="voorbeeldregio", purpose="TOM-tafel", age="11",
                                   data=["gedrag"], parents="given"))
    page = text(r.text)
    assert "TOM-tafel" in page and "Voorbeeldregio" in page
    assert "ruleset voorbeeldregio" in page and "?ruleset=voorbeeldregio" in page
    assert '"purpose": "TOM-tafel"' in page


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"age": ""}, "age", "Vul de leeftijd"),
    ({"age": "abc"}, "age", "Vul de leeftijd"),
    ({"age": "31"}, "age", "0 tot en met 30"),
    ({"data": None}, "data", "Kies ten minste één"),
    ({"hat": "toeleiding"}, "hat", "wijkteamprofessional"),
    ({"discloser": "bakker"}, "discloser", "Kies uit de lijst"),
    ({"purpose": "koffie"}, "purpose", "Kies een overleg"),
    ({"ruleset": "../../etc/passwd"}, "ruleset", "Kies een van de rulesets"),
    ({"parents": "misschien"}, "parents", "Onbekende toestemmingswaarde"),
])
def test_bad_answers_come_back_on_the_form_with_a_dutch_message_at_the_field(client, fields,
                                                                             field, words):
    r = client.post(URL, data=form(**fields))
    assert r.status_code == 422
    assert_security_headers(r)
    assert "Controleer uw antwoorden" in r.text
    assert f'href="#f-{field}"' in r.text
    assert words in text(r.text)
    assert 'aria-invalid="true"' in r.text


def test_the_form_works_without_javascript_through_its_update_button(client):
    page = client.get(URL).text
    # the purpose select refreshes with htmx, and a plain GET button does the same
    assert 'hx-get="/mag-ik-dit-delen"' in page
    assert re.search(r'<button[^>]+formmethod="get"[^>]+formaction="/mag-ik-dit-delen"', page)
    assert re.search(r'<form id="vraag"[^>]+method="post" action="/mag-ik-dit-delen"', page)


def test_the_wizard_answers_through_the_same_engine_as_the_api(client):
    posted = form(discloser="jeugdhulp", hat="hulpverlening", recipient="gemeente", age="16",
                  purpose="toeleiding", data=["hulpverlening", "identificatie"], youth="given")
    page = client.post(URL, data=posted).text
    request = wizard.to_request(wizard.read(_multi(posted), submitted=True))
    api = client.post("/api/v1/decisions", json=request).json()
    for item in api["items"]:
        label = loader.model().categories[item["data"]].label
        verdict = "Ja" if item["outcome"] == "allow" else "Nee"
        assert re.search(rf'dw-badge--{item["outcome"]}">{verdict}</span> {label[:1].upper()}',
                         page), item


def _multi(data: dict):
    from starlette.datastructures import MultiDict

    pairs = []
    for k, v in data.items():
        pairs.extend((k, x) for x in v) if isinstance(v, list) else pairs.append((k, v))
    return MultiDict(pairs)


def test_what_comes_back_from_the_form_is_escaped(client):
    evil = '"><script>alert(1)</script>'
    for fields in ({"parents": evil}, {"age": evil}, {"discloser": evil}):
        r = client.post(URL, data=form(**fields))
        assert r.status_code == 422
        assert "<script>alert(1)" not in r.text
    r = client.get(URL, params={"age": evil, "_form": "1", "purpose": evil})
    assert r.status_code == 200 and "<script>alert(1)" not in r.text
