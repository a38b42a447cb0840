"""`deelwijs rules show | diff | test`, run as the real console script (`rules check` is
tested beside its broken files, in tests/rules/test_bad_rulesets.py; every entry point with
the same refused files in tests/rules/test_ruleset_entry_points.py). Here: show and diff go
through the same gate, and `rules check` takes the built-in ids."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from deelwijs.domain import codes
from deelwijs.rules import loader, scenario

VOORBEELDREGIO = Path(str(loader.builtin_path("voorbeeldregio")))
BAD_RULESETS = Path(__file__).resolve().parents[1] / "unit" / "rules" / "bad_rulesets"
NO_EXTENDS = BAD_RULESETS / "no_extends.yaml"

# The purpose × category matrix of shared/spec/decisions.md.
SPEC_GAPS = {
    "signalering": {"hulpverlening", "gezondheid", "justitie"},
    "thuiszitters": {"justitie"},
    "een_plan": {"leerresultaten", "justitie"},
    "oza": {"justitie"},
    "toeleiding": {"leerresultaten", "justitie"},
    "gecoordineerde_aanpak": {"leerresultaten", "justitie"},
}


def _row(text: str, first: str) -> list[str]:
    """The cells of the table row that starts with `first` (cells are separated by 2+ spaces)."""
    for line in text.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{text}")


# --- rules show ------------------------------------------------------------------------------


def test_rules_show_prints_the_matrix_parties_consent_and_retention_tables(deelwijs):
    run = deelwijs("rules", "show")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    model = loader.model()
    assert f"ruleset model-convenant {model.version}  {model.digest}" in out
    for heading in ("Doel × gegevenscategorie", "Partijen", "Toestemming",
                    "Wettelijke routes", "Verzuim", "Bewaartermijnen"):
        assert heading in out, heading
    header = _row(out, "categorie")
    for purpose, gaps in SPEC_GAPS.items():
        column = header.index(purpose)
        for cat in codes.CATEGORIES:
            assert _row(out, cat)[column] == ("–" if cat in gaps else "✓"), (purpose, cat)
    assert _row(out, "jeugdhulp")[3].startswith("ja, na toetredingsformulier")
    assert _row(out, "school")[3].startswith("ja, met schriftelijke machtiging")
    assert _row(out, "derde")[3] == "nee"
    assert _row(out, "0 t/m 11")[1] == "de ouders met gezag"
    assert _row(out, "12 t/m 15")[1] == "de ouders met gezag én de jongere"
    assert _row(out, "16 en ouder")[1] == "de jongere alleen"
    assert _row(out, "jeugdhulpdossier")[1] == "20 jaar; vóór 2020-01-01: 15 jaar"
    assert _row(out, "casusoverleg_verslag")[1] == "2 jaar"
    assert "Regionale overleggen" not in out


def test_rules_show_of_voorbeeldregio_adds_its_overleggen_and_conditions(deelwijs):
    run = deelwijs("rules", "show", "--ruleset", "voorbeeldregio")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "breidt uit: model-convenant" in out
    assert _row(out, "TOM-tafel")[1] == "oza"
    assert _row(out, "Thuiszittertafel")[1] == "thuiszitters"
    assert _row(out, "voorbeeldregio.verzuim_met_toestemming")[2:] == ["verzuim", "consent"]
    assert _row(out, "huisarts")[3] == "nee"
    assert _row(out, "casusoverleg_verslag")[1] == "1 jaar"
    header = _row(out, "categorie")
    assert _row(out, "leerresultaten")[header.index("signalering")] == "–"


def test_rules_show_json_parses_and_matches_the_ruleset(deelwijs):
    for name in ("model-convenant", "voorbeeldregio"):
        run = deelwijs("rules", "show", "--json", "--ruleset", name)
        assert run.returncode == 0, run.stderr
        data = json.loads(run.stdout)
        rs = loader.resolve(name)
        assert data["ruleset"] == rs.ref()
        assert data["consent"] == {"youth_and_parents_from": 12, "youth_alone_from": 16}
        assert set(data["parties"]) == set(codes.PARTIES)
        assert set(data["retention"]) == set(codes.RECORDS)
        for purpose, cats in data["matrix"].items():
            assert set(cats) == set(rs.purposes[purpose].categories)
        assert all(rule["citations"] for rule in data["rules"].values())
    model = json.loads(deelwijs("rules", "show", "--json").stdout)
    for purpose, gaps in SPEC_GAPS.items():
        assert set(model["matrix"][purpose]) == set(codes.CATEGORIES) - gaps


def test_rules_show_refuses_an_unknown_ruleset(deelwijs):
    run = deelwijs("rules", "show", "--ruleset", "nonexistent")
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.startswith("nonexistent: [not_found]")


# --- rules diff ------------------------------------------------------------------------------


def test_rules_diff_lists_what_voorbeeldregio_narrows(deelwijs):
    run = deelwijs("rules", "diff", "model-convenant", "voorbeeldregio")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("Van model-convenant ")
    assert lines[1].startswith("naar voorbeeldregio 2026.2 ")
    changes = [line[2:] for line in lines if line.startswith("- ")]

    def has(*parts: str) -> bool:
        return any(all(p in c for p in parts) for c in changes)

    assert has("signalering", "'leerresultaten'", "beperking")
    assert has("een_plan", "'gezondheid'", "beperking")
    assert has("huisarts", "→ 'nee'")
    for name, purpose in (("TOM-tafel", "oza"), ("Zorg Advies Team", "signalering"),
                          ("MDO", "oza"), ("Zorgplatform", "een_plan"),
                          ("Thuiszittertafel", "thuiszitters")):
        assert has(f"'{name}'", f"'{purpose}'"), name
    assert has("voorbeeldregio.verzuim_met_toestemming", "verzuim", "toestemming")
    assert has("casusoverleg_verslag", "2 → 1 jaar")
    assert not has("verruiming")


def test_rules_diff_json_gives_each_change_with_its_kind(deelwijs):
    run = deelwijs("rules", "diff", "--json", "model-convenant", "voorbeeldregio")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["from"] == loader.model().ref()
    assert data["to"] == loader.resolve("voorbeeldregio").ref()
    changes = data["changes"]
    removed = {(c["purpose"], c["category"]) for c in changes
               if c["kind"] == "category_removed"}
    assert removed == {("signalering", "leerresultaten"), ("een_plan", "gezondheid")}
    assert {"kind": "party", "party": "huisarts", "before": "acceded", "after": "never",
            "effect": "beperking"} in [
        {k: v for k, v in c.items() if k in ("kind", "party", "before", "after", "effect")}
        for c in changes]
    assert {c["name"] for c in changes if c["kind"] == "overleg_type"} == {
        "TOM-tafel", "Zorg Advies Team", "MDO", "Zorgplatform", "Thuiszittertafel"}
    assert [c["id"] for c in changes if c["kind"] == "condition"] == [
        "voorbeeldregio.verzuim_met_toestemming"]
    [retention] = [c for c in changes if c["kind"] == "retention"]
    assert (retention["record"], retention["before"], retention["after"]) == (
        "casusoverleg_verslag", 2, 1)
    assert not [c for c in changes if c["kind"] == "category_added"]
    assert all(c["text"] for c in changes)


def test_rules_diff_of_a_ruleset_with_itself_finds_nothing(deelwijs):
    run = deelwijs("rules", "diff", "voorbeeldregio", VOORBEELDREGIO)
    assert run.returncode == 0, run.stderr
    assert "Geen verschillen in de regels." in run.stdout
    data = json.loads(deelwijs("rules", "diff", "--json", "model-convenant",
                               "model-convenant").stdout)
    assert data["changes"] == []


def test_rules_diff_refuses_an_unknown_ruleset(deelwijs):
    run = deelwijs("rules", "diff", "model-convenant", "nonexistent")
    assert (run.returncode, run.stdout) == (2, "")
    assert "nonexistent: [not_found]" in run.stderr


# --- one gate: show, diff and check refuse what a region may not hand in ---------------------


def test_rules_show_and_diff_refuse_a_file_without_extends(deelwijs):
    """1.0 showed the review's file as a model and `rules diff` said "Geen verschillen"."""
    show_run = deelwijs("rules", "show", "--ruleset", NO_EXTENDS)
    diff_run = deelwijs("rules", "diff", "model-convenant", NO_EXTENDS)
    for run in (show_run, diff_run):
        assert (run.returncode, run.stdout) == (2, "")
        assert run.stderr.startswith(f"{NO_EXTENDS}:9: [not_a_region] extends: ")
        assert "Geen verschillen" not in run.stderr


