"""Checking the processing log: everything is recomputed from the stored entries and the
signed checkpoints; every entry that was altered, removed, moved or inserted is named.

What is checked, per region:
- every entry's leaf is recomputed from its columns and body and compared with its stored
  leaf hash (`altered`); a body removed by the retention run keeps its leaf hash;
- every entry's MAC (keyed with a key derived from the master key, which the database does
  not hold) over its position and leaf: an entry inserted or re-hashed directly in the
  database does not carry a valid one (`forged`); an entry whose leaf fits another position
  was moved (`reordered`);
- positions run 0, 1, 2, … without gaps (`missing`), and the log head agrees with them;
- every checkpoint's Ed25519 signature, and its root against the root recomputed from the
  leaves (`checkpoint`); each checkpoint is consistent with the next (RFC 6962 consistency
  proof, `consistency`).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from deelwijs.crypto import Keyring
from deelwijs.domain import checkpoint as cp
from deelwijs.domain import merkle
from deelwijs.services import audit, verify_fast
from deelwijs.services.keys import log_key_mismatch
from deelwijs.storage import orm

KINDS = {
    "altered": "gewijzigd",
    "forged": "vervalst of ingevoegd",
    "reordered": "verplaatst",
    "missing": "verwijderd",
    "checkpoint": "checkpoint klopt niet",
    "consistency": "checkpoints onderling inconsistent",
    "head": "logkop klopt niet",
    "key": "de sleutel past niet bij dit logboek",
}

BATCH = 20_000


@dataclass(frozen=True)
class Problem:
    kind: str
    region: str
    seq: int | None
    entry_id: int | None
    actie_id: str | None
    message: str

    def line(self) -> str:
        where = f"regel {self.seq}" if self.seq is not None else "log"
        ident = f" (id {self.entry_id}, actieId {self.actie_id})" if self.entry_id else ""
        return f"{self.region}: {where}{ident}: {KINDS[self.kind]}: {self.message}"

    def as_json(self) -> dict:
        return {"soort": self.kind, "omschrijving": KINDS[self.kind], "regio": self.region,
                "seq": self.seq, "id": self.entry_id, "actieId": self.actie_id,
                "melding": self.message}


@dataclass
class Report:
    regions: dict[str, dict] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict:
        return {"ok": self.ok, "regio's": self.regions,
                "problemen": [p.as_json() for p in self.problems]}


_ROWS = (select(orm.LogEntry.id, orm.LogEntry.seq, orm.LogEntry.actie_id, orm.LogEntry.subject,
                orm.LogEntry.activity_id, orm.LogEntry.registered_at, orm.LogEntry.body,
                orm.LogEntry.leaf_hash, orm.LogEntry.mac, orm.LogEntry.pruned_at)
         .order_by(orm.LogEntry.seq))


def verify(session: Session, keys: Keyring, region_code: str | None = None,
           public_key: Ed25519PublicKey | None = None,
           progress: Callable[[int], None] | None = None) -> Report:
    """Check every region's log (or one). `progress(n)` is called with entries done."""
    report = Report()
    regions = session.execute(select(orm.Region.id, orm.Region.code).order_by(orm.Region.id)
                              ).all()
    if region_code is not None:
        regions = [r for r in regions if r.code == region_code]
    for region_id, code in regions:
        # a master key that is not this log's: one line, not every entry "vervalst"
        mismatch = log_key_mismatch(session, keys, region_id)
        if mismatch is not None:
            report.problems.append(Problem("key", code, None, None, None, mismatch["message"]))
            report.regions[code] = {"regels": mismatch["entries"],
                                    "checkpoints": mismatch["checkpoints"],
                                    "wortel": "niet berekend", "problemen": 1}
            continue
        _verify_region(session, keys, region_id, code, public_key or keys.verify_key,
                       report, progress)
    return report


def total_entries(session: Session) -> int:
    from sqlalchemy import func
    return session.scalar(select(func.count()).select_from(orm.LogEntry)) or 0


