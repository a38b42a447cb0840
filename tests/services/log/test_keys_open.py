"""Opening a database and its master key (crypto.keyring_for, services/app.open_app) and
`audit verify` with a key that is not the log's (services/log/key_check.log_key_mismatch), on SQLite
and on PostgreSQL.

The attacks of issue 11: a database opened without its key file silently got a new
master.key, after which writes succeeded under the new key and verify called every entry
forged. Now a key is generated only for a database that holds nothing written under a key;
one that does is refused before anything is written (no key file, no migration, no row),
and verify with a wrong key says so in one line.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import os
import stat
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from tests.services.helpers import row_counts

from deelwijs.domain import checkpoint as cp
from deelwijs.services.app import keyed_table, keyed_tables, open_app
from deelwijs.services.log import audit, verify
from deelwijs.settings import SettingsError
from deelwijs.storage import db, orm

DAY = dt.date(2024, 3, 1)


@pytest.fixture
def umask_zero() -> Iterator[None]:
    """The most permissive umask: whatever is created private must be so by chmod."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _keyless(settings, var):
    return dataclasses.replace(settings, master_key=None, var=var)


def _sqlite(settings) -> bool:
    return settings.database_url.startswith("sqlite")


def _revision(url: str) -> str | None:
    engine = db.make_engine(url)
    try:
        return db.current_revision(engine)
    finally:
        engine.dispose()


@pytest.fixture
def logged(build, app):
    """A youth with consent and disclosures: a log of several entries, not yet signed."""
    youth = build.youth()
    build.parents_consent(youth, purposes=("oza",), categories=("gedrag",), given_on=DAY)
    case = build.case("oza", participants=("school", "jeugdhulp", "swv"), youth_id=youth)
    build.accede("jeugdhulp", case)
    build.disclose("alice", "jeugdhulp", {"gedrag": "Onrustig in de klas"}, DAY, case_id=case)
    build.disclose("alice", "jeugdhulp", {"thuissituatie": "Gescheiden"}, DAY, case_id=case)
    return youth


# --- opening without the key ---------------------------------------------------------------


def test_a_database_with_data_and_no_key_file_is_refused_and_nothing_is_written(
        logged, app, settings, tmp_path):
    before = row_counts(app.engine)
    revision = _revision(settings.database_url)
    app.engine.dispose()
    var = tmp_path / "elders" / "var"  # where the key would be generated
    with pytest.raises(SettingsError) as exc:
        open_app(_keyless(settings, var))
    message = str(exc.value)
    assert "DEELWIJS_MASTER_KEY" in message
    if _sqlite(settings):
        assert str(var / "master.key") in message and "bevat al gegevens" in message
        assert "Er is niets geschreven" in message
    assert not var.exists() and not (tmp_path / "elders").exists()
    assert row_counts(app.engine) == before
    assert _revision(settings.database_url) == revision


@pytest.mark.parametrize("table", ["youth", "log_entry"])
def test_any_keyed_row_is_enough_to_refuse(build, app, settings, tamper, tmp_path, table):
    """A database whose log was emptied still holds its youths, and the other way round."""
    build.youth()
    statements = [f"DELETE FROM {t}" for t in keyed_tables() if t not in (table, "youth")]
    if table != "youth":
        statements.append("DELETE FROM youth")
    tamper(*statements)  # as the owner, past the triggers
    assert keyed_table(app.engine) == table
    app.engine.dispose()
    with pytest.raises(SettingsError):
        open_app(_keyless(settings, tmp_path / "var"))
    assert not (tmp_path / "var").exists()


def test_an_empty_database_gets_one_private_key(settings, tmp_path, umask_zero):
    """Only the embedded database makes its own key, and only when it holds nothing under a
    key; on PostgreSQL a key is always required."""
    var = tmp_path / "var"
    keyless = _keyless(settings, var)
    if not _sqlite(settings):
        with pytest.raises(SettingsError, match=r"DEELWIJS_MASTER_KEY: zet .*productiedatabase"):
            open_app(keyless)
        assert not var.exists()
        return
    first = open_app(keyless)
    first.engine.dispose()
    key = (var / "master.key").read_bytes()
    assert stat.S_IMODE(os.stat(var).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(var / "master.key").st_mode) == 0o600
    Fernet(key)
    again = open_app(keyless)  # the same key, read back
    again.engine.dispose()
    assert (var / "master.key").read_bytes() == key
    assert again.keys.verify_key.public_bytes_raw() == first.keys.verify_key.public_bytes_raw()


