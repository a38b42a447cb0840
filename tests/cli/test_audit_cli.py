"""`deelwijs audit` as a user runs it, on a small demo region: verify passes on an untouched
log and names the entry when a row is changed behind the app's back (exit 1); proofs are
printed and checked; a supervisor can check checkpoints with the verifier key alone."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess

import pytest


@pytest.fixture(scope="module")
def demo_var(deelwijs_script, tmp_path_factory):
    root = tmp_path_factory.mktemp("audit_demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEELWIJS_")}
    env["DEELWIJS_VAR"] = str(root / "var")
    proc = subprocess.run([str(deelwijs_script), "demo", "--youths", "3"], env=env, cwd=root,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return root / "var"


@pytest.fixture
def run(deelwijs, demo_var, tmp_path):
    shutil.copytree(demo_var, tmp_path / "var")
    return deelwijs


def _db(tmp_path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "var" / "deelwijs.sqlite3")


def test_an_untouched_log_verifies(run):
    proc = run("audit", "verify")
    assert proc.returncode == 0, proc.stderr
    assert "in orde" in proc.stdout
    report = json.loads(run("audit", "verify", "--json").stdout)
    assert report["ok"] is True and report["regio's"]["demo"]["regels"] > 10


def test_a_changed_row_is_named_and_verify_fails(run, tmp_path):
    with _db(tmp_path) as conn:
        conn.execute("DROP TRIGGER log_entry_update")
        eid, actie_id = conn.execute(
            "SELECT id, actie_id FROM log_entry ORDER BY seq LIMIT 1 OFFSET 5").fetchone()
        conn.execute("UPDATE log_entry SET body = replace(body, 'Deelwijs', 'X') WHERE id = ?",
                     (eid,))
    proc = run("audit", "verify")
    assert proc.returncode == 1
    assert f"id {eid}, actieId {actie_id}" in proc.stdout and "gewijzigd" in proc.stdout
    report = json.loads(run("audit", "verify", "--json").stdout)
    assert {p["id"] for p in report["problemen"] if p["soort"] == "altered"} == {eid}


def test_a_deleted_row_is_named(run, tmp_path):
    with _db(tmp_path) as conn:
        conn.execute("DROP TRIGGER log_entry_delete")
        conn.execute("DELETE FROM log_entry WHERE seq = 3")
    proc = run("audit", "verify")
    assert proc.returncode == 1 and "regel 3" in proc.stdout and "verwijderd" in proc.stdout


def test_prove_an_entry_and_check_consistency(run, tmp_path):
    with _db(tmp_path) as conn:
        actie_id = conn.execute("SELECT actie_id FROM log_entry WHERE seq = 2").fetchone()[0]
    first = run("audit", "checkpoint")
    assert first.returncode == 0 and "\u2014 deelwijs " in first.stdout
    size_1 = int(first.stdout.splitlines()[1])
    proof = json.loads(run("audit", "prove", actie_id).stdout)
    assert proof["klopt"] is True and proof["index"] == 2
    assert proof["boomgrootte"] == size_1
    by_seq = json.loads(run("audit", "prove", "2", "--region", "demo").stdout)
    assert by_seq["pad"] == proof["pad"]
    # a new processing, a new checkpoint: the old one is a prefix of the new one
    assert run("youth", "show", "1").returncode == 0
    size_2 = int(run("audit", "checkpoint").stdout.splitlines()[1])
    assert size_2 > size_1
    cons = run("audit", "consistency", "--region", "demo", str(size_1), str(size_2))
    assert cons.returncode == 0 and json.loads(cons.stdout)["klopt"] is True


def test_a_supervisor_checks_with_the_verifier_key_alone(run, tmp_path):
    key = run("audit", "key").stdout.strip()
    assert key.startswith("deelwijs+")
    (tmp_path / "vkey").write_text(key + "\n")
    run("audit", "checkpoint")
    assert run("audit", "verify", "--public-key", str(tmp_path / "vkey")).returncode == 0
    # another key: every checkpoint is refused
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from deelwijs.domain import checkpoint as cp
    other = cp.verifier_key("deelwijs", Ed25519PrivateKey.generate().public_key())
    (tmp_path / "other").write_text(other)
    proc = run("audit", "verify", "--public-key", str(tmp_path / "other"))
    assert proc.returncode == 1 and "checkpoint" in proc.stdout


@pytest.mark.parametrize("args", [
    ("audit", "prove", "no-such-entry"),
    ("audit", "prove", "7"),
    ("audit", "consistency", "--region", "demo", "9", "3"),
    ("audit", "consistency", "--region", "demo", "1", "2"),
    ("audit", "verify", "--region", "nergens"),
    ("audit", "verify", "--public-key", "/nonexistent/key"),
], ids=["unknown entry", "seq without region", "old after new", "no such checkpoints",
        "unknown region", "unreadable key file"])
def test_bad_input_exits_2_with_a_dutch_line(run, args):
    proc = run(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == "" and proc.stderr.strip()


@pytest.fixture
def caller_trace(monkeypatch):
    """A caller's W3C trace context, set before the `deelwijs` fixture copies the
    environment (it drops DEELWIJS_* only; TRACEPARENT goes through)."""
    monkeypatch.setenv("TRACEPARENT", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")


def test_the_caller_trace_reaches_the_log(caller_trace, run, tmp_path):
    assert run("youth", "show", "1").returncode == 0
    with _db(tmp_path) as conn:
        body = json.loads(conn.execute(
            "SELECT body FROM log_entry ORDER BY seq DESC LIMIT 1").fetchone()[0])
    assert body["actie"] == "read" and body["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
