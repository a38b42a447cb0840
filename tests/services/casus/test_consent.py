"""Consent records: append-only and versioned (a withdrawal is a new version, the old one stays),
withdrawal between meetings, written and prior consent, scope, and concurrent changes."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.services.helpers import outcomes, unit_of

from deelwijs.services.casus import consent
from deelwijs.services.errors import Conflict, Invalid
from deelwijs.storage import orm


def _versions(app, series: str) -> list[orm.ConsentRecord]:
    with app.transaction() as s:
        return list(s.scalars(select(orm.ConsentRecord).where(orm.ConsentRecord.series == series)
                              .order_by(orm.ConsentRecord.version)))


def test_a_withdrawal_is_a_new_version_and_the_old_version_stays(app, build):
    youth = build.youth()
    mother, _ = build.guardians(youth)
    series = build.consent(youth, "parent", guardian_id=mother, given_on=dt.date(2024, 2, 1))
    [v1] = _versions(app, series)

    assert build.change_consent(series, 1, "withdrawn", dt.date(2024, 3, 10)) == 2
    assert build.change_consent(series, 2, "given", dt.date(2024, 4, 1)) == 3

    rows = _versions(app, series)
    assert [(r.version, r.answer, r.given_on) for r in rows] == [
        (1, "given", dt.date(2024, 2, 1)),
        (2, "withdrawn", dt.date(2024, 3, 10)),
        (3, "given", dt.date(2024, 4, 1))]
    assert (rows[0].id, rows[0].recorded_at, rows[0].answer) == (v1.id, v1.recorded_at, "given")
    assert {(r.role, r.guardian_id, tuple(r.purposes), tuple(r.categories)) for r in rows} == {
        ("parent", mother, ("oza",), ("gedrag",))}
    with app.transaction() as s:
        history = consent.history(unit_of(app, s), youth)
    assert [(h["version"], h["answer"]) for h in history] == [(1, "given"), (2, "withdrawn"),
                                                              (3, "given")]


def test_consent_withdrawn_between_two_meetings_allows_the_first_and_denies_the_second(
        app, build):
    youth = build.youth()
    case = build.case("TOM-tafel", youth_id=youth)
    first = build.meeting(case, dt.date(2024, 3, 1))
    second = build.meeting(case, dt.date(2024, 4, 1))
    mother_series, _ = build.parents_consent(youth, given_on=dt.date(2024, 2, 1))

    allowed = build.disclose("alice", "leerplicht", {"gedrag": "Onrustig in de klas"},
                             dt.date(2024, 3, 1), case_id=case, meeting_id=first,
                             kind="minute")
    build.change_consent(mother_series, 1, "withdrawn", dt.date(2024, 3, 10))
    denied = build.disclose("alice", "leerplicht", {"gedrag": "Slaat andere kinderen"},
                            dt.date(2024, 4, 1), case_id=case, meeting_id=second,
                            kind="minute")

    one, two = build.disclosure_view(allowed), build.disclosure_view(denied)
    assert one["items"] == [{"data": "gedrag", "outcome": "allow", "codes": ["CONSENT"],
                             "rules": ["public.inside_information", "consent.under_12"],
                             "content": "Onrustig in de klas"}]
    assert two["outcome"] == "deny"
    assert two["items"][0]["codes"] == ["CONSENT_MISSING"]
    assert two["items"][0]["content"] is None
    facts = build.facts("alice", "leerplicht", ["gedrag"], dt.date(2024, 4, 1), case_id=case,
                        meeting_id=second)
    assert facts[0]["consent"]["withdrawn"] is True
    # a withdrawal works from then on: the first meeting's disclosure stays lawful
    assert outcomes(build.decide("alice", "leerplicht", ["gedrag"], dt.date(2024, 3, 1),
                                 case_id=case, meeting_id=first)) == {
        "gedrag": ("allow", ["CONSENT"])}


def test_oral_consent_is_not_valid_where_written_consent_is_required(build):
    youth = build.youth()
    case = build.case("oza", youth_id=youth)
    build.parents_consent(youth, given_on=dt.date(2024, 2, 1), written=False)
    day = dt.date(2024, 3, 1)
    assert build.facts("alice", "leerplicht", ["gedrag"], day,
                       case_id=case)[0]["consent"]["written"] is False
    assert outcomes(build.decide("alice", "leerplicht", ["gedrag"], day, case_id=case)) == {
        "gedrag": ("deny", ["CONSENT_MISSING"])}


def test_consent_given_on_the_day_of_the_meeting_is_not_prior_and_the_day_before_is(build):
    late, early = build.youth(), build.youth(name="Noor Jansen")
    meeting_day = dt.date(2024, 3, 1)
    results = {}
    for youth, given_on in ((late, meeting_day), (early, meeting_day - dt.timedelta(days=1))):
        case = build.case("oza", youth_id=youth)
        meeting = build.meeting(case, meeting_day)
        build.parents_consent(youth, given_on=given_on)
        facts = build.facts("alice", "leerplicht", ["gedrag"], meeting_day, case_id=case,
                            meeting_id=meeting)
        decision = build.decide("alice", "leerplicht", ["gedrag"], meeting_day, case_id=case,
                                meeting_id=meeting)
        results[youth] = (facts[0]["consent"]["prior"], outcomes(decision)["gedrag"])
    assert results[late] == (False, ("deny", ["CONSENT_MISSING"]))
    assert results[early] == (True, ("allow", ["CONSENT"]))


def test_consent_said_to_be_prior_to_a_meeting_must_be_dated_before_it(build):
    youth = build.youth()
    case = build.case("oza", youth_id=youth)
    meeting = build.meeting(case, dt.date(2024, 3, 1))
    mother, _ = build.guardians(youth)
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        build.consent(youth, "parent", guardian_id=mother, given_on=dt.date(2024, 3, 1),
                      prior_to_meeting_id=meeting)
    assert refused.value.code == "not_prior"
    assert build.counts() == before


def test_consent_covers_only_its_purposes_categories_and_recipients(build):
    youth = build.youth()
    oza = build.case("oza", participants=("leerplicht", "swv"), youth_id=youth)
    thuiszitters = build.case("Thuiszittertafel", participants=("leerplicht",), youth_id=youth)
    build.parents_consent(youth, given_on=dt.date(2024, 2, 1), purposes=["oza"],
                          categories=["gedrag"], recipients=["leerplicht"])
    day = dt.date(2024, 3, 1)
    assert outcomes(build.decide("alice", "leerplicht", ["gedrag", "thuissituatie"], day,
                                 case_id=oza)) == {
        "gedrag": ("allow", ["CONSENT"]), "thuissituatie": ("deny", ["CONSENT_MISSING"])}
    assert outcomes(build.decide("alice", "swv", ["gedrag"], day, case_id=oza)) == {
        "gedrag": ("deny", ["CONSENT_MISSING"])}
    assert outcomes(build.decide("alice", "leerplicht", ["gedrag"], day,
                                 case_id=thuiszitters)) == {
        "gedrag": ("deny", ["CONSENT_MISSING"])}


def test_one_parent_refusing_means_no_consent_from_the_parents(build):
    youth = build.youth()
    mother, father = build.guardians(youth)
    case = build.case("oza", youth_id=youth)
    build.consent(youth, "parent", guardian_id=mother, given_on=dt.date(2024, 2, 1))
    build.consent(youth, "parent", "refused", guardian_id=father, given_on=dt.date(2024, 2, 1))
    facts = build.facts("alice", "leerplicht", ["gedrag"], dt.date(2024, 3, 1), case_id=case)
    assert facts[0]["consent"]["parents"] == "refused"
    assert outcomes(build.decide("alice", "leerplicht", ["gedrag"], dt.date(2024, 3, 1),
                                 case_id=case)) == {"gedrag": ("deny", ["CONSENT_MISSING"])}


def test_a_change_with_a_stale_version_is_a_conflict_and_both_versions_remain(app, build):
    youth = build.youth()
    mother, _ = build.guardians(youth)
    series = build.consent(youth, "parent", guardian_id=mother, given_on=dt.date(2024, 2, 1))
    # two professionals both saw version 1; the first withdraws it
    build.change_consent(series, 1, "withdrawn", dt.date(2024, 3, 1))
    with pytest.raises(Conflict) as conflict:
        build.change_consent(series, 1, "refused", dt.date(2024, 3, 2))
    assert conflict.value.code == "conflict"
    assert conflict.value.field == "expected_version"
    assert "intussen gewijzigd" in conflict.value.message
    assert "laad opnieuw" in conflict.value.message
    assert [(r.version, r.answer) for r in _versions(app, series)] == [(1, "given"),
                                                                       (2, "withdrawn")]


def test_two_changes_racing_past_the_version_check_give_one_conflict_not_two_versions(
        app, build, monkeypatch):
    """Both professionals read version 1 before either saved: the database's unique
    (series, version) makes the slower one a conflict, never a lost or doubled update."""
    youth = build.youth()
    mother, _ = build.guardians(youth)
    series = build.consent(youth, "parent", guardian_id=mother, given_on=dt.date(2024, 2, 1))
    with app.transaction() as s:
        seen_by_second = consent.latest(s, series)  # version 1, read before the first saves
    build.change_consent(series, 1, "withdrawn", dt.date(2024, 3, 1))

    monkeypatch.setattr(consent, "latest", lambda session, series: seen_by_second)
    with pytest.raises(Conflict) as conflict, app.transaction() as s:
        consent.change(unit_of(app, s, today=dt.date(2024, 3, 2)), series, 1, "refused",
                       dt.date(2024, 3, 2))
    assert "tegelijk" in conflict.value.message
    monkeypatch.undo()
    assert [(r.version, r.answer) for r in _versions(app, series)] == [(1, "given"),
                                                                       (2, "withdrawn")]


@pytest.mark.parametrize(("answer", "on", "code"), [
    ("vergeten", dt.date(2024, 3, 1), "unknown_code"),
    ("withdrawn", dt.date(2024, 1, 1), "invalid_date"),
    ("withdrawn", dt.date(2024, 3, 2), "date_in_future"),
], ids=["an unknown answer", "a date before the previous version", "a date after today"])
def test_a_bad_change_is_refused_and_writes_nothing(app, build, answer, on, code):
    youth = build.youth()
    mother, _ = build.guardians(youth)
    series = build.consent(youth, "parent", guardian_id=mother, given_on=dt.date(2024, 2, 1))
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        build.change_consent(series, 1, answer, on, today=dt.date(2024, 3, 1))
    assert refused.value.code == code
    assert build.counts() == before


def test_consent_dated_in_the_future_is_refused(build):
    youth = build.youth()
    mother, _ = build.guardians(youth)
    with pytest.raises(Invalid) as refused:
        build.consent(youth, "parent", guardian_id=mother, given_on=dt.date(2024, 3, 2),
                      today=dt.date(2024, 3, 1))
    assert refused.value.code == "date_in_future"
