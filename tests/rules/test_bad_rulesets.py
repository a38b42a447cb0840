"""Deliberately broken rulesets: each is refused with its error code, file, line and rule.

Every file in bad_rulesets/ starts with a line

    # expect: <code> line <N> [rule <rule>]

and may follow it with `# message: <text>` (a part of the message, such as a did-you-mean).
The loader must raise RulesetError with a problem that has that code, names that file and
that line and, where given, that rule; `deelwijs rules check` must exit 2 and say
`file:line: [code]` on stderr.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from deelwijs.rules import loader
from deelwijs.rules.loader import RulesetError

FOLDER = Path(__file__).resolve().parent / "bad_rulesets"
FILES = sorted(FOLDER.glob("*.yaml"))
VOORBEELDREGIO = Path(str(loader.builtin_path("voorbeeldregio")))
_EXPECT = re.compile(r"^# expect: (?P<code>[a-z_]+) line (?P<line>\d+)(?: rule (?P<rule>\S+))?$")
_MESSAGE = re.compile(r"^# message: (?P<text>.+)$")

# Every error type the brief for this folder lists must have its file.
REQUIRED_CODES = {
    "yaml_syntax", "duplicate_key", "unknown_field", "missing_field", "wrong_type",
    "unknown_code", "widens_purpose", "legal_limit_changed", "widens_party", "redefines_rule",
    "unknown_base", "missing_rule", "route_not_closed",
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


def test_it_accepts_voorbeeldregio_and_the_model():
    assert loader.load_file(VOORBEELDREGIO).id == "voorbeeldregio"
    model = Path(str(loader.builtin_path(loader.MODEL_ID)))
    assert loader.load_file(model).id == loader.MODEL_ID


# --- deelwijs rules check --------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_rules_check_exits_2_and_says_file_line_and_code_on_stderr(deelwijs, path):
    want = expectation(path)
    run = deelwijs("rules", "check", path)
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    assert f"{path}:{want.line}: [{want.code}]" in run.stderr
    if want.rule:
        assert f"{path}:{want.line}: [{want.code}] {want.rule}: " in run.stderr
    assert all(line.startswith(f"{path}:") for line in run.stderr.splitlines())


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
