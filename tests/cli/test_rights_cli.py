"""`deelwijs rights` as a user runs it: the real console script on a small demo region.

The demo region is built once per module and copied for every test. Bad input exits 2 with
one Dutch line on stderr, nothing on stdout, and nothing written; a refused erasure is a
recorded decision and exits 1.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3

import pytest
from pypdf import PdfReader

YOUTH = "2"
COUNTED = ("rights_request", "youth_correction", "log_entry", "youth")


@pytest.fixture(scope="module")
def demo_var(make_demo):
    """A var/ folder with a demo region of four youths (database and master key)."""
    return make_demo("rights_demo", 4)


@pytest.fixture
def run(deelwijs, demo_var, tmp_path):
    """`deelwijs` on this test's own copy of the demo region."""
    shutil.copytree(demo_var, tmp_path / "var")
    return deelwijs


def _db(tmp_path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "var" / "deelwijs.sqlite3")


def _counts(tmp_path) -> dict[str, int]:
    with _db(tmp_path) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}


def _ok(proc) -> dict | list:
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    return json.loads(proc.stdout)


def _asker(run, youth: str = YOUTH) -> list[str]:
    """Who may ask for this youth: a parent with gezag under 16, the youth from 16."""
    view = _ok(run("youth", "show", youth))
    if view["age"] >= 16:
        return ["--as", "youth"]
    parent = next(g for g in view["guardians"] if g["gezag"])
    return ["--as", "parent", "--guardian", str(parent["id"])]


def test_inzage_prints_json_and_writes_a_pdf(run, tmp_path):
    view = _ok(run("youth", "show", YOUTH))
    out = _ok(run("rights", "inzage", YOUTH, *_asker(run), "--pdf", "inzage.pdf"))
    assert out["titel"] == "Inzage in uw gegevens"
    assert out["jongere"]["naam"] == view["name"]
    assert out["verstrekkingen"] and out["toestemmingen"] and out["casussen"]
    for entry in out["verwerkingslog"]:
        assert "gebruiker" not in entry and "systeem" not in entry
    reader = PdfReader(io.BytesIO((tmp_path / "inzage.pdf").read_bytes()))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    for expected in (view["name"], "Inzage in uw gegevens", "Wie kreeg welke gegevens",
                     "Toestemmingen", "Uw rechten", "Autoriteit Persoonsgegevens"):
        assert expected in text, expected
    listed = _ok(run("rights", "list", YOUTH))
    assert [(r["kind"], r["status"]) for r in listed["requests"]] == [("inzage", "toegewezen")]