def _entry_mac(keys: Keyring) -> Callable[[int, bytes], bytes]:
    """keys.entry_mac as a function that is cheaper per call: the same HMAC-SHA256 (RFC 2104)
    from the inner and outer pad states, hashed once, instead of a new HMAC object per entry
    (which costs several times one SHA-256 of a leaf). It is used only when it gives exactly
    keys.entry_mac's value on probes; otherwise keys.entry_mac itself is used."""
    key = getattr(keys, "_mac_key", None)
    if not isinstance(key, bytes) or len(key) > 64:
        return keys.entry_mac
    block = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block)).copy
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block)).copy

    def entry_mac(seq: int, leaf_hash: bytes) -> bytes:
        h = inner()
        h.update(b"%d:%b" % (seq, leaf_hash))
        o = outer()
        o.update(h.digest())
        return o.digest()[:16]

    probes = [(0, bytes(32)), (7, b"\x01" * 32), (123_456_789_012, hashlib.sha256(b"").digest())]
    if all(entry_mac(seq, leaf) == keys.entry_mac(seq, leaf) for seq, leaf in probes):
        return entry_mac
    return keys.entry_mac


# On PostgreSQL the bytes of each leaf (audit.leaf_data: the indexed columns, one per line,
# then the body) are put together by the database server, and streamed: the server goes on
# with the next rows while this process hashes the ones it has (the socket buffers hold some
# thousands of rows). The expression is first checked against audit.leaf_data on probe
# values; a row whose bytes do not give its stored leaf hash is read again and recomputed here
# with audit.leaf_data before anything is concluded, so the outcome is exactly that of
# recomputing every leaf here; only the rows that fit are never formatted in Python.
_PG_BUILT = (f"SELECT id, seq, actie_id, convert_to({verify_fast.LEAF_DATA_SQL}, 'UTF8'), "
             "leaf_hash, mac, pruned_at FROM log_entry WHERE region_id = %s ORDER BY seq")
_PG_COLUMNS = ("SELECT id, subject, activity_id, registered_at, body FROM log_entry "
               "WHERE id = ANY(%s)")
STREAM = 1_000  # rows per chunk the server sends

Scan = Callable[..., tuple[list[bytes], list[tuple]]]


def _source(session: Session, region_id: int) -> tuple[Iterable[Sequence[tuple]], Scan]:
    """The region's entries in position order, in batches, and the scan that reads them.

    On PostgreSQL (psycopg, libpq 17 or later, an expression that checks out): rows of (id,
    seq, actie_id, leaf bytes, leaf_hash, mac, pruned_at), streamed in binary in the session's
    transaction; no SQLAlchemy result processing per row. Elsewhere (SQLite): rows of (id, seq,
    actie_id, subject, activity_id, registered_at, body, leaf_hash, mac, pruned_at) through
    SQLAlchemy, which turns SQLite's text timestamps into datetimes."""
    conn = session.connection()

    def column_batches() -> Iterable[Sequence[tuple]]:
        return session.execute(_ROWS.where(orm.LogEntry.region_id == region_id),
                               execution_options={"yield_per": BATCH}).partitions()

    if not (conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"
            and _pg_builds_leaf_data(conn.connection.dbapi_connection)):
        return column_batches(), _scan
    raw = conn.connection.dbapi_connection

    def batches() -> Iterator[Sequence[tuple]]:
        with raw.cursor(binary=True) as cur:
            rows = cur.stream(_PG_BUILT, (region_id,), size=STREAM)
            while part := list(itertools.islice(rows, STREAM)):
                yield part

    def columns(ids: list[int]) -> dict[int, tuple]:
        with raw.cursor(binary=True) as cur:
            return {r[0]: r[1:] for r in cur.execute(_PG_COLUMNS, (ids,))}

    def scan(keys: Keyring, region_id: int, code: str, batches: Iterable[Sequence[tuple]],
             problems: list[Problem], progress: Callable[[int], None] | None
             ) -> tuple[list[bytes], list[tuple]]:
        start = len(problems)
        done = _scan_built(keys, region_id, code, batches, problems, progress, columns)
        if done is None:  # a row changed after the stream read it: read them all again
            del problems[start:]
            done = _scan(keys, region_id, code, column_batches(), problems, None)
        return done

    return batches(), scan


def _pg_builds_leaf_data(raw) -> bool:
    """Whether this server streams in chunks (libpq 17+) and verify_fast.LEAF_DATA_SQL gives
    exactly audit.leaf_data's bytes on the probes."""
    import psycopg

    if psycopg.pq.version() < 170000:
        return False
    return verify_fast.builds_leaf_data(raw)


