"""`deelwijs register show | export`, run as the real console script.

Exit 0 with the register on stdout (or in --output); bad input gives exit 2, nothing on stdout
and one Dutch line on stderr, never a traceback (the `deelwijs` fixture checks that).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from deelwijs.domain import register
from deelwijs.rules import loader

VOORBEELDREGIO = Path(str(loader.builtin_path("voorbeeldregio")))
BAD_RULESETS = Path(__file__).resolve().parents[1] / "unit" / "rules" / "bad_rulesets"
MODEL_IDS = [a["id"] for a in register.activities(loader.model())]


def _refused(run) -> str:
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    return lines[0]


def test_register_without_a_command_shows_the_dutch_help(deelwijs):
    run = deelwijs("register")
    assert "Verwerkingsregister" in run.stdout + run.stderr
    assert "show" in run.stdout + run.stderr and "export" in run.stdout + run.stderr


def test_show_lists_every_activity_of_the_model(deelwijs):
    run = deelwijs("register", "show")
    assert run.returncode == 0, run.stderr
    model = loader.model()
    assert run.stdout.startswith("Register van verwerkingsactiviteiten")
    assert f"ruleset model-convenant {model.version}  {model.digest}" in run.stdout
    for activity_id in MODEL_IDS:
        assert activity_id in run.stdout
    for label in ("doel:", "grondslag:", "bewaartermijn:", "beveiligingsmaatregelen:",
                  "ontvangers:", "verwerkingsverantwoordelijken:"):
        assert label in run.stdout, label


def test_show_a_regional_ruleset_by_id_or_path(deelwijs):
    by_id = deelwijs("register", "show", "--ruleset", "voorbeeldregio")
    by_path = deelwijs("register", "show", "-r", str(VOORBEELDREGIO))
    assert by_id.returncode == by_path.returncode == 0, by_id.stderr + by_path.stderr
    assert by_id.stdout == by_path.stdout
    assert "voorbeeldregio/oza" in by_id.stdout and "TOM-tafel" in by_id.stdout
    assert "ten hoogste 1 jaar na afsluiting van de casus" in by_id.stdout


def test_export_json_is_the_default_and_parses(deelwijs):
    run = deelwijs("register", "export")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    model = loader.model()
    assert doc["register"]["ruleset"] == model.ref()
    assert [a["id"] for a in doc["activiteiten"]] == MODEL_IDS
    assert doc["activiteiten"] == register.activities(model)
    # the VAR part needs the controller's OIN (register export --region): left out, and why
    assert doc["vng"] == [] and "--region" in doc["vng_toelichting"]
    assert deelwijs("register", "export", "--format", "json").stdout == run.stdout


def test_export_csv_parses_with_one_row_per_activity(deelwijs):
    run = deelwijs("register", "export", "--format", "csv", "--ruleset", "voorbeeldregio")
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout, newline="")))
    region = loader.resolve("voorbeeldregio")
    assert [r["id"] for r in rows] == [a["id"] for a in register.activities(region)]
    assert all(r["versie"] == f"{region.version}@{region.digest}" for r in rows)
    assert "categorieën persoonsgegevens" in rows[0]


@pytest.mark.parametrize("fmt", ["json", "csv", "CSV"])
def test_export_to_a_file_writes_only_the_file(deelwijs, tmp_path, fmt):
    target = tmp_path / f"register.{fmt.lower()}"
    run = deelwijs("register", "export", "--format", fmt, "--output", str(target))
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert str(target) in run.stderr  # a Dutch confirmation, off stdout
    text = target.read_text(encoding="utf-8")
    if fmt == "json":
        assert [a["id"] for a in json.loads(text)["activiteiten"]] == MODEL_IDS
    else:
        with target.open(encoding="utf-8", newline="") as fh:
            assert len(list(csv.DictReader(fh))) == len(MODEL_IDS)
        assert "\r\n" in target.read_bytes().decode("utf-8")


@pytest.mark.parametrize("fmt", ["xml", "pdf", ""])
def test_an_unknown_format_is_refused(deelwijs, fmt):
    line = _refused(deelwijs("register", "export", "--format", fmt))
    assert line.startswith("--format: onbekend formaat")
    assert "json, csv" in line


@pytest.mark.parametrize("command", ["show", "export"])
def test_an_unknown_ruleset_is_refused(deelwijs, command):
    line = _refused(deelwijs("register", command, "--ruleset", "geen-regio"))
    assert "geen bestand en geen ingebouwde ruleset" in line


def test_a_broken_ruleset_file_is_refused(deelwijs):
    run = deelwijs("register", "export", "--ruleset", str(BAD_RULESETS / "missing_field.yaml"))
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.strip() and "missing_field.yaml" in run.stderr


def test_an_unwritable_output_is_refused(deelwijs, tmp_path):
    target = tmp_path / "geen-map" / "register.json"
    line = _refused(deelwijs("register", "export", "--output", str(target)))
    assert line.startswith("--output: kan ") and "de map bestaat niet" in line
    assert not target.exists()
    line = _refused(deelwijs("register", "export", "--output", str(tmp_path)))
    assert "dat is een map" in line
