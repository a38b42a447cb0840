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
  proof, `consistency`);
- the log head's MAC, size and root (`head`);
- every checkpoint kept outside the database (the witness file, files given with `audit verify
  --checkpoint`): signed by the log's key under its origin, the same root at its size, so that
  the head is consistent with it (`outside`); a log shorter than any of them was cut or wiped
  (`truncated`); with a cosigner, its cosignatures (`cosignature`);
- a log with entries but no checkpoint at all, or whose newest checkpoint leaves more than N
  entries uncovered (`uncovered`).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from deelwijs.crypto import Keyring
from deelwijs.domain import checkpoint as cp
from deelwijs.domain import merkle
from deelwijs.services.log import audit, verify_bulk, witness
from deelwijs.services.log.key_check import log_key_mismatch
from deelwijs.services.log.problems import Problem
from deelwijs.storage import orm

BATCH = 20_000


@dataclass
class Report:
    regions: dict[str, dict] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # checkpoints from outside the database that are of another deployment's log (skipped)
    elsewhere: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict:
        return {"ok": self.ok, "regio's": self.regions,
                "problemen": [p.as_json() for p in self.problems],
                "checkpoints_van_andere_logs": self.elsewhere}


_ROWS = (select(orm.LogEntry.id, orm.LogEntry.seq, orm.LogEntry.actie_id, orm.LogEntry.subject,
                orm.LogEntry.activity_id, orm.LogEntry.registered_at, orm.LogEntry.body,
                orm.LogEntry.leaf_hash, orm.LogEntry.mac, orm.LogEntry.pruned_at)
         .order_by(orm.LogEntry.seq))


PublicKeys = Ed25519PublicKey | Mapping[str, Ed25519PublicKey] | None


def verify(session: Session, keys: Keyring, region_code: str | None = None,
           public_key: PublicKeys = None,
           progress: Callable[[int], None] | None = None,
           outside: Sequence[witness.Outside] = (),
           cosigners: Sequence[tuple[str, Ed25519PublicKey]] = (),
           deep: int = 0, app=None, redecide: Callable | None = None) -> Report:
    """Check every region's log (or one). `progress(n)` is called with entries done.
    Every consent version and disclosure is reconciled with the entry that binds it
    (services.binding); with `deep` (and the `app` and `redecide`, which is
    casus/redecide.redecide: the log does not import the casus), up to that many disclosures
    per region are also decided again from their stored facts.

    `public_key`: check checkpoint signatures with this key instead of our own, or with the
    key of these (name -> key, from vkey lines) whose name is the region's origin.
    `outside`: checkpoints kept outside the database (witness.load), each checked against the
    log it names. `cosigners`: (name, key) of cosigners whose cosignatures are checked; then
    every log needs at least one checkpoint from outside that such a cosigner cosigned."""
    report = Report()
    regions = session.execute(select(orm.Region.id, orm.Region.code).order_by(orm.Region.id)
                              ).all()
    by_origin = _by_origin(keys, regions, outside, region_code, report)
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
        # consent versions and disclosures against the entries that bind them, and pruned
        # bodies against their term (services.binding); the rows are read while the bulk
        # pass's workers scan the log
        from deelwijs.services.log import binding
        rows: list = []
        scanned = _verify_region(session, keys, region_id, code, public_key, report,
                                 progress, by_origin.get(audit.origin_for(keys, code), []),
                                 cosigners, lambda rows=rows, rid=region_id, code=code:
                                 rows.append(binding.read_rows(session, rid, code)))
        anonymous: set[int] = set()
        found, summary = binding.reconcile(
            session, keys, region_id, code, anonymous=anonymous, scanned=scanned,
            rows=rows[0] if rows and scanned is not None else None)
        if deep:
            if redecide is None:
                raise TypeError("verify(deep=...) needs redecide=casus.redecide.redecide")
            again, summary["diep"] = redecide(session, app, region_id, code, deep,
                                              skip=anonymous)
            found += again
        report.problems.extend(found)
        report.regions[code].update(summary)
        report.regions[code]["problemen"] += len(found)
    return report