def _scan(keys: Keyring, region_id: int, code: str, batches: Iterable[Sequence[tuple]],
          problems: list[Problem], progress: Callable[[int], None] | None
          ) -> tuple[list[bytes], list[tuple]]:
    """One pass over the entries (rows of columns): every leaf recomputed and compared, every
    MAC checked, gaps named. Returns the leaves in position order (placeholders for missing
    ones) and the rows whose recomputed leaf differs from the stored one (for `_classify`)."""
    leaf_hash, leaf_data, entry_mac = merkle.leaf_hash, audit.leaf_data, _entry_mac(keys)
    leaves: list[bytes] = []  # the leaves in position order, as recomputed
    suspects: list[tuple] = []  # rows whose leaf does not fit their position
    add = leaves.append
    expected = 0
    for part in batches:
        for (eid, seq, actie_id, subject, activity, registered_at, body, stored, mac,
             pruned_at) in part:
            if seq != expected:
                expected = _gap(problems, leaves, code, seq, expected)
            if body is None:
                leaf = bytes(stored)
                if pruned_at is None:
                    problems.append(Problem("altered", code, seq, eid, actie_id,
                                            "de inhoud is weg zonder opschoning"))
            else:
                leaf = leaf_hash(leaf_data(region_id, seq, actie_id, subject, activity,
                                           registered_at, body))
                if leaf != stored:
                    suspects.append((eid, seq, actie_id, subject, activity, registered_at,
                                     body, bytes(stored)))
            if leaf == stored and entry_mac(seq, leaf) != mac:
                problems.append(_forged(code, seq, eid, actie_id))
            add(leaf)
            expected = seq + 1
        if progress is not None:
            progress(len(part))
    return leaves, suspects


def _scan_built(keys: Keyring, region_id: int, code: str, batches: Iterable[Sequence[tuple]],
                problems: list[Problem], progress: Callable[[int], None] | None,
                columns: Callable[[list[int]], dict[int, tuple]]
                ) -> tuple[list[bytes], list[tuple]] | None:
    """`_scan` over rows whose leaf bytes the database put together
    (verify_fast.LEAF_DATA_SQL). A row whose bytes do not give its stored leaf is read again
    once the stream is done and recomputed from its columns, and what it shows is put where
    `_scan` would have put it.
    None when such a row is gone or lost its body in between (another statement, so another
    snapshot): the caller then reads the region again in columns."""
    leaf_hash, leaf_data, entry_mac = merkle.leaf_hash, audit.leaf_data, _entry_mac(keys)
    leaves: list[bytes] = []
    add = leaves.append
    late: list[tuple] = []  # (position, problems so far, eid, seq, actie_id, stored, mac)
    expected = 0
    for part in batches:
        for eid, seq, actie_id, data, stored, mac, pruned_at in part:
            if seq != expected:
                expected = _gap(problems, leaves, code, seq, expected)
            if data is None:  # no body (every other column is NOT NULL)
                leaf = bytes(stored)
                if pruned_at is None:
                    problems.append(Problem("altered", code, seq, eid, actie_id,
                                            "de inhoud is weg zonder opschoning"))
            else:
                leaf = leaf_hash(data)
                if leaf != stored:
                    late.append((len(leaves), len(problems), eid, seq, actie_id, stored, mac))
            if leaf == stored and entry_mac(seq, leaf) != mac:
                problems.append(_forged(code, seq, eid, actie_id))
            add(leaf)
            expected = seq + 1
        if progress is not None:
            progress(len(part))
    suspects: list[tuple] = []
    found = columns([row[2] for row in late]) if late else {}
    if any(found.get(row[2], (None,) * 4)[3] is None for row in late):
        return None
    inserted = 0
    for position, at, eid, seq, actie_id, stored, mac in late:
        subject, activity, registered_at, body = found[eid]
        leaf = leaf_hash(leaf_data(region_id, seq, actie_id, subject, activity,
                                   registered_at, body))
        leaves[position] = leaf
        if leaf != stored:
            suspects.append((eid, seq, actie_id, subject, activity, registered_at, body,
                             bytes(stored)))
        elif entry_mac(seq, leaf) != mac:
            problems.insert(at + inserted, _forged(code, seq, eid, actie_id))
            inserted += 1
    return leaves, suspects


def _gap(problems: list[Problem], leaves: list[bytes], code: str, seq: int,
         expected: int) -> int:
    """A row at another position than the next one: name the missing positions before it."""
    if seq > expected:
        problems.append(Problem(
            "missing", code, expected, None, None,
            f"regel {expected}" + (f" t/m {seq - 1}" if seq - 1 > expected else "")
            + " ontbreekt"))
        leaves.extend([b""] * (seq - expected))  # placeholders: roots will differ
    return seq


def _forged(code: str, seq: int, eid: int, actie_id: str) -> Problem:
    return Problem("forged", code, seq, eid, actie_id,
                   "de regel is niet door Deelwijs geschreven (sleutelcontrole faalt)")


