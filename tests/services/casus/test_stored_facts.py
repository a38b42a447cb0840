"""The facts of contract 1.1 that a recorded disclosure takes from what is stored, never from
its caller: the discloser's own accession form and mandate (`discloser.acceded`,
`discloser.mandate`), the youth's startkwalificatie (`subject.startkwalificatie`) and a
complete written weighing for using a statutory power (`exceptions.weighing_documented`)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.services.helpers import TODAY, outcomes, unit_of

from deelwijs.domain.exceptions import QUESTIONS
from deelwijs.domain.labels import WEIGHING_KIND
from deelwijs.services.casus import cases, disclosures, youths
from deelwijs.services.casus import facts as stored_facts
from deelwijs.services.covenant import registry
from deelwijs.services.errors import Invalid, NotFound
from deelwijs.services.log import audit
from deelwijs.services.rights import requests as rights
from deelwijs.storage import orm

DAY = dt.date(2024, 3, 1)
WEIGHED_AT = dt.datetime(2024, 2, 28, 14, 30)
POWER_YES = {key: ("ja" if form == "yes" else "art. 1:240 BW; verzoek van de Raad")
             for key, _question, form in QUESTIONS["statutory_power"]}


def _youth_aged(build, age: int, on: dt.date = DAY, **kwargs) -> int:
    """A youth who is `age` on `on` (created with the given record fields)."""
    birth = on.replace(year=on.year - age) - dt.timedelta(days=30)
    with build.app.transaction() as s:
        region = s.get(orm.Region, build.w.region_id)
        school = s.get(orm.Organisation, build.org("school"))
        return youths.create_youth(unit_of(build.app, s), region, "Noor Jansen", birth,
                                   school=school, guardians=[], **kwargs).id


# --- the discloser's own accession form (contract 1.1, change 1) ---------------------------


@pytest.fixture
def bob_case(build):
    """An oza case in which the wijkteamer (bob) has written prior consent to share with
    leerplicht; his provider signed its accession form but did not make it known (yet)."""
    youth = build.youth()
    case = build.case("oza", participants=("jeugdhulp", "leerplicht"), creator="bob",
                      youth_id=youth)
    form = build.accede("jeugdhulp", case, notified_on=None)
    build.parents_consent(youth, purposes=("oza",), categories=("gedrag",),
                          given_on=DAY - dt.timedelta(days=10))
    return case, form


def test_a_provider_whose_accession_form_is_not_notified_brings_nothing_into_the_overleg(
        app, build, bob_case):
    case, form = bob_case
    [request] = build.facts("bob", "leerplicht", ["gedrag"], DAY, case_id=case)
    assert request["discloser"] == {"party": "jeugdhulp", "acceded": False}
    disclosure = build.disclose("bob", "leerplicht", {"gedrag": "Trekt zich terug"}, DAY,
                                case_id=case)
    view = build.disclosure_view(disclosure)
    assert view["outcome"] == "deny"
    assert outcomes(view["decision"]) == {"gedrag": ("deny", ["NOT_A_PARTY"])}
    assert view["items"][0]["content"] is None  # nothing of the data was kept

    # made known to the participants: from that day the provider is a party
    with app.transaction() as s:
        registry.notify_accession(unit_of(app, s), form, DAY)
    [request] = build.facts("bob", "leerplicht", ["gedrag"], DAY, case_id=case)
    assert request["discloser"] == {"party": "jeugdhulp", "acceded": True}
    assert outcomes(build.decide("bob", "leerplicht", ["gedrag"], DAY, case_id=case)) == {
        "gedrag": ("allow", ["CONSENT"])}
    # ... and not before
    [before] = build.facts("bob", "leerplicht", ["gedrag"], DAY - dt.timedelta(days=1),
                           case_id=case)
    assert before["discloser"]["acceded"] is False


def test_a_discloser_wearing_the_colleges_hat_is_judged_as_the_college(app, build, bob_case):
    case, _form = bob_case
    [request] = build.facts("bob", "leerplicht", ["gedrag"], DAY, case_id=case,
                            hat="toeleiding")
    # the facts are the provider's own; the engine judges the hat (the college is a party)
    assert request["discloser"] == {"party": "jeugdhulp", "hat": "toeleiding",
                                    "acceded": False}
    decision = build.decide("bob", "leerplicht", ["gedrag"], DAY, case_id=case,
                            hat="toeleiding")
    assert all("NOT_A_PARTY" not in i["reasons"] for i in decision["items"])


def test_an_accession_form_for_another_case_does_not_make_the_discloser_a_party(app, build,
                                                                                  bob_case):
    case, _form = bob_case
    with app.transaction() as s:
        youth_id = cases.get_case(s, case).youth_id
    other = build.case("oza", participants=("jeugdhulp", "leerplicht"), creator="bob",
                       youth_id=youth_id, title="Andere casus")
    build.accede("jeugdhulp", other)  # signed and made known: but in the other case
    [request] = build.facts("bob", "leerplicht", ["gedrag"], DAY, case_id=case)
    assert request["discloser"]["acceded"] is False


# --- the discloser school board's mandate --------------------------------------------------


def test_a_school_without_a_mandate_brings_nothing_into_the_overleg(app, build, world):
    youth = build.youth()
    case = build.case("oza", participants=("leerplicht", "swv"), youth_id=youth)
    [request] = build.facts("alice", "leerplicht", ["verzuim"], DAY, case_id=case)
    assert request["discloser"] == {"party": "school", "mandate": True}
    assert outcomes(build.decide("alice", "leerplicht", ["verzuim"], DAY, case_id=case)) == {
        "verzuim": ("allow", ["PUBLIC_TASK"])}

    revoked_on = DAY - dt.timedelta(days=1)
    with app.transaction() as s:
        registry.revoke_mandate(unit_of(app, s), world.mandate_id, revoked_on)
    [request] = build.facts("alice", "leerplicht", ["verzuim"], DAY, case_id=case)
    assert request["discloser"] == {"party": "school", "mandate": False}
    disclosure = build.disclose("alice", "leerplicht", {"verzuim": "12 uur"}, DAY,
                                case_id=case)
    assert outcomes(build.disclosure_view(disclosure)["decision"]) == {
        "verzuim": ("deny", ["NOT_A_PARTY"])}
    # the day before the revocation took effect the mandate still held
    [earlier] = build.facts("alice", "leerplicht", ["verzuim"], revoked_on - dt.timedelta(days=1),
                            case_id=case)
    assert earlier["discloser"]["mandate"] is True
    # outside the overleg the school still reports absence on its own legal duty
    assert outcomes(build.decide("alice", "leerplicht", ["verzuim"], DAY, youth_id=youth,
                                 purpose="verzuimmelding")) == {
        "verzuim": ("allow", ["LEGAL_OBLIGATION"])}
    [request] = build.facts("alice", "leerplicht", ["verzuim"], DAY, youth_id=youth,
                            purpose="verzuimmelding")
    assert request["discloser"]["mandate"] is False  # read without a case too


def test_a_school_that_signed_itself_needs_no_mandate(app, build, world):
    youth = build.youth()
    case = build.case("oza", participants=("leerplicht", "swv"), youth_id=youth)
    with app.transaction() as s:
        u = unit_of(app, s)
        registry.revoke_mandate(u, world.mandate_id, DAY - dt.timedelta(days=1))
        school = s.get(orm.Organisation, build.org("school"))
        registry.sign_covenant(u, school, s.get(orm.RulesetVersion, world.version_id),
                               DAY - dt.timedelta(days=1))
    [request] = build.facts("alice", "leerplicht", ["verzuim"], DAY, case_id=case)
    assert request["discloser"]["mandate"] is True


# --- the youth's startkwalificatie (contract 1.1, change 7) --------------------------------


def test_a_seventeen_year_old_with_a_startkwalificatie_is_not_reported_for_absence(build):
    with_diploma = _youth_aged(build, 17, startkwalificatie=True)
    without = _youth_aged(build, 17)
    ask = {"purpose": "verzuimmelding"}
    [request] = build.facts("alice", "leerplicht", ["verzuim"], DAY, youth_id=with_diploma,
                            **ask)
    assert request["subject"]["startkwalificatie"] is True
    assert request["subject"]["age"] == 17
    disclosure = build.disclose("alice", "leerplicht", {"verzuim": "20 uur"}, DAY,
                                youth_id=with_diploma, **ask)
    assert outcomes(build.disclosure_view(disclosure)["decision"]) == {
        "verzuim": ("deny", ["PURPOSE_MISMATCH"])}

    [request] = build.facts("alice", "leerplicht", ["verzuim"], DAY, youth_id=without, **ask)
    assert request["subject"]["startkwalificatie"] is False
    assert outcomes(build.decide("alice", "leerplicht", ["verzuim"], DAY, youth_id=without,
                                 **ask)) == {"verzuim": ("allow", ["LEGAL_OBLIGATION"])}


def test_a_case_disclosure_carries_the_youths_startkwalificatie_too(build):
    youth = _youth_aged(build, 17, startkwalificatie=True)
    case = build.case("oza", participants=("leerplicht", "swv"), youth_id=youth)
    [request] = build.facts("alice", "leerplicht", ["verzuim"], DAY, case_id=case)
    assert request["subject"]["startkwalificatie"] is True


def test_an_anonymous_case_knows_no_startkwalificatie(build):
    case = build.case("oza", participants=("leerplicht", "swv"))
    [request] = build.facts("alice", "leerplicht", ["verzuim"], DAY, case_id=case)
    assert request["subject"] == {"age": 0, "anonymous": True, "startkwalificatie": False}


def test_creating_a_youth_sets_the_startkwalificatie_and_the_view_shows_it(app, build):
    with_diploma = _youth_aged(build, 18, startkwalificatie=True)
    default = _youth_aged(build, 18)
    with app.transaction() as s:
        rows = {y: s.get(orm.Youth, y) for y in (with_diploma, default)}
        assert (rows[with_diploma].startkwalificatie, rows[default].startkwalificatie) == (
            True, False)
        assert youths.youth_view(app.keys, rows[with_diploma], TODAY)["startkwalificatie"]
        region = s.get(orm.Region, build.w.region_id)
    before = build.counts()
    with app.transaction() as s, pytest.raises(Invalid) as wrong:
        youths.create_youth(unit_of(app, s), region, "Noor Jansen", dt.date(2008, 1, 1),
                            startkwalificatie="ja")
    assert (wrong.value.code, wrong.value.field) == ("wrong_type", "startkwalificatie")
    assert build.counts() == before


def test_a_correction_of_the_startkwalificatie_changes_the_next_decision_and_is_logged(
        app, build):
    youth = _youth_aged(build, 17)
    alice = build.pro("alice")
    ask = {"youth_id": youth, "purpose": "verzuimmelding"}
    assert outcomes(build.decide("alice", "leerplicht", ["verzuim"], DAY, **ask)) == {
        "verzuim": ("allow", ["LEGAL_OBLIGATION"])}
    with app.transaction() as s:
        out = rights.rectify(unit_of(app, s, by=alice, today=DAY), youth, "startkwalificatie",
                             "Ja", requester="youth")
    assert (out["correction"]["field"], out["correction"]["old"], out["correction"]["new"]) == (
        "startkwalificatie", "nee", "ja")
    assert out["request"]["kind"] == "rectificatie"
    assert outcomes(build.decide("alice", "leerplicht", ["verzuim"], DAY, **ask)) == {
        "verzuim": ("deny", ["PURPOSE_MISMATCH"])}
    with app.transaction() as s:
        entries = [audit.entry_view(r) for r in audit.entries_for_youth(unit_of(app, s), youth)]
        history = rights.correction_views(s, app, s.get(orm.Youth, youth))
    corrected = [e for e in entries if e["actie"] == "correct"]
    assert [e["handelingNaam"] for e in corrected] == [
        "Corrigeren startkwalificatie (diploma havo, vwo of mbo-2)"]
    assert [(h["field"], h["old"], h["new"]) for h in history] == [
        ("startkwalificatie", "nee", "ja")]
    # the inzage shows the field as it stands now
    with app.transaction() as s:
        shown = rights.inzage(unit_of(app, s, today=DAY), youth, requester="youth")
    assert shown["jongere"]["startkwalificatie"] is True

    before = build.counts()
    for value, code in (("ja", "no_change"), ("misschien", "wrong_type")):
        with app.transaction() as s, pytest.raises(Invalid) as refused:
            rights.rectify(unit_of(app, s, by=alice, today=DAY), youth, "startkwalificatie",
                           value, requester="youth")
        assert (refused.value.code, refused.value.field) == (code, "value")
    assert build.counts() == before


def test_shredding_a_youth_forgets_the_startkwalificatie(app, build):
    youth = _youth_aged(build, 19, startkwalificatie=True)
    with app.transaction() as s:
        assert rights.shred_youth(s, s.get(orm.Youth, youth), "Test: wissen")
    with app.transaction() as s:
        assert s.get(orm.Youth, youth).startkwalificatie is False


# --- a weighing for using a statutory power (contract 1.1, change 6) -----------------------


@pytest.fixture
def raad(app, build, world) -> dict[str, int]:
    """Two Raad organisations in the region, and a youth of 11 known to the JGZ."""
    with app.transaction() as s:
        region = s.get(orm.Region, world.region_id)
        ids = {name: registry.create_organisation(
            unit_of(app, s), region, "raad", f"Raad voor de Kinderbescherming, {name}").id
            for name in ("locatie Noord", "locatie Zuid")}
    return {"noord": ids["locatie Noord"], "zuid": ids["locatie Zuid"], "youth": build.youth()}


def _power(app, build, youth: int, answers: dict, *, by: str = "erin", to=(), data=(),
           at: dt.datetime = WEIGHED_AT, valid_until: dt.date | None = None) -> dict:
    with app.transaction() as s:
        row = cases.record_youth_weighing(
            unit_of(app, s, by=build.pro(by)), youth, "statutory_power", answers, at,
            to_org_ids=list(to), categories=list(data), valid_until=valid_until)
        return cases.weighing_view(s, row, answers)


def _to_raad(app, build, raad, to: int, data, day: dt.date = DAY, who: str = "erin",
             decide: bool = False):
    """The request (or decision) for a disclosure about the youth on the raadsonderzoek
    route, without a case."""
    with app.transaction() as s:
        _, decision, facts = disclosures.decide_stored(
            unit_of(app, s, by=build.pro(who)), to_org_id=to, categories=list(data),
            day=day, youth_id=raad["youth"], purpose="raadsonderzoek")
    return decision if decide else facts["requests"][0]


def _documented(app, build, raad, to, data, day=DAY, who="erin") -> bool:
    request = _to_raad(app, build, raad, to, data, day, who)
    return request["exceptions"]["weighing_documented"]


def test_without_a_weighing_the_jgz_keeps_its_secrecy_towards_the_raad(app, build, raad):
    assert _documented(app, build, raad, raad["noord"], ["thuissituatie"]) is False
    decision = _to_raad(app, build, raad, raad["noord"], ["thuissituatie"], decide=True)
    assert outcomes(decision) == {"thuissituatie": ("deny", ["PROFESSIONAL_SECRECY"])}


def test_a_complete_weighing_counts_only_for_its_recipients_data_dates_and_organisation(
        app, build, raad):
    out = _power(app, build, raad["youth"], POWER_YES, to=[raad["noord"]],
                 data=["thuissituatie", "veiligheid"], valid_until=dt.date(2024, 6, 30))
    assert (out["complete"], out["kind"], out["label"], out["youth_id"], out["case_id"]) == (
        True, "statutory_power", WEIGHING_KIND["statutory_power"], raad["youth"], None)
    assert out["problems"] == [] and out["unanswered"] == []

    noord = raad["noord"]
    assert _documented(app, build, raad, noord, ["thuissituatie"]) is True
    assert _documented(app, build, raad, noord, ["thuissituatie", "veiligheid"]) is True
    decision = _to_raad(app, build, raad, noord, ["thuissituatie"], decide=True)
    assert outcomes(decision) == {"thuissituatie": ("allow", ["LEGAL_POWER"])}
    assert "DOCUMENT_WEIGHING" in decision["obligations"]
    # not for data it did not weigh, another recipient, before it was made, after its end
    assert _documented(app, build, raad, noord, ["thuissituatie", "gezondheid"]) is False
    assert _documented(app, build, raad, raad["zuid"], ["thuissituatie"]) is False
    assert _documented(app, build, raad, noord, ["thuissituatie"],
                       day=dt.date(2024, 2, 27)) is False
    assert _documented(app, build, raad, noord, ["thuissituatie"],
                       day=dt.date(2024, 6, 30)) is True
    assert _documented(app, build, raad, noord, ["thuissituatie"],
                       day=dt.date(2024, 7, 1)) is False
    # nor for another organisation: the power, and its weighing, are the JGZ's
    assert _documented(app, build, raad, noord, ["thuissituatie"], who="bob") is False


def test_a_recorded_disclosure_to_the_raad_takes_the_weighing_from_storage(app, build, raad):
    _power(app, build, raad["youth"], POWER_YES, to=[raad["noord"]], data=["thuissituatie"])
    with app.transaction() as s:
        row = disclosures.record(unit_of(app, s, by=build.pro("erin")),
                                 to_org_id=raad["noord"],
                                 contents={"thuissituatie": "Zorgen over de thuissituatie"},
                                 day=DAY, youth_id=raad["youth"], purpose="raadsonderzoek")
        disclosure = row.id
    view = build.disclosure_view(disclosure)
    assert outcomes(view["decision"]) == {"thuissituatie": ("allow", ["LEGAL_POWER"])}
    assert view["items"][0]["content"] == "Zorgen over de thuissituatie"


@pytest.mark.parametrize("change", ["one yes/no question no", "one question unanswered"])
def test_an_incomplete_statutory_power_weighing_does_not_count(app, build, raad, change):
    answers = dict(POWER_YES)
    if change.endswith("no"):
        answers["necessary"] = "nee"
    else:
        del answers["no_lighter_way"]
    out = _power(app, build, raad["youth"], answers, to=[raad["noord"]],
                 data=["thuissituatie"])
    assert out["complete"] is False and out["problems"]
    assert _documented(app, build, raad, raad["noord"], ["thuissituatie"]) is False


def test_a_statutory_power_is_weighed_about_the_youth_and_a_case_exception_in_a_case(
        app, build, raad):
    case = build.case("oza", participants=("jgz", "leerplicht"), creator="erin",
                      youth_id=raad["youth"])
    before = build.counts()
    with app.transaction() as s, pytest.raises(Invalid) as in_case:
        cases.record_exception(unit_of(app, s, by=build.pro("erin")), cases.get_case(s, case),
                               "statutory_power", POWER_YES,
                               WEIGHED_AT,
                               to_org_ids=[build.org("leerplicht")], categories=["veiligheid"])
    assert (in_case.value.code, in_case.value.field) == ("not_in_case", "kind")
    assert "youth weighing record" in in_case.value.message
    with app.transaction() as s, pytest.raises(Invalid) as about_youth:
        cases.record_youth_weighing(unit_of(app, s, by=build.pro("erin")), raad["youth"],
                                    "conflict_of_duties", {},
                                    WEIGHED_AT,
                                    to_org_ids=[raad["noord"]], categories=["veiligheid"])
    assert (about_youth.value.code, about_youth.value.field) == ("in_case_only", "kind")
    assert build.counts() == before


def test_a_statutory_power_weighing_names_what_it_weighs_and_stays_in_the_region(
        app, build, raad):
    before = build.counts()
    problems = [
        ({"to": [], "data": ["veiligheid"]}, Invalid, "to_org_ids"),
        ({"to": [raad["noord"]], "data": []}, Invalid, "categories"),
        ({"to": [raad["noord"]], "data": ["gezondhied"]}, Invalid, "categories"),
        ({"to": [999_999], "data": ["veiligheid"]}, NotFound, "to_org_ids"),
        ({"to": [raad["noord"]], "data": ["veiligheid"], "valid_until": dt.date(2024, 1, 1)},
         Invalid, "valid_until"),
    ]
    for kwargs, error, field in problems:
        with pytest.raises(error) as refused:
            _power(app, build, raad["youth"], POWER_YES, **kwargs)
        assert refused.value.field == field, kwargs
    with pytest.raises(Invalid) as unknown:
        _power(app, build, raad["youth"], {**POWER_YES, "gevoel": "ja"}, to=[raad["noord"]],
               data=["veiligheid"])
    assert unknown.value.field == "answers"
    assert build.counts() == before


def test_the_answers_of_a_weighing_about_a_youth_are_encrypted_with_the_youths_key(
        app, build, raad):
    out = _power(app, build, raad["youth"], POWER_YES, to=[raad["noord"]],
                 data=["thuissituatie"])
    assert {a["key"]: a["answer"] for a in out["answers"]} == POWER_YES
    with app.transaction() as s:
        row = s.scalars(select(orm.ExceptionRecord)
                        .where(orm.ExceptionRecord.id == out["id"])).one()
        assert row.answers == [] and row.answers_enc is not None
        assert b"1:240" not in row.answers_enc


# --- one query, the same on the fast path ---------------------------------------------------


def test_the_fact_query_without_a_case_gives_sqlalchemys_rows_on_the_fast_path(
        app, build, raad):
    from deelwijs.storage import fast

    _power(app, build, raad["youth"], POWER_YES, to=[raad["noord"]], data=["thuissituatie"])
    shape = stored_facts.Shape(False, False, False, True, True, True, True)
    stmt = stored_facts.stored_facts_query(shape)
    params = {"org_id": build.org("school"), "from_org_id": build.org("jgz"), "case_id": None,
              "youth_id": raad["youth"], "day": DAY}
    with app.transaction() as s:
        conn = s.connection()
        expected = [tuple(r) for r in conn.execute(stmt, params)]
        got = [tuple(r) for r in fast.execute(conn, stmt, params)]
    assert got == expected
    facts = dict(zip(stmt.selected_columns.keys(), expected[0], strict=False))
    assert bool(facts["statutory_power"]) is True and bool(facts["mandate"]) is True
    assert bool(facts["from_mandate"]) is False  # the JGZ is no school board
