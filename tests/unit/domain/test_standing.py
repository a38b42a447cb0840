"""Who may exercise a youth's rights (domain/standing.py): the ages come from the ruleset's
consent ages, so a ruleset with other ages moves the limits, and the model covenant gives the
answers of the brief (under 12 the parents, 12 to 15 either, from 16 the youth)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from deelwijs.domain.standing import NoStanding, who_may_ask
from deelwijs.rules import loader


@dataclass
class _Guardian:
    youth_id: int
    relation: str
    has_gezag: bool


MODEL = loader.model().consent
MOTHER = _Guardian(1, "moeder", True)


def _requester(ages, age: int, requester: str, agrees: bool = False) -> str:
    try:
        return who_may_ask(ages, 1, age, requester, MOTHER if requester == "parent" else None,
                           agrees).requester
    except NoStanding as exc:
        return exc.code


@pytest.mark.parametrize(("age", "youth", "parent", "parent_agreed"), [
    (11, "too_young", "parent", "parent"),
    (12, "youth", "parent", "parent"),
    (15, "youth", "parent", "parent"),
    (16, "youth", "youth_decides", "parent"),
])
def test_the_model_covenant_keeps_the_ages_of_the_brief(age, youth, parent, parent_agreed):
    assert (MODEL.youth_and_parents_from, MODEL.youth_alone_from) == (12, 16)
    assert _requester(MODEL, age, "youth") == youth
    assert _requester(MODEL, age, "parent") == parent
    assert _requester(MODEL, age, "parent", agrees=True) == parent_agreed


def test_other_ages_in_the_ruleset_move_the_limits_and_the_words():
    ages = replace(MODEL, youth_and_parents_from=13, youth_alone_from=17)
    assert _requester(ages, 12, "youth") == "too_young"
    assert _requester(ages, 13, "youth") == "youth"
    assert _requester(ages, 16, "parent") == "parent"
    assert _requester(ages, 17, "parent") == "youth_decides"
    with pytest.raises(NoStanding) as exc:
        who_may_ask(ages, 1, 12, "youth", None)
    assert (exc.value.kind, exc.value.field) == ("refused", "requester")
    assert "jonger dan 13 jaar" in exc.value.message
    with pytest.raises(NoStanding) as exc:
        who_may_ask(ages, 1, 17, "parent", MOTHER)
    assert "Vanaf 17 jaar beslist de jongere zelf" in exc.value.message


def test_bad_input_is_invalid_and_a_parent_without_gezag_is_refused():
    for args, kind, code in (
            ((14, "ouder", MOTHER), "invalid", "unknown_code"),
            ((14, "youth", MOTHER), "invalid", "unexpected_guardian"),
            ((14, "parent", None), "invalid", "missing_field"),
            ((14, "parent", _Guardian(2, "moeder", True)), "invalid", "unknown_guardian"),
            ((14, "parent", _Guardian(1, "vader", False)), "refused", "no_gezag")):
        with pytest.raises(NoStanding) as exc:
            who_may_ask(MODEL, 1, *args)
        assert (exc.value.kind, exc.value.code) == (kind, code)
    agreed = who_may_ask(MODEL, 1, 17, "parent", MOTHER, True)
    assert (agreed.guardian, agreed.youth_agrees, agreed.basis) == (
        MOTHER, True, "een moeder met gezag, met instemming van de jongere (17 jaar)")
