"""Checkpoints that leave the database, a log head that fails closed, proofs that recompute.

Every attack here is one an insider with database access could make without a key (or, for
the cosigner, with the master key): on SQLite and on PostgreSQL, through the `tamper` fixture
(as the owner past the triggers, or as the app role where that role may make the change;
with DEELWIJS_TEST_APP_ROLE=1 the code under test runs as the app role, which is shown to be
refused what needs the owner). The checkpoints kept outside the database are the witness file, into
which every checkpoint is appended once its transaction committed, and files a supervisor
keeps (`audit checkpoint --out`, `audit cosign`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import stat

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text
from tests.services.helpers import TODAY, unit_of

from deelwijs import __version__
from deelwijs.crypto import Keyring
from deelwijs.domain import checkpoint as cp
from deelwijs.services import demo
from deelwijs.services.app import open_app
from deelwijs.services.casus import youths
from deelwijs.services.log import audit, verify, witness
from deelwijs.services.rights import retention
from deelwijs.storage import orm

DAY = dt.date(2024, 3, 1)

# a change to an entry's body that fits in either format (both hold the version)
FORGED = f"replace(body, '{__version__}', '9.9.9')"


@pytest.fixture
def witness_file(tmp_path):
    return tmp_path / "getuige" / "checkpoints.notes"


@pytest.fixture
def settings(settings, witness_file):
    """The tests' settings with a witness file outside the database's directory."""
    return dataclasses.replace(settings, witness_file=witness_file)


def report(app, **kw) -> verify.Report:
    with app.transaction() as s:
        return verify.verify(s, app.keys, **kw)


def kinds(rep: verify.Report) -> list[str]:
    """The kinds of the log's own problems (not those of the rows bound to it)."""
    return [p.kind for p in rep.problems if p.row is None]


def head(app, region_id: int) -> tuple[int, bytes]:
    with app.engine.connect() as conn:
        size, blob = conn.execute(text("SELECT size, frontier FROM log_head WHERE region_id = :r"),
                                  {"r": region_id}).one()
    return size, bytes(blob)


def cut_back(tamper, region_id: int, size: int, blob: bytes) -> None:
    """The log cut back to `size` entries, and its head as it was then (`blob`, with its valid
    MAC) put back: past the triggers, as an owner-role insider would. The app role itself is
    refused the deletes (the head it could put back)."""
    cut = [("DELETE FROM log_entry WHERE region_id = :r AND seq >= :n",
            {"r": region_id, "n": size}),
           ("DELETE FROM log_checkpoint WHERE region_id = :r AND size > :n",
            {"r": region_id, "n": size})]
    tamper.assert_app_role_refused(*cut)
    tamper(*cut, ("UPDATE log_head SET size = :n, frontier = :f WHERE region_id = :r",
                  {"r": region_id, "n": size, "f": blob}))


def log_some(app, region_id: int, n: int) -> None:
    """n entries, one transaction each (a read of nothing in particular)."""
    for _ in range(n):
        with app.transaction() as s:
            audit.log_system(s, region_id=region_id, name="registratie", actie="read")


@pytest.fixture
def logged(build, app):
    """A youth, consent and disclosures: a log of some entries of several kinds."""
    youth = build.youth()
    build.parents_consent(youth, purposes=("oza",), categories=("gedrag",), given_on=DAY)
    case = build.case("oza", participants=("school", "jeugdhulp", "swv"), youth_id=youth)
    build.accede("jeugdhulp", case)
    build.disclose("alice", "jeugdhulp", {"gedrag": "Onrustig in de klas"}, DAY, case_id=case)
    return {"youth": youth, "case": case}


# --- the witness file ---------------------------------------------------------------------------


