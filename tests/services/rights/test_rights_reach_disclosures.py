"""A restriction (AVG art. 18) and an honoured objection (art. 21) reach every later
disclosure: restricted data is refused before the engine is asked; in an objection's scope the
consent counts as refused, so the engine refuses what rests on consent. Both are logged."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.services.helpers import outcomes, unit_of

from deelwijs.services.log import audit
from deelwijs.services.rights import requests as rights
from deelwijs.storage import orm

DAY = dt.date(2024, 3, 1)
LATER = dt.date(2024, 3, 20)


@pytest.fixture
def shared_case(build) -> tuple[int, int]:
    """(youth, case): a TOM-tafel; both parents consented to sharing behaviour and home
    situation with the wijkteam, which acceded."""
    youth = build.youth()
    build.parents_consent(youth, purposes=("oza",), categories=("gedrag", "thuissituatie"),
                          given_on=DAY)
    case = build.case("oza", participants=("school", "jeugdhulp", "swv"), youth_id=youth)
    build.accede("jeugdhulp", case)
    return youth, case


def _mother(build, youth: int) -> int:
    return build.guardians(youth)[0]


def test_restricted_data_is_refused_and_the_rest_still_goes(app, build, shared_case):
    youth, case = shared_case
    both = {"gedrag": "Onrustig", "thuissituatie": "Verhuisd"}
    assert build.decide("alice", "jeugdhulp", list(both), DAY, case_id=case)["outcome"] == "allow"
    with app.transaction() as s:
        rights.restrict(unit_of(app, s, today=DAY), youth, requester="parent",
                        guardian_id=_mother(build, youth), reason="juistheid",
                        categories=["gedrag"])
    decision = build.decide("alice", "jeugdhulp", list(both), LATER, case_id=case)
    assert outcomes(decision) == {"gedrag": ("deny", ["RESTRICTED"]),
                                  "thuissituatie": ("allow", ["CONSENT"])}
    assert "art. 18" in decision["items"][0]["explanation"]
    disclosure = build.disclose("alice", "jeugdhulp", both, LATER, case_id=case)
    view = build.disclosure_view(disclosure)
    assert [i.get("content") for i in view["items"]] == [None, "Verhuisd"]
    with app.transaction() as s:
        last = audit.body_of(s.scalars(select(orm.LogEntry)
                                       .order_by(orm.LogEntry.seq.desc())).first())
    assert last["besluit"]["uitkomst"] == "partial"
    assert last["besluit"]["items"][0]["redenen"] == ["RESTRICTED"]


def test_a_lifted_restriction_no_longer_counts(app, build, shared_case):
    youth, case = shared_case
    with app.transaction() as s:
        row = rights.restrict(unit_of(app, s, today=DAY), youth, requester="parent",
                              guardian_id=_mother(build, youth), reason="juistheid",
                              categories=["gedrag"], ends_on=dt.date(2024, 3, 10))
    assert row
    assert build.decide("alice", "jeugdhulp", ["gedrag"], dt.date(2024, 3, 5),
                        case_id=case)["outcome"] == "deny"
    assert build.decide("alice", "jeugdhulp", ["gedrag"], LATER,
                        case_id=case)["outcome"] == "allow"


def test_an_honoured_objection_turns_consent_into_a_refusal(app, build, shared_case):
    youth, case = shared_case
    with app.transaction() as s:
        rights.object_to(unit_of(app, s, today=DAY), youth, requester="parent",
                         guardian_id=_mother(build, youth), purposes=["oza"],
                         recipient_ids=[build.org("jeugdhulp")])
    facts = build.facts("alice", "jeugdhulp", ["gedrag"], LATER, case_id=case)
    assert facts[0]["consent"]["parents"] == "refused"
    assert build.decide("alice", "jeugdhulp", ["gedrag"], LATER,
                        case_id=case)["outcome"] == "deny"
    # another youth's consent is untouched
    other = build.youth(name="Noor Bakker")
    build.parents_consent(other, purposes=("oza",), categories=("gedrag",), given_on=DAY)
    other_case = build.case("oza", participants=("school", "jeugdhulp"), youth_id=other)
    build.accede("jeugdhulp", other_case)
    assert build.decide("alice", "jeugdhulp", ["gedrag"], LATER,
                        case_id=other_case)["outcome"] == "allow"


def test_a_refused_objection_changes_nothing(app, build, shared_case):
    youth, case = shared_case
    with app.transaction() as s:
        rights.object_to(unit_of(app, s, today=DAY), youth, requester="parent",
                         guardian_id=_mother(build, youth), purposes=["oza"],
                         refusal="Dwingende gerechtvaardigde gronden: veiligheid van de jongere")
    assert build.decide("alice", "jeugdhulp", ["gedrag"], LATER,
                        case_id=case)["outcome"] == "allow"
