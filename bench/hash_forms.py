"""Benchmark: the forms of verify's per-entry hashing in CPython, each on its own.

    PYTHONPATH=src .venv/bin/python bench/hash_forms.py [--n 200000] [--size 413]

verify (services/log/verify_bulk.py) computes, per log entry, the leaf hash (SHA-256 of 0x00
and the leaf bytes), the MAC (HMAC-SHA256 of "<position>:<leaf>", cut to 16 bytes) and, per
pair, a Merkle node (SHA-256 of 0x01 and the two children). This prints microseconds per
entry for verify's own functions (verify_bulk.leaf_hashes, Checker.fixed, node_hashes: a
copy of a hash state that already holds the prefix) and for the alternatives tried (chains
of map, hmac.digest), over random leaves of --size bytes
(413: the log benchmark's average leaf). Every form is checked to give the same bytes. The
best of three runs is printed. Information for bench/README.md (issue 11's verify ratio).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import time
from operator import methodcaller

from deelwijs.services.log import verify_bulk


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

    print(f"{n:,} entries of {args.size} bytes, CPython, one process")
    print("leaf hash, per entry:")
    leaves = timed("copied hash state (verify)", lambda: verify_bulk.leaf_hashes(pieces))
    assert leaves == timed("chain of map", lambda: list(map(digest, map(
        sha, map(b"\x00".__add__, pieces)))))

    key = os.urandom(32)
    block = key.ljust(64, b"\0")
    ipad, opad = bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)
    pack = verify_bulk._FIXED.pack  # leaf and MAC, as the server joins them
    fmt = b"%d:%b".__mod__
    first = 1000
    checker = verify_bulk.Checker(key)

    def macs_map() -> bytes:
        seqs = range(first, first + n)
        inner = map(digest, map(sha, map(ipad.__add__, map(fmt, zip(seqs, leaves, strict=True)))))
        return b"".join(map(pack, leaves, map(digest, map(sha, map(opad.__add__, inner)))))

    def macs_hmac() -> bytes:
        seqs = range(first, first + n)
        return b"".join(map(pack, leaves, (hmac.digest(key, m, "sha256")
                                           for m in map(fmt, zip(seqs, leaves, strict=True)))))

    print("MAC, per entry (packed with the leaf as the server sends them):")
    want = timed("copied pad states (verify)", lambda: checker.fixed(first, leaves))
    assert want == timed("chain of map", macs_map) == timed("hmac.digest", macs_hmac)

    print("Merkle node, per pair of children:")
    left, right = leaves[0:n - 1:2], leaves[1::2]
    nodes = timed("copied hash state (verify)",
                  lambda: verify_bulk.node_hashes(left, right), n // 2)
    assert nodes == timed("chain of map", lambda: list(map(digest, map(sha, map(
        b"\x01".__add__, map(bytes.__add__, left, right))))), n // 2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
