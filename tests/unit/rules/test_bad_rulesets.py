"""Deliberately broken rulesets: each is refused with its error code, file, line and rule.

Every file in bad_rulesets/ starts with a line

    # expect: <code> line <N> [rule <rule>]

and may follow it with `# message: <text>` (a part of the message, such as a did-you-mean).
The loader must raise RulesetError with a problem that has that code, names that file and
that line and, where given, that rule; `deelwijs rules check` must exit 2 and say
`file:line: [code]` on stderr, for every such file anywhere under tests/.

Two files are complete copies of the model covenant (missing_rule, route_not_closed): 1.0
compiled such a file as a model of its own; now only the built-in model stands alone, so they
are refused as `not_a_region`, and the model's own checks are tested on the model document.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from deelwijs.rules import loader
from deelwijs.rules.loader import RulesetError

FOLDER = Path(__file__).resolve().parent / "bad_rulesets"
FILES = sorted(FOLDER.glob("*.yaml"))
TESTS = Path(__file__).resolve().parents[2]
VOORBEELDREGIO = Path(str(loader.builtin_path("voorbeeldregio")))
_EXPECT = re.compile(r"^# expect: (?P<code>[a-z_]+) line (?P<line>\d+)(?: rule (?P<rule>\S+))?$")
_MESSAGE = re.compile(r"^# message: (?P<text>.+)$")

# Every error type the brief for this folder lists must have its file.
REQUIRED_CODES = {
    "yaml_syntax", "duplicate_key", "unknown_field", "missing_field", "wrong_type",
    "unknown_code", "widens_purpose", "legal_limit_changed", "widens_party", "redefines_rule",
    "unknown_base", "not_a_region", "borrowed_id", "overleg_outside_covenant",
    "relabels_party", "widens_retention", "yaml_alias", "yaml_merge_key", "yaml_tag",
    "name_clash", "missing_citation", "consent_not_a_ground", "not_a_party",
}


@dataclass(frozen=True)
class Expectation:
    code: str
    line: int
    rule: str | None
    message: str | None


def expectation(path: Path) -> Expectation:
    lines = path.read_text(encoding="utf-8").splitlines()
    head = _EXPECT.match(lines[0]) if lines else None
    assert head, f"{path.name}: the first line must be '# expect: <code> line <N> rule <rule>'"
    message = next((m["text"] for m in map(_MESSAGE.match, lines[1:3]) if m), None)
    return Expectation(head["code"], int(head["line"]), head["rule"], message)


def _matches(problem, path: Path, want: Expectation) -> bool:
    return (problem.code == want.code and Path(problem.file).name == path.name
            and problem.line == want.line and (want.rule is None or problem.rule == want.rule))


def test_the_folder_has_a_broken_file_for_every_error_type():
    assert FILES
    missing = REQUIRED_CODES - {expectation(p).code for p in FILES}
    assert not missing, missing


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_it_refuses_a_broken_ruleset_naming_its_code_file_line_and_rule(path):
    want = expectation(path)
    with pytest.raises(RulesetError) as exc:
        loader.load_file(path)
    problems = exc.value.problems
    found = [p for p in problems if _matches(p, path, want)]
    assert found, f"expected {want}, got:\n" + "\n".join(str(p) for p in problems)
    if want.message:
        assert any(want.message in p.message for p in found), [p.message for p in found]
    assert str(exc.value) == "\n".join(str(p) for p in problems)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_it_names_the_label_it_was_given_when_loading_text(path):
    want = expectation(path)
    with pytest.raises(RulesetError) as exc:
        loader.load_text(path.read_text(encoding="utf-8"), "random.yaml")
    assert any(_matches(p, Path("random.yaml"), want) for p in exc.value.problems)


def test_it_refuses_a_region_that_adds_justitie_to_a_purpose():
    with pytest.raises(RulesetError) as exc:
        loader.load_file(FOLDER / "widens_purpose.yaml")
    [problem] = exc.value.problems
    assert (problem.code, problem.rule) == ("widens_purpose", "purpose.matrix")
    assert "'justitie'" in problem.message


def test_it_refuses_a_region_that_lets_jeugdhulp_in_without_the_accession_form():
    with pytest.raises(RulesetError) as exc:
        loader.load_file(FOLDER / "widens_party.yaml")
    assert [p.code for p in exc.value.problems] == ["widens_party"]


def test_it_accepts_voorbeeldregio_by_path_and_the_model_by_id_only():
    assert loader.load_file(VOORBEELDREGIO).id == "voorbeeldregio"
    assert loader.resolve(loader.MODEL_ID).id == loader.MODEL_ID
    # The model's own file, given as a path, is a file like any other: no path makes a model.
    model = Path(str(loader.builtin_path(loader.MODEL_ID)))
    with pytest.raises(RulesetError) as exc:
        loader.load_file(model)
    assert {p.code for p in exc.value.problems} == {"not_a_region", "borrowed_id"}


def test_the_model_copies_would_trip_the_model_s_own_checks():
    """What missing_rule.yaml and route_not_closed.yaml once tested, on the model document:
    the compiled model still refuses a missing procedure rule and an open legal route."""
    doc = copy.deepcopy(loader.model().document)
    del doc["rules"]["consent_required.who"]
    doc["legal_routes"]["meldcode"] = doc["legal_routes"]["meldcode"][:1]
    with pytest.raises(RulesetError) as exc:
        loader._compile(doc, loader._Check("model.yaml", loader._Lines()))
    found = {(p.code, p.rule) for p in exc.value.problems}
    assert ("missing_rule", "consent_required.who") in found
    assert ("route_not_closed", "route.meldcode") in found


@pytest.mark.parametrize("field", ["from_kind", "status"])
def test_a_route_closed_only_for_some_disclosers_or_ages_is_not_closed(field):
    """The last entry of a route must refuse every request it meets: one that still matches
    only a kind of discloser or a status of the youth leaves the rest without an answer."""
    doc = copy.deepcopy(loader.model().document)
    doc["legal_routes"]["verzuimmelding"][-1][field] = (
        ["private"] if field == "from_kind" else ["rmc"])
    with pytest.raises(RulesetError) as exc:
        loader._compile(doc, loader._Check("model.yaml", loader._Lines()))
    found = {(p.code, p.rule) for p in exc.value.problems}
    assert ("route_not_closed", "route.verzuimmelding.other_parties") in found


# --- deelwijs rules check --------------------------------------------------------------------


def _refused_files_under_tests() -> list[Path]:
    """Every YAML file under tests/ that says what it must be refused with."""
    return sorted(p for p in TESTS.rglob("*.y*ml")
                  if p.read_text(encoding="utf-8").startswith("# expect: "))


def test_rules_check_refuses_every_file_under_tests_that_should_be_refused(deelwijs):
    paths = _refused_files_under_tests()
    assert set(FILES) <= set(paths)
    run = deelwijs("rules", "check", *paths)
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    for path in paths:
        want = expectation(path)
        assert f"{path}:{want.line}: [{want.code}]" in run.stderr, (path, run.stderr)
        if want.rule:
            assert f"{path}:{want.line}: [{want.code}] {want.rule}: " in run.stderr
    # Every line names a file and a line: file:line: [code] rule: message.
    pattern = re.compile(r"^(?P<file>.+\.ya?ml):(?P<line>\d+): \[[a-z_]+\] \S.*: \S")
    for line in run.stderr.splitlines():
        m = pattern.match(line)
        assert m and Path(m["file"]) in paths, line


def test_rules_check_exits_0_on_voorbeeldregio(deelwijs):
    run = deelwijs("rules", "check", VOORBEELDREGIO)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert run.stdout.startswith(f"{VOORBEELDREGIO}: in orde (voorbeeldregio ")


def test_rules_check_reports_every_file_it_was_given(deelwijs):
    bad = [FOLDER / "widens_purpose.yaml", FOLDER / "unknown_base.yaml"]
    run = deelwijs("rules", "check", VOORBEELDREGIO, *bad)
    assert run.returncode == 2
    assert f"{VOORBEELDREGIO}: in orde" in run.stdout
    for path in bad:
        assert f"{path}:{expectation(path).line}: [{expectation(path).code}]" in run.stderr


def test_rules_check_json_lists_the_problems(deelwijs):
    path = FOLDER / "legal_limit_consent_age.yaml"
    run = deelwijs("rules", "check", "--json", path)
    assert run.returncode == 2
    report = json.loads(run.stdout)
    assert {"code": "legal_limit_changed", "file": str(path), "line": 10,
            "rule": "consent.age_12_15"} in [{k: p[k] for k in ("code", "file", "line", "rule")}
                                              for p in report]


def test_rules_check_says_so_when_a_file_does_not_exist(deelwijs, tmp_path):
    missing = tmp_path / "nergens.yaml"
    run = deelwijs("rules", "check", missing)
    assert run.returncode == 2
    assert run.stderr.startswith(f"{missing}: [not_found]")


def test_the_readme_shows_the_real_output_for_a_file_without_extends(deelwijs, tmp_path):
    """README, "Rules as data": the refused file and what `rules check` says, verbatim."""
    readme = (TESTS.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Rules as data", 1)[1].split("\n## ", 1)[0]
    example = re.search(r"```yaml\n(?P<file>.*?)```\n+```sh\n"
                        r"\$ \.venv/bin/deelwijs rules check (?P<name>\S+); echo \"exit \$\?\"\n"
                        r"(?P<output>.*?)exit (?P<code>\d+)\n```", section, re.S)
    assert example, "README's Rules as data section lost its example without extends"
    assert "extends" not in example["file"].replace("# no extends", "")
    (tmp_path / example["name"]).write_text(example["file"], encoding="utf-8")
    run = deelwijs("rules", "check", example["name"])  # the fixture runs in tmp_path
    assert run.returncode == int(example["code"]) == 2
    assert run.stdout + run.stderr == example["output"]


@pytest.mark.parametrize(("before", "code"), [
    ({"date": "2020-01-01", "years": 15.5, "rule": "retention.jeugdhulpdossier_voor_2020"},
     "wrong_type"),
    ({"years": 15, "rule": "retention.jeugdhulpdossier_voor_2020"}, "missing_field"),
])
def test_a_retention_term_before_a_date_is_checked_like_any_term(before, code):
    """The model's own check: `before.years` is a whole number, `before.date` is there; never a
    float in an answer or a KeyError."""
    doc = copy.deepcopy(loader.model().document)
    doc["retention"]["jeugdhulpdossier"]["before"] = before
    with pytest.raises(RulesetError) as exc:
        loader._compile(doc, loader._Check("model.yaml", loader._Lines()))
    assert code in {p.code for p in exc.value.problems}
