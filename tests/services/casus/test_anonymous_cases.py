"""A case discussed anonymously: no identifying data is stored with it, and what is shared
about it carries the ground ANONYMOUS (no personal data flows, no consent is needed)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from tests.services.helpers import outcomes

from deelwijs.services.errors import Invalid


def test_an_anonymous_case_stores_no_youth_and_its_disclosures_are_allowed_as_anonymous(
        app, build):
    case = build.case("Zorg Advies Team", participants=("leerplicht", "jeugdhulp"),
                      title="Leerling groep 7, zorgen thuis")
    meeting = build.meeting(case, dt.date(2024, 3, 1), participants=("alice", "carol", "bob"))
    contents = {"thuissituatie": "Vader is vertrokken", "gedrag": "Teruggetrokken in de klas"}
    disclosure = build.disclose("alice", "jeugdhulp", contents, dt.date(2024, 3, 1),
                                case_id=case, meeting_id=meeting, kind="minute")

    with app.engine.connect() as conn:
        row = conn.execute(text("SELECT youth_id, anonymous, purpose, overleg FROM casus "
                                "WHERE id = :id"), {"id": case}).one()
        stored = conn.execute(text("SELECT youth_id FROM disclosure WHERE id = :id"),
                              {"id": disclosure}).scalar_one()
    assert tuple(row) == (None, True, "signalering", "Zorg Advies Team")
    assert stored is None
    counts = build.counts()
    assert (counts["youth"], counts["guardian"], counts["consent_record"]) == (0, 0, 0)

    view = build.disclosure_view(disclosure)
    assert view["outcome"] == "allow"
    assert {i["data"]: (i["codes"], i["content"]) for i in view["items"]} == {
        "thuissituatie": (["ANONYMOUS"], "Vader is vertrokken"),
        "gedrag": (["ANONYMOUS"], "Teruggetrokken in de klas")}
    facts = build.facts("alice", "jeugdhulp", ["gedrag"], dt.date(2024, 3, 1), case_id=case)
    assert facts[0]["subject"]["anonymous"] is True
    assert "consent" not in facts[0]


def test_even_a_provider_without_an_accession_form_may_hear_an_anonymous_case(build):
    case = build.case("oza", participants=("jgz",), creator="carol")
    assert outcomes(build.decide("carol", "jgz", ["gezondheid", "veiligheid"],
                                 dt.date(2024, 3, 1), case_id=case)) == {
        "gezondheid": ("allow", ["ANONYMOUS"]), "veiligheid": ("allow", ["ANONYMOUS"])}


def test_a_disclosure_naming_a_youth_in_an_anonymous_case_is_refused(build):
    case = build.case("oza", participants=("leerplicht",))
    youth = build.youth()
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        build.disclose("alice", "leerplicht", {"gedrag": "x"}, dt.date(2024, 3, 1),
                       case_id=case, youth_id=youth)
    assert (refused.value.code, refused.value.field) == ("wrong_youth", "youth")
    assert build.counts() == before


@pytest.mark.parametrize("written", ["Leerling met BSN 111222333 zit thuis",
                                     "bsn 111.222.333", "BSN: 1112 22 333"])
def test_a_bsn_in_what_is_shared_in_an_anonymous_case_is_refused(build, written):
    """An anonymous case keeps what is shared as written: a BSN there would identify the
    youth in plain text (issue 11, item 10). Nothing is written."""
    case = build.case("oza", participants=("leerplicht",))
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        build.disclose("alice", "leerplicht", {"verzuim": written}, dt.date(2024, 3, 1),
                       case_id=case)
    assert (refused.value.code, refused.value.field) == ("contains_bsn", "contents.verzuim")
    assert "111222333" not in str(refused.value)
    assert build.counts() == before


def test_a_disclosure_dated_before_the_youth_was_born_is_refused_in_dutch(build):
    youth = build.youth(birth=dt.date(2023, 6, 1), today=dt.date(2024, 3, 1))
    case = build.case("oza", participants=("leerplicht",), youth_id=youth)
    before = build.counts()
    with pytest.raises(Invalid) as refused:  # the region's ruleset is in force from 2020
        build.disclose("alice", "leerplicht", {"verzuim": "x"}, dt.date(2022, 1, 1),
                       case_id=case)
    assert (refused.value.code, refused.value.field) == ("before_birth", "day")
    assert "geboortedatum" in str(refused.value)
    assert build.counts() == before
