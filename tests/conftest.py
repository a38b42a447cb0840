"""Shared pytest set-up for Deelwijs: the scenario plugin and the `scenario_suite` fixture.

Every `*.yaml` in src/deelwijs/rules/scenarios/ (in pyproject's testpaths; the files the package
ships and `deelwijs rules test` runs) is collected as a file of pytest items, one item per
scenario, named by the scenario's Dutch sentence, in the spirit of OpenFisca's YAML test runner.
A scenario runs through `deelwijs.rules.scenario.check`, the matcher `deelwijs rules test` uses
too; on failure the item prints the problems and the engine's `--explain` trace for that
request. Select scenarios with `-k`, e.g. `pytest -k "TOM-tafel"`.

One key is read only here: `xfail: "reden"` on a scenario marks an expectation the engine does
not meet yet. It is strict: once the engine is fixed, the scenario must lose its `xfail`.
`deelwijs rules test` does not read the key and reports such a scenario as FAIL.

The plugin is registered as a plugin object, not as conftest hooks: pytest calls a conftest's
collection hooks only for files below the conftest's own folder, and the scenarios live in the
package. It is registered when this conftest loads, so run the scenarios through the testpaths
(`pytest`, `pytest -k ...`, or `pytest tests src/deelwijs/rules/scenarios/regio.yaml`).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from tests.fixtures.cli import clean_env, find_script, run_script

from deelwijs.rules import scenario as scenarios

SCENARIO_DIR = Path(scenarios.__file__).resolve().parent / "scenarios"
PLUGIN_NAME = "deelwijs-scenarios"


def load_entries(path: Path) -> list[tuple[scenarios.Scenario, dict]]:
    """The scenarios of one file, each with its raw YAML entry (for keys such as `xfail`)."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    entries = raw.get("scenarios", []) if isinstance(raw, dict) else (raw or [])
    return list(zip(scenarios.load(path), entries, strict=True))


@pytest.fixture(scope="session")
def scenario_suite() -> list[tuple[scenarios.Scenario, dict]]:
    """Every shipped scenario with its raw YAML entry, in file order."""
    return [pair for path in scenarios.builtin_files() for pair in load_entries(path)]


class ScenarioFailure(Exception):
    """A scenario whose answer does not match its expectation."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: scenarios.Scenario, **kwargs):
        super().__init__(**kwargs)
        self.scenario = scenario

    def runtest(self) -> None:
        problems, _ = scenarios.check(self.scenario)
        if problems:
            raise ScenarioFailure(problems)

    def repr_failure(self, excinfo, style=None):
        if not isinstance(excinfo.value, ScenarioFailure):
            return super().repr_failure(excinfo, style)
        sc = self.scenario
        lines = [f"{Path(sc.file).name}:{sc.line}: {sc.name}", ""]
        lines += [f"  - {p}" for p in excinfo.value.problems]
        return "\n".join([*lines, "", *explain_lines(sc)])

    def reportinfo(self):
        return self.path, self.scenario.line - 1, f"scenario: {self.scenario.name}"


class ScenarioFile(pytest.File):
    def collect(self):
        try:
            pairs = load_entries(self.path)
        except (yaml.YAMLError, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise self.CollectError(f"{self.path.name}: geen geldig scenariobestand: {exc}"
                                    ) from None
        seen: set[str] = set()
        for sc, entry in pairs:
            if sc.name in seen:
                raise self.CollectError(f"{self.path.name}:{sc.line}: de naam van dit scenario "
                                        f"staat al eerder in het bestand: {sc.name!r}")
            seen.add(sc.name)
            item = ScenarioItem.from_parent(self, name=sc.name, scenario=sc)
            if entry.get("xfail"):
                item.add_marker(pytest.mark.xfail(reason=str(entry["xfail"]), strict=True))
            yield item


class ScenarioPlugin:
    """Collects the scenario files of the package."""

    @staticmethod
    def pytest_collect_file(parent, file_path: Path):
        if file_path.suffix == ".yaml" and file_path.resolve().parent == SCENARIO_DIR:
            return ScenarioFile.from_parent(parent, path=file_path)
        return None


def pytest_configure(config) -> None:
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(ScenarioPlugin(), PLUGIN_NAME)


def explain_lines(sc: scenarios.Scenario) -> list[str]:
    """The engine's `deelwijs decide --explain` answer for a scenario's request, condensed."""
    from deelwijs.domain.errors import RequestError
    from deelwijs.rules import loader
    from deelwijs.services.decisions import decide_payload

    opt = "" if sc.ruleset == loader.MODEL_ID else f" --ruleset {sc.ruleset}"
    request = json.dumps(sc.request, ensure_ascii=False, default=str)
    out = [f"deelwijs decide --explain{opt} <<< '{request}'"]
    try:
        answer = decide_payload(sc.request, loader.resolve(sc.ruleset), explain=True)
    except (RequestError, loader.RulesetError) as exc:
        return [*out, "de engine beslist niet:", *(f"  {p}" for p in exc.problems)]
    for ans in answer if isinstance(answer, list) else [answer]:
        if ans.get("kind") != "disclosure":
            out.append(json.dumps({k: v for k, v in ans.items() if k != "ruleset"},
                                  ensure_ascii=False, indent=2))
            continue
        out.append(f"outcome: {ans['outcome']}  obligations: {ans['obligations']}")
        for item in ans["items"]:
            codes = item["grounds"] or item["reasons"]
            out.append(f"{item['data']}: {item['outcome']} {codes} rules={item['rules']}")
            for step in item.get("trace", []):
                note = f" ({step['note']})" if step.get("note") else ""
                out.append(f"    {step['rule']}: {step['verdict']}{note}")
    return out


# --- the real `deelwijs` console script, for the CLI and ruleset tests ---------------------
# (its helpers, clean_env and run_script, are in tests/fixtures/cli.py)


@pytest.fixture(scope="session")
def deelwijs_script() -> Path:
    """The venv's `deelwijs`: the project's .venv, else the one beside this Python."""
    return find_script()


@pytest.fixture
def deelwijs(deelwijs_script, tmp_path):
    """Run `deelwijs ARGS...` and return the finished process. No database is configured
    (DEELWIJS_VAR is an empty folder) unless `env` names one, and no output may ever hold a
    Python traceback. `env`: more environment variables for this run."""
    base = clean_env(DEELWIJS_VAR=str(tmp_path / "var"), PYTHONIOENCODING="utf-8")

    def run(*args: str, stdin: str = "", env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess:
        return run_script(deelwijs_script, *args, stdin=stdin, env={**base, **(env or {})},
                          cwd=tmp_path)

    return run


@pytest.fixture(scope="session")
def make_demo(deelwijs_script, tmp_path_factory):
    """`make_demo(name, youths)`: a new folder holding var/ with a demo region of that many
    youths (database and master key; the witness file beside var/), made by `deelwijs demo`
    as a user runs it; returns var/. Module fixtures copy it for each test."""
    def make(name: str, youths: int) -> Path:
        root = tmp_path_factory.mktemp(name)
        proc = subprocess.run([str(deelwijs_script), "demo", "--youths", str(youths)],
                              env=clean_env(DEELWIJS_VAR=str(root / "var")), cwd=root,
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
        return root / "var"

    return make
