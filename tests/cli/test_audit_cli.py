"""`deelwijs audit` as a user runs it, on a small demo region: verify passes on an untouched
log and names the entry when a row is changed behind the app's back (exit 1); proofs are
printed and checked; a supervisor can check checkpoints with the verifier key alone; the log is
checked against the checkpoints kept outside the database (the witness file beside `var/`,
`audit checkpoint --out`, the FG's cosigned copy), so cutting or wiping it fails verify."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3

import pytest

from deelwijs import __version__
from deelwijs.domain import log_format

# a change to an entry's body that fits in either format (both hold the version)
FORGED = f"replace(body, '{__version__}', '9.9.9')"


@pytest.fixture(scope="module")
def demo_var(make_demo):
    return make_demo("audit_demo", 3)


@pytest.fixture
def run(deelwijs, demo_var, tmp_path):
    """`deelwijs` on a copy of the demo's database, with a copy of its witness file (the
    default DEELWIJS_WITNESS_FILE: witness/checkpoints.notes beside var/)."""
    shutil.copytree(demo_var, tmp_path / "var")
    shutil.copytree(demo_var.parent / "witness", tmp_path / "witness")
    return deelwijs


def _witness(tmp_path):
    return tmp_path / "witness" / "checkpoints.notes"


def _db(tmp_path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "var" / "deelwijs.sqlite3")


def _last_body(conn: sqlite3.Connection) -> dict:
    """The full body of the newest entry (stored in format 2: log_format.expand)."""
    subject, activity, at, body = conn.execute(
        "SELECT subject, activity_id, registered_at, body FROM log_entry "
        "ORDER BY seq DESC LIMIT 1").fetchone()
    return log_format.expand(body, subject, activity, dt.datetime.fromisoformat(at))


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
        conn.execute("UPDATE log_entry SET body = " + FORGED + " WHERE id = ?",
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
    assert first.returncode == 0 and "\u2014 deelwijs/" in first.stdout
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
    origin = key.split("+")[0]  # the key is named as the log's origin (the note spec's rule)
    assert origin.startswith("deelwijs/") and origin.endswith("/demo/verwerkingslog")
    (tmp_path / "vkey").write_text(key + "\n")
    run("audit", "checkpoint")
    assert run("audit", "verify", "--public-key", str(tmp_path / "vkey")).returncode == 0
    # another key: every checkpoint is refused
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from deelwijs.domain import checkpoint as cp
    other = cp.verifier_key(origin, Ed25519PrivateKey.generate().public_key())
    (tmp_path / "other").write_text(other)
    proc = run("audit", "verify", "--public-key", str(tmp_path / "other"))
    assert proc.returncode == 1 and "checkpoint" in proc.stdout
    # the right key under another name opens nothing: the name is checked
    (tmp_path / "renamed").write_text("deelwijs+" + key.split("+", 1)[1].split("+", 1)[1])
    proc = run("audit", "verify", "--public-key", str(tmp_path / "renamed"))
    assert proc.returncode == 2 and "sleutel-id" in proc.stderr  # the id is of the old name
    renamed = cp.verifier_key("deelwijs", cp.parse_verifier_key(key)[1])
    (tmp_path / "renamed").write_text(renamed)
    proc = run("audit", "verify", "--public-key", str(tmp_path / "renamed"))
    assert proc.returncode == 1 and f"geen sleutel met de naam {origin}" in proc.stdout


@pytest.mark.parametrize("args", [
    ("audit", "prove", "no-such-entry"),
    ("audit", "prove", "7"),
    ("audit", "consistency", "--region", "demo", "9", "3"),
    ("audit", "consistency", "--region", "demo", "1", "2"),
    ("audit", "verify", "--region", "nergens"),
    ("audit", "verify", "--public-key", "/nonexistent/key"),
    ("audit", "verify", "--checkpoint", "/nonexistent/checkpoint"),
    ("audit", "verify", "--checkpoint", "/dev/null"),
    ("audit", "verify", "--cosigner-key", "/nonexistent/key"),
    ("audit", "cosign", "--key", "/nonexistent/key"),
    ("audit", "cosigner-key", "--name", "met spatie", "--out", "fg.key"),
    ("audit", "checkpoint", "--out", "var/deelwijs.sqlite3", "--force"),
], ids=["unknown entry", "seq without region", "old after new", "no such checkpoints",
        "unknown region", "unreadable key file", "unreadable checkpoint file",
        "empty checkpoint file", "unreadable cosigner key", "unreadable cosigner private key",
        "key name with a space", "checkpoint over the database"])
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
        body = _last_body(conn)
    assert body["actie"] == "read" and body["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_an_upper_case_traceparent_starts_a_new_trace(monkeypatch, run, tmp_path):
    """W3C Trace Context: a traceparent in upper-case hex is invalid and ignored."""
    monkeypatch.setenv("TRACEPARENT", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01")
    assert run("youth", "show", "1").returncode == 0
    with _db(tmp_path) as conn:
        body = _last_body(conn)
    assert body["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736"
    assert "foreign_operation" not in body or not body["foreign_operation"]


# --- checkpoints outside the database -----------------------------------------------------------


def _drop_triggers(conn: sqlite3.Connection) -> None:
    """Every append-only trigger of the copy dropped: past them, as an insider would."""
    for name in [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")]:
        conn.execute(f"DROP TRIGGER {name}")


def _cut(tmp_path, size: int, blob: bytes) -> None:
    """Delete the entries and checkpoints past `size` and put back a head row saved when the
    log had that size (it carries a valid MAC): past the triggers, as an insider would."""
    with _db(tmp_path) as conn:
        _drop_triggers(conn)
        conn.execute("DELETE FROM log_entry WHERE seq >= ?", (size,))
        conn.execute("DELETE FROM log_checkpoint WHERE size > ?", (size,))
        conn.execute("UPDATE log_head SET size = ?, frontier = ?", (size, blob))


def _head(tmp_path) -> tuple[int, bytes]:
    with _db(tmp_path) as conn:
        size, blob = conn.execute("SELECT size, frontier FROM log_head").fetchone()
    return size, bytes(blob)


def test_the_demo_leaves_no_entry_uncovered_and_its_checkpoints_in_the_witness_file(run,
                                                                                   tmp_path):
    report = json.loads(run("audit", "verify", "--json").stdout)
    demo = report["regio's"]["demo"]
    assert report["ok"] and demo["gedekt_tot"] == demo["regels"] and demo["buiten"] >= 2
    witness = _witness(tmp_path)
    assert witness.read_text().count("\n\n") == demo["buiten"]
    assert oct(witness.stat().st_mode & 0o777) == "0o600"
    text = run("audit", "verify").stdout
    assert f"getuigenbestand {witness}: {demo['buiten']} checkpoints" in text


def test_deleting_the_newest_entries_and_rewinding_the_head_fails_verify(run, tmp_path):
    size, blob = _head(tmp_path)
    for _ in range(3):  # the log grows: three reads, then a checkpoint handed out
        assert run("youth", "show", "1").returncode == 0
    out = tmp_path / "fg" / "checkpoint.txt"
    out.parent.mkdir()
    proc = run("audit", "checkpoint", "--out", str(out))
    assert proc.returncode == 0 and proc.stdout == "" and out.exists()
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert run("audit", "verify", "--checkpoint", str(out)).returncode == 0
    _cut(tmp_path, size, blob)
    proc = run("audit", "verify")  # the witness file beside var/
    assert proc.returncode == 1, proc.stdout
    cut = [line for line in proc.stdout.splitlines() if "ingekort of gewist" in line]
    assert len(cut) == 1 and f"het log telt {size} regels" in cut[0]
    _witness(tmp_path).unlink()  # the witness file gone too: the database alone says nothing
    assert run("audit", "verify").returncode == 0
    proc = run("audit", "verify", "--checkpoint", str(out))  # the copy handed out
    assert proc.returncode == 1 and "ingekort of gewist" in proc.stdout
    assert f"{out}" in proc.stdout


def test_wiping_the_log_and_its_checkpoints_fails_verify(run, tmp_path):
    with _db(tmp_path) as conn:
        _drop_triggers(conn)
        conn.execute("DELETE FROM log_entry")
        conn.execute("DELETE FROM log_checkpoint")
        conn.execute("UPDATE log_head SET size = 0, frontier = x''")
    proc = run("audit", "verify")
    assert proc.returncode == 1 and "in orde: niets" not in proc.stdout
    assert "demo: 0 regels" in proc.stdout
    assert any("het log telt 0 regels" in line and "ingekort of gewist" in line
               for line in proc.stdout.splitlines())


def test_a_log_without_any_checkpoint_is_flagged(run, tmp_path):
    _witness(tmp_path).unlink()
    with _db(tmp_path) as conn:
        conn.execute("DROP TRIGGER log_checkpoint_delete")
        conn.execute("DELETE FROM log_checkpoint")
    proc = run("audit", "verify")
    assert proc.returncode == 1 and "geen enkel checkpoint" in proc.stdout


def test_checkpoint_out_refuses_an_existing_file_unless_forced(run, tmp_path):
    out = tmp_path / "checkpoint.txt"
    out.write_text("iets anders\n")
    proc = run("audit", "checkpoint", "--out", str(out))
    assert proc.returncode == 2 and "bestaat al" in proc.stderr and proc.stdout == ""
    assert out.read_text() == "iets anders\n"
    assert run("audit", "checkpoint", "--out", str(out), "--force").returncode == 0
    assert out.read_text().startswith("deelwijs/")
    assert oct(out.stat().st_mode & 0o777) == "0o600"


def test_a_tampered_head_stops_every_write_with_a_dutch_line(run, tmp_path):
    with _db(tmp_path) as conn:
        count = conn.execute("SELECT count(*) FROM log_entry").fetchone()[0]
        blob = bytes(conn.execute("SELECT frontier FROM log_head").fetchone()[0])
        conn.execute("UPDATE log_head SET frontier = ?", (bytes([blob[0] ^ 1]) + blob[1:],))
    proc = run("youth", "show", "1")  # a read is logged: it may not go ahead
    assert proc.returncode == 2 and proc.stdout == ""
    assert "het verwerkingslog is aangetast" in proc.stderr
    assert "niets geschreven" in proc.stderr
    with _db(tmp_path) as conn:
        assert conn.execute("SELECT count(*) FROM log_entry").fetchone()[0] == count
    proc = run("audit", "verify")
    assert proc.returncode == 1 and "logkop klopt niet" in proc.stdout


def test_prove_and_consistency_recompute_the_entry(run, tmp_path):
    assert run("youth", "show", "1").returncode == 0  # an entry past the demo's checkpoint
    with _db(tmp_path) as conn:
        seq = conn.execute("SELECT max(seq) FROM log_entry").fetchone()[0]
        first = conn.execute("SELECT min(size) FROM log_checkpoint").fetchone()[0]
    proc = run("audit", "prove", str(seq), "--region", "demo")
    assert proc.returncode == 0 and json.loads(proc.stdout)["nieuw_checkpoint"] is True
    assert "Nieuw checkpoint ondertekend bij" in proc.stderr
    assert json.loads(proc.stdout)["klopt"] is True
    again = run("audit", "prove", str(seq), "--region", "demo")
    assert "Nieuw checkpoint" not in again.stderr
    cons = run("audit", "consistency", "--region", "demo", str(first), str(seq + 1))
    assert cons.returncode == 0 and json.loads(cons.stdout)["klopt"] is True
    with _db(tmp_path) as conn:
        conn.execute("DROP TRIGGER log_entry_update")
        conn.execute("UPDATE log_entry SET body = " + FORGED + " WHERE seq = ?",
                     (seq,))
    proof = run("audit", "prove", str(seq), "--region", "demo")
    assert proof.returncode == 1 and json.loads(proof.stdout)["klopt"] is False
    assert "gewijzigd" in json.loads(proof.stdout)["waarom"]
    cons = run("audit", "consistency", "--region", "demo", str(first), str(seq + 1))
    assert cons.returncode == 1 and json.loads(cons.stdout)["klopt"] is False


def test_the_fg_cosigns_and_a_shortened_log_fails_against_the_cosigned_copy(run, tmp_path):
    fg = tmp_path / "fg"
    fg.mkdir(mode=0o700)
    made = run("audit", "cosigner-key", "--name", "fg.demo.example/getuige",
               "--out", str(fg / "fg.key"))
    assert made.returncode == 0, made.stderr
    vkey = made.stdout.strip()
    assert vkey.startswith("fg.demo.example/getuige+")
    assert oct((fg / "fg.key").stat().st_mode & 0o777) == "0o600"
    (tmp_path / "fg.vkey").write_text(vkey + "\n")
    # without a cosigned checkpoint anywhere, verify with the cosigner's key fails
    proc = run("audit", "verify", "--cosigner-key", str(tmp_path / "fg.vkey"))
    assert proc.returncode == 1 and "medeondertekend door fg.demo.example/getuige" in proc.stdout
    size, blob = _head(tmp_path)
    assert run("youth", "show", "1").returncode == 0
    cosigned = run("audit", "cosign", "--key", str(fg / "fg.key"), "--out",
                   str(fg / "cosigned.notes"))
    assert cosigned.returncode == 0, cosigned.stdout + cosigned.stderr
    note = (fg / "cosigned.notes").read_text()
    assert "\n\u2014 fg.demo.example/getuige " in note
    ok = run("audit", "verify", "--cosigner-key", str(tmp_path / "fg.vkey"))
    assert ok.returncode == 0 and "1 medeondertekend" in ok.stdout, ok.stdout
    # the log cut back, the witness file beside var/ rewritten without the cosigned note
    _cut(tmp_path, size, blob)
    _witness(tmp_path).write_text("")
    alone = run("audit", "verify")
    assert alone.returncode == 0
    proc = run("audit", "verify", "--cosigner-key", str(tmp_path / "fg.vkey"))
    assert proc.returncode == 1 and "medeondertekend" in proc.stdout
    proc = run("audit", "verify", "--checkpoint", str(fg / "cosigned.notes"),
               "--cosigner-key", str(tmp_path / "fg.vkey"))
    assert proc.returncode == 1 and "ingekort of gewist" in proc.stdout
    # and the FG will not cosign the shortened log against its own copy
    refused = run("audit", "cosign", "--key", str(fg / "fg.key"), "--checkpoint",
                  str(fg / "cosigned.notes"))
    assert refused.returncode == 1 and "niets medeondertekend" in refused.stdout
