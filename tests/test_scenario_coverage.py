"""The shipped scenarios together name every rule of the model covenant, every reason and ground
code of the decision contract, and every obligation.

A rule counts as named when a scenario expects it (`rules` of an item, or `rules` / `rule` of
an absence, consent or retention answer) or, failing that, when the engine's answer to a
scenario names it (its items' `rules`, or the `--explain` trace). Codes and obligations must be
named by expectations. Expectations of `xfail` scenarios do not count: they are not met yet.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from deelwijs.domain import codes
from deelwijs.domain.contract import decide_payload
from deelwijs.domain.errors import RequestError
from deelwijs.rules import loader

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "spec" / "decisions.md"
EXAMPLES = ROOT.parent / "shared" / "spec" / "examples" / "decisions.json"

# Rules that no expectation can name, with the reason; the answers must still name them.
ANSWER_ONLY = {
    "hat.effective_discloser": "toets 4 beslist nooit zelf over een item; de regel staat alleen "
                               "in het --explain-spoor, niet in de `rules` van een item",
}
# Rules the engine never names anywhere (a gap to fix in the engine or the ruleset).
KNOWN_GAPS: dict[str, str] = {}
# Kept for answers stored under contract 1.0 and never named by a 1.1 answer: within the
# request's scope a public body always has its public task, so no request ends on consent
# alone towards the college (decisions.md, rule 8).
RETIRED_RULES = {"scope.consent_not_a_ground"}
RETIRED_CODES = {"CONSENT_NOT_A_GROUND"}


def _spec_codes(label: str) -> set[str]:
    """The codes of one `**Label**` paragraph of decisions.md, when ../shared is present."""
    if not SPEC.is_file():
        return set()
    for para in SPEC.read_text(encoding="utf-8").split("\n\n"):
        if para.startswith(f"**{label}**"):
            return set(re.findall(r"`([A-Z_]+)`", para))
    raise AssertionError(f"decisions.md heeft geen alinea **{label}** meer")


REASONS = sorted(set(codes.REASONS) | _spec_codes("Reasons"))
GROUNDS = sorted(set(codes.GROUNDS) | _spec_codes("Grounds"))
OBLIGATIONS = sorted(set(codes.OBLIGATIONS) | _spec_codes("Obligations"))
MODEL_RULES = sorted(set(loader.model().rules) - RETIRED_RULES)
# A scenario may carry the contract version that changed it, as the spec's examples do.
VERSION_TAG = re.compile(r"^\(\d+\.\d+\) ")


class Named:
    """What the scenarios name: by expectation, and by the engine's answers."""

    def __init__(self, suite):
        self.expected_rules: set[str] = set()
        self.expected_codes: set[str] = set()
        self.expected_obligations: set[str] = set()
        self.answered_rules: set[str] = set()
        for sc, entry in suite:
            answer = self._answer(sc)
            self._answered(answer)
            if not entry.get("xfail"):
                self._expected(sc.expect, answer)

    @staticmethod
    def _answer(sc):
        try:
            return decide_payload(sc.request, loader.resolve(sc.ruleset), explain=True)
        except RequestError:
            return None

    def _answered(self, answer) -> None:
        for ans in answer if isinstance(answer, list) else [answer]:
            if not isinstance(ans, dict):
                continue
            self.answered_rules.update(ans.get("rules", []))  # a list, or the disclosure's dict
            if ans.get("rule"):
                self.answered_rules.add(ans["rule"])
            for item in ans.get("items", []):
                self.answered_rules.update(item["rules"])
                self.answered_rules.update(step["rule"] for step in item.get("trace", []))

    def _expected(self, expect: dict, answer) -> None:
        self.expected_obligations.update(expect.get("obligations", []))
        self.expected_codes.update(expect.get("grounds", []))
        self.expected_rules.update(expect.get("rules", []))
        if expect.get("rule"):
            self.expected_rules.add(expect["rule"])
        got = {i["data"]: i for i in answer.get("items", [])} if isinstance(answer, dict) else {}
        for data, spec in expect.get("items", {}).items():
            if isinstance(spec, dict):
                self.expected_codes.update(spec.get("grounds", []), spec.get("reasons", []))
                self.expected_rules.update(spec.get("rules", []))
            elif isinstance(spec, list) and data in got:
                # [outcome, code, ...] asks for one of the codes: count those the answer has.
                item = got[data]
                self.expected_codes.update(set(spec[1:]) & {*item["grounds"], *item["reasons"]})


@pytest.fixture(scope="module")
def named(scenario_suite) -> Named:
    return Named(scenario_suite)


def _rule_param(rule: str):
    if rule in KNOWN_GAPS:
        return pytest.param(rule, marks=pytest.mark.xfail(reason=KNOWN_GAPS[rule], strict=True))
    return rule


@pytest.mark.parametrize("rule", [_rule_param(r) for r in MODEL_RULES])
def test_every_rule_of_the_model_is_named_by_a_scenario(named, rule):
    assert rule in named.expected_rules | named.answered_rules, (
        f"geen scenario noemt regel {rule!r}, niet in een verwachting en niet in een antwoord")


def test_rules_are_named_by_expectations_and_not_only_by_answers(named):
    only_answered = set(MODEL_RULES) - named.expected_rules - set(KNOWN_GAPS)
    assert only_answered <= set(ANSWER_ONLY), (
        f"alleen de antwoorden noemen {sorted(only_answered - set(ANSWER_ONLY))}: "
        "zet die regels in de `rules` van een verwachting")


def test_retired_rules_and_codes_are_never_answered(named):
    assert not RETIRED_RULES & named.answered_rules
    assert not RETIRED_CODES & named.expected_codes


@pytest.mark.parametrize("code", sorted(set(REASONS + GROUNDS) - RETIRED_CODES))
def test_every_reason_and_ground_code_is_expected_by_a_scenario(named, code):
    assert code in named.expected_codes, f"geen scenario verwacht code {code!r}"


@pytest.mark.parametrize("obligation", OBLIGATIONS)
def test_every_obligation_is_expected_by_a_scenario(named, obligation):
    assert obligation in named.expected_obligations, (
        f"geen scenario verwacht verplichting {obligation!r}")


def test_scenario_names_are_unique_sentences(scenario_suite):
    names = [sc.name for sc, _ in scenario_suite]
    doubles = sorted({n for n in names if names.count(n) > 1})
    assert not doubles, f"dubbele namen: {doubles}"
    bare = [VERSION_TAG.sub("", n) for n in names]
    not_sentences = [n for n in bare
                     if not (n[:1].isupper() or n[:1].isdigit()) or len(n.split()) < 4]
    assert not not_sentences, f"geen zin: {not_sentences}"


def test_the_worked_examples_of_the_spec_are_scenarios_word_for_word(scenario_suite):
    if not EXAMPLES.is_file():
        pytest.skip(f"{EXAMPLES} ontbreekt (tests/test_examples.py meldt dat in CI)")
    examples = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    ours = [{"name": sc.name, "request": sc.request, "expect": sc.expect}
            for sc, _ in scenario_suite if Path(sc.file).name == "voorbeelden.yaml"]
    assert ours == examples