def _verify_region(session: Session, keys: Keyring, region_id: int, code: str,
                   public_key: Ed25519PublicKey, report: Report,
                   progress: Callable[[int], None] | None) -> None:
    """First the bulk pass (PostgreSQL; see verify_fast): when it finds every entry and every
    checkpoint in order, that is the outcome. Otherwise (or elsewhere) the exact pass, which
    names every problem."""
    checks = audit.checkpoints(session, region_id)
    head = session.execute(select(orm.LogHead.size, orm.LogHead.frontier).where(
        orm.LogHead.region_id == region_id)).first()
    origin = audit.origin(session, region_id)
    notes: list = []

    def open_notes() -> None:  # the signatures, while the workers hash
        notes.extend(_open_notes(checks, public_key))

    fast = verify_fast.scan(session, keys, region_id, [c.size for c in checks], progress,
                            open_notes)
    if fast is not None:
        found: list[Problem] = []
        _check_tree(code, fast.size, fast.roots, None, head, checks, notes, origin, found)
        if not found:
            report.regions[code] = _summary(fast.size, checks, fast.roots, 0)
            return
    problems = report.problems
    start = len(problems)
    batches, scan = _source(session, region_id)
    leaves, suspects = scan(keys, region_id, code, batches, problems, progress)
    _classify(suspects, region_id, code, keys, problems)
    size = len(leaves)
    roots = merkle.roots_at(leaves, [c.size for c in checks] + [size])
    _check_tree(code, size, roots, leaves, head, checks,
                notes if len(notes) == len(checks) else _open_notes(checks, public_key),
                origin, problems)
    report.regions[code] = _summary(size, checks, roots, len(problems) - start)


def _summary(size: int, checks: Sequence[orm.LogCheckpoint], roots: dict[int, bytes],
             n_problems: int) -> dict:
    return {"regels": size, "checkpoints": len(checks),
            "wortel": roots.get(size, merkle.EMPTY_ROOT).hex(), "problemen": n_problems}


def _open_notes(checks: Sequence[orm.LogCheckpoint], public_key: Ed25519PublicKey
                ) -> list[tuple[str, int, bytes] | cp.CheckpointError]:
    """Every checkpoint's signed note opened (origin, size, root), or why it cannot be."""
    out: list[tuple[str, int, bytes] | cp.CheckpointError] = []
    for c in checks:
        try:
            out.append(cp.open_note(c.note, public_key, audit.KEY_NAME))
        except cp.CheckpointError as exc:
            out.append(exc)
    return out


def _check_tree(code: str, size: int, roots: dict[int, bytes], leaves: list[bytes] | None,
                head, checks: Sequence[orm.LogCheckpoint], notes: list, origin: str,
                problems: list[Problem]) -> None:
    """The log head and the checkpoints against the roots recomputed from the leaves.
    `leaves` (for a consistency proof where a signed root differs) is None in the bulk pass,
    where such a difference is a problem already."""
    if head is not None and head.size != size:
        if head.size > size:
            problems.append(Problem("missing", code, size, None, None,
                                    f"het log telt {head.size} regels, er staan er {size}: "
                                    f"regel {size} t/m {head.size - 1} ontbreken"))
        else:
            problems.append(Problem("head", code, None, None, None,
                                    f"het log telt {head.size} regels, er staan er {size}"))
    elif head is not None and _head_root(head.size, head.frontier) != roots.get(size):
        problems.append(Problem("head", code, None, None, None,
                                "de wortel in de logkop past niet bij de regels"))
    previous = None
    for c, opened in zip(checks, notes, strict=True):
        if isinstance(opened, cp.CheckpointError):
            problems.append(Problem("checkpoint", code, None, None, None,
                                    f"checkpoint {c.size}: {opened}"))
            continue
        note_origin, note_size, note_root = opened
        if note_origin != origin or note_size != c.size or note_root != bytes(c.root):
            problems.append(Problem("checkpoint", code, None, None, None,
                                    f"checkpoint {c.size}: de kolommen wijken af van de "
                                    "ondertekende notitie"))
        if note_size > size:
            problems.append(Problem("missing", code, size, None, None,
                                    f"checkpoint {note_size} is ondertekend, maar er staan "
                                    f"maar {size} regels: het einde van het log is weg"))
        elif roots.get(note_size) != note_root:
            problems.append(Problem("checkpoint", code, None, None, None,
                                    f"checkpoint {note_size}: de wortel over de eerste "
                                    f"{note_size} regels klopt niet met de ondertekende"))
        if previous is not None and note_size <= size:
            m, root_m = previous
            # Two signed roots that both equal the roots recomputed from the same leaves are
            # consistent by construction (a proof built from those leaves always checks out):
            # only otherwise is a proof built and checked, which costs about note_size node
            # hashes (for every checkpoint that would be quadratic in the log's length).
            if m > note_size or not (
                    (roots.get(m) == root_m and roots.get(note_size) == note_root)
                    or (leaves is not None and merkle.verify_consistency(
                        m, note_size, root_m, note_root,
                        merkle.consistency_proof(leaves, m, note_size)))):
                problems.append(Problem("consistency", code, None, None, None,
                                        f"checkpoint {m} is geen begin van checkpoint "
                                        f"{note_size}"))
        previous = (note_size, note_root)