def _by_origin(keys: Keyring, regions: Sequence, outside: Sequence[witness.Outside],
               region_code: str | None, report: Report) -> dict[str, list[witness.Outside]]:
    """The checkpoints from outside by the origin of this deployment's regions. One of this
    deployment (its id in the origin) whose region is gone is a problem; one of another
    deployment's log is counted as skipped."""
    ours = {audit.origin_for(keys, code): code for _, code in regions}
    mine = f"deelwijs/{audit.deployment_id(keys)}/"
    out: dict[str, list[witness.Outside]] = {}
    gone: dict[str, list[witness.Outside]] = {}
    for o in outside:
        if o.origin in ours:
            out.setdefault(o.origin, []).append(o)
        elif o.origin.startswith(mine):
            gone.setdefault(o.origin, []).append(o)
        else:
            report.elsewhere += 1
    if region_code is None:
        for origin, found in gone.items():
            largest = max(found, key=lambda o: o.size)
            report.problems.append(Problem(
                "truncated", unquote(origin[len(mine):].partition("/")[0]), None, None, None,
                f"{largest.source} is ondertekend bij {largest.size} regels van het log "
                f"{origin}, maar die regio bestaat hier niet (meer)"))
    return out


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
_PG_BUILT = (f"SELECT id, seq, actie_id, convert_to({verify_bulk.LEAF_DATA_SQL}, 'UTF8'), "
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
    """Whether this server streams in chunks (libpq 17+) and verify_bulk.LEAF_DATA_SQL gives
    exactly audit.leaf_data's bytes on the probes."""
    import psycopg

    if psycopg.pq.version() < 170000:
        return False
    return verify_bulk.builds_leaf_data(raw)


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
    (verify_bulk.LEAF_DATA_SQL). A row whose bytes do not give its stored leaf is read again
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
                   public_key: PublicKeys, report: Report,
                   progress: Callable[[int], None] | None,
                   outside: Sequence[witness.Outside] = (),
                   cosigners: Sequence[tuple[str, Ed25519PublicKey]] = (),
                   meanwhile: Callable[[], None] | None = None
                   ) -> verify_bulk.Outcome | None:
    """First the bulk pass (PostgreSQL; see verify_bulk): when it finds every entry and every
    checkpoint in order, that is the outcome. Otherwise (or elsewhere) the exact pass, which
    names every problem. Returns what the bulk pass read when it found every entry in order
    (for binding.reconcile), else None."""
    checks = audit.checkpoints(session, region_id)
    head = session.execute(select(orm.LogHead.size, orm.LogHead.frontier).where(
        orm.LogHead.region_id == region_id)).first()
    origin = audit.origin(session, region_id, keys)
    key = _key_for(public_key, keys, origin)
    every, _ = audit.intervals(session)
    notes: list = []
    opened: list = []
    sizes = [c.size for c in checks] + [o.size for o in outside]

    def open_notes() -> None:  # the signatures, while the workers hash
        notes.extend(_open_notes([c.note for c in checks], key, origin))
        opened.extend(_open_notes([o.note for o in outside], key, origin))

    def while_scanning() -> None:
        open_notes()
        if meanwhile is not None:
            meanwhile()

    def check(size: int, roots: dict[int, bytes], leaves: list[bytes] | None,
              problems: list[Problem]) -> dict:
        if len(notes) != len(checks) or len(opened) != len(outside):
            notes[:], opened[:] = [], []
            open_notes()
        _check_tree(code, size, roots, leaves, head, checks, notes, origin, problems,
                    keys, region_id)
        return _check_outside(code, size, roots, checks, notes, outside, opened, cosigners,
                              every, problems)

    fast = verify_bulk.scan(session, keys, region_id, sizes, progress, while_scanning)
    if fast is not None:
        found: list[Problem] = []
        cover = check(fast.size, fast.roots, None, found)
        if not found:
            report.regions[code] = _summary(fast.size, checks, fast.roots, 0, cover)
            return fast
    problems = report.problems
    start = len(problems)
    batches, scan = _source(session, region_id)
    leaves, suspects = scan(keys, region_id, code, batches, problems, progress)
    _classify(suspects, region_id, code, keys, problems)
    size = len(leaves)
    roots = merkle.roots_at(leaves, [*sizes, size])
    cover = check(size, roots, leaves, problems)
    report.regions[code] = _summary(size, checks, roots, len(problems) - start, cover)
    return fast


def _summary(size: int, checks: Sequence[orm.LogCheckpoint], roots: dict[int, bytes],
             n_problems: int, cover: dict) -> dict:
    return {"regels": size, "checkpoints": len(checks),
            "wortel": roots.get(size, merkle.EMPTY_ROOT).hex(), "problemen": n_problems,
            **cover}