def test_rules_check_takes_the_built_in_ids_but_not_the_model_s_file(deelwijs):
    run = deelwijs("rules", "check", "model-convenant", "voorbeeldregio")
    assert run.returncode == 0, run.stderr
    model, region = loader.model(), loader.resolve("voorbeeldregio")
    assert run.stdout.splitlines() == [
        f"model-convenant: in orde (model-convenant {model.version}, {model.digest})",
        f"voorbeeldregio: in orde (voorbeeldregio {region.version}, {region.digest})"]
    path = Path(str(loader.builtin_path("model-convenant")))
    run = deelwijs("rules", "check", path)
    assert (run.returncode, run.stdout) == (2, "")
    lines = run.stderr.splitlines()
    assert all(re.match(rf"{re.escape(str(path))}:\d+: \[", line) for line in lines), lines
    assert {line.split("[")[1].split("]")[0] for line in lines} == {"not_a_region",
                                                                   "borrowed_id"}


# --- rules test ------------------------------------------------------------------------------

_SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")


def _builtin_scenarios() -> tuple[int, int]:
    """How many scenarios ship, and how many of them are marked xfail (which `rules test`
    does not read, so it reports them as FAIL)."""
    total = xfail = 0
    for path in scenario.builtin_files():
        total += len(scenario.load(path))
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = raw.get("scenarios", []) if isinstance(raw, dict) else (raw or [])
        xfail += sum(1 for e in entries if isinstance(e, dict) and e.get("xfail"))
    return total, xfail