def _head_root(size: int, frontier: bytes) -> bytes | None:
    try:
        return merkle.Frontier.from_bytes(size, frontier).root()
    except ValueError:
        return None


def _classify(suspects: list[tuple], region_id: int, code: str, keys: Keyring,
              problems: list[Problem]) -> None:
    """A row whose recomputed leaf differs from its stored leaf hash was altered, unless its
    stored (and MAC-valid) leaf fits another suspect's position: then it was moved."""
    positions = {s[1] for s in suspects}
    for eid, seq, actie_id, subject, activity, registered_at, body, stored in suspects:
        moved_from = None
        for other in positions - {seq}:
            if stored == merkle.leaf_hash(audit.leaf_data(
                    region_id, other, actie_id, subject, activity, registered_at, body)):
                moved_from = other
                break
        if moved_from is not None:
            problems.append(Problem("reordered", code, seq, eid, actie_id,
                                    f"deze regel hoort op plaats {moved_from}"))
        else:
            problems.append(Problem("altered", code, seq, eid, actie_id,
                                    "de inhoud past niet bij de opgeslagen hash"))


# --- proofs --------------------------------------------------------------------------------

def _leaves(session: Session, region_id: int, size: int) -> list[bytes]:
    return [bytes(h) for h in session.scalars(
        select(orm.LogEntry.leaf_hash).where(orm.LogEntry.region_id == region_id,
                                             orm.LogEntry.seq < size)
        .order_by(orm.LogEntry.seq))]


def prove(session: Session, keys: Keyring, ref: str, region_code: str | None = None) -> dict:
    """An inclusion proof of one entry against the newest checkpoint that covers it (one is
    signed now when none does yet), checked before it is returned."""
    from deelwijs.services import registry
    region_id = registry.region_by_code(session, region_code).id if region_code else None
    row = audit.entry(session, ref, region_id)
    region_id = row.region_id
    check = session.scalars(select(orm.LogCheckpoint).where(
        orm.LogCheckpoint.region_id == region_id, orm.LogCheckpoint.size > row.seq)
        .order_by(orm.LogCheckpoint.size.desc())).first()
    if check is None:
        check = audit.checkpoint(session, keys, region_id)
    leaves = _leaves(session, region_id, check.size)
    path = merkle.inclusion_proof(leaves, row.seq, check.size)
    leaf = bytes(row.leaf_hash)
    ok = merkle.verify_inclusion(leaf, row.seq, check.size, path, bytes(check.root))
    return {"actieId": row.actie_id, "index": row.seq, "boomgrootte": check.size,
            "blad": leaf.hex(), "pad": [h.hex() for h in path], "wortel": bytes(check.root).hex(),
            "checkpoint": check.note, "sleutel": audit.verifier_key(keys), "klopt": ok}


def prove_consistency(session: Session, keys: Keyring, region_code: str, m: int, n: int
                      ) -> dict:
    """A consistency proof between the checkpoints of sizes m and n, checked."""
    from deelwijs.services import registry
    region = registry.region_by_code(session, region_code)
    found = {c.size: c for c in audit.checkpoints(session, region.id)}
    for size in (m, n):
        if size not in found:
            from deelwijs.services.errors import NotFound
            raise NotFound("not_found", f"geen checkpoint van {size} regels in {region_code} "
                           f"(wel: {', '.join(map(str, sorted(found))) or 'geen'})", "size")
    leaves = _leaves(session, region.id, n)
    proof = merkle.consistency_proof(leaves, m, n)
    ok = merkle.verify_consistency(m, n, bytes(found[m].root), bytes(found[n].root), proof)
    return {"van": m, "tot": n, "bewijs": [h.hex() for h in proof],
            "checkpoint_van": found[m].note, "checkpoint_tot": found[n].note, "klopt": ok}
