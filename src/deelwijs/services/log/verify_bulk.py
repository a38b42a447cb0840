"""The fast path of `verify` on PostgreSQL: the same checks of every entry, in bulk.

`verify.verify` first tries this path for a region. It recomputes every leaf from the stored
columns and body, compares it with the stored leaf hash, checks every entry's MAC and every
position, and computes the Merkle roots at every checkpoint and at the head; it only answers
whether all of that is in order and, if so, with the roots. When anything at all is not in
order it answers None, and `verify` runs the exact per-row pass, which names every problem
(so a report with problems is always the one of that pass).

What makes it fast:

- The database server puts the bytes of each leaf together (`audit.leaf_data`'s layout in
  SQL) and aggregates a chunk of CHUNK entries into one row: the leaf bytes with SEPARATOR
  between them, and each entry's stored leaf hash and MAC in one bytes value. psycopg
  builds a few Python objects per chunk instead of several per entry, the leaf bytes are cut
  apart with one `bytes.split`, and the server does its part on its own core while this
  process hashes. The position is not sent: every MAC is checked at the position the entry
  must have, and the leaf bytes hold it too (a row at another position fails both).
- Per entry one tight loop: a copy of a hash state that already holds the prefix (0x00 for
  a leaf; the HMAC pads for the MAC), its update and digest; the leaves and MACs it
  computes are packed the way the server joined the stored ones and compared at once.
- A region of PARALLEL_MIN entries or more is split into aligned blocks of BLOCK entries
  (perfect subtrees of the Merkle tree), verified by WORKERS forked processes, each with its
  own connection in the snapshot of the caller's transaction (`pg_export_snapshot`). A
  worker returns, for every requested tree size in its block, the roots of the perfect
  subtrees of the block's part of that tree; the parent folds them with the roots of the
  blocks before it, and checks the checkpoint signatures meanwhile.

The leaf-bytes expression is checked against `audit.leaf_data` on probe values, and the MAC
against `Keyring.entry_mac`, before this path is used at all; and a leaf recomputed from
server-built bytes only counts when it equals the stored leaf hash (whose MAC is checked),
so a difference in formatting can only send a region to the exact pass, never hide a change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate

from deelwijs.domain import merkle
from deelwijs.services.log import audit

BLOCK_BITS = 14
BLOCK = 1 << BLOCK_BITS  # entries per task: an aligned perfect subtree of the tree
CHUNK = 1024  # entries per row the server sends
PARALLEL_MIN = 4 * BLOCK  # regions with fewer entries are verified in this process
WORKERS = min(os.cpu_count() or 1, 8)  # processes for a large region

# audit.leaf_data in SQL, as text: the indexed columns, one per line, then the body; the
# timestamp as datetime.isoformat() gives it (microseconds only when there are any). NULL
# exactly when the body is (concat_ws skips a NULL column; NOT NULL ones are never NULL
# unless changed behind the application's back, and then the bytes differ).
LEAF_DATA_SQL = (
    "concat_ws(E'\\n', region_id, seq, actie_id, coalesce(subject, ''), activity_id, "
    "to_char(registered_at, CASE WHEN registered_at = date_trunc('second', registered_at) "
    "THEN 'YYYY-MM-DD\"T\"HH24:MI:SS' ELSE 'YYYY-MM-DD\"T\"HH24:MI:SS.US' END)) "
    "|| E'\\n' || body")

# One row per chunk of [start, end): its first position; the number of rows; the leaf bytes
# of the rows (text, read as its bytes: UTF-8, as the connection's encoding must be) with
# SEPARATOR between them, and an empty piece for a row whose body was pruned (NULL for a row
# without a body that was not pruned, which string_agg leaves out: then the pieces do not
# add up); per row its stored leaf hash and MAC (32 and 16 bytes) one after the other;
# whether every leaf hash and MAC has that length. Every aggregate reads the rows in the same
# order (the subquery's); the leaf bytes are built once per row (in the subquery). The
# position is not sent: the MAC of every entry is checked at the position it must have
# (the chunk's first and the row's place in it), which the leaf bytes hold as well.
SEPARATOR = b"\x02"  # a control character: never in a body (JSON escapes them) or a header
_CHUNKS = (
    "SELECT g.a, c.n, c.data, c.fixed, c.ok "
    "FROM generate_series(%(start)s::bigint, %(end)s::bigint - 1, %(step)s::bigint) AS g(a) "
    "CROSS JOIN LATERAL (SELECT count(*) AS n, "
    "string_agg(coalesce(d, CASE WHEN pruned_at IS NOT NULL THEN '' END), E'\\x02') "
    "AS data, "
    "string_agg(leaf_hash || mac, ''::bytea) AS fixed, "
    "bool_and(octet_length(leaf_hash) = 32 AND octet_length(mac) = 16) AS ok "
    f"FROM (SELECT seq, leaf_hash, mac, pruned_at, {LEAF_DATA_SQL} AS d "
    "FROM log_entry WHERE region_id = %(region)s AND seq >= g.a "
    "AND seq < least(g.a + %(step)s, %(end)s) ORDER BY seq) AS e) AS c")
_FIXED = struct.Struct(">32s16s")  # leaf hash, MAC (a digest cut to 16 bytes)
_BOUNDS = "SELECT min(seq), max(seq) FROM log_entry WHERE region_id = %s"
_PROBE = (f"SELECT {LEAF_DATA_SQL} FROM (VALUES (%s::int, %s::bigint, %s::varchar, "
          "%s::varchar, %s::varchar, %s::timestamp, %s::text)) AS t(region_id, seq, "
          "actie_id, subject, activity_id, registered_at, body)")
_PROBES = [(7, 0, "00000000-0000-4000-8000-000000000000", None, "r/p",
            dt.datetime(2024, 3, 1, 9, 30), "{}"),
           (123, 9_876_543_210, "a", "ab" * 32, "x/registratie",
            dt.datetime(987, 12, 31, 23, 59, 59, 1), '{"a":"é€😀\\n\\"b"}'),
           (1, 42, "b", "", "y", dt.datetime(2024, 2, 29, 0, 0, 0, 500_000), "x")]

# Hash states that already hold a prefix; a copy of one is cheaper than a new hash object.
# Plain loops: measured here, they beat map() over lists of hash objects (which touch more
# memory per entry).
_LEAF = hashlib.sha256(b"\x00").copy
_NODE = hashlib.sha256(b"\x01").copy


def leaf_hashes(pieces: Iterable[bytes | memoryview]) -> list[bytes]:
    """merkle.leaf_hash of every piece (SHA-256 of 0x00 and the piece)."""
    out, new = [], _LEAF
    add = out.append
    for piece in pieces:
        h = new()
        h.update(piece)
        add(h.digest())
    return out


def node_hashes(left: Sequence[bytes], right: Sequence[bytes]) -> list[bytes]:
    """merkle.node_hash of every pair (left[i], right[i])."""
    out, new = [], _NODE
    add = out.append
    for a, b in zip(left, right, strict=True):
        h = new()
        h.update(a)
        h.update(b)
        add(h.digest())
    return out


class Checker:
    """Checks chunk rows: Keyring.entry_mac (HMAC-SHA256, RFC 2104, from the inner and outer
    pad states, cut to 16 bytes) of every entry, with its leaf recomputed from its bytes."""

    def __init__(self, key: bytes):
        block = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block)).copy
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block)).copy

    def fixed(self, first: int, leaves: Iterable[bytes]) -> bytes:
        """Leaf and MAC of entries first, first + 1, … as the server joins them."""
        inner, outer, pack = self._inner, self._outer, _FIXED.pack
        out = []
        add = out.append
        seq = first
        for leaf in leaves:
            h = inner()
            h.update(b"%d:%b" % (seq, leaf))
            o = outer()
            o.update(h.digest())
            add(pack(leaf, o.digest()))
            seq += 1
        return b"".join(out)

    def leaves(self, first: int, pieces: Iterable[bytes | memoryview]
               ) -> tuple[list[bytes], bytes]:
        """The leaves of the pieces (entries first, first + 1, …) and `fixed` of them, in one
        pass."""
        new, inner, outer, pack = _LEAF, self._inner, self._outer, _FIXED.pack
        leaves, out = [], []
        add, add_fixed = leaves.append, out.append
        seq = first
        for piece in pieces:
            h = new()
            h.update(piece)
            leaf = h.digest()
            h = inner()
            h.update(b"%d:%b" % (seq, leaf))
            o = outer()
            o.update(h.digest())
            add(leaf)
            add_fixed(pack(leaf, o.digest()))
            seq += 1
        return leaves, b"".join(out)

    def chunk(self, row: tuple, end: int) -> tuple[list[bytes], list[bytes], list[int]] | None:
        """The leaves of one chunk row when every entry in it is in order: as many rows as
        positions a, a + 1, … up to the chunk's end; each leaf recomputed from its bytes equal
        to the stored leaf hash, or no body and pruned; each MAC valid at its position. Then
        (leaves, the pieces of leaf bytes, the positions without a body); None otherwise."""
        a, n, data, fixed, ok = row
        m = min(a + CHUNK, end) - a
        if n != m or not ok or data is None or fixed is None or len(fixed) != 48 * m:
            return None
        pieces = data.split(SEPARATOR)
        if len(pieces) != m:
            return None
        if all(pieces):
            leaves, expected = self.leaves(a, pieces)
            pruned: list[int] = []
        else:  # a pruned entry keeps its stored leaf (its MAC is checked all the same)
            pruned = [a + i for i, p in enumerate(pieces) if not p]
            leaves = [fixed[48 * i:48 * i + 32] if not p else merkle.leaf_hash(p)
                      for i, p in enumerate(pieces)]
            expected = self.fixed(a, leaves)
        return (leaves, pieces, pruned) if expected == fixed else None

    @classmethod
    def of(cls, keys) -> Checker | None:
        """The checker of this keyring, if it gives exactly keys.entry_mac on probes."""
        key = getattr(keys, "_mac_key", None)
        if not isinstance(key, bytes) or len(key) > 64:
            return None
        checker = cls(key)
        probes = [bytes(32), b"\x01" * 32, hashlib.sha256(b"").digest()]
        for first in (0, 7, 123_456_789_012):
            want = b"".join(_FIXED.pack(leaf, keys.entry_mac(first + i, leaf))
                            for i, leaf in enumerate(probes))
            if checker.fixed(first, probes) != want:
                return None
        return checker


def _bytes_cursor(conn):
    """A binary cursor that reads text as its bytes (UTF-8 on a UTF-8 connection)."""
    from psycopg.types.string import ByteaBinaryLoader

    cur = conn.cursor(binary=True)
    cur.adapters.register_loader("text", ByteaBinaryLoader)
    return cur


def builds_leaf_data(conn) -> bool:
    """Whether LEAF_DATA_SQL gives exactly audit.leaf_data's bytes through this connection."""
    with _bytes_cursor(conn) as cur:
        return all(cur.execute(_PROBE, p).fetchone()[0] == audit.leaf_data(*p)
                   for p in _PROBES)


