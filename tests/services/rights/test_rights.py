"""Rights of the youth and the parents (AVG art. 15–18, 21): who may ask at which age, inzage
and its PDF, rectification with history, erasure against the retention terms, restriction and
objection; and bad input writes nothing."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from tests.services.helpers import TODAY, TWO_PARENTS, unit_of, valid_bsn

from deelwijs.documents import inzage_pdf
from deelwijs.services.casus import cases, disclosures, youths
from deelwijs.services.casus import facts as stored_facts
from deelwijs.services.covenant import registry
from deelwijs.services.errors import Invalid, NotFound, Refused, ServiceError
from deelwijs.services.log import audit
from deelwijs.services.rights import requests as rights
from deelwijs.storage import orm

DAY = dt.date(2024, 3, 1)
UNKNOWN = 987654
ONE_WITHOUT_GEZAG = (
    {"name": "Fatima de Vries", "relation": "moeder", "gezag": True},
    {"name": "Daan de Vries", "relation": "vader", "gezag": False},
)


# --- helpers ---------------------------------------------------------------------------------


def _call(app, fn, *args, by=None, today=TODAY, **kwargs):
    """fn (a use case) in a transaction of its own, as the administrator or the professional
    `by`, on `today`."""
    with app.transaction() as s:
        return fn(unit_of(app, s, by=by, today=today), *args, **kwargs)


def _inzage(app, youth, **kwargs):
    kwargs.setdefault("requester", "parent" if "guardian_id" in kwargs else "youth")
    return _call(app, rights.inzage, youth, **kwargs)


def _entries(app, youth) -> list[dict]:
    with app.transaction() as s:
        return [audit.entry_view(r) for r in audit.entries_for_youth(unit_of(app, s), youth)]


def _requests(app, youth) -> list[orm.RightsRequest]:
    with app.transaction() as s:
        rows = s.scalars(select(orm.RightsRequest).where(orm.RightsRequest.youth_id == youth)
                         .order_by(orm.RightsRequest.id)).all()
        s.expunge_all()
        return rows


def _close_case(app, case_id: int, on: dt.date) -> None:
    with app.transaction() as s:
        s.get(orm.Case, case_id).closed_on = on


def _write_minute(app, build, meeting_id: int, text: str) -> int:
    with app.transaction() as s:
        item = s.scalars(select(orm.AgendaItem.id).where(
            orm.AgendaItem.meeting_id == meeting_id).order_by(orm.AgendaItem.position)).first()
        return cases.write_minute(unit_of(app, s, by=build.pro("alice")), item, text).id


@pytest.fixture
def shared(app, build):
    """A youth of 11 (on TODAY) in an OZA case: behaviour shared with leerplicht on the
    parents' consent, then the mother withdrew and the next attempt was refused. A minute was
    written."""
    youth = build.youth(name="Zoë Ëlif de Vries", bsn=valid_bsn(11))
    case = build.case("TOM-tafel", youth_id=youth, title="Zorgen om Zoë")
    first = build.meeting(case, DAY)
    second = build.meeting(case, dt.date(2024, 4, 1))
    mother_series, _ = build.parents_consent(youth, given_on=dt.date(2024, 2, 1))
    allowed = build.disclose("alice", "leerplicht", {"gedrag": "Onrustig in de klas",
                                                     "verzuim": "3 dagen ongeoorloofd"},
                             DAY, case_id=case, meeting_id=first, kind="minute")
    build.change_consent(mother_series, 1, "withdrawn", dt.date(2024, 3, 10))
    denied = build.disclose("alice", "leerplicht", {"gedrag": "Slaat andere kinderen"},
                            dt.date(2024, 4, 1), case_id=case, meeting_id=second, kind="minute")
    _write_minute(app, build, first, "Zoë komt vaak te laat; gesprek met ouders gepland.")
    mother, father = build.guardians(youth)
    return {"youth": youth, "case": case, "allowed": allowed, "denied": denied,
            "mother": mother, "father": father, "series": mother_series}


# --- who may ask -----------------------------------------------------------------------------

YOUTH = orm.Youth(id=1)
WITH_GEZAG = orm.Guardian(id=10, youth_id=1, relation="moeder", has_gezag=True)
WITHOUT_GEZAG = orm.Guardian(id=11, youth_id=1, relation="vader", has_gezag=False)
OTHER_CHILD = orm.Guardian(id=12, youth_id=2, relation="moeder", has_gezag=True)


@pytest.mark.parametrize(("age", "requester", "guardian", "agrees", "expected"), [
    (8, "parent", WITH_GEZAG, False, "parent"),
    (11, "parent", WITH_GEZAG, False, "parent"),
    (12, "youth", None, False, "youth"),
    (12, "parent", WITH_GEZAG, False, "parent"),
    (15, "youth", None, False, "youth"),
    (15, "parent", WITH_GEZAG, False, "parent"),
    (16, "youth", None, False, "youth"),
    (17, "parent", WITH_GEZAG, True, "parent"),
])
def test_who_may_ask_by_age(age, requester, guardian, agrees, expected):
    standing = rights.who_may_ask(YOUTH, age, requester, guardian, agrees)
    assert standing.requester == expected
    assert standing.youth_agrees == (age >= 16 and agrees)


@pytest.mark.parametrize(("age", "requester", "guardian", "agrees", "error", "code", "words"), [
    (11, "youth", None, False, Refused, "too_young", "jonger dan 12"),
    (5, "parent", WITHOUT_GEZAG, False, Refused, "no_gezag", "geen gezag"),
    (14, "parent", WITHOUT_GEZAG, False, Refused, "no_gezag", "geen gezag"),
    (17, "parent", WITHOUT_GEZAG, True, Refused, "no_gezag", "geen gezag"),
    (16, "parent", WITH_GEZAG, False, Refused, "youth_decides", "beslist de jongere zelf"),
    (14, "parent", OTHER_CHILD, False, Invalid, "unknown_guardian", "ouder of voogd"),
    (14, "parent", None, False, Invalid, "missing_field", "ouder of voogd"),
    (14, "ouder", WITH_GEZAG, False, Invalid, "unknown_code", "verzoeker"),
    (14, "youth", WITH_GEZAG, False, Invalid, "unexpected_guardian", "ouder"),
])
def test_who_may_not_ask(age, requester, guardian, agrees, error, code, words):
    with pytest.raises(error) as exc:
        rights.who_may_ask(YOUTH, age, requester, guardian, agrees)
    assert exc.value.code == code
    assert words in exc.value.message


def test_the_age_is_taken_on_the_day_of_the_request(app, build):
    youth = build.youth(birth=dt.date(2014, 6, 15))
    with pytest.raises(Refused, match="11 jaar"):
        _inzage(app, youth, today=dt.date(2026, 6, 14))
    assert _inzage(app, youth, today=dt.date(2026, 6, 15))["jongere"]["leeftijd"] == 12


def test_from_16_a_parent_needs_the_youths_agreement(app, build):
    youth = build.youth(birth=dt.date(2009, 1, 10))  # 17 on TODAY
    mother, _ = build.guardians(youth)
    before = build.counts()
    with pytest.raises(Refused) as exc:
        _inzage(app, youth, guardian_id=mother)
    assert exc.value.field == "requester" and "16 jaar" in exc.value.message
    assert build.counts() == before
    out = _inzage(app, youth, guardian_id=mother, youth_agrees=True)
    assert "met instemming van de jongere" in out["verzoek"]["gevraagd_door"]
    [row] = _requests(app, youth)
    assert (row.requester, row.guardian_id, row.scope["youth_agrees"]) == ("parent", mother, True)


def test_a_parent_without_gezag_gets_nothing(app, build):
    youth = build.youth(guardians=ONE_WITHOUT_GEZAG)
    _, father = build.guardians(youth)
    before = build.counts()
    for fn, kwargs in [(rights.inzage, {}), (rights.erase, {}),
                       (rights.restrict, {"reason": "juistheid"}), (rights.object_to, {}),
                       (rights.rectify, {"field": "name", "new_value": "X", "by":
                                         build.pro("alice")})]:
        with pytest.raises(Refused) as exc:
            _call(app, fn, youth, requester="parent", guardian_id=father, today=TODAY,
                  **kwargs)
        assert exc.value.code == "no_gezag"
        assert "geen gezag" in exc.value.message
    assert build.counts() == before


# --- inzage ----------------------------------------------------------------------------------


def test_inzage_shows_every_disclosure_with_its_ground_or_reason_and_rules(app, shared):
    out = _inzage(app, shared["youth"], guardian_id=shared["mother"])
    first, second = out["verstrekkingen"]
    assert (first["id"], second["id"]) == (shared["allowed"], shared["denied"])
    assert first["van"]["naam"] == "Stichting Onderwijs De Linde"
    assert first["aan"]["naam"] == "Leerplicht Voorbeeldstad"
    assert first["doel"] == "overleg onderwijs-zorgarrangement (OZA)"
    items = {i["code"]: i for i in first["gegevens"]}
    assert items["gedrag"]["gedeeld"] is True
    assert items["gedrag"]["gronden"] == ["CONSENT"]
    assert "toestemming (art. 6 lid 1 sub a AVG)" in items["gedrag"]["waarom"]
    assert items["gedrag"]["inhoud"] == "Onrustig in de klas"
    assert [r["id"] for r in items["gedrag"]["regels"]] == ["public.inside_information",
                                                             "consent.under_12"]
    assert items["gedrag"]["regels"][1]["titel"] == "Toestemming voor een kind onder 12"
    assert "art. 5 UAVG" in items["gedrag"]["regels"][1]["wetsartikelen"]
    assert items["verzuim"]["gronden"] == ["PUBLIC_TASK"]
    assert "publieke taak" in items["verzuim"]["waarom"]
    [refused] = second["gegevens"]
    assert (refused["gedeeld"], refused["redenen"], refused["inhoud"]) == (
        False, ["CONSENT_MISSING"], None)
    assert "geen geldige toestemming" in refused["waarom"]
    assert second["uitkomst"] == "niet gedeeld"
    assert "Niet gedeeld" in second["samenvatting"]


def test_inzage_shows_the_person_the_case_its_minutes_purposes_and_retention(app, shared):
    out = _inzage(app, shared["youth"], guardian_id=shared["mother"])
    person = out["jongere"]
    assert person["naam"] == "Zoë Ëlif de Vries"
    assert person["geboortedatum"] == "2014-06-15" and person["leeftijd"] == 11
    assert person["bsn"] == f"*****{valid_bsn(11)[-4:]}"
    assert person["school"]["naam"] == "Stichting Onderwijs De Linde"
    assert [(g["naam"], g["gezag"]) for g in person["ouders"]] == [
        ("Fatima de Vries", True), ("Daan de Vries", True)]
    [case] = out["casussen"]
    assert (case["titel"], case["overleg"], case["gesloten_op"]) == ("Zorgen om Zoë",
                                                                     "TOM-tafel", None)
    assert case["overleggen"][0]["datum"] == DAY.isoformat()
    assert case["overleggen"][0]["verslagen"] == [
        {"agendapunt": "Opening", "tekst": "Zoë komt vaak te laat; gesprek met ouders gepland."}]
    oza = next(p for p in out["doelen"] if p["code"] == "oza")
    assert any("publieke taak" in g for g in oza["grondslag"])
    assert any("toestemming" in g for g in oza["grondslag"])
    assert "1 jaar" in oza["bewaartermijn"]
    assert {p["code"] for p in out["doelen"]} >= {"oza", "registratie", "rechten"}
    assert "De casus loopt nog" in out["bewaartermijnen"][0]["uitleg"]
    assert out["bewaartermijnen"][0]["wat"] == "verslag van de casus 'Zorgen om Zoë'"
    with app.transaction() as s:  # stored only encrypted with the youth's key
        case_row = s.get(orm.Case, shared["case"])
        assert (case_row.title, case_row.title_enc is not None) == ("", True)
    assert [r["recht"] for r in out["uw_rechten"]][:4] == [
        "Verbeteren (rectificatie)", "Wissen (vergetelheid)", "Beperken", "Bezwaar"]
    json.dumps(out)  # plain JSON, ready for the CLI and the API


def test_inzage_shows_the_full_consent_history_after_a_withdrawal(app, shared):
    out = _inzage(app, shared["youth"], guardian_id=shared["father"])
    by_series = {c["reeks"]: c for c in out["toestemmingen"]}
    mother = by_series[shared["series"]]
    assert mother["wie"] == "Fatima de Vries (moeder)"
    assert mother["stand"] == "ingetrokken"
    assert mother["doelen"] == ["overleg onderwijs-zorgarrangement (OZA)"]
    assert mother["gegevens"] == ["gedrag op school"]
    assert mother["ontvangers"] == ["alle partijen in de casus"]
    assert [(v["versie"], v["antwoord"], v["datum"]) for v in mother["geschiedenis"]] == [
        (1, "gegeven", "2024-02-01"), (2, "ingetrokken", "2024-03-10")]
    father = next(c for k, c in by_series.items() if k != shared["series"])
    assert father["stand"] == "gegeven"


def test_inzage_shows_the_log_without_user_system_or_source(app, shared):
    out = _inzage(app, shared["youth"], requester="parent", guardian_id=shared["mother"])
    log = out["verwerkingslog"]
    assert log, "the youth's log entries are shown"
    for entry in log:
        for withheld in ("gebruiker", "systeem", "gegevensbron"):
            assert withheld not in entry
        assert entry["omschrijving"]
    actions = [e["actie"] for e in log]
    assert {"create", "consent", "disclose", "deny", "minute"} <= set(actions)
    disclosed = next(e for e in log if e["actie"] == "disclose")
    assert "Leerplicht Voorbeeldstad" in disclosed["omschrijving"]
    # the professional's pseudonym is in the log itself, only withheld from the subject
    assert any(e.get("gebruiker") not in (None, "beheer") for e in _entries(app, shared["youth"]))


def test_inzage_narrowed_to_a_period(app, shared):
    out = _inzage(app, shared["youth"], guardian_id=shared["mother"],
                  period_from=dt.date(2024, 3, 15), period_to=dt.date(2024, 12, 31))
    assert [d["id"] for d in out["verstrekkingen"]] == [shared["denied"]]
    assert [m["datum"] for m in out["casussen"][0]["overleggen"]] == ["2024-04-01"]
    assert out["verwerkingslog"] == []  # every entry was written today, outside the period
    assert len(out["toestemmingen"]) == 2  # consent is always shown complete
    assert out["verzoek"]["periode"] == {"van": "2024-03-15", "tot": "2024-12-31"}


def test_the_inzage_request_itself_is_recorded_and_logged(app, build, shared):
    youth = shared["youth"]
    before = len(_entries(app, youth))
    out = _inzage(app, youth, guardian_id=shared["mother"], today=dt.date(2026, 1, 31),
                  by=build.pro("alice"))
    [row] = _requests(app, youth)
    assert (row.kind, row.requester, row.guardian_id, row.status) == (
        "inzage", "parent", shared["mother"], "toegewezen")
    assert (row.received_on, row.due_on, row.decided_on) == (
        dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 1, 31))
    assert row.handled_by_id == build.pro("alice")
    assert out["verzoek"]["id"] == row.id
    assert out["verzoek"]["uiterlijk_beantwoord_op"] == "2026-02-28"
    assert out["verzoeken"][-1]["soort"] == "inzage"
    entries = _entries(app, youth)
    assert len(entries) == before + 1
    last = entries[-1]
    assert (last["actie"], last["actieNaam"]) == ("inzage", "Verstrekken inzage")
    assert last["verzoek"] == {"id": row.id, "soort": "inzage", "verzoeker": "parent",
                               "status": "toegewezen"}
    assert last["deelwijs"]["verwerkingsactiviteit"].endswith("/rechten")
    kinds = {c["soortGegeven"] for c in last["verwerkteObjecten"][0]["verwerkteSoortenGegevens"]}
    assert {"identificatie", "gedrag", "verzuim"} <= kinds


def test_the_deadline_is_one_month_after_receipt():
    assert rights.due_date(dt.date(2026, 3, 2)) == dt.date(2026, 4, 2)
    assert rights.due_date(dt.date(2026, 1, 31)) == dt.date(2026, 2, 28)
    assert rights.due_date(dt.date(2028, 1, 31)) == dt.date(2028, 2, 29)
    assert rights.due_date(dt.date(2026, 12, 15)) == dt.date(2027, 1, 15)


def test_the_inzage_pdf_is_a_pdf_a_parent_can_read(app, shared):
    out = _inzage(app, shared["youth"], guardian_id=shared["mother"])
    data = inzage_pdf.render(out)
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    assert reader.metadata.title == "Inzage in uw gegevens: Zoë Ëlif de Vries"
    text = "\n".join(p.extract_text() for p in reader.pages)
    flat = " ".join(text.split())
    for expected in ("Zoë Ëlif de Vries", "Inzage in uw gegevens", "Uw verzoek",
                     "Welke gegevens we hebben", "Wie kreeg welke gegevens", "Toestemmingen",
                     "Overleggen over Zoë Ëlif de Vries", "Hoe lang we gegevens bewaren",
                     "Uw rechten", "Autoriteit Persoonsgegevens", "Verbeteren (rectificatie)",
                     "Wissen", "Beperken", "Bezwaar", "Onrustig in de klas",
                     "Fatima de Vries (moeder): heeft gezag", "gesprek met ouders gepland",
                     "ingetrokken", "Zorgen om Zoë", "Opening, Bespreking"):
        assert expected in flat, expected
    # the date of the request, in words
    assert "2 maart 2026" in flat
    # codes only in the annex, after the parent's pages (see test_inzage_pdf)
    parents, annex = flat.split(inzage_pdf.ANNEX)
    assert "CONSENT_MISSING" not in parents and "PUBLIC_TASK" not in parents
    assert "CONSENT_MISSING" in annex and "PUBLIC_TASK" in annex


def test_the_pdf_writes_every_character_as_it_is():
    out = {"jongere": {"naam": "Łucja Nowak → ĳsbeer", "geboortedatum": "2014-06-15",
                       "leeftijd": 11, "bsn": None, "bsn_uitleg": "", "school": None,
                       "ouders": []},
           "verzoek": {"id": 1, "ontvangen_op": "2026-03-02",
                       "uiterlijk_beantwoord_op": "2026-04-02", "gevraagd_door": "de jongere",
                       "periode": None},
           "gemaakt_op": "2026-03-02", "verstrekkingen": [], "toestemmingen": [],
           "casussen": [], "werkprocessen": [], "doelen": [], "bewaartermijnen": [],
           "verzoeken": [], "correcties": [], "verwerkingslog": [],
           "uw_rechten": rights.your_rights()}
    text = PdfReader(io.BytesIO(inzage_pdf.render(out))).pages[0].extract_text()
    assert "Łucja Nowak → ĳsbeer" in " ".join(text.split())


# --- rectification ---------------------------------------------------------------------------


def test_rectification_keeps_the_old_and_the_new_value(app, build):
    youth = build.youth(name="Sem de Vris")
    mother, _ = build.guardians(youth)
    alice = build.pro("alice")
    out = _call(app, rights.rectify, youth, "name", "Sem de Vries", requester="parent",
                guardian_id=mother, by=alice, today=TODAY)
    assert out["correction"]["old"] == "Sem de Vris"
    assert out["request"]["kind"] == "rectificatie"
    _call(app, rights.rectify, youth, "birth", "2014-06-16", requester="parent",
          guardian_id=mother, by=alice, today=dt.date(2026, 3, 3))
    _call(app, rights.rectify, youth, "guardian_name", "Fatima de Vries-Bakker",
          requester="parent", guardian_id=mother, by=alice, today=dt.date(2026, 3, 4),
          target_guardian_id=mother)
    history = _call(app, rights.corrections, youth)
    assert [(h["field"], h["old"], h["new"], h["corrected_on"], h["by"]) for h in history] == [
        ("name", "Sem de Vris", "Sem de Vries", "2026-03-02", alice),
        ("birth", "2014-06-15", "2014-06-16", "2026-03-03", alice),
        ("guardian_name", "Fatima de Vries", "Fatima de Vries-Bakker", "2026-03-04", alice)]
    assert history[2]["guardian_id"] == mother
    with app.transaction() as s:
        view = youths.youth_view(app.keys, youths.get_youth(s, youth), TODAY)
        rows = s.scalars(select(orm.YouthCorrection)).all()
        assert all(b"Sem de Vri" not in (r.old_enc or b"") + r.new_enc for r in rows)
    assert (view["name"], view["birth"]) == ("Sem de Vries", "2014-06-16")
    assert view["guardians"][0]["name"] == "Fatima de Vries-Bakker"
    corrected = [e for e in _entries(app, youth) if e["actie"] == "correct"]
    assert [e["handelingNaam"] for e in corrected] == [
        "Corrigeren naam", "Corrigeren geboortedatum", "Corrigeren naam van een ouder of voogd"]
    assert "Sem de Vri" not in json.dumps(corrected)
    inz = _inzage(app, youth, guardian_id=mother)
    assert inz["correcties"][0]["new"] == "Sem de Vries"


def test_the_school_is_rectified_to_another_school_board_only(app, build):
    youth = build.youth()
    with app.transaction() as s:
        region = s.get(orm.Region, build.w.region_id)
        other = registry.create_organisation(unit_of(app, s), region, "school",
                                             "Stichting Het Baken")
        other_id = other.id
    out = _call(app, rights.rectify, youth, "school", str(other_id), requester="parent",
                guardian_id=build.guardians(youth)[0], by=build.pro("alice"), today=TODAY)
    assert (out["correction"]["old"], out["correction"]["new"]) == (
        str(build.org("school")), str(other_id))
    with app.transaction() as s:
        assert youths.get_youth(s, youth).school_id == other_id


# --- erasure ---------------------------------------------------------------------------------


def test_erasure_is_refused_within_the_retention_term_of_the_minutes(app, build, shared):
    youth = shared["youth"]
    _close_case(app, shared["case"], dt.date(2025, 6, 1))
    before = build.counts()
    with pytest.raises(rights.ErasureRefused) as exc:
        _call(app, rights.erase, youth, requester="parent", guardian_id=shared["mother"],
              today=TODAY)
    err = exc.value
    assert isinstance(err, Refused) and err.code == "retention_term" and err.field == "youth"
    assert "bewaartermijn" in err.message
    assert "bewaard blijven tot 1 juni 2026" in err.message
    assert "1 jaar na afsluiting op 1 juni 2025" in err.message
    assert "art. 9 convenant" in err.message
    assert f"het verslag van de casus 'Zorgen om Zoë' (nummer {shared['case']})" in err.message
    assert "Vanaf 1 juni 2026 kunt u opnieuw vragen" in err.message
    assert err.blockers[0]["until"] == "2026-06-01"
    # the refusal is a decision that is kept: one request, one log entry, nothing else
    after = build.counts()
    assert {k: after[k] - before[k] for k in after if after[k] != before[k]} == {
        "rights_request": 1, "log_entry": 1}
    [row] = _requests(app, youth)
    assert (row.id, row.kind, row.status, row.motivation) == (err.request_id, "wissing",
                                                               "afgewezen", err.message)
    assert _entries(app, youth)[-1]["handelingNaam"] == "Weigeren wissing (bewaartermijn)"
    with app.transaction() as s:
        assert youths.get_youth(s, youth).key_wrapped is not None


def test_a_refusal_in_a_transaction_that_already_wrote_is_recorded_in_that_transaction(
        app, shared):
    """No second transaction that could wait on this one's locks: the refusal goes into the
    caller's transaction, and stays when the caller catches it there."""
    with app.transaction() as s:
        youths.read_youth(unit_of(app, s), shared["youth"])  # writes a log entry
        with pytest.raises(rights.ErasureRefused) as exc:
            rights.erase(unit_of(app, s), shared["youth"], requester="parent",
                         guardian_id=shared["mother"])
    [row] = _requests(app, shared["youth"])
    assert (row.id, row.status) == (exc.value.request_id, "afgewezen")


