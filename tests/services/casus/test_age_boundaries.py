"""Whose consent counts follows the youth's age on the day of each meeting: under 12 the
parents with gezag, from 12 the parents and the youth, from 16 the youth alone."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.services.helpers import outcomes

from deelwijs.services.errors import Refused

BORN = dt.date(2012, 6, 15)  # 12 on 2024-06-15, 16 on 2028-06-15
TWELFTH, SIXTEENTH = dt.date(2024, 6, 15), dt.date(2028, 6, 15)
DAY = dt.timedelta(days=1)


def _at_meeting(build, case: int, held_on: dt.date) -> tuple[int, str, tuple[str, list[str]]]:
    """(age, consent rule, outcome) for sharing `gedrag` at a meeting on that day."""
    meeting = build.meeting(case, held_on)
    facts = build.facts("alice", "leerplicht", ["gedrag"], held_on, case_id=case,
                        meeting_id=meeting)
    decision = build.decide("alice", "leerplicht", ["gedrag"], held_on, case_id=case,
                            meeting_id=meeting)
    rule = next(r for r in decision["items"][0]["rules"] if r.startswith("consent."))
    return facts[0]["subject"]["age"], rule, outcomes(decision)["gedrag"]


def test_the_same_youth_needs_other_consent_at_11_at_12_and_at_16(build):
    youth = build.youth(birth=BORN, today=dt.date(2024, 5, 1))
    case = build.case("oza", youth_id=youth, opened_on=dt.date(2024, 5, 1))
    mother, father = build.parents_consent(youth, given_on=dt.date(2024, 5, 1))

    # 11: the parents with gezag decide
    assert _at_meeting(build, case, TWELFTH - DAY) == (11, "consent.under_12",
                                                       ("allow", ["CONSENT"]))
    # turned 12 between the meetings: the youth's own consent is needed as well
    assert _at_meeting(build, case, TWELFTH) == (12, "consent.age_12_15",
                                                 ("deny", ["CONSENT_MISSING"]))
    build.consent(youth, "youth", given_on=dt.date(2024, 6, 20))
    assert _at_meeting(build, case, dt.date(2024, 7, 1)) == (12, "consent.age_12_15",
                                                             ("allow", ["CONSENT"]))

    # at 15 the parents' refusal still blocks; from 16 the youth decides alone
    build.change_consent(mother, 1, "refused", dt.date(2028, 1, 10))
    build.change_consent(father, 1, "refused", dt.date(2028, 1, 10))
    assert _at_meeting(build, case, SIXTEENTH - DAY) == (15, "consent.age_12_15",
                                                         ("deny", ["CONSENT_MISSING"]))
    assert _at_meeting(build, case, SIXTEENTH) == (16, "consent.from_16",
                                                   ("allow", ["CONSENT"]))
    facts = build.facts("alice", "leerplicht", ["gedrag"], SIXTEENTH, case_id=case)
    assert (facts[0]["consent"]["parents"], facts[0]["consent"]["youth"]) == ("refused",
                                                                              "given")


def test_at_11_the_youth_gives_no_answer_of_its_own_and_the_parents_consent_counts(build):
    youth = build.youth(birth=BORN, today=dt.date(2024, 5, 1))
    case = build.case("oza", youth_id=youth, opened_on=dt.date(2024, 5, 1))
    build.parents_consent(youth, given_on=dt.date(2024, 5, 1))
    with pytest.raises(Refused) as refused:  # an 11-year-old's own answer is not recorded
        build.consent(youth, "youth", "refused", given_on=dt.date(2024, 5, 1))
    assert refused.value.code == "too_young"
    assert _at_meeting(build, case, TWELFTH - DAY)[2] == ("allow", ["CONSENT"])
    assert _at_meeting(build, case, TWELFTH)[2] == ("deny", ["CONSENT_MISSING"])


def test_from_16_the_parents_consent_alone_is_not_enough(build):
    youth = build.youth(birth=BORN, today=dt.date(2028, 5, 1))
    case = build.case("oza", youth_id=youth, opened_on=dt.date(2028, 5, 1))
    build.parents_consent(youth, given_on=dt.date(2028, 5, 1))
    assert _at_meeting(build, case, SIXTEENTH - DAY)[2] == ("deny", ["CONSENT_MISSING"])
    assert _at_meeting(build, case, SIXTEENTH) == (16, "consent.from_16",
                                                   ("deny", ["CONSENT_MISSING"]))


def test_from_16_the_youths_withdrawal_denies_even_with_the_parents_consent(build):
    youth = build.youth(birth=BORN, today=dt.date(2028, 7, 1))
    case = build.case("oza", youth_id=youth, opened_on=dt.date(2028, 7, 1))
    build.parents_consent(youth, given_on=dt.date(2028, 5, 1))  # at 15: from 16 not recorded
    own = build.consent(youth, "youth", given_on=dt.date(2028, 7, 1))
    assert _at_meeting(build, case, dt.date(2028, 7, 15))[2] == ("allow", ["CONSENT"])
    build.change_consent(own, 1, "withdrawn", dt.date(2028, 7, 20))
    assert _at_meeting(build, case, dt.date(2028, 8, 1))[2] == ("deny", ["CONSENT_MISSING"])