def test_every_checkpoint_is_also_appended_to_the_witness_file(logged, app, build, witness_file):
    with app.transaction() as s:
        audit.checkpoint(s, app.keys, build.w.region_id)
        notes = [c.note for c in audit.checkpoints(s, build.w.region_id)]
        origin = audit.origin(s, build.w.region_id)
    held = witness.load(witness_file)
    assert [o.note for o in held] == notes and len(notes) >= 2  # the first entry's, and now
    assert stat.S_IMODE(witness_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(witness_file.parent.stat().st_mode) == 0o700
    # the key that signs is named as the log's origin, which names this deployment
    assert origin == f"deelwijs/{audit.deployment_id(app.keys)}/testregio/verwerkingslog"
    for note in notes:
        assert note.split("\n")[0] == origin and f"\n\u2014 {origin} " in note
        assert cp.open_note(note, app.keys.verify_key, origin)[0] == origin
    assert report(app, outside=held).ok


def test_a_rolled_back_checkpoint_never_reaches_the_witness_file(build, app, witness_file):
    log_some(app, build.w.region_id, 1)
    before = witness_file.read_text()
    with pytest.raises(RuntimeError), app.transaction() as s:
        audit.log_system(s, region_id=build.w.region_id, name="registratie", actie="read")
        audit.checkpoint(s, app.keys, build.w.region_id)
        raise RuntimeError("afgebroken")
    assert witness_file.read_text() == before


def test_a_witness_file_that_cannot_be_written_does_not_undo_the_commit(build, app, tmp_path,
                                                                       caplog):
    blocked = tmp_path / "geen-map"
    blocked.write_text("een bestand waar een map zou moeten staan")
    app.settings = dataclasses.replace(app.settings, witness_file=blocked / "checkpoints.notes")
    app.sessions.kw["info"]["deelwijs_settings"] = app.settings
    with caplog.at_level(logging.ERROR, logger="deelwijs.audit"):
        log_some(app, build.w.region_id, 1)
    assert "getuigenbestand" in caplog.text and "niet bijschrijven" in caplog.text
    with app.transaction() as s:
        assert [c.size for c in audit.checkpoints(s, build.w.region_id)] == [1]


def test_origins_differ_per_deployment_and_region():
    one, two = Keyring(Fernet.generate_key()), Keyring(Fernet.generate_key())
    assert audit.origin_for(one, "regio") != audit.origin_for(two, "regio")
    assert audit.origin_for(one, "regio") != audit.origin_for(one, "andere")
    odd = audit.origin_for(one, "regio met spatie+plus")
    assert " " not in odd and "+" not in odd
    cp.verifier_key(odd, one.verify_key)  # a valid key name


# --- truncation and wiping ---------------------------------------------------------------------


def test_deleting_the_newest_entries_and_rewinding_the_head_fails_against_the_witness(
        logged, app, build, witness_file, tamper):
    """The attacker keeps the head row as it was at some size (seen earlier, or from a backup:
    it carries a valid MAC), lets the log grow, then deletes the entries and checkpoints past
    that size and puts the old head back. Inside the database nothing is left to compare with;
    the witness file still holds the checkpoints of the longer log."""
    region = build.w.region_id
    old_size, old_blob = head(app, region)
    log_some(app, region, 3)
    with app.transaction() as s:
        audit.checkpoint(s, app.keys, region)
    assert report(app, outside=witness.load(witness_file)).ok
    cut_back(tamper, region, old_size, old_blob)
    assert report(app).ok  # what the database alone can tell: nothing
    rep = report(app, outside=witness.load(witness_file))
    assert kinds(rep) == ["truncated"], [p.line() for p in rep.problems]
    line = rep.problems[0].line()
    assert f"het log telt {old_size} regels" in line and "ingekort of gewist" in line
    # a checkpoint handed out before (audit checkpoint --out) tells the same
    with app.transaction() as s:
        newest = audit.checkpoints(s, region)[-1].note
    shown = witness.Outside("checkpoint.txt", newest, *cp.peek(newest))
    assert [p.kind for p in report(app, outside=[shown]).problems] == []  # still there
    rep = report(app, outside=witness.load(witness_file)[-1:])
    assert kinds(rep) == ["truncated"]


def test_wiping_the_log_and_its_checkpoints_fails_against_the_witness(logged, app, build,
                                                                      witness_file, tamper):
    region = build.w.region_id
    wipe = ("TRUNCATE log_entry, log_checkpoint" if app.engine.dialect.name == "postgresql"
            else "DELETE FROM log_entry")
    tamper.assert_app_role_refused(wipe, "DELETE FROM log_checkpoint")
    tamper(wipe, "DELETE FROM log_checkpoint",
           ("UPDATE log_head SET size = 0, frontier = :f", {"f": b""}))
    alone = report(app)  # the log itself: "0 regels, in orde" (the rows bound to it aside)
    assert kinds(alone) == [] and alone.regions["testregio"]["regels"] == 0
    rep = report(app, outside=witness.load(witness_file))
    assert not rep.ok and kinds(rep) == ["truncated"]
    assert "het log telt 0 regels" in next(p.line() for p in rep.problems if p.row is None)
    with app.transaction() as s:  # the youths, consents and disclosures are all still there
        assert s.scalar(select(func.count()).select_from(orm.Disclosure)) == 1
        assert s.get(orm.Region, region) is not None


def test_checkpoints_of_a_region_that_is_gone_are_named(logged, app, build, witness_file):
    held = witness.load(witness_file)
    other = [dataclasses.replace(o, origin=o.origin.replace("/testregio/", "/weg/")) for o in held]
    rep = report(app, outside=other)
    assert kinds(rep) == ["truncated"] and rep.problems[0].region == "weg"
    foreign = [dataclasses.replace(o, origin="deelwijs/000000000000/testregio/verwerkingslog")
               for o in held]
    rep = report(app, outside=foreign)
    assert rep.ok and rep.elsewhere == len(held)


def test_a_log_without_any_checkpoint_is_flagged(logged, app, tamper):
    tamper.assert_app_role_refused("DELETE FROM log_checkpoint")
    tamper("DELETE FROM log_checkpoint")
    rep = report(app)
    assert kinds(rep) == ["uncovered"]
    assert "geen enkel checkpoint" in rep.problems[0].line()


def test_an_uncovered_tail_larger_than_n_is_flagged(build, app, monkeypatch, tamper):
    monkeypatch.setattr(audit, "CHECKPOINT_EVERY", 3)
    log_some(app, build.w.region_id, 10)
    with app.transaction() as s:
        assert [c.size for c in audit.checkpoints(s, build.w.region_id)] == [1, 3, 6, 9]
    assert report(app).ok  # a tail of 1
    tamper.assert_app_role_refused("DELETE FROM log_checkpoint WHERE size > 1")
    tamper("DELETE FROM log_checkpoint WHERE size > 1")
    rep = report(app)
    assert kinds(rep) == ["uncovered"]
    assert "de laatste 9 regels (vanaf regel 1)" in rep.problems[0].line()


def test_a_checkpoint_is_signed_with_the_first_entry_t_minutes_after_the_newest(build, app,
                                                                              monkeypatch):
    clock = [dt.datetime(2026, 3, 2, 9, 0)]
    monkeypatch.setattr(audit, "_now", lambda: clock[0])
    log_some(app, build.w.region_id, 3)  # the first entry's checkpoint only
    clock[0] += dt.timedelta(minutes=59)
    log_some(app, build.w.region_id, 1)
    clock[0] += dt.timedelta(minutes=2)  # 61 minutes after the newest checkpoint
    log_some(app, build.w.region_id, 2)
    with app.transaction() as s:
        assert [c.size for c in audit.checkpoints(s, build.w.region_id)] == [1, 5]
    # a second process (another app on the same database) knows of it too
    other = open_app(app.settings)
    try:
        log_some(other, build.w.region_id, 1)
    finally:
        other.engine.dispose()
    with app.transaction() as s:
        assert [c.size for c in audit.checkpoints(s, build.w.region_id)] == [1, 5]


def test_the_demo_leaves_no_entry_uncovered(app, witness_file):
    demo.build(app, TODAY, youths_n=3, per_type=2)
    with app.transaction() as s:
        region = s.scalar(select(orm.Region.id))
        size = s.scalar(select(orm.LogHead.size).where(orm.LogHead.region_id == region))
        assert audit.checkpoints(s, region)[-1].size == size
    assert witness.load(witness_file)[-1].size == size
    rep = report(app, outside=witness.load(witness_file))
    assert rep.ok and rep.regions["demo"]["gedekt_tot"] == size


def test_the_retention_run_ends_with_a_checkpoint(build, app, monkeypatch):
    monkeypatch.setattr(audit, "CHECKPOINT_EVERY", 10**6)
    log_some(app, build.w.region_id, 4)
    with app.transaction() as s:
        retention.run(unit_of(app, s), dry_run=False)
    with app.transaction() as s:
        size = s.scalar(select(orm.LogHead.size).where(orm.LogHead.region_id == build.w.region_id))
        assert audit.checkpoints(s, build.w.region_id)[-1].size == size


# --- keys and names -------------------------------------------------------------------------------


def test_the_public_key_must_carry_the_logs_origin_as_its_name(logged, app, build):
    with app.transaction() as s:
        origin = audit.origin(s, build.w.region_id)
        lines = audit.verifier_keys(unit_of(app, s))
    assert lines == [cp.verifier_key(origin, app.keys.verify_key)]
    assert report(app, public_key=dict([cp.parse_verifier_key(lines[0])])).ok
    rep = report(app, public_key={"deelwijs": app.keys.verify_key})  # the right key, wrong name
    assert "checkpoint" in kinds(rep)  # (and so nothing covers the log: "uncovered")
    assert "geen sleutel met de naam" in rep.problems[0].message


# --- a second key: the cosigner ------------------------------------------------------------------


def test_an_administrator_with_the_master_key_cannot_resign_a_shortened_log(logged, app, build,
                                                                            witness_file,
                                                                            tamper):
    """The cosigner (the FG) cosigns the log as it stands and keeps a copy. Someone who holds
    the master key cuts the log and re-signs it, rewriting the witness file too: without the
    cosigner verify cannot tell; with the cosigner's key it can, from the FG's copy or from
    the missing cosignature."""
    fg = Ed25519PrivateKey.generate()
    name = "fg.testregio.example/getuige"
    cosigners = [(name, fg.public_key())]
    region = build.w.region_id
    old_size, old_blob = head(app, region)
    log_some(app, region, 2)
    with app.transaction() as s:
        note = audit.checkpoint(s, app.keys, region).note
    cosigned = cp.cosign(fg, name, note, 1_772_000_000)
    fg_copy = [witness.Outside("fg-kopie.notes", cosigned, *cp.peek(cosigned))]
    witness.append(witness_file, [cosigned])
    rep = report(app, outside=witness.load(witness_file), cosigners=cosigners)
    assert rep.ok and rep.regions["testregio"]["medeondertekend"] == 1
    # cut the log, re-sign a checkpoint of the short log with the master key, new witness file
    cut_back(tamper, region, old_size, old_blob)
    with app.transaction() as s:
        resigned = [c.note for c in audit.checkpoints(s, region)]
    witness_file.write_text("".join(resigned))
    assert report(app, outside=witness.load(witness_file)).ok  # the key holder's story holds
    rep = report(app, outside=witness.load(witness_file), cosigners=cosigners)
    assert kinds(rep) == ["cosignature"] and "medeondertekend" in rep.problems[0].message
    rep = report(app, outside=witness.load(witness_file) + fg_copy, cosigners=cosigners)
    assert "truncated" in kinds(rep)


def test_a_forged_cosignature_is_named(logged, app, build):
    fg = Ed25519PrivateKey.generate()
    name = "fg.testregio.example/getuige"
    with app.transaction() as s:
        note = audit.checkpoint(s, app.keys, build.w.region_id).note
    forged = cp.cosign(Ed25519PrivateKey.generate(), name, note, 1)  # not the FG's key
    forged = forged.replace(forged.splitlines()[-1].split(" ")[2][:8],
                            cp.cosign(fg, name, note, 1).splitlines()[-1].split(" ")[2][:8])
    rep = report(app, outside=[witness.Outside("x", forged, *cp.peek(forged))],
                 cosigners=[(name, fg.public_key())])
    assert "cosignature" in kinds(rep)
    assert any("klopt niet" in p.message for p in rep.problems)


# --- fail closed: a tampered head stops every write ---------------------------------------------


HEAD_TAMPERING = {
    "frontier": "UPDATE log_head SET frontier = :f",
    "size": "UPDATE log_head SET size = size + 1",
    "rewound without its MAC": "UPDATE log_head SET size = 1, frontier = :g",
}


@pytest.mark.parametrize("how", list(HEAD_TAMPERING))
def test_a_write_on_a_tampered_head_fails_in_dutch_and_writes_nothing(logged, app, build, how,
                                                                     tamper):
    _, blob = head(app, build.w.region_id)
    flipped = bytes([blob[0] ^ 1]) + blob[1:]
    first_leaf = _first_leaf(app)
    # the app role may update the head (every append does): an insider with the app's own
    # credentials can make this change
    tamper.as_app((HEAD_TAMPERING[how], {"f": flipped, "g": first_leaf}))
    before = build.counts()
    for what, attempt in _writes(logged, app, build).items():
        with pytest.raises(audit.HeadTampered) as caught:
            attempt()
        message = caught.value.message
        assert "het verwerkingslog is aangetast" in message and "niets geschreven" in message, what
        assert build.counts() == before, what
    with pytest.raises(audit.HeadTampered), app.transaction() as s:
        audit.checkpoint(s, app.keys, build.w.region_id)
    assert build.counts() == before
    assert "head" in kinds(report(app))


def test_a_head_put_back_from_before_stops_the_next_write_in_dutch(logged, app, build, tamper):
    """An older head, with its valid MAC (from a backup, say), put back behind the log: the
    next write finds its position taken and stops in Dutch, writing nothing."""
    region = build.w.region_id
    size, blob = head(app, region)
    log_some(app, region, 2)
    tamper.as_app(("UPDATE log_head SET size = :n, frontier = :f WHERE region_id = :r",
                   {"n": size, "f": blob, "r": region}))
    before = build.counts()
    for what, attempt in _writes(logged, app, build).items():
        with pytest.raises(audit.HeadTampered) as caught:
            attempt()
        message = caught.value.message
        assert "het verwerkingslog is aangetast" in message, what
        assert f"op positie {size} staat al een logregel" in message, what
        assert build.counts() == before, what


def _writes(logged, app, build) -> dict:
    """One of each kind of write that appends to the log (a read writes its entry too)."""
    return {
        "consent": lambda: build.parents_consent(logged["youth"], purposes=("oza",),
                                                 categories=("thuissituatie",), given_on=DAY),
        "disclosure": lambda: build.disclose("alice", "jeugdhulp", {"gedrag": "Weer onrustig"},
                                             DAY, case_id=logged["case"]),
        "log entry": lambda: log_some(app, build.w.region_id, 1),
        "read": lambda: _read(app, logged["youth"]),
    }


def _first_leaf(app) -> bytes:
    with app.engine.connect() as conn:
        return bytes(conn.execute(text("SELECT leaf_hash FROM log_entry WHERE seq = 0")).scalar())


def _read(app, youth_id: int) -> None:
    with app.transaction() as s:
        youths.read_youth(unit_of(app, s, today=DAY), youth_id)


# --- proofs recompute --------------------------------------------------------------------------


def test_prove_and_consistency_say_it_does_not_hold_for_a_changed_body(logged, app, build,
                                                                     tamper):
    region = build.w.region_id
    with app.transaction() as s:
        first = audit.checkpoints(s, region)[0].size
        last = audit.checkpoint(s, app.keys, region).size
        target = s.scalars(select(orm.LogEntry).where(orm.LogEntry.seq == last - 2)).one()
        assert verify.prove(s, app.keys, target.actie_id)["klopt"]
        assert verify.prove_consistency(s, app.keys, "testregio", first, last)["klopt"]
    changed = ("UPDATE log_entry SET body = " + FORGED + " "
               "WHERE id = :id", {"id": target.id})
    tamper.assert_app_role_refused(changed, by="trigger")  # it may update a body when due
    tamper(changed)
    with app.transaction() as s:
        proof = verify.prove(s, app.keys, target.actie_id)
        assert proof["klopt"] is False and "gewijzigd" in proof["waarom"]
        cons = verify.prove_consistency(s, app.keys, "testregio", first, last)
        assert cons["klopt"] is False and f"regel {last - 2}" in cons["waarom"]
        # an entry no one touched still proves
        assert verify.prove(s, app.keys, "0", "testregio")["klopt"]


def test_prove_says_when_it_signs_a_new_checkpoint(build, app, monkeypatch):
    monkeypatch.setattr(audit, "CHECKPOINT_EVERY", 10**6)
    log_some(app, build.w.region_id, 3)
    with app.transaction() as s:
        assert verify.prove(s, app.keys, "0", "testregio")["nieuw_checkpoint"] is False
        proof = verify.prove(s, app.keys, "2", "testregio")
        assert proof["nieuw_checkpoint"] is True and proof["boomgrootte"] == 3 and proof["klopt"]
        assert verify.prove(s, app.keys, "2", "testregio")["nieuw_checkpoint"] is False


# --- settings ------------------------------------------------------------------------------------


def test_the_witness_file_lies_outside_the_database_and_var(monkeypatch, tmp_path):
    from deelwijs import settings as settings_mod

    var = tmp_path / "var"
    monkeypatch.setattr(settings_mod, "VAR", var)
    monkeypatch.setenv("DEELWIJS_DATABASE_URL", f"sqlite:///{tmp_path / 'db' / 'x.sqlite3'}")
    monkeypatch.delenv("DEELWIJS_WITNESS_FILE", raising=False)
    assert settings_mod.load().witness_file == (tmp_path / "witness" / "checkpoints.notes")
    for inside in (var / "w.notes", tmp_path / "db" / "w.notes"):
        monkeypatch.setenv("DEELWIJS_WITNESS_FILE", str(inside))
        with pytest.raises(settings_mod.SettingsError, match="buiten de database"):
            settings_mod.load()
    for off in ("uit", "off", "UIT"):
        monkeypatch.setenv("DEELWIJS_WITNESS_FILE", off)
        assert settings_mod.load().witness_file is None
    monkeypatch.setenv("DEELWIJS_WITNESS_FILE", str(tmp_path))
    with pytest.raises(settings_mod.SettingsError, match="is een map"):
        settings_mod.load()


@pytest.mark.parametrize(("name", "value"), [
    ("DEELWIJS_CHECKPOINT_EVERY", "0"), ("DEELWIJS_CHECKPOINT_EVERY", "1.5"),
    ("DEELWIJS_CHECKPOINT_EVERY", "veel"), ("DEELWIJS_CHECKPOINT_MINUTES", "-1"),
    ("DEELWIJS_CHECKPOINT_MINUTES", "nan"), ("DEELWIJS_CHECKPOINT_MINUTES", "1e400"),
])
def test_checkpoint_intervals_are_positive_numbers(monkeypatch, name, value):
    from deelwijs import settings as settings_mod

    monkeypatch.setenv("DEELWIJS_WITNESS_FILE", "uit")
    monkeypatch.setenv(name, value)
    with pytest.raises(settings_mod.SettingsError, match=f"{name}=.*groter dan 0"):
        settings_mod.load()
    monkeypatch.setenv(name, "7")
    config = settings_mod.load()
    assert 7 in (config.checkpoint_every, config.checkpoint_minutes)