def test_erasure_is_refused_while_a_case_or_workflow_is_open(app, build, shared):
    with pytest.raises(rights.ErasureRefused, match="loopt nog") as exc:
        _call(app, rights.erase, shared["youth"], requester="parent",
              guardian_id=shared["mother"], today=TODAY)
    assert [b["kind"] for b in exc.value.blockers] == ["open_case"]
    assert f"de casus 'Zorgen om Zoë' (nummer {shared['case']}) loopt nog" in (
        exc.value.message)
    youth = build.youth(name="Noor Jansen")
    with app.transaction() as s:
        cases.open_workflow(unit_of(app, s, by=build.pro("dave")),
                            s.get(orm.Region, build.w.region_id),
                            youths.get_youth(s, youth))
    with pytest.raises(rights.ErasureRefused, match="werkproces van de gemeente"):
        _call(app, rights.erase, youth, requester="parent",
              guardian_id=build.guardians(youth)[0], today=TODAY)


def test_erasure_after_the_term_shreds_the_youth(app, build, shared):
    youth = shared["youth"]
    _close_case(app, shared["case"], dt.date(2025, 6, 1))
    out = _call(app, rights.erase, youth, requester="parent", guardian_id=shared["mother"],
                today=dt.date(2026, 6, 1), by=build.pro("alice"))
    assert out["request"]["status"] == "toegewezen"
    assert out["notify"] == [{"id": build.org("leerplicht"), "name": "Leerplicht Voorbeeldstad"}]
    with app.transaction() as s:
        y = youths.get_youth(s, youth)
        assert (y.key_wrapped, y.bsn_hash, y.bsn_enc) == (None, None, None)
        assert y.shredded_at is not None
        assert y.name_enc  # ciphertext stays, unreadable without the key
        assert youths.youth_view(app.keys, y, TODAY) == {"id": youth, "shredded": True}
        minute = s.scalars(select(orm.Minute)).one()
        assert minute.text == "" and cases.minute_text(s, minute) == "[vernietigd]"
        item = s.scalars(select(orm.DisclosureItem).where(
            orm.DisclosureItem.category == "gedrag",
            orm.DisclosureItem.outcome == "allow")).one()
        assert disclosures.content_of(app, y, item) == "[vernietigd]"
        # the BSN can no longer be found
        with pytest.raises(NotFound):
            youths.find_by_bsn(unit_of(app, s), s.get(orm.Region, build.w.region_id),
                               valid_bsn(11))
    erased = [e for e in _entries(app, youth) if e["actie"] == "erase"]
    assert [e["handelingNaam"] for e in erased] == [
        "Wissen op verzoek van betrokkene (art. 17 AVG)"]
    assert erased[0]["verzoek"]["id"] == out["request"]["id"]
    with pytest.raises(Refused, match="vernietigd"):
        _inzage(app, youth, guardian_id=shared["mother"], today=dt.date(2026, 6, 2))
    with pytest.raises(Refused, match="vernietigd"):
        _call(app, rights.erase, youth, requester="parent", guardian_id=shared["mother"],
              today=dt.date(2026, 6, 2))