def test_a_region_without_youths_or_log_is_not_keyed_data(world, app, settings, tmp_path):
    """Regions, organisations, professionals and rulesets hold nothing under a key."""
    assert keyed_table(app.engine) is None
    app.engine.dispose()
    keyless = _keyless(settings, tmp_path / "var")
    if _sqlite(settings):
        open_app(keyless).engine.dispose()
        assert (tmp_path / "var" / "master.key").exists()
    else:
        with pytest.raises(SettingsError):
            open_app(keyless)


def test_a_broken_key_file_is_a_clear_error(logged, app, settings, tmp_path):
    if not _sqlite(settings):
        pytest.skip("only the embedded database reads var/master.key")
    var = tmp_path / "var"
    var.mkdir()
    (var / "master.key").write_bytes(b"geen sleutel")
    with pytest.raises(SettingsError, match="geen geldige hoofdsleutel"):
        open_app(_keyless(settings, var))
    (var / "master.key").unlink()
    os.symlink("/dev/zero", var / "master.key")
    with pytest.raises(SettingsError, match="geen geldige hoofdsleutel"):
        open_app(_keyless(settings, var))


# --- verify with the wrong key -------------------------------------------------------------


def _report(application) -> verify.Report:
    with application.transaction() as s:
        return verify.verify(s, application.keys)


@pytest.fixture
def wrong(settings) -> Iterator:
    opened = []

    def open_wrong():
        application = open_app(dataclasses.replace(settings, master_key=Fernet.generate_key()))
        opened.append(application)
        return application

    yield open_wrong
    for application in opened:
        application.engine.dispose()


def test_verify_with_a_wrong_key_says_so_in_one_line(logged, app, build, wrong):
    assert _report(app).ok
    other = wrong()
    for signed in (False, True):  # without a checkpoint, then with one
        if signed:
            with app.transaction() as s:
                audit.checkpoint(s, app.keys, build.w.region_id)
        rep = _report(other)
        assert not rep.ok
        assert [p.kind for p in rep.problems] == ["key"], [p.line() for p in rep.problems]
        line = rep.problems[0].line()
        assert line.startswith("testregio: log: de sleutel past niet bij dit logboek: ")
        assert "DEELWIJS_MASTER_KEY" in line and "vervalst" not in line
        if signed:  # both key ids (as in the note, and as `deelwijs audit key` prints them)
            with app.transaction() as s:
                note = s.scalar(select(orm.LogCheckpoint.note))
            signer, _, blob = note.rstrip("\n").rsplit("\n", 1)[1][2:].partition(" ")
            assert base64.b64decode(blob)[:4].hex() in line
            assert cp.key_hash(signer, other.keys.verify_key).hex() in line
        assert rep.as_json()["problemen"][0]["soort"] == "key"
    assert _report(app).ok


def test_forged_entries_under_the_right_key_are_still_named_one_by_one(logged, app, tamper):
    with app.transaction() as s:
        last = s.scalar(select(orm.LogEntry.seq).order_by(orm.LogEntry.seq.desc()).limit(1))
    forged = ("UPDATE log_entry SET mac = :m WHERE seq IN (0, :last)",
              {"m": b"\0" * 16, "last": last})
    tamper.assert_app_role_refused(forged)
    tamper(forged)
    rep = _report(app)
    assert {(p.kind, p.seq) for p in rep.problems} >= {("forged", 0), ("forged", last)}
    assert "key" not in {p.kind for p in rep.problems}


def _open_and_sign(settings, queue) -> None:
    application = open_app(settings)
    queue.put(application.keys.verify_key.public_bytes_raw())
    application.engine.dispose()


def test_processes_starting_together_on_an_empty_database_share_one_key(settings, tmp_path):
    """The key is linked into place whole: every process reads the same complete key."""
    if not _sqlite(settings):
        pytest.skip("only the embedded database makes its own key")
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    keyless = _keyless(settings, tmp_path / "var")
    workers = [context.Process(target=_open_and_sign, args=(keyless, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * 4
    assert len({queue.get(timeout=5) for _ in workers}) == 1
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["master.key"]