def test_rules_test_runs_the_builtin_scenarios_and_all_pass(deelwijs):
    if not scenario.builtin_files():
        pytest.skip("no built-in scenario files yet")
    total, xfail = _builtin_scenarios()
    run = deelwijs("rules", "test")
    last = run.stdout.splitlines()[-1]
    assert _SUMMARY.match(last), run.stdout
    assert last == f"{total - xfail} passed, {xfail} failed", run.stdout[-3000:]
    assert run.returncode == (1 if xfail else 0)
    assert run.stderr == ""


SCENARIOS = """\
ruleset: model-convenant
scenarios:
  - name: De school deelt verzuim met het samenwerkingsverband op grond van de publieke taak
    request:
      discloser: {party: school}
      recipient: {party: swv}
      subject: {age: 9}
      purpose: oza
      data: [verzuim]
    expect:
      outcome: allow
      items:
        verzuim: [allow, PUBLIC_TASK]
  - name: Een regionaal overleg in de Voorbeeldregio valt onder het OZA
    ruleset: voorbeeldregio
    request:
      discloser: {party: school}
      recipient: {party: swv}
      subject: {age: 9}
      purpose: TOM-tafel
      data: [identificatie]
    expect:
      purpose: oza
      overleg: TOM-tafel
  - name: Een leeftijd van 31 is geen geldige invoer
    request:
      discloser: {party: school}
      recipient: {party: swv}
      subject: {age: 31}
      purpose: oza
      data: [verzuim]
    expect:
      error: [request.subject.age]
"""
FAILING = """\
- name: Justitiegegevens in het OZA mogen (verkeerd verwacht) wel
  request:
    discloser: {party: school}
    recipient: {party: swv}
    subject: {age: 9}
    purpose: oza
    data: [justitie]
  expect:
    outcome: allow
"""


def test_rules_test_passes_a_scenario_file_of_its_own(deelwijs, tmp_path):
    path = tmp_path / "goed.yaml"
    path.write_text(SCENARIOS, encoding="utf-8")
    run = deelwijs("rules", "test", "--verbose", path)
    assert run.returncode == 0, run.stdout
    assert run.stdout.splitlines()[-1] == "3 passed, 0 failed"
    assert run.stdout.count("ok   goed.yaml:") == 3


def test_rules_test_exits_1_and_names_a_failing_scenario(deelwijs, tmp_path):
    (tmp_path / "goed.yaml").write_text(SCENARIOS, encoding="utf-8")
    (tmp_path / "fout.yaml").write_text(FAILING, encoding="utf-8")
    run = deelwijs("rules", "test", tmp_path)  # a folder: every *.yaml below it
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert lines[-1] == "3 passed, 1 failed"
    assert "FAIL fout.yaml:1 Justitiegegevens in het OZA mogen (verkeerd verwacht) wel" in lines
    problem = lines[lines.index(
        "FAIL fout.yaml:1 Justitiegegevens in het OZA mogen (verkeerd verwacht) wel") + 1]
    assert problem.startswith("     ") and "'deny'" in problem and "'allow'" in problem


def test_rules_test_exits_2_on_a_file_that_is_no_scenario_file(deelwijs, tmp_path):
    path = tmp_path / "kapot.yaml"
    path.write_text("- name: zonder verzoek\n  request: [\n", encoding="utf-8")
    run = deelwijs("rules", "test", path)
    assert run.returncode == 2
    assert run.stderr.startswith(f"{path}: geen geldig scenariobestand")