def test_shred_youth_is_idempotent_for_the_retention_run(app, build):
    youth = build.youth()
    with app.transaction() as s:
        y = youths.get_youth(s, youth)
        assert rights.shred_youth(s, y, "Bewaartermijn verstreken") is True
        assert rights.shred_youth(s, y, "Bewaartermijn verstreken") is False
    assert [e["handelingNaam"] for e in _entries(app, youth) if e["actie"] == "erase"] == [
        "Bewaartermijn verstreken"]


# --- restriction and objection --------------------------------------------------------------


def test_a_restriction_is_recorded_in_force_from_today_and_can_be_lifted(app, build, shared):
    youth = shared["youth"]
    out = _call(app, rights.restrict, youth, requester="parent", guardian_id=shared["mother"],
                reason="juistheid", purposes=["TOM-tafel"], categories=["gedrag"],
                recipient_ids=[build.org("leerplicht")], today=TODAY)
    assert out["status"] == "toegewezen"
    assert out["motivation"].startswith("Beperking toegewezen, want de jongere of ouder "
                                        "betwist of de gegevens kloppen")
    assert out["notify"] == [{"id": build.org("leerplicht"), "name": "Leerplicht Voorbeeldstad"}]
    rid = out["request"]["id"]
    scope = {"id": rid, "purposes": ["oza"], "categories": ["gedrag"],
             "recipient_ids": [build.org("leerplicht")]}
    with app.transaction() as s:
        assert stored_facts.active_restrictions(s, youth, TODAY) == [scope]
        assert stored_facts.active_restrictions(s, youth, TODAY - dt.timedelta(days=1)) == []
        assert stored_facts.active_objections(s, youth, TODAY) == []
    assert _entries(app, youth)[-1]["actie"] == "restrict"
    later = TODAY + dt.timedelta(days=10)
    lifted = _call(app, rights.lift_restriction, rid, motivation="Nagekeken: de gegevens "
                   "kloppen.", today=later)
    assert lifted["ends_on"] == later.isoformat()
    assert lifted["scope"]["lifted"]["motivation"] == "Nagekeken: de gegevens kloppen."
    with app.transaction() as s:
        assert stored_facts.active_restrictions(s, youth, later - dt.timedelta(days=1)) == [scope]
        assert stored_facts.active_restrictions(s, youth, later) == []
    assert _entries(app, youth)[-1]["handelingNaam"] == "Opheffen beperking"
    with pytest.raises(Refused, match="geldt al niet meer"):
        _call(app, rights.lift_restriction, rid, motivation="nogmaals", today=later)


