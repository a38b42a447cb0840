"""`deelwijs audit verify` on a demo region as a user runs it: consent versions and
disclosures changed, inserted or deleted behind the app's back are named one line each
(table and id) and verify fails (exit 1); `--deep` decides disclosures again; a body
removed before its term is refused by the database and, past the trigger, named."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest


@pytest.fixture(scope="module")
def demo_var(make_demo):
    return make_demo("binding_demo", 3)


@pytest.fixture
def run(deelwijs, demo_var, tmp_path):
    shutil.copytree(demo_var, tmp_path / "var")
    return deelwijs


def _db(tmp_path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "var" / "deelwijs.sqlite3")


def test_the_demo_is_bound_and_deep_agrees(run):
    proc = run("audit", "verify", "--deep", "--steekproef", "1000")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "in orde" in proc.stdout
    [deep] = [line for line in proc.stdout.splitlines() if "opnieuw beslist" in line]
    assert deep.startswith("demo: ") and ", 0 met een andere uitkomst" in deep
    region = json.loads(run("audit", "verify", "--json").stdout)["regio's"]["demo"]
    assert region["gebonden"]["toestemmingsversies"] > 0
    assert region["gebonden"]["verstrekkingen"] > 0
    assert region["ongebonden"] == 0


def test_a_forged_consent_and_a_flipped_disclosure_are_named(run, tmp_path):
    with _db(tmp_path) as conn:
        youth, guardian = conn.execute(
            "SELECT youth_id, id FROM guardian WHERE has_gezag ORDER BY id LIMIT 1").fetchone()
        forged = conn.execute(
            "INSERT INTO consent_record (youth_id, series, version, role, guardian_id, answer, "
            "purposes, categories, recipient_ids, written, document_ref, given_on, "
            "recorded_at) VALUES (?, 'vervalst', 1, 'parent', ?, 'given', '[\"oza\"]', "
            "'[\"gedrag\"]', '[]', 1, 'NEP', '2024-01-01', '2024-01-01 09:00:00')",
            (youth, guardian)).lastrowid
        flipped = conn.execute("SELECT id FROM disclosure WHERE outcome = 'deny' "
                               "ORDER BY id LIMIT 1").fetchone()[0]
        conn.execute("UPDATE disclosure_item SET outcome = 'allow' WHERE disclosure_id = ?",
                     (flipped,))
    proc = run("audit", "verify")
    assert proc.returncode == 1
    assert (f"demo: consent_record {forged}: rij zonder logregel: geen logregel legt deze "
            "toestemmingsversie vast") in proc.stdout
    assert f"demo: disclosure {flipped}: rij gewijzigd: " in proc.stdout
    assert "NIET IN ORDE: 2 problemen" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_a_deleted_disclosure_is_named(run, tmp_path):
    with _db(tmp_path) as conn:
        gone = conn.execute("SELECT max(id) FROM disclosure").fetchone()[0]
        conn.execute("DELETE FROM disclosure_item WHERE disclosure_id = ?", (gone,))
        conn.execute("DELETE FROM disclosure WHERE id = ?", (gone,))
    proc = run("audit", "verify")
    assert proc.returncode == 1
    [line] = [p for p in proc.stdout.splitlines() if p.startswith("demo: disclosure")]
    assert line.startswith(f"demo: disclosure {gone}: rij verwijderd: logregel ")


def test_an_early_prune_is_refused_and_past_the_trigger_named(run, tmp_path):
    prune = ("UPDATE log_entry SET body = NULL, pruned_at = datetime('now') "
             "WHERE seq = (SELECT max(seq) FROM log_entry)")
    with pytest.raises(sqlite3.IntegrityError, match="bewaartermijn"), _db(tmp_path) as conn:
        conn.execute(prune)
    with _db(tmp_path) as conn:
        conn.execute("DROP TRIGGER log_entry_prune_due")
        conn.execute(prune)
    proc = run("audit", "verify")
    assert proc.returncode == 1
    assert ": te vroeg opgeschoond: de inhoud is verwijderd op " in proc.stdout