# --- one block --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """A verified block [start, end): its root when it is a whole BLOCK, and for every
    requested tree size n in (start, end] the perfect-subtree roots of leaves [start, n),
    largest first."""
    start: int
    end: int
    root: bytes | None
    parts: dict[int, list[bytes]]
    # binding.Named of its chunks whose entries that name a row are all of format 2, and
    # binding.marked of those of the other chunks, in position order (for verify's row
    # reconciliation, which then need not read the bodies again)
    marked: tuple = ()
    # the positions of its entries without a body (pruned), in order
    pruned: tuple = ()


def chunk_rows(conn, region_id: int, start: int, end: int) -> Iterator[tuple]:
    """The server's rows for positions [start, end), one per chunk, as they arrive. The
    whole result is always read (leaving a stream early would cancel the statement, which
    aborts the caller's transaction)."""
    with _bytes_cursor(conn) as cur:
        yield from cur.stream(_CHUNKS, {"start": start, "end": end, "step": CHUNK,
                                        "region": region_id})


def levels(leaves: list[bytes]) -> list[list[bytes]]:
    """The levels of the perfect subtrees over leaves that start at an aligned position:
    levels[j][i] is the root of leaves [i·2^j, (i+1)·2^j), for every whole such range."""
    out = [leaves]
    while len(out[-1]) > 1:
        below = out[-1]
        out.append(node_hashes(below[0:len(below) - 1:2], below[1::2]))
    return out


def compact(tree: list[list[bytes]], width: int) -> list[bytes]:
    """The perfect-subtree roots of the first `width` leaves of `tree`, largest first."""
    out, offset = [], 0
    for j in range(width.bit_length() - 1, -1, -1):
        if width >> j & 1:
            out.append(tree[j][offset >> j])
            offset += 1 << j
    return out


def scan_block(conn, region_id: int, start: int, end: int, sizes: Sequence[int],
               checker: Checker) -> Block | None:
    """Verify the entries of [start, end) (start a multiple of BLOCK, end at most one BLOCK
    further): the Block, or None when anything is not in order."""
    leaves: list[bytes] = []
    marked: list[tuple] = []
    pruned: list[int] = []
    expect, clean = start, True
    for row in chunk_rows(conn, region_id, start, end):
        if clean:
            part = checker.chunk(row, end) if row[0] == expect else None
            if part is None:
                clean = False  # the rest is still read, not checked
            else:
                chunk_leaves, pieces, chunk_pruned = part
                leaves += chunk_leaves
                expect += len(chunk_leaves)
                marked += _marked(row[0], row[2], pieces, chunk_pruned)
                pruned += chunk_pruned
    if not clean or expect != end:
        return None
    tree = levels(leaves)
    return Block(start, end, tree[BLOCK_BITS][0] if end - start == BLOCK else None,
                 {n: compact(tree, n - start) for n in sizes if start < n <= end},
                 tuple(marked), tuple(pruned))


def _marked(a: int, data: bytes, pieces: list[bytes], pruned: list[int]) -> list[tuple]:
    """What verify's reconciliation needs of the entries of a chunk that is in order
    (Checker.chunk: its first position, its leaf bytes as the server sent them, those cut
    into pieces, the positions without a body) that name a row: binding.Named of the chunk
    when all of them are of format 2 (no object per entry), else binding.marked of each."""
    from deelwijs.services.log.binding import marked_run, named_run

    if not data:
        return []
    held = [p for p in pieces if p]
    named = named_run(data, a, len(held))
    if named is not None:
        return [named] if named.pairs else []
    gone = set(pruned)
    seqs = [s for s in range(a, a + len(pieces)) if s not in gone]
    joined = b"".join(held)
    starts = [0, *accumulate(map(len, held))][:-1]
    return marked_run(joined, starts, seqs)


# --- a region -----------------------------------------------------------------------------------

def _fold(hashes: list[bytes]) -> bytes:
    """The root from perfect-subtree roots (largest first), folded from the right."""
    result = hashes[-1]
    for h in reversed(hashes[:-1]):
        result = merkle.node_hash(h, result)
    return result


def roots(blocks: Iterable[Block], sizes: Iterable[int], size: int) -> dict[int, bytes]:
    """merkle.roots_at over the leaves of the blocks (in position order, together [0, size))
    at the requested sizes."""
    out = {0: merkle.EMPTY_ROOT} if 0 in sizes else {}
    before = merkle.Frontier()  # the blocks before, as perfect subtrees
    for block in blocks:
        prefix = [before.to_bytes()[i:i + 32] for i in range(0, 32 * before.size.bit_count(),
                                                              32)]
        for n, parts in block.parts.items():
            out[n] = _fold(prefix + parts)
        if block.root is not None:
            before.append(block.root)
    return {n: r for n, r in out.items() if n <= size}


@dataclass(frozen=True)
class Outcome:
    """A region whose every entry is in order: its size, the roots at the sizes asked,
    what the reconciliation needs of its entries that name a row (Block.marked:
    binding.Named of a chunk, binding.marked of an entry) and the positions of those without
    a body (Block.pruned), in position order."""
    size: int
    roots: dict[int, bytes]
    marked: list[tuple] | None = None
    # the positions of the entries before `size` without a body (Block.pruned), in order
    pruned: list[int] | None = None


def _tasks(size: int, sizes: list[int]) -> list[tuple[int, int, list[int]]]:
    wanted = sorted({n for n in sizes if 0 < n <= size} | ({size} if size else set()))
    return [(start, min(start + BLOCK, size),
             [n for n in wanted if start < n <= start + BLOCK])
            for start in range(0, size, BLOCK)]


def scan(session, keys, region_id: int, sizes: Sequence[int],
         progress: Callable[[int], None] | None = None,
         meanwhile: Callable[[], None] | None = None) -> Outcome | None:
    """Verify every entry of the region in bulk and compute the roots at `sizes` (and at the
    region's size). None when this path does not apply here (not PostgreSQL with psycopg, or
    the probes fail) or when anything is not in order. `meanwhile` is called once, while
    the workers are busy (or first)."""
    conn = session.connection()
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        return None
    raw = conn.connection.dbapi_connection
    checker = Checker.of(keys)
    if checker is None or not builds_leaf_data(raw):
        return None
    low, high = raw.execute(_BOUNDS, (region_id,)).fetchone()
    if low is not None and low != 0:
        return None
    size = 0 if high is None else high + 1
    tasks = _tasks(size, list(sizes))
    if meanwhile is not None:
        meanwhile = _once(meanwhile)
    blocks: list[Block] | None = None
    # (a snapshot cannot be exported from a savepoint)
    if size >= PARALLEL_MIN and WORKERS > 1 and not session.in_nested_transaction():
        try:
            blocks = _parallel(raw, region_id, tasks, checker, progress, meanwhile)
        except _NotInOrder:
            return None
        except _CannotFork:
            pass
    if blocks is None:
        if meanwhile is not None:
            meanwhile()
        blocks = _in_process(raw, region_id, tasks, checker, progress)
    if blocks is None:
        return None
    return Outcome(size, roots(blocks, sizes, size), [m for b in blocks for m in b.marked],
                   [p for b in blocks for p in b.pruned])


def _once(fn: Callable[[], None]) -> Callable[[], None]:
    called = []

    def once() -> None:
        if not called:
            called.append(True)
            fn()
    return once


def _in_process(raw, region_id: int, tasks, checker: Checker,
                progress: Callable[[int], None] | None) -> list[Block] | None:
    """The blocks verified one after the other on the caller's connection, with JIT
    compilation off meanwhile, as in the workers (it costs more than it saves here; the
    setting is the transaction's own and is put back)."""
    previous = raw.execute("SELECT current_setting('jit')").fetchone()[0]
    raw.execute("SELECT set_config('jit', 'off', true)")
    blocks: list[Block] | None = []
    for start, end, wanted in tasks:
        block = scan_block(raw, region_id, start, end, wanted, checker)
        if block is None:
            blocks = None
            break
        blocks.append(block)
        if progress is not None:
            progress(end - start)
    raw.execute("SELECT set_config('jit', %s, true)", (previous,))
    return blocks


# --- worker processes ---------------------------------------------------------------------------

_worker: dict = {}


def _start_worker(conninfo: str, snapshot: str, checker: Checker, stop) -> None:
    """A worker's connection: read-only, in the exported snapshot of the caller's
    transaction, so it sees exactly the rows the caller sees. An error is kept for the first
    task to raise (an initializer that raises makes a Pool start new workers forever). Once
    `stop` is set, the tasks left are skipped."""
    _worker["stop"] = stop
    try:
        from multiprocessing import util

        import psycopg
        from psycopg import sql

        conn = psycopg.connect(conninfo)
        util.Finalize(conn, conn.close, exitpriority=10)
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(snapshot))
        conn.execute("SET LOCAL jit = off")  # compiling the expressions costs more than it saves
        _worker.update(conn=conn, checker=checker)
    except Exception as exc:
        _worker["error"] = exc