def test_a_restriction_with_an_end_date_ends_by_itself(app, shared):
    out = _call(app, rights.restrict, shared["youth"], requester="parent",
                guardian_id=shared["mother"], reason="bezwaar", today=TODAY,
                ends_on=dt.date(2026, 4, 1))
    assert out["status"] == "toegewezen"
    assert "Wettelijke routes gaan wel door" in out["motivation"]
    with app.transaction() as s:
        [active] = stored_facts.active_restrictions(s, shared["youth"], dt.date(2026, 3, 31))
        assert "verzuimmelding" not in active["purposes"] and "oza" in active["purposes"]
        assert (active["categories"], active["recipient_ids"]) == ([], [])
        assert stored_facts.active_restrictions(s, shared["youth"], dt.date(2026, 4, 1)) == []


def test_an_objection_is_honoured_and_in_force(app, build):
    youth = build.youth(birth=dt.date(2012, 1, 1))  # 14: the youth may object too
    out = _call(app, rights.object_to, youth, requester="youth", purposes=["oza", "signalering"],
                categories=["gezondheid"], today=TODAY)
    assert out["status"] == "toegewezen"
    assert "niet meer gebruikt voor" in out["motivation"]
    with app.transaction() as s:
        assert stored_facts.active_objections(s, youth, TODAY) == [
            {"id": out["request"]["id"], "purposes": ["oza", "signalering"],
             "categories": ["gezondheid"], "recipient_ids": []}]
        assert stored_facts.active_restrictions(s, youth, TODAY) == []
    last = _entries(app, youth)[-1]
    assert (last["actie"], last["bezwaar"]["doelen"]) == ("object", ["oza", "signalering"])