def _key_for(public_key: PublicKeys, keys: Keyring, origin: str
             ) -> Ed25519PublicKey | cp.CheckpointError:
    """The key that opens a region's checkpoints: ours, the one given, or the one of those
    given (vkey lines) whose name is the region's origin, as the signed-note spec has it."""
    if public_key is None:
        return keys.verify_key
    if isinstance(public_key, Ed25519PublicKey):
        return public_key
    found = public_key.get(origin)
    if found is None:
        return cp.CheckpointError(
            f"geen sleutel met de naam {origin} (de herkomst van dit log) bij de gegeven "
            f"sleutels ({', '.join(sorted(public_key)) or 'geen'})")
    return found


def _open_notes(notes: Sequence[str], key: Ed25519PublicKey | cp.CheckpointError, origin: str
                ) -> list[tuple[str, int, bytes] | cp.CheckpointError]:
    """Every signed note opened with the key named as the log's origin (origin, size, root),
    or why it cannot be."""
    out: list[tuple[str, int, bytes] | cp.CheckpointError] = []
    for note in notes:
        if isinstance(key, cp.CheckpointError):
            out.append(key)
            continue
        try:
            out.append(cp.open_note(note, key, origin))
        except cp.CheckpointError as exc:
            out.append(exc)
    return out


def _check_tree(code: str, size: int, roots: dict[int, bytes], leaves: list[bytes] | None,
                head, checks: Sequence[orm.LogCheckpoint], notes: list, origin: str,
                problems: list[Problem], keys: Keyring, region_id: int) -> None:
    """The log head and the checkpoints against the roots recomputed from the leaves.
    `leaves` (for a consistency proof where a signed root differs) is None in the bulk pass,
    where such a difference is a problem already."""
    mac_ok = head is None or _head_problem(keys, region_id, head.size, head.frontier,
                                           None) != _HEAD_MAC
    if not mac_ok:  # the head's size says nothing then: only that it was changed
        problems.append(Problem("head", code, None, None, None, _HEAD_MAC))
    elif head is not None and head.size != size:
        if head.size > size:
            problems.append(Problem("missing", code, size, None, None,
                                    f"het log telt {head.size} regels, er staan er {size}: "
                                    f"regel {size} t/m {head.size - 1} ontbreken"))
        else:
            problems.append(Problem("head", code, None, None, None,
                                    f"het log telt {head.size} regels, er staan er {size}"))
    elif head is not None:
        why = _head_problem(keys, region_id, head.size, head.frontier, roots.get(size))
        if why is not None:
            problems.append(Problem("head", code, None, None, None, why))
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


def _check_outside(code: str, size: int, roots: dict[int, bytes],
                   checks: Sequence[orm.LogCheckpoint], notes: list,
                   outside: Sequence[witness.Outside], opened: list,
                   cosigners: Sequence[tuple[str, Ed25519PublicKey]], every: int,
                   problems: list[Problem]) -> dict:
    """The checkpoints kept outside the database against the log, their cosignatures, and
    how much of the log no checkpoint covers. Returns what the region's summary shows of it.

    An outside checkpoint holds when the log still contains its tree: the root recomputed
    over its first `size` entries (whose every leaf and MAC was checked) equals the signed
    one. The head's root is recomputed from the same leaves, so it is then consistent with
    it by the definition of RFC 6962 consistency (a proof built from these leaves checks
    out; `audit consistency` prints one); a log shorter than the checkpoint is not."""
    covered = [n for (_, n, root) in (o for o in notes if not isinstance(o, Exception))
               if n <= size and roots.get(n) == root]
    beyond: list[tuple[int, str]] = []
    cosigned = 0
    for o, result in zip(outside, opened, strict=True):
        if isinstance(result, cp.CheckpointError):
            problems.append(Problem("outside", code, None, None, None, f"{o.source}: {result}"))
            continue
        _, n, root = result
        if n > size:
            beyond.append((n, o.source))
        elif roots.get(n) != root:
            problems.append(Problem(
                "outside", code, None, None, None,
                f"{o.source}: het log bevat de boom van dit checkpoint niet meer: de wortel "
                f"over de eerste {n} regels is niet de ondertekende"))
        else:
            covered.append(n)
        for name, key in cosigners:
            try:
                stamp = cp.open_cosignature(o.note, key, name)
            except cp.CheckpointError as exc:
                problems.append(Problem("cosignature", code, None, None, None,
                                        f"{o.source}: {exc}"))
                continue
            if stamp is not None and n <= size and roots.get(n) == root:
                cosigned += 1
    if beyond:
        n, source = max(beyond)
        more = (f" (en nog {len(beyond) - 1} checkpoint(s) voorbij het einde)"
                if len(beyond) > 1 else "")
        problems.append(Problem(
            "truncated", code, size, None, None,
            f"het log telt {size} regels, maar {source} is ondertekend bij {n} regels: het "
            f"log is ingekort of gewist{more}"))
    if cosigners and not cosigned and (size or outside):
        names = ", ".join(name for name, _ in cosigners)
        problems.append(Problem(
            "cosignature", code, None, None, None,
            f"geen checkpoint van buiten de database dat dit log nog bevat is medeondertekend "
            f"door {names}: niets bewijst dat een tweede partij dit log zo gezien heeft"))
    newest = max(covered, default=None)
    if size and newest is None and not beyond:
        problems.append(Problem(
            "uncovered", code, None, None, None,
            f"het log telt {size} regels maar geen enkel checkpoint dekt ze; elk log krijgt er "
            "een bij zijn eerste regel (verwijderd, of een log van voor deze versie)"))
    elif newest is not None and size - newest > every:
        problems.append(Problem(
            "uncovered", code, newest, None, None,
            f"de laatste {size - newest} regels (vanaf regel {newest}) vallen onder geen "
            f"checkpoint; er hoort er een te zijn na elke {every} regels"))
    return {"buiten": len(outside), "medeondertekend": cosigned,
            "gedekt_tot": newest if newest is not None else 0}


