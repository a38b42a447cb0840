"""verify's row reconciliation (binding.reconcile) with the entries its bulk pass already read
(verify_bulk.Outcome.marked) instead of reading every body a second time: the same windows
as the database cuts, and the same problems and summary, on a log with attacks of every kind
the reconciliation names. The bulk pass is PostgreSQL's; on SQLite `scan` gives None and
reconcile reads the entries itself, which the other tests cover."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from tests.services.helpers import write_unbound

from deelwijs.services.log import audit, binding, verify, verify_bulk
from deelwijs.storage import orm

DAY = dt.date(2024, 3, 1)
LONG_AGO = dt.datetime(1999, 5, 4, 12, 0)
PRUNE = "UPDATE log_entry SET body = NULL, pruned_at = :t WHERE seq = :seq"


def _both(app) -> tuple[tuple, tuple, verify_bulk.Outcome | None]:
    """reconcile of the test region without and with what the bulk pass read."""
    now = audit.now()
    with app.transaction() as s:
        rid = s.scalar(select(orm.Region.id).where(orm.Region.code == "testregio"))
        scanned = verify_bulk.scan(s, app.keys, rid, [])
        plain = binding.reconcile(s, app.keys, rid, "testregio", now=now)
        fast = binding.reconcile(s, app.keys, rid, "testregio", now=now, scanned=scanned)
        if scanned is not None:
            # every marked entry carries the windows the database cuts from the stored body
            cut = {r.seq: r for r in s.execute(binding._entries("postgresql"),
                                               {"r": rid, "from": 0}) if not r.gone}
            # a chunk whose entries that name a row are all of format 2 comes as one
            # binding.Named: the distinct (subject, rij) of its entries, in order
            named = [m for m in scanned.marked if type(m) is binding.Named]
            entries = [m for m in scanned.marked if type(m) is not binding.Named]
            in_named = {seq for m in named for seq in cut
                        if m.seq <= seq < m.seq + verify_bulk.CHUNK}
            assert sorted([m[0] for m in entries] + list(in_named)) == sorted(cut)
            for m in named:
                assert list(m.pairs) == list(dict.fromkeys(
                    ((cut[seq].subject or "").encode(), binding._upto(cut[seq].rij).encode())
                    for seq in sorted(in_named) if m.seq <= seq < m.seq + verify_bulk.CHUNK))
            for seq, actie_id, subject, rij, actie, consent, disclosure in entries:
                r = cut[seq]
                assert (actie_id, subject, binding._upto(rij)) == (r.actie_id, r.subject,
                                                                   binding._upto(r.rij))
                if binding.parse_ref(binding._upto(rij) or "") is None:
                    assert (actie, consent, disclosure) == (r.actie, r.toestemming,
                                                            r.verstrekking)
    return plain, fast, scanned


def test_reconcile_from_the_bulk_pass_names_the_same_problems(app, build, monkeypatch, tamper):
    if app.engine.dialect.name != "postgresql":
        pytest.skip("verify's bulk pass runs on PostgreSQL only")
    monkeypatch.setattr(audit, "_now", lambda: LONG_AGO)
    old_youth = build.youth(name="Oud Zoë")  # its entry is past the log's term
    monkeypatch.undo()
    youth = build.youth(name="Émile Jansen")
    other = build.youth(name="Noor Jansen")
    case = build.case("oza", participants=("school", "jeugdhulp", "swv"), youth_id=youth)
    build.accede("jeugdhulp", case)
    refused = build.disclose("alice", "jeugdhulp", {"gedrag": "Onrustig in de klas"}, DAY,
                             case_id=case)
    moved = build.disclose("alice", "jeugdhulp", {"gedrag": "Onrustig"}, DAY, case_id=case)
    [mother, _] = build.guardians(youth)
    bound_series = build.consent(youth, "parent", guardian_id=mother, given_on=DAY)
    write_unbound(monkeypatch)  # rows written before the binding: named by their old reference
    old_series = build.consent(youth, "parent", guardian_id=mother, given_on=DAY)
    old_disclosure = build.disclose("alice", "jeugdhulp", {"gedrag": "Oud, é"}, DAY,
                                    case_id=case)
    monkeypatch.undo()

    plain, fast, scanned = _both(app)
    assert scanned is not None and scanned.marked
    assert plain == fast and not plain[0]

    with app.transaction() as s:
        consents = dict(s.execute(select(orm.ConsentRecord.series, orm.ConsentRecord.id)).all())
        seqs = {e.subject: e.seq for e in s.scalars(select(orm.LogEntry))}
    tamper(("UPDATE disclosure SET purpose = 'oza2' WHERE id = :id", {"id": refused}),
           ("UPDATE disclosure_item SET content = 'verzonnen' WHERE disclosure_id = :id",
            {"id": refused}),
           ("UPDATE disclosure SET youth_id = :y WHERE id = :id", {"y": other, "id": moved}),
           ("DELETE FROM consent_record WHERE id = :id", {"id": consents[bound_series]}),
           ("DELETE FROM consent_record WHERE id = :id", {"id": consents[old_series]}),
           ("DELETE FROM disclosure_item WHERE disclosure_id = :id", {"id": old_disclosure}),
           ("DELETE FROM disclosure WHERE id = :id", {"id": old_disclosure}),
           (PRUNE, {"t": audit.now(), "seq": seqs[app.keys.subject(old_youth)]}),
           (PRUNE, {"t": audit.now(), "seq": seqs[app.keys.subject(other)]}))

    plain, fast, scanned = _both(app)
    assert scanned is not None
    assert plain == fast
    kinds = sorted(p.kind for p in fast[0])
    assert kinds == ["pruned_early", "row_altered", "row_altered", "row_altered",
                     "row_deleted", "row_deleted", "row_deleted"], [p.line() for p in fast[0]]
    # the entry's id is named, as when reconcile reads the entries itself
    assert all(p.entry_id is not None for p in fast[0] if p.seq is not None)
    with app.transaction() as s:
        rep = verify.verify(s, app.keys, "testregio")
    assert sorted(p.line() for p in rep.problems) == sorted(p.line() for p in fast[0])


def test_marked_cuts_windows_by_characters_as_the_database_does():
    body = audit.canonical({"actie": "consent", "toestemming": {
        "reeks": "ä" * 300 + "😀", "versie": 2, "zz": "é" * 700}})
    leaf = audit.leaf_data(1, 5, "a-b", None, "r/p", dt.datetime(2024, 1, 1), body)
    seq, actie_id, subject, rij, actie, consent, disclosure = binding.marked(5, leaf)
    assert (seq, actie_id, subject, rij, disclosure) == (5, "a-b", None, None, None)
    assert actie == body[body.index('"actie":"') + 9:][:12]
    start = body.index('"toestemming":{') + len('"toestemming":{')
    assert consent == body[start:start + 600] and len(consent) == 600
    assert binding.marked(0, audit.leaf_data(1, 0, "x", "ab", "r/p", dt.datetime(2024, 1, 1),
                                             json.dumps({"actie": "read"}))) is None
    with pytest.raises(ValueError):
        binding.marked(0, b"1\n2\n3")


def test_a_run_of_leaves_is_marked_as_entry_by_entry(app, build, monkeypatch):
    """binding.marked_run (one search of a chunk's leaf bytes, as the bulk pass reads them)
    gives what binding.marked gives entry by entry: on a log of format 2 only, and on one
    with entries of format 1, bound and from before the binding."""
    youth = build.youth(name="Émile Jansen")
    case = build.case("oza", participants=("school", "jeugdhulp", "swv"), youth_id=youth)
    build.accede("jeugdhulp", case)
    [mother, _] = build.guardians(youth)
    build.consent(youth, "parent", guardian_id=mother, given_on=DAY)
    build.disclose("alice", "jeugdhulp", {"gedrag": "Onrustig"}, DAY, case_id=case)

    def leaves():
        with app.transaction() as s:
            rows = list(s.scalars(select(orm.LogEntry).order_by(orm.LogEntry.seq)))
            return [(e.seq, audit.leaf_data(e.region_id, e.seq, e.actie_id, e.subject,
                                            e.activity_id, e.registered_at, e.body))
                    for e in rows if e.body is not None]

    def check():
        got = leaves()
        starts, at = [], 0
        for _, leaf in got:
            starts.append(at)
            at += len(leaf)
        run = binding.marked_run(b"".join(leaf for _, leaf in got), starts,
                                 [seq for seq, _ in got])
        one = [m for m in (binding.marked(seq, leaf) for seq, leaf in got) if m is not None]

        def read(m):  # what reconcile reads of a marked entry: the row up to its quote
            return (*m[:3], binding._upto(m[3]), *m[4:])
        assert [read(m) for m in run] == [read(m) for m in one]
        # binding.named_run: the same entries as distinct (subject, rij), in order, when
        # every body is of format 2 (else None: then marked_run's are used)
        named = binding.named_run(b"".join(leaf for _, leaf in got), got[0][0], len(got))
        if all(leaf.split(b"\n", 6)[6].startswith(b"[2,") for _, leaf in got):
            assert named is not None and named.seq == got[0][0]
            assert list(named.pairs) == list(dict.fromkeys(
                ((m[2] or "").encode(), binding._upto(m[3]).encode()) for m in one))
        else:
            assert named is None
        return one

    assert len(check()) == 2  # the consent version and the disclosure name their rows
    monkeypatch.setattr(audit, "COMPACT", False)
    build.consent(youth, "parent", guardian_id=mother, given_on=DAY)
    write_unbound(monkeypatch)
    build.disclose("alice", "jeugdhulp", {"gedrag": "Stil"}, DAY, case_id=case)
    monkeypatch.undo()
    build.disclose("alice", "jeugdhulp", {"gedrag": "Rustig"}, DAY, case_id=case)
    assert len(check()) == 5


def test_reconcile_of_chunks_of_format_2_as_sets_names_the_same_problems(app, build, tamper):
    """A log of format 2 only: the bulk pass hands up each chunk's rows as binding.Named (no
    object per entry), which reconcile checks as a whole; whatever is not in order there
    sends it back entry by entry, so the problems and the summary are those of reconcile
    reading the entries itself."""
    if app.engine.dialect.name != "postgresql":
        pytest.skip("verify's bulk pass runs on PostgreSQL only")
    youth = build.youth(name="Émile Jansen")
    other = build.youth(name="Noor Jansen")
    case = build.case("oza", participants=("school", "jeugdhulp", "swv"), youth_id=youth)
    build.accede("jeugdhulp", case)
    altered = build.disclose("alice", "jeugdhulp", {"gedrag": "Onrustig"}, DAY, case_id=case)
    moved = build.disclose("alice", "jeugdhulp", {"gedrag": "Stil"}, DAY, case_id=case)
    [mother, _] = build.guardians(youth)
    series = build.consent(youth, "parent", guardian_id=mother, given_on=DAY)
    build.consent(youth, "parent", guardian_id=mother, given_on=DAY)

    plain, fast, scanned = _both(app)
    assert scanned is not None
    assert scanned.marked and all(type(m) is binding.Named for m in scanned.marked)
    assert plain == fast and not plain[0] and plain[1]["gebonden"]["verstrekkingen"] == 2

    with app.transaction() as s:
        consents = dict(s.execute(select(orm.ConsentRecord.series, orm.ConsentRecord.id)).all())
    for attack, kind in [
            (("UPDATE disclosure SET purpose = 'oza2' WHERE id = :id", {"id": altered}),
             "row_altered"),
            (("UPDATE disclosure SET youth_id = :y WHERE id = :id", {"y": other, "id": moved}),
             "row_altered"),
            (("DELETE FROM consent_record WHERE id = :id", {"id": consents[series]}),
             "row_deleted")]:
        tamper(attack)
        plain, fast, scanned = _both(app)
        assert scanned is not None
        assert plain == fast
        assert kind in {p.kind for p in fast[0]}, [p.line() for p in fast[0]]