def test_an_objection_against_a_legal_duty_cannot_be_honoured(app, shared):
    youth = shared["youth"]
    out = _call(app, rights.object_to, youth, requester="parent",
                guardian_id=shared["mother"], purposes=["verzuimmelding"], today=TODAY)
    assert out["status"] == "afgewezen"
    assert "Tegen een wettelijke plicht kunt u geen bezwaar maken" in out["motivation"]
    assert "wettelijke verzuimmelding" in out["motivation"]
    assert "leerplicht" in out["motivation"]
    mixed = _call(app, rights.object_to, youth, requester="parent",
                  guardian_id=shared["mother"], purposes=["verzuimmelding", "oza"],
                  today=TODAY)
    assert mixed["status"] == "deels"
    with app.transaction() as s:
        [active] = stored_facts.active_objections(s, youth, TODAY)
    assert active["purposes"] == ["oza"]
    [first, second] = _requests(app, youth)
    assert (first.kind, first.status, first.scope["honoured"]) == ("bezwaar", "afgewezen", None)
    assert second.status == "deels"


def test_an_objection_can_be_refused_with_a_motivation(app, shared):
    out = _call(app, rights.object_to, shared["youth"], requester="parent",
                guardian_id=shared["mother"], purposes=["toeleiding"], today=TODAY,
                refusal="er zijn dwingende redenen om de hulp voort te zetten")
    assert out["status"] == "afgewezen"
    assert out["motivation"] == ("Bezwaar afgewezen: er zijn dwingende redenen om de hulp "
                                 "voort te zetten")
    with app.transaction() as s:
        assert stored_facts.active_objections(s, shared["youth"], TODAY) == []