_HEAD_MAC = "de logkop past niet bij zijn sleutelcontrole (gewijzigd buiten Deelwijs om)"


def _head_problem(keys: Keyring, region_id: int, size: int, blob: bytes,
                  root: bytes | None) -> str | None:
    """What is wrong with the log head (its MAC, then its root), or None."""
    try:
        nodes = audit.head_nodes(keys, region_id, size, blob)
    except audit.HeadTampered:
        return _HEAD_MAC
    try:
        head_root = merkle.Frontier.from_bytes(size, nodes).root()
    except ValueError:
        head_root = None
    if head_root != root:
        return "de wortel in de logkop past niet bij de regels"
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
#
# A proof answers "klopt" only for what is stored now: every leaf it stands on is recomputed
# from its entry (audit.leaf_data) and checked against the stored leaf hash and the entry's
# MAC, and every root it is checked against is read from the signed note, opened with the
# log's key (not from the checkpoint's columns).

def _leaves(session: Session, region_id: int, size: int) -> list[bytes]:
    return [bytes(h) for h in session.scalars(
        select(orm.LogEntry.leaf_hash).where(orm.LogEntry.region_id == region_id,
                                             orm.LogEntry.seq < size)
        .order_by(orm.LogEntry.seq))]


def _recomputed(keys: Keyring, region_id: int, seq: int, actie_id: str, subject: str | None,
                activity: str, registered_at, body: str | None, stored: bytes, mac: bytes,
                pruned_at) -> tuple[bytes, str | None]:
    """An entry's leaf as recomputed from what is stored, and what is wrong with it (None
    when it is its stored leaf hash and carries a valid MAC)."""
    stored = bytes(stored)
    if body is None:
        leaf = stored
        if pruned_at is None:
            return leaf, f"regel {seq}: de inhoud is weg zonder opschoning"
    else:
        leaf = merkle.leaf_hash(audit.leaf_data(region_id, seq, actie_id, subject, activity,
                                                registered_at, body))
        if leaf != stored:
            return leaf, f"regel {seq}: de inhoud past niet bij de opgeslagen hash (gewijzigd)"
    if not hmac.compare_digest(keys.entry_mac(seq, leaf), bytes(mac)):
        return leaf, (f"regel {seq}: de regel is niet door Deelwijs geschreven "
                      "(sleutelcontrole faalt)")
    return leaf, None


def _signed_root(session: Session, keys: Keyring, check: orm.LogCheckpoint
                 ) -> tuple[bytes | None, str | None]:
    """The root of a checkpoint as its signed note says, once it opens with the log's key
    under the log's origin and agrees with the checkpoint's columns; else why not."""
    origin = audit.origin(session, check.region_id, keys)
    try:
        note_origin, size, root = cp.open_note(check.note, keys.verify_key, origin)
    except cp.CheckpointError as exc:
        return None, f"checkpoint {check.size}: {exc}"
    if note_origin != origin or size != check.size or root != bytes(check.root):
        return None, f"checkpoint {check.size}: de kolommen wijken af van de ondertekende notitie"
    return root, None