def _work(task: tuple[int, int, int, list[int]]) -> Block | None:
    if _worker["stop"].is_set():
        return None
    if "error" in _worker:
        raise _worker["error"]
    region_id, start, end, wanted = task
    return scan_block(_worker["conn"], region_id, start, end, wanted, _worker["checker"])


class _NotInOrder(Exception):
    """A worker found an entry that is not in order."""


class _CannotFork(Exception):
    """The workers cannot run here; the region is verified in this process."""


def _parallel(raw, region_id: int, tasks, checker: Checker,
              progress: Callable[[int], None] | None,
              meanwhile: Callable[[], None] | None) -> list[Block]:
    """The blocks verified by WORKERS forked processes. Raises _NotInOrder when a block is
    not in order, _CannotFork when the workers cannot run here (no fork on this platform, the
    caller's transaction already wrote rows the workers would not see, a worker could not
    connect or import the snapshot, …)."""
    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:
        raise _CannotFork from None
    if raw.execute("SELECT txid_current_if_assigned()").fetchone()[0] is not None:
        raise _CannotFork
    snapshot = raw.execute("SELECT pg_export_snapshot()").fetchone()[0]
    conninfo = raw.info.dsn
    if raw.info.password:
        from psycopg.conninfo import make_conninfo
        conninfo = make_conninfo(conninfo, password=raw.info.password)
    # fork: the workers inherit the MAC state instead of receiving the key through a pipe.
    # The pool is never terminated: Pool.terminate() can wait forever on its task thread (a
    # worker killed while it holds the queue's lock), and did so in CI. On a problem, `stop`
    # makes the workers skip what is left, and the pool ends the ordinary way.
    stop = ctx.Event()
    pool = ctx.Pool(min(WORKERS, len(tasks)), _start_worker,
                    (conninfo, snapshot, checker, stop))
    done: dict[int, Block] = {}
    try:
        results = pool.imap_unordered(_work, [(region_id, *t) for t in tasks])
        if meanwhile is not None:
            meanwhile()
        for block in results:
            if block is None:
                raise _NotInOrder
            done[block.start] = block
            if progress is not None:
                progress(block.end - block.start)
    except _NotInOrder:
        raise
    except Exception as exc:
        raise _CannotFork from exc
    finally:
        stop.set()
        pool.close()
        pool.join()
    return [done[start] for start, _, _ in tasks]