def test_bad_input_exits_2_with_one_dutch_line_and_writes_nothing(run, tmp_path):
    asker = _asker(run)
    before = _counts(tmp_path)
    bad = {
        ("rights", "inzage", YOUTH, "--as", "ouder"): "requester:",
        ("rights", "inzage", YOUTH, "--as", "parent", "--guardian", "99999"): "guardian_id:",
        ("rights", "inzage", YOUTH, *asker, "--on", "2026-02-30"): "--on:",
        ("rights", "inzage", YOUTH, *asker, "--pdf", str(tmp_path / "geen" / "x.pdf")):
            "--pdf:",
        ("rights", "inzage", "99999", "--as", "youth"): "youth:",
        ("rights", "rectify", YOUTH, "--field", "bsn", "--value", "1", "--by", "23", *asker):
            "field:",
        ("rights", "restrict", YOUTH, *asker, "--reason", "zomaar"): "reason:",
        ("rights", "object", YOUTH, *asker, "--purpose", "tuiszitters"): "purposes:",
        ("rights", "lift", "99999", "--reason", "klopt"): "request:",
    }
    for args, field in bad.items():
        proc = run(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stdout == "", args
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(field), (args, proc.stderr)
    assert _counts(tmp_path) == before
    assert not (tmp_path / "geen").exists()


def test_rectify_history_restrict_lift_and_object(run):
    asker = _asker(run)
    name = _ok(run("youth", "show", YOUTH))["name"]
    out = _ok(run("rights", "rectify", YOUTH, "--field", "name", "--value", "Bram Verbeterd",
                  "--by", "23", *asker))
    assert (out["correction"]["old"], out["correction"]["new"]) == (name, "Bram Verbeterd")
    history = _ok(run("rights", "history", YOUTH))
    assert [(h["field"], h["old"], h["new"]) for h in history] == [
        ("name", name, "Bram Verbeterd")]
    assert _ok(run("youth", "show", YOUTH))["name"] == "Bram Verbeterd"

    restricted = _ok(run("rights", "restrict", YOUTH, *asker, "--reason", "juistheid",
                         "--purpose", "Thuiszittertafel", "--data", "gedrag"))
    assert restricted["status"] == "toegewezen"
    rid = restricted["request"]["id"]
    listed = _ok(run("rights", "list", YOUTH))
    assert listed["active_restrictions"] == [
        {"id": rid, "purposes": ["thuiszitters"], "categories": ["gedrag"],
         "recipient_ids": []}]
    lifted = _ok(run("rights", "lift", str(rid), "--reason", "Nagekeken: het klopt."))
    assert lifted["ends_on"] is not None
    assert _ok(run("rights", "list", YOUTH))["active_restrictions"] == []

    objected = _ok(run("rights", "object", YOUTH, *asker, "--purpose", "verzuimmelding"))
    assert objected["status"] == "afgewezen"
    assert "wettelijke plicht" in objected["motivation"]


def test_the_startkwalificatie_is_rectified_with_ja_or_nee(run, tmp_path):
    asker = _asker(run)
    had = _ok(run("youth", "show", YOUTH))["startkwalificatie"]
    want, was = ("nee", "ja") if had else ("ja", "nee")
    out = _ok(run("rights", "rectify", YOUTH, "--field", "startkwalificatie", "--value", want,
                  "--by", "23", *asker))
    assert (out["correction"]["field"], out["correction"]["old"], out["correction"]["new"]) == (
        "startkwalificatie", was, want)
    assert _ok(run("youth", "show", YOUTH))["startkwalificatie"] is (want == "ja")
    assert [(h["field"], h["new"]) for h in _ok(run("rights", "history", YOUTH))] == [
        ("startkwalificatie", want)]
    before = _counts(tmp_path)
    for value in (want, "misschien"):
        proc = run("rights", "rectify", YOUTH, "--field", "startkwalificatie", "--value", value,
                   "--by", "23", *asker)
        assert proc.returncode == 2 and proc.stdout == "", (value, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("value:"), proc.stderr
    assert _counts(tmp_path) == before


def test_erasure_is_refused_while_the_case_runs_and_shreds_once_it_may(run, tmp_path):
    asker = _asker(run)
    refused = run("rights", "erase", YOUTH, *asker)
    assert refused.returncode == 1 and refused.stdout == ""
    assert "loopt nog" in refused.stderr and "vastgelegd als verzoek" in refused.stderr
    assert [(r["kind"], r["status"]) for r in _ok(run("rights", "list", YOUTH))["requests"]] \
        == [("wissing", "afgewezen")]
    # the refusal names the case by its title, which is stored only encrypted
    titles = [c["titel"] for c in _ok(run("rights", "inzage", YOUTH, *asker))["casussen"]]
    assert titles and all(f"de casus '{t}'" in refused.stderr for t in titles)
    with _db(tmp_path) as conn:
        assert {(title, enc is not None) for title, enc in conn.execute(
            "SELECT title, title_enc FROM casus WHERE youth_id = ?", (YOUTH,))} == {("", True)}

    with _db(tmp_path) as conn:  # the case closed long ago, the workflow ended
        conn.execute("UPDATE casus SET closed_on = '2000-01-03' WHERE youth_id = ?", (YOUTH,))
        conn.execute("UPDATE workflow SET state = 'declined' WHERE youth_id = ?", (YOUTH,))
    erased = _ok(run("rights", "erase", YOUTH, *asker))
    assert erased["request"]["status"] == "toegewezen"
    shown = _ok(run("youth", "show", YOUTH))
    assert shown["shredded"] is True and "name" not in shown
    after = run("rights", "inzage", YOUTH, "--as", "youth")
    assert after.returncode == 2 and after.stdout == ""
    assert "vernietigd" in after.stderr


# --- the PDF a parent reads ------------------------------------------------------------------

NAMES = {"name": "Gülşen Yıldız 王小明", "guardian": ("Łukasz Wąsik", "محمد الأحمد")}


def _pdf_pages(path) -> tuple[str, str, list[str]]:
    """(the parent's pages, the annex, every line), white space folded in the first two."""
    from deelwijs.documents.inzage_pdf import ANNEX

    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    parents, annex = " ".join(text.split()).split(ANNEX)
    return parents, annex, text.splitlines()


def test_the_inzage_pdf_prints_every_name_names_the_controller_and_is_private(run, tmp_path):
    from tests.documents.test_inzage_pdf import CODE, FORBIDDEN

    asker = _asker(run)
    guardians = _ok(run("youth", "show", YOUTH))["guardians"]
    _ok(run("rights", "rectify", YOUTH, "--field", "name", "--value", NAMES["name"],
            "--by", "23", *asker))
    for g, name in zip(guardians, NAMES["guardian"], strict=False):
        _ok(run("rights", "rectify", YOUTH, "--field", "guardian_name", "--value", name,
                "--of-guardian", str(g["id"]), "--by", "23", *asker))
    _ok(run("region", "update", "demo", "--fg-name", "Zoë Wąsik"))
    region = next(r for r in _ok(run("region", "list", "--json")) if r["code"] == "demo")
    _ok(run("rights", "inzage", YOUTH, *asker, "--pdf", "inzage.pdf"))
    pdf = tmp_path / "inzage.pdf"
    assert pdf.stat().st_mode & 0o777 == 0o600
    parents, annex, lines = _pdf_pages(pdf)
    assert f"Naam {NAMES['name']}" in lines
    for name in (NAMES["name"], *NAMES["guardian"][:len(guardians)], "Zoë Wąsik"):
        assert name in parents, name
    for part in (region["controller_name"], *region["controller_address"].splitlines(),
                 region["fg_email"], region["fg_phone"]):
        assert part in parents, part
    for word in FORBIDDEN:
        assert re.search(rf"(?<![\w.-]){re.escape(word)}(?![\w-])", parents,
                         re.IGNORECASE) is None, word
    assert CODE.findall(parents) == [] and "sha256:" in annex


def test_a_young_childs_own_consent_is_not_in_the_pdf(run, tmp_path):
    """An answer in the youth's own name, stored for a child under 12 as the demo once did
    (the service refuses it now), never shows as the child's consent."""
    young = next(y for y in ("1", "2", "3", "4") if _ok(run("youth", "show", y))["age"] < 12)
    with _db(tmp_path) as conn:
        conn.execute(
            "INSERT INTO consent_record (youth_id, series, version, role, answer, purposes, "
            "categories, recipient_ids, written, document_ref, given_on, recorded_at) VALUES "
            "(?, 'oud-jongere-1', 1, 'youth', 'given', '[\"oza\"]', '[\"gedrag\"]', '[]', 1, "
            "'TOEST-oud', date('now', '-10 days'), datetime('now'))", (young,))
    out = _ok(run("rights", "inzage", young, *_asker(run, young), "--pdf", "jong.pdf"))
    assert any(c["rol"] == "youth" and not c["telt_mee"] for c in out["toestemmingen"])
    parents, annex, _ = _pdf_pages(tmp_path / "jong.pdf")
    assert "toestemming van de jongere" not in parents.lower()
    assert "oud-jongere-1" in annex