def prove(session: Session, keys: Keyring, ref: str, region_code: str | None = None) -> dict:
    """An inclusion proof of one entry against the newest checkpoint that covers it (one is
    signed now when none does yet: then `nieuw_checkpoint` is true), checked before it is
    returned: the entry's leaf recomputed from its stored content and checked against its
    MAC, the path against the root in the signed note."""
    from deelwijs.services.covenant import registry
    region_id = registry.region_by_code(session, region_code).id if region_code else None
    row = audit.entry(session, ref, region_id)
    region_id = row.region_id
    check = session.scalars(select(orm.LogCheckpoint).where(
        orm.LogCheckpoint.region_id == region_id, orm.LogCheckpoint.size > row.seq)
        .order_by(orm.LogCheckpoint.size.desc())).first()
    new = check is None
    if new:
        check = audit.checkpoint(session, keys, region_id)
    leaf, wrong = _recomputed(keys, region_id, row.seq, row.actie_id, row.subject,
                              row.activity_id, row.registered_at, row.body, row.leaf_hash,
                              row.mac, row.pruned_at)
    root, bad_note = _signed_root(session, keys, check)
    leaves = _leaves(session, region_id, check.size)
    if len(leaves) != check.size:
        path, wrong = [], wrong or (f"het log telt minder regels ({len(leaves)}) dan het "
                                    f"checkpoint ({check.size})")
    else:
        path = merkle.inclusion_proof(leaves, row.seq, check.size)
    ok = (wrong is None and root is not None
          and merkle.verify_inclusion(leaf, row.seq, check.size, path, root))
    out = {"actieId": row.actie_id, "index": row.seq, "boomgrootte": check.size,
           "blad": leaf.hex(), "pad": [h.hex() for h in path],
           "wortel": bytes(check.root).hex(), "checkpoint": check.note,
           "nieuw_checkpoint": new,
           "sleutel": audit.verifier_key(keys, audit.origin(session, region_id, keys)),
           "klopt": ok}
    why = wrong or bad_note or (None if ok else "het pad leidt niet naar de ondertekende wortel")
    if why:
        out["waarom"] = why
    return out


def prove_consistency(session: Session, keys: Keyring, region_code: str, m: int, n: int
                      ) -> dict:
    """A consistency proof between the checkpoints of sizes m and n, checked: built from the
    leaves of the first n entries as recomputed from what is stored (each checked against its
    stored leaf hash and MAC), checked against the roots in the two signed notes."""
    from deelwijs.services.covenant import registry
    region = registry.region_by_code(session, region_code)
    found = {c.size: c for c in audit.checkpoints(session, region.id)}
    for size in (m, n):
        if size not in found:
            from deelwijs.services.errors import NotFound
            raise NotFound("not_found", f"geen checkpoint van {size} regels in {region_code} "
                           f"(wel: {', '.join(map(str, sorted(found))) or 'geen'})", "size")
    leaves: list[bytes] = []
    wrong: list[str] = []
    rows = session.execute(_ROWS.where(orm.LogEntry.region_id == region.id,
                                       orm.LogEntry.seq < n),
                           execution_options={"yield_per": BATCH})
    for (_, seq, actie_id, subject, activity, registered_at, body, stored, mac,
         pruned_at) in rows:
        if seq != len(leaves):
            wrong.append(f"regel {len(leaves)} ontbreekt")
            break
        leaf, why = _recomputed(keys, region.id, seq, actie_id, subject, activity,
                                registered_at, body, stored, mac, pruned_at)
        if why:
            wrong.append(why)
        leaves.append(leaf)
    if len(leaves) < n and not wrong:
        wrong.append(f"het log telt {len(leaves)} regels, minder dan {n}")
    root_m, bad_m = _signed_root(session, keys, found[m])
    root_n, bad_n = _signed_root(session, keys, found[n])
    proof = merkle.consistency_proof(leaves, m, n) if len(leaves) == n else []
    ok = (not wrong and root_m is not None and root_n is not None
          and merkle.verify_consistency(m, n, root_m, root_n, proof))
    out = {"van": m, "tot": n, "bewijs": [h.hex() for h in proof],
           "checkpoint_van": found[m].note, "checkpoint_tot": found[n].note, "klopt": ok}
    why = [*wrong[:5], *([f"en nog {len(wrong) - 5}"] if len(wrong) > 5 else []),
           *(b for b in (bad_m, bad_n) if b)]
    if not ok:
        out["waarom"] = "; ".join(why) or ("het bewijs leidt niet van de ene ondertekende "
                                           "wortel naar de andere")
    return out
