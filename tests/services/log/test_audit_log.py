"""The processing log: every processing writes an entry in the same transaction, entries are
append-only, and `verify` names every entry that was altered, removed, moved or inserted
directly in the database (bypassing the app), on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from tests.services.helpers import unit_of

from deelwijs import __version__
from deelwijs.domain import merkle
from deelwijs.services.casus import consent, disclosures, youths
from deelwijs.services.errors import Invalid
from deelwijs.services.log import audit, verify
from deelwijs.storage import orm

DAY = dt.date(2024, 3, 1)

# a change to an entry's body that fits in either format (both hold the version)
FORGED = f"replace(body, '{__version__}', '9.9.9')"


def entries(app) -> list[orm.LogEntry]:
    with app.transaction() as s:
        return list(s.scalars(select(orm.LogEntry).order_by(orm.LogEntry.seq)))


def report(app) -> verify.Report:
    with app.transaction() as s:
        return verify.verify(s, app.keys)


def kinds(rep: verify.Report) -> set[tuple[str, int | None]]:
    return {(p.kind, p.seq) for p in rep.problems}


@pytest.fixture
def logged(build, app):
    """A youth, consent, allowed and denied disclosures and a checkpoint: a log of several
    entries of several kinds, signed."""
    youth = build.youth()
    build.parents_consent(youth, purposes=("oza",), categories=("gedrag",), given_on=DAY)
    case = build.case("oza", participants=("school", "jeugdhulp", "swv"), youth_id=youth)
    build.accede("jeugdhulp", case)
    build.disclose("alice", "jeugdhulp", {"gedrag": "Onrustig in de klas"}, DAY, case_id=case)
    build.disclose("alice", "jeugdhulp", {"thuissituatie": "Ouders gescheiden"}, DAY, case_id=case)
    with app.transaction() as s:
        audit.checkpoint(s, app.keys, build.w.region_id)
    build.disclose("alice", "jeugdhulp", {"gedrag": "Gaat beter"}, DAY, case_id=case)
    return youth


def test_every_processing_writes_one_entry_with_the_vng_fields(logged, app, build):
    rows = entries(app)
    actions = [audit.body_of(r)["actie"] for r in rows]
    # registration, two parents' consent, three disclosure attempts (one refused)
    assert actions.count("create") == 1
    assert actions.count("consent") == 2
    assert actions.count("disclose") == 2 and actions.count("deny") == 1
    assert [r.seq for r in rows] == list(range(len(rows)))
    body = audit.body_of(rows[-1])
    for key in ("actieNaam", "handelingNaam", "verwerkingNaam", "verwerkingsactiviteitId",
                "vertrouwelijkheid", "bewaartermijn", "uitvoerder", "systeem", "gebruiker",
                "gegevensbron", "afnemerId", "verwerkteObjecten", "tijdstip", "trace_id",
                "span_id", "besluit"):
        assert key in body, key
    assert len(body["trace_id"]) == 32 and len(body["span_id"]) == 16
    assert body["besluit"]["uitkomst"] == "allow"
    assert body["besluit"]["ruleset_digest"] == build.w.digest
    assert body["besluit"]["items"][0]["regels"]
    assert body["verwerkingsactiviteitId"] == rows[-1].activity_id
    assert body["verwerkteObjecten"][0]["objectId"] == rows[-1].subject == app.keys.subject(
        logged)
    denied = next(audit.body_of(r) for r in rows if audit.body_of(r)["actie"] == "deny")
    assert denied["besluit"]["items"][0]["redenen"]
    assert denied["afnemerId"]


def test_the_log_holds_no_bsn_and_no_name(build, app):
    youth = build.youth(bsn="999990019", name="Fenna Oosterhout")
    with app.transaction() as s:
        youths.read_youth(unit_of(app, s, today=DAY), youth)
    for row in entries(app):
        assert "999990019" not in (row.body or "") and "Fenna" not in (row.body or "")
        assert row.subject != "999990019"


def test_an_action_whose_entry_cannot_be_written_fails_whole(build, app):
    youth = build.youth()
    before = build.counts()
    with app.transaction() as s:  # a session without keys cannot log: nothing is written
        s.info.pop("deelwijs_keys")
        with pytest.raises(RuntimeError, match="unlogged"):
            consent.record(unit_of(app, s, today=DAY), youths.get_youth(s, youth), "youth",
                           "given", ["oza"], ["gedrag"], DAY, written=False)
        s.rollback()
    assert build.counts() == before


def test_a_refused_disclosure_is_logged_and_a_bad_one_writes_nothing(logged, app, build):
    before = build.counts()
    with pytest.raises(Invalid), app.transaction() as s:
        disclosures.record(unit_of(app, s, by=build.pro("alice")),
                           to_org_id=build.org("jeugdhulp"), contents={"onzin": "x"}, day=DAY,
                           youth_id=logged, purpose="oza")
    assert build.counts() == before


def test_a_clean_log_verifies_and_every_checkpoint_is_signed(logged, app):
    rep = report(app)
    assert rep.ok, [p.line() for p in rep.problems]
    with app.transaction() as s:
        checks = audit.checkpoints(s, logged and s.scalar(select(orm.Region.id)))
    # signed by the key named as the log's origin (deelwijs/<deployment>/<region>/…)
    assert checks and all(c.note.split("\n\n")[1].startswith(f"\u2014 {c.note.split()[0]} ")
                          for c in checks)


def test_an_altered_entry_is_named(logged, app, tamper):
    victim = entries(app)[3]
    altered = ("UPDATE log_entry SET body = " + FORGED + " "
               "WHERE id = :id", {"id": victim.id})
    # the app role may update a body (for the retention run), but the trigger refuses this
    tamper.assert_app_role_refused(altered, by="trigger")
    tamper(altered)
    rep = report(app)
    assert ("altered", 3) in kinds(rep)
    assert any(p.entry_id == victim.id and p.actie_id == victim.actie_id for p in rep.problems)
    assert any(p.kind == "checkpoint" for p in rep.problems)


def test_an_entry_rewritten_with_a_fresh_hash_is_named(logged, app, tamper):
    victim = entries(app)[2]
    body = audit.canonical({**audit.body_of(victim), "actie": "read"})  # consent → read
    leaf = merkle.leaf_hash(audit.leaf_data(victim.region_id, victim.seq, victim.actie_id,
                                            victim.subject, victim.activity_id,
                                            victim.registered_at, body))
    rewrite = ("UPDATE log_entry SET body = :b, leaf_hash = :h WHERE id = :id",
               {"b": body, "h": leaf, "id": victim.id})
    tamper.assert_app_role_refused(rewrite)
    tamper(rewrite)
    rep = report(app)
    assert ("forged", 2) in kinds(rep)
    assert any(p.kind == "checkpoint" for p in rep.problems)


def test_a_deleted_entry_is_named(logged, app, tamper):
    victim = entries(app)[1]
    delete = ("DELETE FROM log_entry WHERE id = :id", {"id": victim.id})
    tamper.assert_app_role_refused(delete)
    tamper(delete)
    rep = report(app)
    assert ("missing", 1) in kinds(rep)


def test_a_truncated_log_is_found(logged, app, tamper):
    rows = entries(app)
    cut = ("DELETE FROM log_entry WHERE seq >= :n", {"n": len(rows) - 2})
    tamper.assert_app_role_refused(cut)
    tamper(cut, ("UPDATE log_head SET size = :n", {"n": len(rows) - 2}))
    assert not report(app).ok


def test_an_inserted_entry_is_named(logged, app, tamper):
    """The app role may append entries and move the head: an insider with the app's own
    credentials can insert an entry, but cannot give it a valid MAC."""
    last = entries(app)[-1]
    seq = last.seq + 1
    body = last.body.replace('"disclose"', '"read"')
    leaf = merkle.leaf_hash(audit.leaf_data(last.region_id, seq, "00000000-0000-4000-8000-"
                                            "000000000000", last.subject, last.activity_id,
                                            last.registered_at, body))
    tamper.as_app((
        "INSERT INTO log_entry (region_id, seq, actie_id, subject, activity_id, registered_at,"
        " body, leaf_hash, mac) VALUES (:r, :s, '00000000-0000-4000-8000-000000000000', :sub,"
        " :a, :t, :b, :h, :m)",
        {"r": last.region_id, "s": seq, "sub": last.subject, "a": last.activity_id,
         "t": last.registered_at, "b": body, "h": leaf, "m": b"\0" * 16}),
        ("UPDATE log_head SET size = size + 1", {}))
    rep = report(app)
    assert ("forged", seq) in kinds(rep)


def test_swapped_entries_are_named_as_moved(logged, app, tamper):
    rows = entries(app)
    a, b = rows[1], rows[4]
    swap = [("UPDATE log_entry SET seq = -1 WHERE id = :id", {"id": a.id}),
            ("UPDATE log_entry SET seq = :s WHERE id = :id", {"s": a.seq, "id": b.id}),
            ("UPDATE log_entry SET seq = :s WHERE id = :id", {"s": b.seq, "id": a.id})]
    tamper.assert_app_role_refused(*swap)
    tamper(*swap)
    rep = report(app)
    assert {("reordered", 1), ("reordered", 4)} <= kinds(rep)


def test_a_forged_checkpoint_is_found(logged, app, tamper):
    note_changed = ("UPDATE log_checkpoint SET note = replace(note, '\n5\n', '\n4\n')", {})
    tamper.assert_app_role_refused(note_changed)
    tamper(note_changed)
    with app.transaction() as s:
        note = s.scalar(select(orm.LogCheckpoint.note))
    rep = report(app)
    assert not rep.ok or "\n5\n" not in note
    root_changed = ("UPDATE log_checkpoint SET root = :r", {"r": b"\1" * 32})
    tamper.assert_app_role_refused(root_changed)
    tamper(root_changed)
    assert any(p.kind == "checkpoint" for p in report(app).problems)


def test_the_database_refuses_update_delete_of_log_and_consent(logged, app, tamper,
                                                               owner_engine):
    """The triggers refuse even the owner of the tables; the app role is refused before
    that, by its privileges (with DEELWIJS_TEST_APP_ROLE=1; elsewhere by the triggers), and
    cannot switch the triggers off."""
    statements = ["UPDATE log_entry SET activity_id = 'x'", "DELETE FROM log_entry",
                  "UPDATE log_checkpoint SET size = 1", "DELETE FROM log_checkpoint",
                  "UPDATE consent_record SET answer = 'given'", "DELETE FROM consent_record"]
    if app.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE log_entry CASCADE")
    for sql in statements:
        with pytest.raises(DBAPIError, match="alleen-toevoegen"), owner_engine.begin() as conn:
            conn.execute(text(sql))
        if not tamper.assert_app_role_refused(sql):
            with pytest.raises(DBAPIError, match="alleen-toevoegen"), app.engine.begin() as conn:
                conn.execute(text(sql))
    if app.engine.dialect.name == "postgresql":
        tamper.assert_app_role_refused(
            "ALTER TABLE log_entry DISABLE TRIGGER USER", "DROP TRIGGER log_entry_delete ON "
            "log_entry", "SET LOCAL session_replication_role = replica",
            "TRUNCATE log_head", "ALTER TABLE consent_record OWNER TO CURRENT_USER")
    assert report(app).ok


def test_the_retention_prune_keeps_the_tree(logged, app, build, monkeypatch):
    with monkeypatch.context() as m:  # an entry registered long ago: past the log's term
        m.setattr(audit, "_now", lambda: dt.datetime(1999, 5, 4, 12, 0))
        build.youth(name="Oud")
    with app.engine.begin() as conn:  # the one UPDATE the triggers allow
        seq = conn.execute(text("UPDATE log_entry SET body = NULL, pruned_at = :t "
                                "WHERE registered_at < :old RETURNING seq"),
                           {"t": audit.now(), "old": dt.datetime(2000, 1, 1)}).scalar_one()
    assert report(app).ok
    with app.transaction() as s:
        assert verify.prove(s, app.keys, str(seq), "testregio")["klopt"]


def test_inclusion_and_consistency_proofs(logged, app):
    with app.transaction() as s:
        rows = list(s.scalars(select(orm.LogEntry).order_by(orm.LogEntry.seq)))
        for row in rows:
            proof = verify.prove(s, app.keys, row.actie_id)
            assert proof["klopt"] and proof["index"] == row.seq
        first = audit.checkpoints(s, rows[0].region_id)[0].size
        audit.checkpoint(s, app.keys, rows[0].region_id)
        last = s.scalar(select(func.max(orm.LogCheckpoint.size)))
        assert verify.prove_consistency(s, app.keys, "testregio", first, last)["klopt"]


def test_a_checkpoint_every_n_entries(build, app, monkeypatch):
    monkeypatch.setattr(audit, "CHECKPOINT_EVERY", 2)
    youth = build.youth()
    build.parents_consent(youth, given_on=DAY)
    with app.transaction() as s:
        sizes = [c.size for c in audit.checkpoints(s, build.w.region_id)]
    assert sizes == [1, 2]  # the first entry's, then every second
    assert report(app).ok


def test_a_caller_trace_is_carried_into_the_entry(build, app):
    header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with audit.trace(header):
        youth = build.youth()
    body = audit.body_of(entries(app)[-1])
    assert body["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert body["parent_span_id"] == "00f067aa0ba902b7"
    assert body["foreign_operation"]["trace_id"] == body["trace_id"]
    assert youth
    assert audit.parse_traceparent("garbage") is None
    assert audit.parse_traceparent("00-" + "0" * 32 + "-00f067aa0ba902b7-01") is None


def test_every_entry_references_an_activity_of_the_register_and_its_version(logged, app, build):
    from deelwijs.domain import register

    with app.transaction() as s:
        _, ruleset = app.active_ruleset(s, build.w.region_id)
    known = {a["id"] for a in register.activities(ruleset)}
    for row in entries(app):
        assert row.activity_id in known, row.activity_id
        assert audit.body_of(row)["verwerkingsactiviteitVersie"] == register.version(ruleset)


def test_a_writer_that_came_first_makes_the_entry_append_the_locking_way(logged, app, build,
                                                                         monkeypatch):
    """On PostgreSQL a disclosure seals its entry for the log head its first query read; when
    another transaction appends in between, the head is not advanced over it: the write
    statement locks the head as it stands, the entry is sealed again for it and appended
    after the other one without taking the lock a second time, and the log still
    verifies."""
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes the entry after taking the head (one writer at a time)")
    real_seal = audit.seal
    interleaved = []

    def seal_after_another_writer(keys, entry, size, frontier):
        if not interleaved:  # once: an audit entry by another transaction, committed first
            interleaved.append(True)
            with app.transaction() as other:
                audit.log(other, app.keys, region_id=build.w.region_id, actie="read",
                          activity="x/registratie", activity_version="1@sha256:x",
                          youth_id=logged)
        return real_seal(keys, entry, size, frontier)

    real_bump = audit.bump
    bumps = []

    def counted_bump(session, region_id):
        bumps.append(region_id)
        return real_bump(session, region_id)

    monkeypatch.setattr(audit, "seal", seal_after_another_writer)
    monkeypatch.setattr(audit, "bump", counted_bump)
    before = entries(app)
    disclosure_id = build.disclose("alice", "jeugdhulp", {"gedrag": "Weer onrustig"}, DAY,
                                   case_id=_case_of(app, logged))
    after = entries(app)
    assert interleaved
    assert [e.seq for e in after] == list(range(len(before) + 2))
    assert audit.body_of(after[-2])["actie"] == "read"  # the other writer's, first
    assert audit.body_of(after[-1])["verstrekking"] == disclosure_id  # ours, after it
    assert len(bumps) == 1  # the other writer's: ours kept the lock its write took
    assert report(app).ok


def _case_of(app, youth_id: int) -> int:
    with app.transaction() as s:
        return s.scalar(select(orm.Case.id).where(orm.Case.youth_id == youth_id))
