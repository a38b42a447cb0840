"""Output files and the files Deelwijs keeps (files.py), as a user runs the commands: the real
console script on a small demo region, on SQLite or (with DEELWIJS_TEST_DATABASE_URL) on a
PostgreSQL database of this module's own.

The attacks of issue 11: `rights inzage --pdf var/master.key` destroyed the only key and
`register export --output var/deelwijs.sqlite3` replaced the live database with a CSV, both
with exit 0; PDFs, JSON and the SQLite file were written world-readable. Now every output
option refuses an existing file without --force and the database, the key files and the data
directory outright (also through a symbolic link or `..`), with one Dutch line and exit 2,
writing and recording nothing; what it writes is 0600 whatever the umask, and the data
directory and the SQLite file are created 0700 and 0600. A database that holds data is never
given a new key, and `audit verify` with a wrong key says so in one line.

Every command here runs with umask 000, so a private mode can only come from Deelwijs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import secrets
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from deelwijs import files
from deelwijs.settings import Settings
from deelwijs.storage import db, orm

TEST_DB_ENV = "DEELWIJS_TEST_DATABASE_URL"
COUNTED = (orm.RightsRequest, orm.LogEntry, orm.Youth, orm.Region)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _env(var: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEELWIJS_")}
    env.update(DEELWIJS_VAR=str(var), PYTHONIOENCODING="utf-8", **extra)
    return env


def _run(script: Path, cwd: Path, env: dict[str, str], *args) -> subprocess.CompletedProcess:
    """`deelwijs ARGS` with umask 000; never a traceback."""
    proc = subprocess.run([str(script), *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", env=env, cwd=cwd, timeout=300, check=False,
                          preexec_fn=lambda: os.umask(0))
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


def _refused(proc: subprocess.CompletedProcess, field: str, *words: str) -> str:
    assert proc.returncode == 2, (proc.args, proc.stdout, proc.stderr)
    assert proc.stdout == "", proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"{field}: "), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def store(deelwijs_script, tmp_path_factory):
    """A demo region of three youths: on SQLite in var/ with its generated var/master.key; on
    PostgreSQL with the key in a DEELWIJS_MASTER_KEY_FILE outside var/."""
    folder = tmp_path_factory.mktemp("outputs")
    var = folder / "var"
    server = os.environ.get(TEST_DB_ENV, "").strip()
    admin = name = None
    extra: dict[str, str] = {}
    if server:
        admin = db.make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
        name = f"deelwijs_files_{os.getpid()}_{secrets.token_hex(4)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        key_file = folder / "geheim" / "master.key"
        key_file.parent.mkdir()
        key_file.write_bytes(Fernet.generate_key())
        extra = {"DEELWIJS_DATABASE_URL": url, "DEELWIJS_MASTER_KEY_FILE": str(key_file)}
    else:
        url = f"sqlite:///{var / 'deelwijs.sqlite3'}"
        key_file = var / "master.key"
    env = _env(var, **extra)
    try:
        if server:
            assert _run(deelwijs_script, folder, env, "db", "upgrade").returncode == 0
        demo = _run(deelwijs_script, folder, env, "demo", "--youths", "3")
        assert demo.returncode == 0, demo.stderr
        yield {"folder": folder, "var": var, "url": url, "key_file": key_file, "env": env,
               "sqlite": not server, "script": deelwijs_script}
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :name AND pid <> pg_backend_pid()"),
                             {"name": name})
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin.dispose()


@pytest.fixture
def run(store):
    def run_(*args, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return _run(store["script"], store["folder"], env or store["env"], *args)

    return run_


def _counts(store) -> dict[str, int]:
    engine = db.make_engine(store["url"])
    try:
        with engine.connect() as conn:
            return {t.__tablename__: conn.scalar(select(func.count()).select_from(t))
                    for t in COUNTED}
    finally:
        engine.dispose()


def _asker(run) -> list[str]:
    """Youth 2, asked about by whoever may: a parent with gezag under 16, the youth from 16."""
    view = json.loads(run("youth", "show", "2").stdout)
    if view["age"] >= 16:
        return ["2", "--as", "youth"]
    parent = next(g for g in view["guardians"] if g["gezag"])
    return ["2", "--as", "parent", "--guardian", str(parent["id"])]


# --- the review's attacks ------------------------------------------------------------------


def test_an_inzage_pdf_onto_the_master_key_is_refused_and_the_key_is_intact(
        store, run, tmp_path):
    key, asker = store["key_file"], _asker(run)
    before, counts = key.read_bytes(), _counts(store)
    link = tmp_path / "inzage.pdf"
    link.symlink_to(key)
    targets = [str(key), link]
    if store["sqlite"]:
        targets += ["var/master.key", "var/../var/master.key"]
    for target in targets:
        for force in ([], ["--force"]):
            _refused(run("rights", "inzage", *asker, "--pdf", target, *force), "--pdf",
                     "sleutel", "ook niet met --force")
    assert key.read_bytes() == before
    assert link.is_symlink()
    assert _counts(store) == counts  # no inzage recorded, nothing logged


def test_a_register_export_onto_the_database_is_refused_and_the_database_is_intact(
        store, run, tmp_path):
    counts = _counts(store)
    database = store["var"] / "deelwijs.sqlite3"
    before = _sha(database) if store["sqlite"] else None
    link = tmp_path / "register.csv"
    link.symlink_to(database)
    targets = {"var/register.csv": "gegevensmap", str(store["var"] / "x.json"): "gegevensmap"}
    if store["sqlite"]:
        targets.update({"var/deelwijs.sqlite3": "database", str(database): "database",
                        f"{database}-wal": "database", str(link): "database",
                        "var/../var/deelwijs.sqlite3": "database"})
    for target, word in targets.items():
        for force in ([], ["--force"]):
            _refused(run("register", "export", "--format", "csv", "--output", target, *force),
                     "--output", word)
    if store["sqlite"]:
        assert _sha(database) == before
    assert _counts(store) == counts
    ok = run("audit", "verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_an_existing_file_is_replaced_only_with_force(store, run, tmp_path):
    asker = _asker(run)
    out = tmp_path / "register.json"
    out.write_text("bewaard")
    _refused(run("register", "export", "--output", out), "--output", "bestaat al", "--force")
    assert out.read_text() == "bewaard"
    done = run("register", "export", "--output", out, "--force")
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["activiteiten"]
    assert _mode(out) == 0o600

    pdf = tmp_path / "inzage.pdf"
    pdf.write_text("bewaard")
    counts = _counts(store)
    _refused(run("rights", "inzage", *asker, "--pdf", pdf), "--pdf", "bestaat al")
    assert pdf.read_text() == "bewaard"
    assert _counts(store) == counts
    done = run("rights", "inzage", *asker, "--pdf", pdf, "--force")
    assert done.returncode == 0, done.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    assert _mode(pdf) == 0o600
    assert _counts(store)["rights_request"] == counts["rights_request"] + 1


def test_new_output_files_are_private_whatever_the_umask(store, run, tmp_path):
    asker = _asker(run)
    assert run("register", "export", "--output", tmp_path / "r.csv", "--format",
               "csv").returncode == 0
    assert run("rights", "inzage", *asker, "--pdf", tmp_path / "i.pdf").returncode == 0
    assert _mode(tmp_path / "r.csv") == 0o600
    assert _mode(tmp_path / "i.pdf") == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_the_data_directory_and_the_database_are_created_private(deelwijs_script, tmp_path):
    """The embedded database: DEELWIJS_VAR 0700, the SQLite file and its companions and the
    generated master key 0600 (the first `demo`/`start` makes them)."""
    var = tmp_path / "nieuw" / "var"
    env = _env(var)
    assert _run(deelwijs_script, tmp_path, env, "db", "upgrade").returncode == 0
    made = _run(deelwijs_script, tmp_path, env, "region", "create", "noord", "Regio Noord")
    assert made.returncode == 0, made.stderr
    assert _mode(var) == 0o700
    assert _mode(var.parent) == 0o700  # created for it as well
    for path in var.iterdir():
        assert _mode(path) == 0o600, path
    assert {"deelwijs.sqlite3", "master.key"} <= {p.name for p in var.iterdir()}


# --- keys ----------------------------------------------------------------------------------


def test_a_database_with_data_is_not_given_a_new_key(store, run, tmp_path):
    """Without its key (var/master.key gone; on PostgreSQL no DEELWIJS_MASTER_KEY) every
    command that opens the database refuses with one line, and nothing is written: no new
    key, no row."""
    counts = _counts(store)
    if store["sqlite"]:
        var = tmp_path / "var"
        var.mkdir()
        database = var / "deelwijs.sqlite3"
        for suffix in ("", "-wal"):
            source = store["var"] / f"deelwijs.sqlite3{suffix}"
            if source.exists():
                Path(f"{database}{suffix}").write_bytes(source.read_bytes())
        env = _env(var)
        copy = {**store, "url": f"sqlite:///{database}"}
    else:
        env = {k: v for k, v in store["env"].items() if k != "DEELWIJS_MASTER_KEY_FILE"}
        var, copy = store["var"], store
    for args in (("region", "create", "zuid", "Regio Zuid"), ("youth", "list"),
                 ("rights", "inzage", "2", "--as", "youth")):
        line = _refused(run(*args, env=env), "DEELWIJS_MASTER_KEY")
        if store["sqlite"]:
            assert str(var / "master.key") in line and "bevat al gegevens" in line
    assert not (var / "master.key").exists() or not store["sqlite"]
    assert _counts(copy) == counts


def test_verify_with_a_wrong_key_says_so_in_one_line(store, run):
    env = {k: v for k, v in store["env"].items() if k != "DEELWIJS_MASTER_KEY_FILE"}
    env["DEELWIJS_MASTER_KEY"] = Fernet.generate_key().decode()
    proc = run("audit", "verify", env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    problems = [line for line in lines if ": log: " in line or ": regel " in line]
    assert len(problems) == 1, proc.stdout
    assert problems[0].startswith("demo: log: de sleutel past niet bij dit logboek: ")
    assert "vervalst" not in proc.stdout
    assert lines[-1] == "NIET IN ORDE: 1 problemen"


# --- files.py in process -------------------------------------------------------------------


@pytest.fixture
def place(tmp_path, monkeypatch):
    """A data directory with a key and a database, and a folder for output, as settings."""
    var = tmp_path / "var"
    var.mkdir()
    (var / "master.key").write_bytes(b"sleutel")
    (var / "deelwijs.sqlite3").write_bytes(b"database")
    out = tmp_path / "uit"
    out.mkdir()
    for name in list(os.environ):
        if name.startswith("DEELWIJS_"):
            monkeypatch.delenv(name)
    return var, out, Settings(f"sqlite:///{var / 'deelwijs.sqlite3'}", None, var=var)


def test_a_dangling_link_counts_as_existing_and_force_replaces_the_link(place):
    _, out, settings = place
    link = out / "x.pdf"
    link.symlink_to(out / "nergens.pdf")
    with pytest.raises(files.OutputRefused, match="bestaat al"):
        files.write_private(link, b"pdf", force=False, settings=settings, option="--pdf")
    files.write_private(link, b"pdf", force=True, settings=settings, option="--pdf")
    assert not link.is_symlink() and link.read_bytes() == b"pdf"
    assert not (out / "nergens.pdf").exists()


def test_force_replaces_the_name_never_the_file_behind_a_link_or_a_hard_link(place):
    _, out, settings = place
    other = out / "ander.txt"
    other.write_bytes(b"ander")
    (out / "link.txt").symlink_to(other)
    os.link(other, out / "hard.txt")
    for name in ("link.txt", "hard.txt"):
        files.write_private(out / name, "nieuw", force=True, settings=settings)
        assert (out / name).read_text() == "nieuw"
    assert other.read_bytes() == b"ander"


def test_every_deelwijs_file_setting_is_protected(place, monkeypatch, tmp_path):
    settings = place[2]
    secret = tmp_path / "geheim.keys"
    secret.write_text("k")
    monkeypatch.setenv("DEELWIJS_WRAPPING_KEYS_FILE", str(secret))
    with pytest.raises(files.OutputRefused, match="DEELWIJS_WRAPPING_KEYS_FILE"):
        files.write_private(secret, "x", force=True, settings=settings)
    witness = tmp_path / "getuige.notes"
    monkeypatch.setenv("DEELWIJS_WITNESS_FILE", str(witness))
    with pytest.raises(files.OutputRefused, match="DEELWIJS_WITNESS_FILE"):
        files.write_private(witness, "x", force=True, settings=settings)
    monkeypatch.delenv("DEELWIJS_WITNESS_FILE")
    if "witness_file" in {f.name for f in dataclasses.fields(Settings)}:  # a file setting
        with pytest.raises(files.OutputRefused, match="witness_file"):
            files.write_private(witness, "x", force=True,
                                settings=dataclasses.replace(settings, witness_file=witness))
    assert secret.read_text() == "k" and not witness.exists()


def test_refusals_name_the_option_and_write_nothing(place):
    var, out, settings = place
    cases = {var / "master.key": "hoofdsleutel", var / "deelwijs.sqlite3-shm": "database",
             var / "sub" / "a.pdf": "gegevensmap", out / ".." / "var" / "b.pdf": "gegevensmap",
             out: "een map", out / "geen" / "c.pdf": "de map bestaat niet",
             f"{out}/": "bestandsnaam", out / "..": "bestandsnaam"}
    for target, word in cases.items():
        with pytest.raises(files.OutputRefused) as exc:
            files.write_private(target, b"x", force=True, settings=settings, option="--out")
        assert str(exc.value).startswith("--out: kan '") and word in str(exc.value), exc.value
    assert (var / "master.key").read_bytes() == b"sleutel"
    assert sorted(p.name for p in var.iterdir()) == ["deelwijs.sqlite3", "master.key"]
    assert list(out.iterdir()) == []
