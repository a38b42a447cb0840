"""Benchmark: the forms of verify's per-entry hashing in CPython, each on its own.

    .venv/bin/python bench/hash_forms.py [--n 200000] [--size 413]

verify (services/log/verify_bulk.py) computes, per log entry, the leaf hash (SHA-256 of 0x00
and the leaf bytes), the MAC (HMAC-SHA256 of "<position>:<leaf>", cut to 16 bytes) and, per
pair, a Merkle node (SHA-256 of 0x01 and the two children). This prints microseconds per
entry for the form verify uses (a copy of a hash state that already holds the prefix) and
for the alternatives tried (chains of map, hmac.digest), over random leaves of --size bytes
(413: the log benchmark's average leaf). Every form is checked to give the same bytes. The
best of three runs is printed. Information for bench/README.md (issue 11's verify ratio).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import struct
import time
from operator import methodcaller


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--size", type=int, default=413)
    args = ap.parse_args(argv)
    n = args.n
    pieces = [os.urandom(args.size) for _ in range(n)]
    sha = hashlib.sha256
    digest = methodcaller("digest")

    def timed(label: str, fn, per: int = n):
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t0)
        print(f"  {label:<46} {best / per * 1e6:6.3f} µs")
        return out

    leaf_state = sha(b"\x00").copy

    def leaves_copied() -> list[bytes]:
        out = []
        add = out.append
        for p in pieces:
            h = leaf_state()
            h.update(p)
            add(h.digest())
        return out

    print(f"{n:,} entries of {args.size} bytes, CPython, one process")
    print("leaf hash, per entry:")
    leaves = timed("copied hash state (verify)", leaves_copied)
    assert leaves == timed("chain of map", lambda: list(map(digest, map(
        sha, map(b"\x00".__add__, pieces)))))

    key = os.urandom(32)
    block = key.ljust(64, b"\0")
    ipad, opad = bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)
    inner_state, outer_state = sha(ipad).copy, sha(opad).copy
    pack = struct.Struct(">32s16s").pack
    fmt = b"%d:%b".__mod__
    first = 1000

    def macs_copied() -> bytes:
        out = []
        add = out.append
        seq = first
        for leaf in leaves:
            h = inner_state()
            h.update(b"%d:%b" % (seq, leaf))
            o = outer_state()
            o.update(h.digest())
            add(pack(leaf, o.digest()))
            seq += 1
        return b"".join(out)

    def macs_map() -> bytes:
        seqs = range(first, first + n)
        inner = map(digest, map(sha, map(ipad.__add__, map(fmt, zip(seqs, leaves, strict=True)))))
        return b"".join(map(pack, leaves, map(digest, map(sha, map(opad.__add__, inner)))))

    def macs_hmac() -> bytes:
        seqs = range(first, first + n)
        return b"".join(map(pack, leaves, (hmac.digest(key, m, "sha256")
                                           for m in map(fmt, zip(seqs, leaves, strict=True)))))

    print("MAC, per entry (packed with the leaf as the server sends them):")
    want = timed("copied pad states (verify)", macs_copied)
    assert want == timed("chain of map", macs_map) == timed("hmac.digest", macs_hmac)

    node_state = sha(b"\x01").copy

    def nodes_copied() -> list[bytes]:
        out = []
        add = out.append
        for a, b in zip(leaves[0::2], leaves[1::2], strict=False):
            h = node_state()
            h.update(a)
            h.update(b)
            add(h.digest())
        return out

    print("Merkle node, per pair of children:")
    nodes = timed("copied hash state (verify)", nodes_copied, n // 2)
    assert nodes == timed("chain of map", lambda: list(map(digest, map(sha, map(
        b"\x01".__add__, map(bytes.__add__, leaves[0::2], leaves[1::2]))))), n // 2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