def test_rights_requests_are_listed(app, shared):
    _inzage(app, shared["youth"], guardian_id=shared["mother"])
    _call(app, rights.object_to, shared["youth"], requester="parent",
          guardian_id=shared["mother"], purposes=["verzuimmelding"], today=TODAY)
    with app.transaction() as s:
        listed = rights.list_requests(unit_of(app, s), shared["youth"])
    assert [(r["kind"], r["status"]) for r in listed] == [("inzage", "toegewezen"),
                                                          ("bezwaar", "afgewezen")]


# --- bad input writes nothing ----------------------------------------------------------------


def _ctx(app, build):
    """Ids the bad calls use (built before the counts are taken)."""
    if not hasattr(build, "rights_ctx"):
        youth = build.youth(guardians=ONE_WITHOUT_GEZAG)
        old = build.youth(name="Lotte Smit", birth=dt.date(2008, 5, 1), guardians=TWO_PARENTS)
        other = build.youth(name="Sam Bos")
        mother, father = build.guardians(youth)
        inz = _inzage(app, youth, guardian_id=mother)["verzoek"]["id"]
        build.rights_ctx = {"youth": youth, "old": old, "mother": mother, "father": father,
                            "other_parent": build.guardians(other)[0], "inzage": inz,
                            "old_parent": build.guardians(old)[0]}
    return build.rights_ctx


