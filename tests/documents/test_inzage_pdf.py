"""The inzage PDF a parent reads (AVG art. 15 copy, services/inzage_pdf.py): every name prints
exactly whatever its script (read back from the PDF's text and compared character for
character), the controller and its FG are named, the parent's pages hold no codes, English
or log jargon (those go to the annex), and a young child's own "consent" is never shown.
On SQLite, or PostgreSQL with DEELWIJS_TEST_DATABASE_URL."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid

import pytest
from pypdf import PdfReader
from tests.services.helpers import TODAY, unit_of, valid_bsn

from deelwijs.documents import inzage_pdf
from deelwijs.services.covenant import registry
from deelwijs.services.rights import requests as rights
from deelwijs.storage import orm

# names in Turkish, Polish, Dutch with a diaeresis, Arabic and Chinese script, and one with
# a combining mark (decomposed, as some systems store it)
YOUTH_NAME = "Gülşen Yıldız"
GUARDIANS = ({"name": "Łukasz Wąsik", "relation": "vader", "gezag": True},
             {"name": "محمد الأحمد", "relation": "voogd", "gezag": True},
             {"name": "王小明", "relation": "ouder", "gezag": True})
NAMES = (YOUTH_NAME, "Łukasz Wąsik", "Zoë", "محمد الأحمد", "王小明", "Nguyễn Thị Ánh",
         "Zoe\u0308 Ijsselstein")
CONTROLLER = {"controller_name": "Gemeente Voorbeeldstad",
              "controller_address": "Postbus 1234\n0000 AB Voorbeeldstad",
              "fg_name": "Şule Öztürk", "fg_email": "fg@voorbeeldstad.example",
              "fg_phone": "+31 (0)30 000 1234"}
# never on the pages a parent reads: English, log fields, codes, register jargon
FORBIDDEN = ("ruleset", "digest", "sha256", "LOG_PROCESSING", "actieId", "actieNaam",
             "verwerkingsactiviteit", "hash", "Merkle", "deelwijs:", "seq", "P25Y",
             "buitenkant", "binnenkant", "ABC-situatie", "afgeleid", "Niet in de ruleset",
             "controlepunt", "logregel", "minute", "consent", "youth", "parent", "given",
             "refused", "withdrawn", "allow", "deny", "partial", "request", "disclosure",
             "None", "null", "true", "false", "public.", "scope.", "retention.")
CODE = re.compile(r"\b[A-Z]{2,}(?:_[A-Z]+)+\b")


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(p.extract_text() for p in reader.pages)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _pages(data: bytes) -> tuple[str, str]:
    """(the parent's pages, the annex), each with its white space folded."""
    parents, annex = _flat(_text(data)).split(inzage_pdf.ANNEX)
    return parents, annex


def _set_controller(app, build, **values) -> None:
    with app.transaction() as s:
        registry.update_region(unit_of(app, s), s.get(orm.Region, build.w.region_id), **values)


def _inzage(app, youth: int, guardian: int) -> dict:
    with app.transaction() as s:
        return rights.inzage(unit_of(app, s), youth, requester="parent", guardian_id=guardian)


def _youth_answer(app, youth: int, given_on: dt.date) -> None:
    """An answer recorded in the youth's own name, as the demo stored one for every youth
    (also a 4-year-old) before the consent ages were checked: written as such a row."""
    with app.transaction() as s:
        s.add(orm.ConsentRecord(
            youth_id=youth, series=str(uuid.uuid4()), version=1, role="youth", guardian_id=None,
            answer="given", purposes=["oza"], categories=["gedrag"], recipient_ids=[],
            written=True, document_ref="TOEST-jongere", given_on=given_on))


@pytest.fixture
def world_names(app, build):
    """A youth of 4 with a Polish, an Arabic and a Chinese guardian, in an OZA case titled
    and minuted with more names; behaviour shared on the parents' consent, and one item
    refused; the region names its controller and FG."""
    _set_controller(app, build, **CONTROLLER)
    youth = build.youth(name=YOUTH_NAME, birth=dt.date(2021, 9, 1), bsn=valid_bsn(40),
                        guardians=GUARDIANS)
    case = build.case("TOM-tafel", youth_id=youth, title="Zorgen om Zoë en 王小明")
    meeting = build.meeting(case, dt.date(2025, 10, 1), agenda=("Opening", "Nguyễn Thị Ánh"))
    build.parents_consent(youth, given_on=dt.date(2025, 9, 1))
    _youth_answer(app, youth, dt.date(2025, 9, 1))
    build.disclose("alice", "leerplicht", {"gedrag": "Gesprek met محمد الأحمد en Zoe\u0308 "
                                                     "Ijsselstein"},
                   dt.date(2025, 10, 1), case_id=case, meeting_id=meeting, kind="minute")
    build.disclose("alice", "leerplicht", {"gezondheid": "niet te delen"},
                   dt.date(2025, 10, 2), case_id=case, meeting_id=meeting, kind="minute")
    guardians = build.guardians(youth)
    return {"youth": youth, "guardians": guardians}


def test_every_name_reads_back_exactly_from_the_pdf(app, world_names):
    out = _inzage(app, world_names["youth"], world_names["guardians"][0])
    data = inzage_pdf.render(out)
    text = _text(data)
    flat = _flat(text)
    for name in NAMES:
        assert name in flat, (name, [line for line in text.splitlines()
                                     if name[:2] in line])
    lines = text.splitlines()
    assert f"Naam {YOUTH_NAME}" in lines  # the whole line, nothing added or replaced
    for g in GUARDIANS:
        assert any(line.startswith("•") and g["name"] in line for line in lines), g["name"]
    assert "\ufffd" not in flat and "??" not in flat  # nothing replaced
    assert PdfReader(io.BytesIO(data)).metadata.title == f"Inzage in uw gegevens: {YOUTH_NAME}"
    # the fonts are embedded (subsets), the fallback only because of the Chinese name
    fonts = {str(f) for page in PdfReader(io.BytesIO(data)).pages
             for f in page["/Resources"]["/Font"].values()}
    assert fonts
    raw = data.decode("latin-1")
    assert "DejaVuSans" in raw and "DroidSansFallback" in raw and "/FontFile2" in raw
    assert "/Helvetica" not in raw


def test_without_cjk_the_fallback_font_is_not_embedded(app, build):
    youth = build.youth(name="Zoë Öztürk")
    out = _inzage(app, youth, build.guardians(youth)[0])
    data = inzage_pdf.render(out)
    assert "DroidSansFallback" not in data.decode("latin-1")
    assert "Naam Zoë Öztürk" in _text(data).splitlines()


def test_a_character_no_font_has_is_named_in_the_annex(app, build):
    # 𠮷 (U+20BB7, in Japanese names) is outside both fonts (DejaVu Sans, and Droid Sans
    # Fallback which covers the basic CJK block only): the annex says so
    youth = build.youth(name="\U00020BB7田 花子")
    data = inzage_pdf.render(_inzage(app, youth, build.guardians(youth)[0]))
    parents, annex = _pages(data)
    assert "U+20BB7" in annex and "CJK UNIFIED IDEOGRAPH-20BB7" in annex
    assert "田 花子" in parents and "U+7530" not in annex


def test_the_controller_and_the_fg_are_named_on_the_parents_pages(app, world_names):
    out = _inzage(app, world_names["youth"], world_names["guardians"][0])
    assert out["verantwoordelijke"] == {
        "naam": "Gemeente Voorbeeldstad", "adres": "Postbus 1234\n0000 AB Voorbeeldstad",
        "regio": "Testregio",
        "fg": {"naam": "Şule Öztürk", "email": "fg@voorbeeldstad.example",
               "telefoon": "+31 (0)30 000 1234"}}
    parents, _ = _pages(inzage_pdf.render(out))
    for expected in ("Wie is verantwoordelijk", "Gemeente Voorbeeldstad", "Postbus 1234",
                     "0000 AB Voorbeeldstad", "Functionaris gegevensbescherming (FG)",
                     "Şule Öztürk", "fg@voorbeeldstad.example", "+31 (0)30 000 1234",
                     "Vraag Gemeente Voorbeeldstad dan om het te verbeteren"):
        assert expected in parents, expected
    assert "vraag ons" not in parents.lower() and "zeg het ons" not in parents.lower()


def test_a_region_without_a_controller_says_so_plainly(app, build):
    youth = build.youth()
    parents, _ = _pages(inzage_pdf.render(_inzage(app, youth, build.guardians(youth)[0])))
    assert "Naam niet vastgelegd" in parents and "Vraag het ontbrekende" in parents
    assert "None" not in parents


def test_the_parents_pages_hold_no_codes_english_or_log_jargon(app, world_names):
    out = _inzage(app, world_names["youth"], world_names["guardians"][0])
    # every kind of content is there: a shared and a refused item, consent, a case, the log
    assert out["verstrekkingen"] and out["toestemmingen"] and out["verwerkingslog"]
    parents, annex = _pages(inzage_pdf.render(out))
    for word in FORBIDDEN:
        # (a form reference such as TOEST-parent-3 is the data itself, not a word)
        found = re.search(rf"(?<![\w.-]){re.escape(word)}(?![\w-])", parents, re.IGNORECASE)
        assert found is None, (word, parents[max(0, found.start() - 80):found.end() + 80])
    assert CODE.findall(parents) == []
    assert "art. 6 lid 1 sub e AVG" not in parents  # the full citations: in the annex
    # ... where they are, with the identifiers
    digest = out["regels_in_gebruik"]["digest"]
    item_codes = {c for d in out["verstrekkingen"] for i in d["gegevens"]
                  for c in i.get("gronden", i.get("redenen", []))}
    rule_ids = {r["id"] for d in out["verstrekkingen"] for i in d["gegevens"]
                for r in i["regels"]}
    assert "CONSENT" in item_codes and len(item_codes) >= 2 and rule_ids
    for expected in (digest, *item_codes, *(f"Regel {r}:" for r in rule_ids),
                     "art. 6 lid 1 sub a AVG", "actieId", "Grondslag:"):
        assert expected in annex, expected
    assert out["verwerkingslog"][0]["actieId"] in annex
    # the plain version says why, without the codes
    assert "Dit mocht, want er was toestemming" in parents
    assert "Dit mocht niet, want" in parents
    # the plain reasons are main clauses: after "want", never after "omdat" (which would
    # need the verb at the end: "omdat er was toestemming" is not Dutch)
    flowing = " ".join(parents.split())  # the PDF's lines joined
    for text in (*rights.GROUND_PLAIN.values(), *rights.REASON_PLAIN.values()):
        assert f"omdat {text}" not in flowing, text
    assert "Waarom dat mag:" in parents and "Hoe lang:" in parents


def test_a_young_childs_own_consent_is_never_shown(app, world_names):
    out = _inzage(app, world_names["youth"], world_names["guardians"][0])
    assert out["jongere"]["leeftijd"] == 4
    youth_series = [c for c in out["toestemmingen"] if c["rol"] == "youth"]
    assert youth_series and not youth_series[0]["telt_mee"]  # kept in the overview, marked
    parents, annex = _pages(inzage_pdf.render(out))
    assert "toestemming van de jongere" not in parents.lower()
    assert "de jongere zelf: nu" not in parents
    # one series per guardian, none of the youth's (a right-to-left name may come out of the
    # PDF's text with its brackets moved, so each heading is found by its name)
    headings = [line for line in _text(inzage_pdf.render(out)).split(inzage_pdf.ANNEX)[0]
                .splitlines() if line.startswith("Toestemming van ")]
    assert len(headings) == len(GUARDIANS)
    for g in GUARDIANS:
        assert any(g["name"] in h and g["relation"] in h for h in headings), g["name"]
    assert "vastgelegd toen de jongere 4 jaar was" in annex


@pytest.mark.parametrize(("born", "given_on", "shown"), [
    (dt.date(2012, 1, 1), dt.date(2025, 9, 1), True),   # 13 when asked: it counts
    (dt.date(2014, 6, 15), dt.date(2025, 9, 1), False),  # 11 when asked, 11 now
    (dt.date(2013, 12, 1), dt.date(2025, 9, 1), False),  # 11 when asked, 12 now
])
def test_the_youths_own_consent_shows_from_the_age_the_rules_ask_it(app, build, born,
                                                                     given_on, shown):
    youth = build.youth(birth=born)
    build.parents_consent(youth, given_on=given_on)
    _youth_answer(app, youth, given_on)
    with app.transaction() as s:
        _, ruleset = app.active_ruleset(s, build.w.region_id, TODAY)
    assert ruleset.consent.youth_and_parents_from == 12
    parents, _ = _pages(inzage_pdf.render(_inzage(app, youth, build.guardians(youth)[0])))
    assert ("Toestemming van de jongere zelf: nu gegeven" in parents) is shown


def test_the_pdf_is_text_in_logical_order_for_right_to_left_names(app, build):
    """Arabic is shaped (joined letters) and set right to left, and still reads back in the
    order it was typed."""
    youth = build.youth(name="محمد الأحمد", guardians=({"name": "فاطمة", "relation": "moeder",
                                                      "gezag": True},))
    data = inzage_pdf.render(_inzage(app, youth, build.guardians(youth)[0]))
    lines = _text(data).splitlines()
    assert "Naam محمد الأحمد" in lines
    assert any("فاطمة" in line for line in lines)
    # (without shaping fpdf2 sets the letters unjoined, and the text reads back reversed);
    # Latin and CJK text goes without it (three times faster to lay out)
    assert inzage_pdf._Doc("x", set("محمد")).text_shaping["use_shaping_engine"]
    assert inzage_pdf._Doc("x", set("Zoe\u0308")).text_shaping["use_shaping_engine"]
    assert not (inzage_pdf._Doc("x", set("Zoë 王小明")).text_shaping or {}).get(
        "use_shaping_engine")
