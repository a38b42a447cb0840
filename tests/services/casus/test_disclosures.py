"""Disclosures: the service asks the engine with the stored facts and records the full
decision (items, grounds or reasons, rule ids, ruleset digest, who, which hat, when). A denied
item stores nothing of the data and says why, in Dutch. What the purpose does not allow is not
even offered."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from tests.services.helpers import outcomes, unit_of

from deelwijs.domain import codes
from deelwijs.rules import loader
from deelwijs.services.casus import disclosures
from deelwijs.services.covenant import registry
from deelwijs.services.errors import Invalid, NotFound
from deelwijs.storage import orm

DAY = dt.date(2024, 3, 1)


def _text_anywhere(engine, needle: str) -> list[str]:
    """The tables in which `needle` occurs in any column of any row (raw SQL)."""
    found = []
    with engine.connect() as conn:
        for table in orm.Base.metadata.sorted_tables:
            for row in conn.execute(text(f"SELECT * FROM {table.name}")):
                for value in row:
                    raw = value.tobytes() if isinstance(value, memoryview) else value
                    raw = raw if isinstance(raw, bytes) else str(raw).encode()
                    if needle.encode() in raw:
                        found.append(table.name)
    return found


@pytest.fixture
def oza_case(build) -> tuple[int, int]:
    """(youth, case): a TOM-tafel in which the parents consented to sharing behaviour."""
    youth = build.youth()
    case = build.case("TOM-tafel", participants=("leerplicht", "jeugdhulp", "school"),
                      youth_id=youth)
    build.accede("jeugdhulp", case)
    build.parents_consent(youth, given_on=dt.date(2024, 2, 1))
    return youth, case


def test_the_full_decision_is_recorded_with_ruleset_digest_professional_hat_and_date(
        app, build, oza_case):
    youth, case = oza_case
    contents = {"identificatie": "Sem de Vries, groep 7", "gedrag": "Onrustig na de pauze",
                "justitie": "Politiecontact in januari"}
    expected = build.decide("bob", "school", list(contents), DAY, case_id=case,
                            hat="toeleiding")
    disclosure = build.disclose("bob", "school", contents, DAY, case_id=case,
                                hat="toeleiding", kind="minute")
    stored = build.disclosure_view(disclosure)

    digest = loader.resolve("voorbeeldregio").digest
    assert stored["decision"] == expected  # the engine's whole answer, as it was
    assert stored["decision"]["ruleset"]["digest"] == stored["ruleset_digest"] == digest
    assert stored["ruleset_version_id"] == build.w.version_id
    assert (stored["professional"], stored["hat"], stored["on"]) == (build.pro("bob"),
                                                                     "toeleiding", "2024-03-01")
    assert (stored["from_org"], stored["to_org"]) == (build.org("jeugdhulp"),
                                                      build.org("school"))
    assert (stored["youth_id"], stored["case_id"], stored["purpose"], stored["kind"],
            stored["outcome"]) == (youth, case, "oza", "minute", "partial")
    items = {i["data"]: i for i in stored["items"]}
    assert (items["identificatie"]["codes"], items["gedrag"]["codes"],
            items["justitie"]["codes"]) == (["PUBLIC_TASK"], ["CONSENT"], ["PURPOSE_MISMATCH"])
    assert items["justitie"]["rules"] == ["purpose.matrix"]
    assert items["gedrag"]["rules"] == ["public.inside_information", "consent.under_12"]
    assert items["gedrag"]["content"] == "Onrustig na de pauze"
    assert items["justitie"]["content"] is None
    assert _text_anywhere(app.engine, "Politiecontact") == []
    with app.transaction() as s:
        row = s.get(orm.Disclosure, disclosure)
        assert row.created_at is not None
        assert disclosures.list_for_youth(unit_of(app, s), youth)[0]["id"] == disclosure


def test_a_denied_disclosure_stores_nothing_of_the_data_and_says_why_in_dutch(
        app, build):
    youth = build.youth()
    case = build.case("oza", youth_id=youth)  # no consent at all
    disclosure = build.disclose("alice", "leerplicht",
                                {"gedrag": "Vertelt over ruzie thuis",
                                 "gezondheid": "Diagnose ADHD"}, DAY, case_id=case)
    stored = build.disclosure_view(disclosure)
    assert stored["outcome"] == "deny"
    assert [(i["data"], i["codes"], i["content"]) for i in stored["items"]] == [
        ("gedrag", ["CONSENT_MISSING"], None), ("gezondheid", ["SPECIAL_CATEGORY"], None)]
    explanation = stored["explanation"]
    assert "Nee, u mag niet delen" in explanation
    assert "geen geldige toestemming" in explanation
    assert all(i["explanation"] for i in stored["decision"]["items"])
    assert _text_anywhere(app.engine, "ruzie thuis") == []
    assert _text_anywhere(app.engine, "ADHD") == []


def test_the_hat_a_professional_wears_decides_and_is_recorded(build, oza_case):
    _, case = oza_case
    as_care = build.disclose("bob", "school", {"identificatie": "Sem"}, DAY, case_id=case,
                             hat="hulpverlening")
    as_access = build.disclose("bob", "school", {"identificatie": "Sem"}, DAY, case_id=case,
                               hat="toeleiding")
    care, access = build.disclosure_view(as_care), build.disclosure_view(as_access)
    assert (care["hat"], care["items"][0]["codes"]) == ("hulpverlening",
                                                        ["PROFESSIONAL_SECRECY"])
    assert (access["hat"], access["items"][0]["codes"]) == ("toeleiding", ["PUBLIC_TASK"])


@pytest.mark.parametrize(("who", "hat"), [("alice", "toeleiding"), ("bob", "coordinatie")],
                         ids=["an IB'er wearing the access hat",
                              "a wijkteamer wearing the coordination hat"])
def test_a_hat_the_professional_may_not_wear_is_refused_and_nothing_is_written(
        build, oza_case, who, hat):
    _, case = oza_case
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        build.disclose(who, "leerplicht", {"identificatie": "Sem"}, DAY, case_id=case, hat=hat)
    assert (refused.value.code, refused.value.field) == ("hat_not_allowed", "hat")
    assert "mag de pet" in refused.value.message
    assert build.counts() == before


def test_categories_the_purpose_does_not_allow_are_not_even_offered(app, build):
    with app.transaction() as s:
        _, ruleset = app.active_ruleset(s, build.w.region_id, DAY)
    model = loader.resolve("model-convenant")
    offered = disclosures.offered_categories(ruleset, "signalering")
    assert offered == ["identificatie", "onderwijspositie", "verzuim", "betrokkenheid",
                       "ondersteuningsbehoefte", "gedrag", "thuissituatie", "veiligheid"]
    # the region narrowed the model: leerresultaten is offered by the model, not here
    assert "leerresultaten" in disclosures.offered_categories(model, "signalering")
    for purpose in (*codes.COVENANT_PURPOSES, *codes.MUNICIPAL_PURPOSES, "eigen_taak"):
        assert "justitie" not in disclosures.offered_categories(ruleset, purpose), purpose
    assert disclosures.offered_categories(ruleset, "verzuimmelding") == [
        "identificatie", "onderwijspositie", "verzuim"]
    assert disclosures.offered_categories(ruleset, "ots") == list(codes.CATEGORIES)


@pytest.mark.parametrize("purpose", codes.COVENANT_PURPOSES)
def test_what_is_not_offered_is_exactly_what_the_engine_denies_as_purpose_mismatch(
        app, build, purpose):
    youth = build.youth()
    case = build.case(purpose, youth_id=youth)
    build.parents_consent(youth, purposes=[purpose], categories=list(codes.CATEGORIES),
                          given_on=dt.date(2024, 2, 1))
    with app.transaction() as s:
        _, ruleset = app.active_ruleset(s, build.w.region_id, DAY)
    offered = set(disclosures.offered_categories(ruleset, purpose))
    decision = build.decide("alice", "leerplicht", list(codes.CATEGORIES), DAY, case_id=case)
    mismatched = {c for c, (outcome, why) in outcomes(decision).items()
                  if why == ["PURPOSE_MISMATCH"]}
    assert mismatched == set(codes.CATEGORIES) - offered
    assert all(outcomes(decision)[c][0] == "allow" for c in offered)


def test_a_new_ruleset_version_decides_later_disclosures_and_never_rewrites_older_ones(
        app, build):
    youth = build.youth()
    case = build.case("signalering", youth_id=youth)
    build.parents_consent(youth, purposes=["signalering"], categories=["leerresultaten"],
                          given_on=dt.date(2024, 2, 1))
    old = build.disclose("alice", "leerplicht", {"leerresultaten": "Cito E"}, DAY,
                         case_id=case)
    with app.transaction() as s:
        new_version = registry.activate_ruleset(unit_of(app, s),
                                                s.get(orm.Region, build.w.region_id),
                                                "model-convenant", dt.date(2025, 1, 1))
    new = build.disclose("alice", "leerplicht", {"leerresultaten": "Cito E"},
                         dt.date(2025, 2, 1), case_id=case)
    before, after = build.disclosure_view(old), build.disclosure_view(new)
    assert before["ruleset_digest"] == loader.resolve("voorbeeldregio").digest
    assert before["items"][0]["codes"] == ["PURPOSE_MISMATCH"]
    assert after["ruleset_digest"] == new_version.digest == loader.resolve(
        "model-convenant").digest
    assert after["items"][0]["codes"] == ["CONSENT"]
    assert after["items"][0]["content"] == "Cito E"


def test_a_disclosure_in_a_case_serves_the_purpose_of_that_case(build, oza_case):
    _, case = oza_case
    assert build.decide("alice", "leerplicht", ["gedrag"], DAY, case_id=case,
                        purpose="TOM-tafel")["outcome"] == "allow"
    with pytest.raises(Invalid) as refused:
        build.disclose("alice", "leerplicht", {"gedrag": "x"}, DAY, case_id=case,
                       purpose="thuiszitters")
    assert (refused.value.code, refused.value.field) == ("purpose_mismatch", "purpose")


def test_a_meeting_of_another_case_is_not_found(build, oza_case):
    youth, case = oza_case
    other = build.case("oza", youth_id=youth, title="Andere casus")
    meeting = build.meeting(other, DAY)
    with pytest.raises(NotFound) as missing:
        build.disclose("alice", "leerplicht", {"gedrag": "x"}, DAY, case_id=case,
                       meeting_id=meeting)
    assert missing.value.field == "meeting"


def test_another_organisations_case_is_unknown_to_a_discloser(build):
    """Need to know (services/access.py): a professional whose organisation takes no part in
    the case is answered as for a case that does not exist (404), before anything that tells
    of the case (its purpose), and nothing is written."""
    case = build.case("oza", participants=("leerplicht",), youth_id=build.youth())
    before = build.counts()
    answers = []
    for case_id, purpose in ((case, None), (case, "thuiszitters"), (999999, None)):
        with pytest.raises(NotFound) as missing:
            build.disclose("dave", "leerplicht", {"verzuim": "3 dagen"}, dt.date(2024, 3, 1),
                           case_id=case_id, purpose=purpose)
        answers.append((missing.value.field,
                        missing.value.message.replace(str(case_id), "ID")))
        with pytest.raises(NotFound):
            build.decide("dave", "leerplicht", ["verzuim"], dt.date(2024, 3, 1),
                         case_id=case_id, purpose=purpose)
    assert answers == [("case", "onbekende casus (ID)")] * 3
    assert build.counts() == before


def test_inside_a_case_data_goes_only_between_its_participating_organisations(build):
    youth = build.youth()
    case = build.case("oza", participants=("leerplicht",), youth_id=youth)
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        build.disclose("alice", "swv", {"verzuim": "3 dagen"}, dt.date(2024, 3, 1),
                       case_id=case)
    assert (refused.value.code, refused.value.field) == ("not_a_participant", "to_org")
    assert build.counts() == before
