"""`verify`'s bulk pass (services/verify_bulk, PostgreSQL): on a log that is in order it gives
the same report as the exact per-row pass, in one process and with worker processes, over
many chunks and blocks; on a log with any kind of tampering it hands over to the exact pass,
so the report is exactly that pass's. Its Merkle roots, put together from blocks, are those of
merkle.roots_at. On SQLite the bulk pass does not apply and the exact pass runs."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select, text

from deelwijs import __version__
from deelwijs.domain import merkle
from deelwijs.services.log import audit, verify, verify_bulk
from deelwijs.storage import orm

ENTRIES = 47  # with CHECKPOINT_EVERY = 5: the first entry's checkpoint, nine more, a tail of 2

# a change to an entry's body that fits in either format (both hold the version)
FORGED = f"replace(body, '{__version__}', '9.9.9')"


@pytest.fixture
def small(monkeypatch):
    """Chunks of 3 entries, blocks of 8, a checkpoint every 5 entries."""
    monkeypatch.setattr(verify_bulk, "CHUNK", 3)
    monkeypatch.setattr(verify_bulk, "BLOCK_BITS", 3)
    monkeypatch.setattr(verify_bulk, "BLOCK", 8)
    monkeypatch.setattr(audit, "CHECKPOINT_EVERY", 5)


@pytest.fixture(params=["one process", "workers"])
def mode(request, monkeypatch, small) -> str:
    monkeypatch.setattr(verify_bulk, "PARALLEL_MIN", 10**9 if request.param == "one process"
                        else 0)
    monkeypatch.setattr(verify_bulk, "WORKERS", 2)
    return request.param


@pytest.fixture
def log(app, world, small) -> list[orm.LogEntry]:
    """ENTRIES entries in the world's region, about several youths and none, registered
    long ago (past the log's term, so that their bodies may be pruned)."""
    with app.transaction() as s, pytest.MonkeyPatch.context() as m:
        m.setattr(audit, "_now", lambda: dt.datetime(1999, 5, 4, 12, 0))
        for i in range(ENTRIES):
            audit.log_system(s, region_id=world.region_id, name="registratie",
                             actie=("read", "create", "consent")[i % 3],
                             youth_id=None if i % 11 == 0 else i % 7)
    with app.transaction() as s:
        return list(s.scalars(select(orm.LogEntry).order_by(orm.LogEntry.seq)))


def run(app, monkeypatch, exact: bool = False) -> tuple[dict, list]:
    """The report's JSON, and what the bulk pass answered (one item per region)."""
    answers = []
    real = verify_bulk.scan

    def spy(*args, **kwargs):
        answers.append(None if exact else real(*args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(verify_bulk, "scan", spy)
    try:
        with app.transaction() as s:
            return verify.verify(s, app.keys).as_json(), answers
    finally:
        monkeypatch.setattr(verify_bulk, "scan", real)


def postgres(app) -> bool:
    return app.engine.dialect.name == "postgresql"


def test_a_clean_log_takes_the_bulk_pass_with_the_exact_report(log, app, mode, monkeypatch):
    fast, answers = run(app, monkeypatch)
    exact, _ = run(app, monkeypatch, exact=True)
    assert fast == exact and fast["ok"] and fast["regio's"]["testregio"]["regels"] == ENTRIES
    assert fast["regio's"]["testregio"]["checkpoints"] == 1 + ENTRIES // 5
    if postgres(app):
        assert answers[0] is not None and answers[0].size == ENTRIES
    else:
        assert answers == [None]


def test_pruned_entries_keep_the_bulk_pass(log, app, mode, monkeypatch):
    with app.engine.begin() as conn:  # the one UPDATE the triggers allow
        conn.execute(text("UPDATE log_entry SET body = NULL, pruned_at = :t "
                          "WHERE seq IN (0, 1, 2, 9, 20, 21, 22, 23, 24, 25, 26, 46)"),
                     {"t": audit.now()})
    fast, answers = run(app, monkeypatch)
    assert fast == run(app, monkeypatch, exact=True)[0] and fast["ok"]
    assert (answers[0] is not None) == postgres(app)


def test_a_transaction_that_wrote_verifies_in_one_process(log, app, world, small,
                                                          monkeypatch):
    monkeypatch.setattr(verify_bulk, "PARALLEL_MIN", 0)
    with app.transaction() as s:
        audit.log_system(s, region_id=world.region_id, name="registratie", actie="read")
        report = verify.verify(s, app.keys)  # sees its own new entry
        assert report.ok and report.regions["testregio"]["regels"] == ENTRIES + 1


def _rehash(rows: list[orm.LogEntry]) -> list[tuple[str, dict]]:
    victim = rows[12]
    body = audit.canonical({**audit.body_of(victim), "actie": "create"})  # read → create
    leaf = merkle.leaf_hash(audit.leaf_data(victim.region_id, victim.seq, victim.actie_id,
                                            victim.subject, victim.activity_id,
                                            victim.registered_at, body))
    return [("UPDATE log_entry SET body = :b, leaf_hash = :h WHERE id = :id",
             {"b": body, "h": leaf, "id": victim.id})]


def _insert(rows: list[orm.LogEntry]) -> list[tuple[str, dict]]:
    last = rows[-1]
    seq = last.seq + 1
    leaf = merkle.leaf_hash(audit.leaf_data(last.region_id, seq, "x", last.subject,
                                            last.activity_id, last.registered_at, last.body))
    return [("INSERT INTO log_entry (region_id, seq, actie_id, subject, activity_id, "
             "registered_at, body, leaf_hash, mac) VALUES (:r, :s, 'x', :sub, :a, :t, :b, :h, "
             ":m)", {"r": last.region_id, "s": seq, "sub": last.subject, "a": last.activity_id,
                     "t": last.registered_at, "b": last.body, "h": leaf, "m": b"\0" * 16}),
            ("UPDATE log_head SET size = size + 1", {})]


def _swap(rows: list[orm.LogEntry]) -> list[tuple[str, dict]]:
    a, b = rows[6], rows[17]
    return [("UPDATE log_entry SET seq = -1 WHERE id = :id", {"id": a.id}),
            ("UPDATE log_entry SET seq = :s WHERE id = :id", {"s": a.seq, "id": b.id}),
            ("UPDATE log_entry SET seq = :s WHERE id = :id", {"s": b.seq, "id": a.id})]


def _mac_of_another(rows: list[orm.LogEntry]) -> list[tuple[str, dict]]:
    return [("UPDATE log_entry SET mac = :m WHERE seq = 31", {"m": bytes(rows[30].mac)})]


TAMPERING = {
    "body": lambda rows: [("UPDATE log_entry SET body = " + FORGED + " "
                           "WHERE seq = 3", {})],
    "body in the tail": lambda rows: [("UPDATE log_entry SET body = " + FORGED
                                       + " WHERE seq = 46", {})],
    "subject": lambda rows: [("UPDATE log_entry SET subject = NULL WHERE seq = 8", {})],
    "timestamp": lambda rows: [("UPDATE log_entry SET registered_at = :t WHERE seq = 16",
                                {"t": rows[16].registered_at + dt.timedelta(microseconds=1)})],
    "rehashed": _rehash,
    "mac": lambda rows: [("UPDATE log_entry SET mac = :m WHERE seq = 9", {"m": b"\1" * 16})],
    "mac of another entry": _mac_of_another,
    "mac too long": lambda rows: [("UPDATE log_entry SET mac = :m WHERE seq = 5",
                                   {"m": bytes(rows[5].mac) + b"\0"})],
    "leaf hash too short": lambda rows: [("UPDATE log_entry SET leaf_hash = :h WHERE seq = 40",
                                          {"h": bytes(rows[40].leaf_hash)[:31]})],
    # the same bytes, the split between an entry's leaf hash and MAC moved by one
    "leaf hash and mac split elsewhere": lambda rows: [(
        "UPDATE log_entry SET leaf_hash = :h, mac = :m WHERE seq = 21",
        {"h": bytes(rows[21].leaf_hash) + bytes(rows[21].mac)[:1],
         "m": bytes(rows[21].mac)[1:]})],
    # the character the server puts between the leaf bytes of a chunk, inside a column
    "separator in a column": lambda rows: [(
        "UPDATE log_entry SET activity_id = activity_id || :c WHERE seq = 30",
        {"c": verify_bulk.SEPARATOR.decode()})],
    "deleted": lambda rows: [("DELETE FROM log_entry WHERE seq = 12", {})],
    "deleted first": lambda rows: [("DELETE FROM log_entry WHERE seq = 0", {})],
    "truncated": lambda rows: [("DELETE FROM log_entry WHERE seq >= 44", {}),
                               ("UPDATE log_head SET size = 44", {})],
    "inserted": _insert,
    "swapped": _swap,
    "negative position": lambda rows: [("UPDATE log_entry SET seq = -1 WHERE seq = 0", {})],
    "body removed without pruning": lambda rows: [
        ("UPDATE log_entry SET body = NULL WHERE seq = 4", {})],
    "head size": lambda rows: [("UPDATE log_head SET size = size + 1", {})],
    "head frontier": lambda rows: [("UPDATE log_head SET frontier = :f", {
        "f": hashlib.sha256(b"x").digest() * bin(ENTRIES).count("1")})],
    "checkpoint root": lambda rows: [("UPDATE log_checkpoint SET root = :r WHERE size = 10",
                                      {"r": b"\1" * 32})],
    "checkpoint note": lambda rows: [("UPDATE log_checkpoint SET note = replace(note, "
                                      "'\n20\n', '\n21\n') WHERE size = 20", {})],
    "checkpoint removed": lambda rows: [("DELETE FROM log_checkpoint WHERE size = 25", {})],
}


# the entries are in order (the bulk pass answers), the head or the checkpoints are not
IN_ORDER = {"truncated", "head size", "head frontier", "checkpoint root", "checkpoint note",
            "checkpoint removed"}


# what the app role may do itself (an insider with the app's own credentials): append an
# entry, move the head; the other kinds need the owner, and the app role is refused them
BY_THE_APP_ROLE = {"inserted", "head size", "head frontier"}
# refused to the app role by the trigger, not by its privileges: it may update a body and
# pruned_at (the retention run removes a body past its term)
REFUSED_BY_THE_TRIGGER = {"body", "body in the tail", "body removed without pruning"}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_tampering_gives_the_report_of_the_exact_pass(log, app, monkeypatch, kind, tamper):
    statements = TAMPERING[kind](log)
    if kind in BY_THE_APP_ROLE:
        tamper.as_app(*statements)
    else:
        tamper.assert_app_role_refused(
            *(s for s in statements if not s[0].startswith("UPDATE log_head")),
            by="trigger" if kind in REFUSED_BY_THE_TRIGGER else "privilege")
        tamper(*statements)
    exact, _ = run(app, monkeypatch, exact=True)
    # a removed checkpoint leaves a log that is in order, only with fewer signed roots
    assert exact["ok"] == (kind == "checkpoint removed")
    monkeypatch.setattr(verify_bulk, "WORKERS", 2)
    for parallel_min in (10**9, 0):  # in one process, then with worker processes
        monkeypatch.setattr(verify_bulk, "PARALLEL_MIN", parallel_min)
        fast, answers = run(app, monkeypatch)
        assert fast == exact
        if postgres(app) and kind not in IN_ORDER:
            assert answers == [None]  # the bulk pass found an entry out of order


@pytest.mark.parametrize("bits", [0, 1, 2, 3])
def test_roots_from_blocks_are_those_of_the_whole_tree(monkeypatch, bits):
    monkeypatch.setattr(verify_bulk, "BLOCK_BITS", bits)
    monkeypatch.setattr(verify_bulk, "BLOCK", 1 << bits)
    for size in range(0, 40):
        leaves = [hashlib.sha256(b"%d" % i).digest() for i in range(size)]
        sizes = list(range(0, size + 3))
        blocks = []
        for start, end, wanted in verify_bulk._tasks(size, sizes):
            tree = verify_bulk.levels(leaves[start:end])
            blocks.append(verify_bulk.Block(
                start, end, tree[bits][0] if end - start == 1 << bits else None,
                {n: verify_bulk.compact(tree, n - start) for n in wanted}))
        assert verify_bulk.roots(blocks, sizes, size) == merkle.roots_at(leaves, sizes)


def test_bulk_hashes_and_macs_are_those_of_merkle_and_the_keyring(app):
    pieces = [b"", b"a", b"x" * 3000]
    assert verify_bulk.leaf_hashes(pieces) == [merkle.leaf_hash(p) for p in pieces]
    left, right = pieces, [b"1", b"2", b"3"]
    assert verify_bulk.node_hashes(left, right) == [merkle.node_hash(a, b)
                                                    for a, b in zip(left, right, strict=True)]
    checker = verify_bulk.Checker.of(app.keys)
    leaves, fixed = checker.leaves(998, pieces)
    assert leaves == verify_bulk.leaf_hashes(pieces)
    # the leaf and the MAC at its position, as the server joins the stored columns
    assert fixed == checker.fixed(998, leaves) == b"".join(
        leaf + app.keys.entry_mac(998 + i, leaf) for i, leaf in enumerate(leaves))