def _p(c):
    return {"requester": "parent", "guardian_id": c["mother"], "today": TODAY}


BAD = {
    "inzage about an unknown youth":
        (lambda a, b, c: _call(a, rights.inzage, UNKNOWN, **_p(c)), NotFound, "youth"),
    "inzage by an unknown kind of requester":
        (lambda a, b, c: _call(a, rights.inzage, c["youth"], **{**_p(c), "requester": "oma"}),
         Invalid, "requester"),
    "inzage by a parent without gezag":
        (lambda a, b, c: _call(a, rights.inzage, c["youth"], **{**_p(c),
                                                               "guardian_id": c["father"]}),
         Refused, "guardian_id"),
    "inzage by the parent of another child":
        (lambda a, b, c: _call(a, rights.inzage, c["youth"],
                               **{**_p(c), "guardian_id": c["other_parent"]}),
         Invalid, "guardian_id"),
    "inzage by an unknown parent":
        (lambda a, b, c: _call(a, rights.inzage, c["youth"],
                               **{**_p(c), "guardian_id": UNKNOWN}), Invalid, "guardian_id"),
    "inzage by a child of 11 alone":
        (lambda a, b, c: _call(a, rights.inzage, c["youth"], requester="youth", today=TODAY),
         Refused, "requester"),
    "inzage by a parent of a youth of 17 who did not agree":
        (lambda a, b, c: _call(a, rights.inzage, c["old"], requester="parent",
                               guardian_id=c["old_parent"], today=TODAY),
         Refused, "requester"),
    "inzage over a period that ends before it starts":
        (lambda a, b, c: _call(a, rights.inzage, c["youth"], **_p(c),
                               period_from=dt.date(2025, 2, 1), period_to=dt.date(2025, 1, 1)),
         Invalid, "period_from"),
    "inzage handled by an unknown professional":
        (lambda a, b, c: _call(a, rights.inzage, c["youth"], **_p(c), by=UNKNOWN),
         NotFound, "by"),
    "rectify an unknown field":
        (lambda a, b, c: _call(a, rights.rectify, c["youth"], "bsn", "999999990", **_p(c),
                               by=b.pro("alice")), Invalid, "field"),
    "rectify without a professional":
        (lambda a, b, c: _call(a, rights.rectify, c["youth"], "name", "X", **_p(c), by=None),
         Invalid, "by"),
    "rectify to an empty name":
        (lambda a, b, c: _call(a, rights.rectify, c["youth"], "name", "  ", **_p(c),
                               by=b.pro("alice")), Invalid, "value"),
    "rectify to the same name":
        (lambda a, b, c: _call(a, rights.rectify, c["youth"], "name", "Sem de Vries",
                               **_p(c), by=b.pro("alice")), Invalid, "value"),
    "rectify the birth date to the future":
        (lambda a, b, c: _call(a, rights.rectify, c["youth"], "birth", "2027-01-01", **_p(c),
                               by=b.pro("alice")), Invalid, "value"),
    "rectify the birth date to no date":
        (lambda a, b, c: _call(a, rights.rectify, c["youth"], "birth", "1 mei", **_p(c),
                               by=b.pro("alice")), Invalid, "value"),
    "rectify the school to an organisation that is no school":
        (lambda a, b, c: _call(a, rights.rectify, c["youth"], "school",
                               str(b.org("jeugdhulp")), **_p(c), by=b.pro("alice")),
         Invalid, "value"),
    "rectify the name of a parent of another child":
        (lambda a, b, c: _call(a, rights.rectify, c["youth"], "guardian_name", "X", **_p(c),
                               by=b.pro("alice"), target_guardian_id=c["other_parent"]),
         Invalid, "target_guardian_id"),
    "rectify a parent's name without naming the parent":
        (lambda a, b, c: _call(a, rights.rectify, c["youth"], "guardian_name", "X", **_p(c),
                               by=b.pro("alice")), Invalid, "target_guardian_id"),
    "erase by a parent without gezag":
        (lambda a, b, c: _call(a, rights.erase, c["youth"], **{**_p(c),
                                                              "guardian_id": c["father"]}),
         Refused, "guardian_id"),
    "restrict for no reason the law knows":
        (lambda a, b, c: _call(a, rights.restrict, c["youth"], **_p(c), reason="zomaar"),
         Invalid, "reason"),
    "restrict an unknown purpose":
        (lambda a, b, c: _call(a, rights.restrict, c["youth"], **_p(c), reason="juistheid",
                               purposes=["tuiszitters"]), Invalid, "purposes"),
    "restrict an unknown category":
        (lambda a, b, c: _call(a, rights.restrict, c["youth"], **_p(c), reason="juistheid",
                               categories=["gezondhied"]), Invalid, "categories"),
    "restrict towards an unknown organisation":
        (lambda a, b, c: _call(a, rights.restrict, c["youth"], **_p(c), reason="juistheid",
                               recipient_ids=[UNKNOWN]), NotFound, "recipient_ids"),
    "restrict until a day in the past":
        (lambda a, b, c: _call(a, rights.restrict, c["youth"], **_p(c), reason="juistheid",
                               ends_on=TODAY), Invalid, "ends_on"),
    "object with an empty refusal":
        (lambda a, b, c: _call(a, rights.object_to, c["youth"], **_p(c), refusal=" "),
         Invalid, "refusal"),
    "lift an unknown request":
        (lambda a, b, c: _call(a, rights.lift_restriction, UNKNOWN, motivation="x",
                               today=TODAY), NotFound, "request"),
    "lift an inzage":
        (lambda a, b, c: _call(a, rights.lift_restriction, c["inzage"], motivation="x",
                               today=TODAY), Invalid, "request"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_is_refused_and_writes_nothing(app, build, name):
    call, error, field = BAD[name]
    ctx = _ctx(app, build)
    before = build.counts()
    with pytest.raises(ServiceError) as exc:
        call(app, build, ctx)
    assert isinstance(exc.value, error), exc.value
    assert exc.value.field == field
    assert exc.value.message
    assert build.counts() == before


def test_lifting_needs_a_motivation_and_a_refused_restriction_has_nothing_to_lift(app, shared):
    refused = _call(app, rights.restrict, shared["youth"], requester="parent",
                    guardian_id=shared["mother"], reason="juistheid", purposes=["meldcode"],
                    today=TODAY)
    assert refused["status"] == "afgewezen"
    assert "wettelijke route" in refused["motivation"]
    honoured = _call(app, rights.restrict, shared["youth"], requester="parent",
                     guardian_id=shared["mother"], reason="juistheid", today=TODAY)
    with app.transaction() as s:
        before = rights.list_requests(unit_of(app, s), shared["youth"])
    with pytest.raises(Refused, match="afgewezen"):
        _call(app, rights.lift_restriction, refused["request"]["id"], motivation="x",
              today=TODAY)
    with pytest.raises(Invalid) as exc:
        _call(app, rights.lift_restriction, honoured["request"]["id"], motivation="",
              today=TODAY)
    assert exc.value.field == "motivation"
    with app.transaction() as s:
        assert rights.list_requests(unit_of(app, s), shared["youth"]) == before
