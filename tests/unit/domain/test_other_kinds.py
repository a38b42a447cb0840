"""The three other kinds of question: absence_report, consent_required and retention.

Edge cases from shared/spec/decisions.md: the age limits of leerplicht and kwalificatieplicht,
the 16-hours-in-4-weeks threshold, the consent ages 12 and 16, the 2020 change of the
jeugdhulp retention term and "N years after" a 29 February.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deelwijs.domain.engine import add_years, decide
from deelwijs.domain.errors import RequestError
from deelwijs.domain.render import to_json
from deelwijs.domain.request import parse_request
from deelwijs.rules import loader

MODEL = loader.model()
REGION = loader.resolve("voorbeeldregio")


def answer(obj: dict, rs=MODEL) -> dict:
    return to_json(decide(parse_request(obj, rs), rs))


def problems(obj: dict, rs=MODEL) -> dict[str, str]:
    with pytest.raises(RequestError) as exc:
        parse_request(obj, rs)
    return {p.path: p.code for p in exc.value.problems}


# --- absence_report --------------------------------------------------------------------------


def absence(age: int, type_: str = "ongeoorloofd", hours: float = 16, weeks: int = 4,
            startkwalificatie: bool | None = None) -> dict:
    subject: dict = {"age": age}
    if startkwalificatie is not None:
        subject["startkwalificatie"] = startkwalificatie
    return answer({"kind": "absence_report", "subject": subject,
                   "absence": {"type": type_, "unauthorised_hours": hours,
                               "school_weeks": weeks}})


@pytest.mark.parametrize("age", [5, 10, 15, 16, 17])
def test_it_makes_16_hours_in_4_weeks_a_mandatory_report_within_5_working_days(age):
    a = absence(age, hours=16, weeks=4)
    assert (a["duty"], a["deadline_working_days"]) == ("mandatory", 5)
    assert a["grounds"] == ["LEGAL_OBLIGATION"]
    assert a["rules"] == ["absence.threshold"]


@pytest.mark.parametrize(("hours", "weeks"), [(15.5, 4), (15, 1), (16, 5), (40, 6), (0, 1)])
def test_it_makes_absence_below_the_threshold_optional(hours, weeks):
    a = absence(14, hours=hours, weeks=weeks)
    assert (a["duty"], a["deadline_working_days"]) == ("optional", None)
    assert a["rules"] == ["absence.below_threshold"]


@pytest.mark.parametrize("type_", ["luxe", "langdurig_relatief"])
@pytest.mark.parametrize("age", [5, 15, 16, 17])
def test_it_makes_luxe_and_long_relative_absence_mandatory_whatever_the_hours(type_, age):
    a = absence(age, type_, hours=0, weeks=1)
    assert (a["duty"], a["deadline_working_days"]) == ("mandatory", 5)


@pytest.mark.parametrize("age", [4, 5, 12, 16, 17, 18, 30])
def test_it_never_reports_illness(age):
    assert absence(age, "ziekte")["duty"] == "none"


@pytest.mark.parametrize("age", [5, 15, 17])
def test_it_makes_a_suspicion_of_unauthorised_absence_optional(age):
    assert absence(age, "vermoeden_ongeoorloofd")["duty"] == "optional"


@pytest.mark.parametrize("type_", ["ongeoorloofd", "luxe", "vermoeden_ongeoorloofd"])
@pytest.mark.parametrize("age", [18, 20, 22])
def test_it_leaves_reporting_an_adult_without_startkwalificatie_to_the_rmc(type_, age):
    a = absence(age, type_, hours=40, weeks=1)
    assert (a["duty"], a["grounds"], a["rules"]) == ("optional", ["PUBLIC_TASK"],
                                                     ["absence.adult_rmc"])


@pytest.mark.parametrize("age", [18, 22])
def test_prolonged_absence_of_an_adult_without_startkwalificatie_is_mandatory_for_the_rmc(age):
    """Contract 1.1, change 8: an FG judgement, as regional leerplicht offices list it."""
    a = absence(age, "langdurig_relatief", hours=120, weeks=5)
    assert (a["duty"], a["deadline_working_days"], a["rules"]) == (
        "mandatory", 5, ["absence.rmc_prolonged"])


@pytest.mark.parametrize("type_", ["ongeoorloofd", "luxe", "langdurig_relatief",
                                   "vermoeden_ongeoorloofd"])
@pytest.mark.parametrize("age", [23, 30])
def test_there_is_no_duty_from_23(type_, age):
    """Contract 1.1, change 8: no leerplicht, kwalificatieplicht or RMC task from 23."""
    a = absence(age, type_, hours=40, weeks=1)
    assert (a["duty"], a["grounds"], a["rules"]) == ("none", [], ["absence.from_rmc_age"])


@pytest.mark.parametrize("age", [5, 15])
def test_a_startkwalificatie_does_not_end_leerplicht_below_16(age):
    assert absence(age, "luxe", startkwalificatie=True)["duty"] == "mandatory"


@pytest.mark.parametrize("age", [0, 4])
def test_it_has_no_duty_below_5(age):
    a = absence(age, "luxe", hours=40, weeks=1)
    assert (a["duty"], a["grounds"], a["rules"]) == ("none", [], ["absence.no_duty"])


@pytest.mark.parametrize("age", [16, 17, 18, 25])
def test_it_has_no_duty_with_a_startkwalificatie(age):
    assert absence(age, "luxe", startkwalificatie=True)["duty"] == "none"


def test_it_needs_hours_and_weeks_for_unauthorised_absence_only():
    req = {"kind": "absence_report", "subject": {"age": 12},
           "absence": {"type": "ongeoorloofd"}}
    assert problems(req) == {"request.absence.unauthorised_hours": "missing_field",
                             "request.absence.school_weeks": "missing_field"}
    luxe = {"kind": "absence_report", "subject": {"age": 12}, "absence": {"type": "luxe"}}
    assert answer(luxe)["duty"] == "mandatory"


@pytest.mark.parametrize(("field", "value", "code"), [
    ("unauthorised_hours", -1, "out_of_range"),
    ("unauthorised_hours", "16", "wrong_type"),
    ("unauthorised_hours", True, "wrong_type"),
    ("school_weeks", 0, "out_of_range"),
    ("school_weeks", 2.5, "wrong_type"),
])
def test_it_refuses_impossible_hours_and_weeks(field, value, code):
    absence_ = {"type": "ongeoorloofd", "unauthorised_hours": 16, "school_weeks": 4,
                field: value}
    req = {"kind": "absence_report", "subject": {"age": 12}, "absence": absence_}
    assert problems(req) == {f"request.absence.{field}": code}


# --- consent_required ------------------------------------------------------------------------


@pytest.mark.parametrize(("age", "required", "rule"), [
    (0, ["parents"], "consent.under_12"),
    (11, ["parents"], "consent.under_12"),
    (12, ["parents", "youth"], "consent.age_12_15"),
    (15, ["parents", "youth"], "consent.age_12_15"),
    (16, ["youth"], "consent.from_16"),
    (17, ["youth"], "consent.from_16"),
    (30, ["youth"], "consent.from_16"),
])
def test_it_names_whose_consent_the_age_requires(age, required, rule):
    for rs in (MODEL, REGION):  # consent ages are a legal limit: a region has the same
        a = answer({"kind": "consent_required", "subject": {"age": age}}, rs)
        assert a["required"] == required
        assert a["rules"] == ["consent_required.who", rule]
        assert str(age) in a["explanation"]


@pytest.mark.parametrize("age", [-1, 31, 12.0, "12", True, None])
def test_it_refuses_an_age_outside_0_to_30_or_not_a_whole_number(age):
    codes = problems({"kind": "consent_required", "subject": {"age": age}})
    assert set(codes) == {"request.subject.age"}
    assert codes["request.subject.age"] in ("out_of_range", "wrong_type")


def test_it_refuses_disclosure_fields_on_a_consent_question():
    codes = problems({"kind": "consent_required", "subject": {"age": 12, "anonymous": True}})
    assert codes == {"request.subject.anonymous": "unknown_field"}


# --- retention -------------------------------------------------------------------------------


def retention(record: str, ended_on: str, rs=MODEL) -> dict:
    return answer({"kind": "retention", "record": record, "ended_on": ended_on}, rs)


@pytest.mark.parametrize(("record", "ended_on", "keep_until", "term"), [
    ("leerlingdossier", "2021-03-01", "2023-03-01", "maximum"),
    ("verzuimregistratie", "2021-03-01", "2026-03-01", "maximum"),
    ("verwijzing_so", "2021-03-01", "2024-03-01", "maximum"),
    ("casusoverleg_verslag", "2021-03-01", "2023-03-01", "maximum"),
    ("jeugdhulpdossier", "2021-03-01", "2041-03-01", "minimum"),
])
def test_it_keeps_each_record_for_its_legal_term(record, ended_on, keep_until, term):
    a = retention(record, ended_on)
    assert (a["keep_until"], a["term"]) == (keep_until, term)
    assert a["rule"] == f"retention.{record}"


def test_it_keeps_a_jeugdhulpdossier_closed_before_2020_for_15_years():
    last_old = retention("jeugdhulpdossier", "2019-12-31")
    first_new = retention("jeugdhulpdossier", "2020-01-01")
    assert (last_old["keep_until"], last_old["years"]) == ("2034-12-31", 15)
    assert last_old["rule"] == "retention.jeugdhulpdossier_voor_2020"
    assert (first_new["keep_until"], first_new["years"]) == ("2040-01-01", 20)
    assert first_new["rule"] == "retention.jeugdhulpdossier"


@pytest.mark.parametrize(("record", "ended_on", "keep_until"), [
    ("leerlingdossier", "2020-02-29", "2022-02-28"),
    ("verzuimregistratie", "2024-02-29", "2029-02-28"),
    ("verwijzing_so", "2016-02-29", "2019-02-28"),
    ("jeugdhulpdossier", "2016-02-29", "2031-02-28"),  # before 2020: 15 years
    ("jeugdhulpdossier", "2020-02-29", "2040-02-29"),  # 2040 is a leap year again
    ("leerlingdossier", "2020-02-28", "2022-02-28"),
    ("leerlingdossier", "2020-03-01", "2022-03-01"),
])
def test_it_moves_29_february_to_28_february_only_where_the_day_does_not_exist(
        record, ended_on, keep_until):
    assert retention(record, ended_on)["keep_until"] == keep_until


def test_it_keeps_casusoverleg_minutes_for_the_regions_own_term():
    a = retention("casusoverleg_verslag", "2020-02-29", REGION)
    assert (a["keep_until"], a["years"]) == ("2021-02-28", 1)
    assert a["ruleset"]["id"] == "voorbeeldregio"


@given(day=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2999, 12, 31)),
       years=st.integers(0, 120))
def test_add_years_keeps_day_and_month_except_a_missing_29_february(day, years):
    later = add_years(day, years)
    assert later.year == day.year + years
    if (day.month, day.day) == (2, 29) and later.day != 29:
        assert (later.month, later.day) == (2, 28)
        with pytest.raises(ValueError):
            dt.date(later.year, 2, 29)
    else:
        assert (later.month, later.day) == (day.month, day.day)


@pytest.mark.parametrize("ended_on", ["2021-02-30", "2021-3-1", "20210301", "01-03-2021",
                                      "2021-03-01T00:00", ""])
def test_it_refuses_a_date_that_is_not_an_iso_day(ended_on):
    codes = problems({"kind": "retention", "record": "leerlingdossier", "ended_on": ended_on})
    assert codes == {"request.ended_on": "bad_date"}


def test_it_refuses_an_unknown_record_with_a_suggestion():
    with pytest.raises(RequestError) as exc:
        parse_request({"kind": "retention", "record": "leerlingendossier",
                       "ended_on": "2021-03-01"}, MODEL)
    [p] = exc.value.problems
    assert (p.path, p.code) == ("request.record", "unknown_code")
    assert "'leerlingdossier'" in p.message


@pytest.mark.parametrize(("record", "ended_on"), [("jeugdhulpdossier", "9990-01-01"),
                                                  ("leerlingdossier", "9999-12-31")])
def test_it_refuses_or_answers_a_day_whose_term_ends_after_9999_but_never_crashes(record,
                                                                                 ended_on):
    obj = {"kind": "retention", "record": record, "ended_on": ended_on}
    try:
        req = parse_request(obj, MODEL)
    except RequestError as exc:
        assert [p.path for p in exc.problems] == ["request.ended_on"]
        return
    decide(req, MODEL)


def test_a_statutory_power_asks_to_keep_the_weighing_on_file_not_to_make_one():
    """LEGAL_POWER is a ground only once the weighing is documented (contract 1.1, change 6)."""
    from deelwijs.domain.contract import decide_payload
    from deelwijs.rules import loader

    base = {"discloser": {"party": "jgz"}, "recipient": {"party": "raad"},
            "subject": {"age": 7}, "purpose": "raadsonderzoek", "data": ["gezondheid"],
            "exceptions": {"weighing_documented": True}}
    answer = decide_payload(base, loader.model())
    assert answer["obligations"] == ["LOG_PROCESSING", "DOCUMENT_WEIGHING",
                                     "INFORM_DATA_SUBJECT"]
    assert "bewaar de vastgelegde afweging bij het dossier" in answer["explanation"]
    vital = {**base, "purpose": "eigen_taak", "recipient": {"party": "school"},
             "exceptions": {"vital_interest": True}}
    assert "leg uw afweging schriftelijk vast" in decide_payload(vital, loader.model())[
        "explanation"]

