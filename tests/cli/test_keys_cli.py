"""`deelwijs keys new | status | rewrap`, and what `retention run` says about backups, run as
the real console script on a small region built in-process (the embedded SQLite database):
a youth whose case closed long ago (due for destruction) and one with an open case (kept).

The operator's procedure of docs/retention.md § 4 end to end: a copy of the database file
taken before the retention run is readable while the wrapping key it was made under is
configured, and not once every live key is re-wrapped under a new key and the old key is
gone. Bad input: exit 2, nothing on stdout, one Dutch line on stderr naming the variable or
option, nothing written.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import subprocess

import pytest
from cryptography.fernet import Fernet, InvalidToken
from tests.cli.cli_checks import ok, refused
from tests.services.helpers import unit_of

ON = "2026-03-02"




@pytest.fixture(scope="module")
def template(tmp_path_factory) -> dict:
    from deelwijs.services.app import open_app
    from deelwijs.services.casus import cases, youths
    from deelwijs.services.covenant import registry
    from deelwijs.settings import Settings

    folder = tmp_path_factory.mktemp("keys")
    key = Fernet.generate_key()
    (folder / "master.key").write_bytes(key)
    app = open_app(Settings(f"sqlite:///{folder / 'deelwijs.sqlite3'}", key))
    start = dt.date(2023, 1, 1)
    with app.transaction() as s:
        u = unit_of(app, s)
        west = registry.create_region(u, "west", "Regio West")
        version = registry.activate_ruleset(u, west, "voorbeeldregio", start)
        school = registry.create_organisation(u, west, "school", "Stichting De Linde")
        swv = registry.create_organisation(u, west, "swv", "SWV West")
        registry.sign_covenant(u, swv, version, start)
        registry.sign_covenant(u, school, version, start)  # a party: it opens the cases
        alice = registry.create_professional(u, school, "Alice Bakker", "intern begeleider")
        ruleset = app.active_ruleset(s, west.id)[1]
        ids = {"master": key}
        for name, closed in (("gone", dt.date(2024, 1, 10)), ("kept", None)):
            youth = youths.create_youth(unit_of(app, s, today=dt.date(2026, 3, 2)), west,
                                        f"Jongere {name}", dt.date(2014, 6, 15),
                                        guardians=[{"name": "Ouder", "relation": "moeder",
                                                    "gezag": True}])
            case = cases.open_case(unit_of(app, s, by=alice), ruleset, west, "Zorgen", "oza",
                                   [swv.id], dt.date(2023, 9, 1), youth=youth)
            case.closed_on = closed
            ids[name] = youth.id
    app.engine.dispose()
    return {"folder": folder, **ids}


@pytest.fixture
def region(template, tmp_path) -> dict:
    var = tmp_path / "var"
    var.mkdir()
    for name in ("deelwijs.sqlite3", "deelwijs.sqlite3-wal", "master.key"):
        if (template["folder"] / name).exists():
            shutil.copyfile(template["folder"] / name, var / name)
    return {**template, "db": var / "deelwijs.sqlite3"}


@pytest.fixture
def run(deelwijs):
    """The `deelwijs` fixture with DEELWIJS_WRAPPING_KEYS set to the given keys (newest
    first; none: unset)."""

    def run_(wrapping: tuple[bytes | str, ...], *args) -> subprocess.CompletedProcess:
        keys = ",".join(k.decode() if isinstance(k, bytes) else k for k in wrapping)
        return deelwijs(*args, env={"DEELWIJS_WRAPPING_KEYS": keys} if wrapping else None)

    return run_


def _wrapped_keys(path) -> dict[int, bytes | None]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT id, key_wrapped FROM youth ORDER BY id"))


def _backup(path, to) -> None:
    """A consistent copy of the live SQLite file, as a backup tool would take it."""
    with sqlite3.connect(path) as source, sqlite3.connect(to) as target:
        source.backup(target)


def test_the_operator_procedure_makes_an_earlier_backup_unreadable(run, region, tmp_path):
    from deelwijs.crypto import Keyring

    k1 = run((), "keys", "new").stdout.strip()
    Fernet(k1)  # a usable key
    k2 = run((), "keys", "new").stdout.strip()
    assert k1 != k2

    # wrapping keys configured: every youth key is still under the master key
    status = ok(run((k1,), "keys", "status"))
    assert (status["rotation_possible"], status["master_key"], status["to_rewrap"]) == (
        True, 2, 2)
    before = _wrapped_keys(region["db"])
    dry = ok(run((k1,), "keys", "rewrap", "--dry-run"))
    assert (dry["dry_run"], dry["rewrapped"]) == (True, 2)
    assert _wrapped_keys(region["db"]) == before
    moved = run((k1,), "keys", "rewrap")
    assert ok(moved)["rewrapped"] == 2
    assert "opnieuw verpakken" in moved.stderr  # the progress bar
    assert ok(run((k1,), "keys", "rewrap"))["rewrapped"] == 0  # idempotent

    backup = tmp_path / "backup.sqlite3"
    _backup(region["db"], backup)

    done = run((k1,), "retention", "run", "--on", ON)
    result = ok(done)
    assert result["shredded"] == 1
    assert result["key_rotation"]["possible"] is True
    assert "deelwijs keys rewrap" in result["key_rotation"]["message"]
    assert "deelwijs keys rewrap" in done.stderr

    gone_in_backup = _wrapped_keys(backup)[region["gone"]]
    assert Keyring(region["master"], [k1.encode()]).unwrap(gone_in_backup)  # still readable

    rotated = ok(run((k2, k1), "keys", "rewrap"))
    assert (rotated["rewrapped"], rotated["shredded"]) == (1, 1)
    status = ok(run((k2, k1), "keys", "status"))
    assert [k["youths"] for k in status["wrapping_keys"]] == [1, 0]
    assert status["old_keys_removable"] is True

    # k1 removed from the configuration and destroyed: the backup's keys open no more
    after = Keyring(region["master"], [k2.encode()])
    for youth_id, wrapped in _wrapped_keys(backup).items():
        with pytest.raises(InvalidToken):
            after.unwrap(wrapped)
        assert youth_id in (region["gone"], region["kept"])
    shown = ok(run((k2,), "youth", "show", region["kept"]))
    assert shown["name"] == "Jongere kept"
    status = ok(run((k2,), "keys", "status"))
    assert (status["wrapping_keys"][0]["youths"], status["unreadable"], status["shredded"]) == (
        1, 0, 1)


def test_without_wrapping_keys_nothing_changes_and_rotation_is_not_possible(run, region):
    before = _wrapped_keys(region["db"])
    status = ok(run((), "keys", "status"))
    assert (status["rotation_possible"], status["master_key"], status["wrapping_keys"]) == (
        False, 2, [])
    assert "Sleutelrotatie is niet mogelijk" in status["message"]
    refused(run((), "keys", "rewrap"), "DEELWIJS_WRAPPING_KEYS", "geen verpakkingssleutels")
    assert _wrapped_keys(region["db"]) == before

    dry = run((), "retention", "run", "--dry-run", "--on", ON)
    assert ok(dry)["key_rotation"] == {"possible": False,
                                       "message": ok(dry)["key_rotation"]["message"]}
    assert "Sleutelrotatie is niet mogelijk" in dry.stderr
    done = run((), "retention", "run", "--on", ON)
    assert ok(done)["shredded"] == 1
    assert "Sleutelrotatie is niet mogelijk" in ok(done)["key_rotation"]["message"]
    assert "Sleutelrotatie is niet mogelijk" in done.stderr
    assert ok(run((), "youth", "show", region["kept"]))["name"] == "Jongere kept"


def test_a_malformed_wrapping_key_is_refused_and_nothing_changes(run, region):
    before = _wrapped_keys(region["db"])
    good = Fernet.generate_key()
    for args in (("keys", "status"), ("keys", "rewrap"), ("youth", "show", region["kept"]),
                 ("retention", "run", "--on", ON)):
        refused(run(("kapot",), *args), "DEELWIJS_WRAPPING_KEYS", "sleutel 1",
                "geen geldige sleutel")
        refused(run((good, "kapot"), *args), "DEELWIJS_WRAPPING_KEYS", "sleutel 2")
    refused(run((good, good), "keys", "rewrap"), "DEELWIJS_WRAPPING_KEYS",
            "staat al eerder in de lijst")
    refused(run((region["master"],), "keys", "rewrap"), "DEELWIJS_WRAPPING_KEYS",
            "hoofdsleutel")
    refused(run((good,), "keys", "rewrap", "--batch-size", "0"), "--batch-size",
            "minstens 1")
    assert _wrapped_keys(region["db"]) == before
    assert ok(run((), "keys", "status"))["master_key"] == 2


def test_keys_help_is_dutch(run):
    out = run((), "keys", "--help").stdout
    for command in ("new", "status", "rewrap"):
        assert command in out
    assert "verpakkingssleutel" in out
    assert "Proefronde" in run((), "keys", "rewrap", "--help").stdout
