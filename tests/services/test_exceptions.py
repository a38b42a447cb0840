"""Documented exceptions: only a complete written weighing makes the engine's fact true."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from deelwijs.domain.exceptions import QUESTIONS
from deelwijs.services.casus import cases
from deelwijs.services.casus.youth_text import Texts
from deelwijs.services.errors import Invalid
from deelwijs.storage import orm

from .helpers import outcomes, unit_of

DAY = dt.date(2024, 3, 1)
ALL_YES = {key: "ja" for key, _question, _form in QUESTIONS["conflict_of_duties"]}


def _weigh(app, build, case: int, answers: dict, kind: str = "conflict_of_duties", *,
           to=("leerplicht",), categories=("veiligheid",), valid_until=None
           ) -> orm.ExceptionRecord:
    with app.transaction() as s:
        return cases.record_exception(unit_of(app, s, by=build.pro("erin")),
                                      cases.get_case(s, case), kind, answers,
                                      dt.datetime(2024, 2, 28, 14, 30),
                                      to_org_ids=[build.org(o) for o in to],
                                      categories=list(categories), valid_until=valid_until)


@pytest.fixture
def jgz_case(build) -> int:
    """A case in which the JGZ nurse (erin) has a safety signal and no consent. The JGZ has
    acceded to its casusoverleg (a discloser must be a party too: contract 1.1, change 1)."""
    case = build.case("oza", participants=("jgz", "leerplicht"), creator="erin",
                      youth_id=build.youth())
    build.accede("jgz", case)
    return case


def test_without_a_weighing_the_jgz_keeps_its_professional_secrecy(build, jgz_case):
    assert outcomes(build.decide("erin", "leerplicht", ["veiligheid"], DAY,
                                 case_id=jgz_case)) == {
        "veiligheid": ("deny", ["PROFESSIONAL_SECRECY"])}


@pytest.mark.parametrize("answers", [
    {k: v for k, v in ALL_YES.items() if k != "no_other_way"},
    {**ALL_YES, "effective": "nee"},
    {**ALL_YES, "minimum": " "},
], ids=["one question unanswered", "one answer no", "one answer blank"])
def test_an_incomplete_conflict_of_duties_weighing_does_not_count(app, build, jgz_case,
                                                                  answers):
    record = _weigh(app, build, jgz_case, answers)
    assert record.complete is False
    facts = build.facts("erin", "leerplicht", ["veiligheid"], DAY, case_id=jgz_case)
    assert facts[0]["exceptions"]["conflict_of_duties"] == {"documented": False}
    assert outcomes(build.decide("erin", "leerplicht", ["veiligheid"], DAY,
                                 case_id=jgz_case)) == {
        "veiligheid": ("deny", ["PROFESSIONAL_SECRECY"])}


def test_a_complete_conflict_of_duties_weighing_allows_the_jgz_to_share_a_safety_signal(
        app, build, jgz_case):
    record = _weigh(app, build, jgz_case, ALL_YES)
    assert record.complete is True
    decision = build.decide("erin", "leerplicht", ["veiligheid"], DAY, case_id=jgz_case)
    assert outcomes(decision) == {"veiligheid": ("allow", ["CONFLICT_OF_DUTIES"])}
    assert "DOCUMENT_WEIGHING" in decision["obligations"]
    assert "exception.conflict_of_duties" in decision["items"][0]["rules"]

    disclosure = build.disclose("erin", "leerplicht", {"veiligheid": "Suïcideplan genoemd"},
                                DAY, case_id=jgz_case)
    view = build.disclosure_view(disclosure)
    assert view["items"][0]["codes"] == ["CONFLICT_OF_DUTIES"]
    assert view["items"][0]["content"] == "Suïcideplan genoemd"
    with app.transaction() as s:
        stored = s.scalars(select(orm.ExceptionRecord)).one()
        answers = cases.exception_answers(Texts.for_case(s, s.get(orm.Case, jgz_case)), stored)
    # the weighing is kept question by question, with who and when (encrypted with the
    # youth's key: the plain column holds nothing)
    assert stored.answers == [] and stored.answers_enc is not None
    assert [a["key"] for a in answers] == list(ALL_YES)
    assert {(a["answer"], a["by"], a["at"]) for a in answers} == {
        ("ja", build.pro("erin"), "2024-02-28T14:30:00")}
    assert answers[0]["question"] == "Is alles gedaan om toestemming te krijgen?"


def test_a_weighing_counts_only_in_its_own_case(app, build, jgz_case):
    _weigh(app, build, jgz_case, ALL_YES)
    with app.transaction() as s:
        youth_id = cases.get_case(s, jgz_case).youth_id
    other = build.case("oza", participants=("jgz", "leerplicht"), creator="erin",
                       youth_id=youth_id, title="Andere casus")
    build.accede("jgz", other)
    assert outcomes(build.decide("erin", "leerplicht", ["veiligheid"], DAY,
                                 case_id=other)) == {
        "veiligheid": ("deny", ["PROFESSIONAL_SECRECY"])}


def test_a_weighing_of_an_unknown_kind_or_with_an_unknown_question_is_refused(
        app, build, jgz_case):
    before = build.counts()
    with pytest.raises(Invalid) as kind:
        _weigh(app, build, jgz_case, ALL_YES, kind="gevoel")
    assert (kind.value.code, kind.value.field) == ("unknown_code", "kind")
    with pytest.raises(Invalid) as question:
        _weigh(app, build, jgz_case, {**ALL_YES, "mening": "ja"})
    assert (question.value.code, question.value.field) == ("unknown_field", "answers")
    assert build.counts() == before


@pytest.fixture
def wide_jgz_case(build) -> int:
    case = build.case("oza", participants=("jgz", "leerplicht", "gemeente"), creator="erin",
                      youth_id=build.youth())
    build.accede("jgz", case)
    return case


def test_a_weighing_counts_only_for_the_recipient_and_the_data_it_weighed(
        app, build, wide_jgz_case):
    _weigh(app, build, wide_jgz_case, ALL_YES)  # veiligheid, to leerplicht
    assert outcomes(build.decide("erin", "leerplicht", ["veiligheid"], DAY,
                                 case_id=wide_jgz_case)) == {
        "veiligheid": ("allow", ["CONFLICT_OF_DUTIES"])}
    # not for another participant
    assert build.decide("erin", "gemeente", ["veiligheid"], DAY,
                        case_id=wide_jgz_case)["outcome"] == "deny"
    # not for more data than was weighed
    assert build.facts("erin", "leerplicht", ["veiligheid", "gezondheid"], DAY,
                       case_id=wide_jgz_case)[0]["exceptions"]["conflict_of_duties"] == {
        "documented": False}


def test_a_weighing_holds_from_the_day_it_was_made_until_its_end(app, build, wide_jgz_case):
    _weigh(app, build, wide_jgz_case, ALL_YES, valid_until=dt.date(2024, 3, 10))
    def allowed(day):
        return build.decide("erin", "leerplicht", ["veiligheid"], day,
                            case_id=wide_jgz_case)["outcome"] == "allow"
    assert not allowed(dt.date(2024, 2, 27))  # before it was weighed
    assert allowed(dt.date(2024, 2, 28)) and allowed(dt.date(2024, 3, 10))
    assert not allowed(dt.date(2024, 3, 11))  # after its end


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"to": ()}, "to_org_ids"),
    ({"categories": ()}, "categories"),
    ({"to": ("huisarts",)}, "to_org_ids"),
    ({"categories": ("geloof",)}, "categories"),
    ({"valid_until": dt.date(2024, 1, 1)}, "valid_until"),
], ids=["no recipient", "no data", "recipient outside the case", "unknown category",
        "ends before it was made"])
def test_a_breach_of_secrecy_names_what_it_weighed(app, build, wide_jgz_case, kwargs, field):
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        _weigh(app, build, wide_jgz_case, ALL_YES, **kwargs)
    assert refused.value.field == field
    assert build.counts() == before
