"""The RFC 6962 Merkle tree of the processing log (deelwijs.domain.merkle).

Three independent anchors, so no test only checks the code against itself:
- the published Certificate Transparency vectors (the eight leaves of the CT and Trillian test
  suites, their roots for sizes 1..8, and known inclusion and consistency proofs);
- a small recursive reference written straight from the RFC 6962 §2.1 definitions, below;
- pymerkle 7 (GPL, a test-only oracle, never imported by deelwijs) for sizes 0..1000.
Then hypothesis properties over random trees.
"""

from __future__ import annotations

import hashlib
import random

import pymerkle
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deelwijs.domain import merkle
from deelwijs.domain.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    roots_at,
    verify_consistency,
    verify_inclusion,
)

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- the published vectors -------------------------------------------------------------------
# Leaves and roots of google/certificate-transparency's and Trillian's merkle tests (also in
# transparency-dev/merkle testdata); proofs from the same suites.

LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)]
ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
INCLUSION = {  # (index, size): path
    (0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
}
CONSISTENCY = {  # (m, n): proof
    (1, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}
HASHES = [leaf_hash(x) for x in LEAVES]


def test_the_hash_functions_use_the_rfc_6962_prefixes():
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    left, right = b"L" * 32, b"R" * 32
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root([]) == EMPTY_ROOT == Frontier().root()


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_roots_match_the_certificate_transparency_vectors(size):
    frontier = Frontier()
    for h in HASHES[:size]:
        frontier.append(h)
    assert root(HASHES[:size]).hex() == ROOTS[size]
    assert frontier.root().hex() == ROOTS[size]
    assert roots_at(HASHES, [size]) == {size: bytes.fromhex(ROOTS[size])}


@pytest.mark.parametrize(("index", "size"), sorted(INCLUSION))
def test_inclusion_proofs_match_the_published_ones(index, size):
    path = inclusion_proof(HASHES, index, size)
    assert [p.hex() for p in path] == INCLUSION[index, size]
    assert verify_inclusion(HASHES[index], index, size, path, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("m", "n"), sorted(CONSISTENCY))
def test_consistency_proofs_match_the_published_ones(m, n):
    proof = consistency_proof(HASHES, m, n)
    assert [p.hex() for p in proof] == CONSISTENCY[m, n]
    assert verify_consistency(m, n, bytes.fromhex(ROOTS[m]), bytes.fromhex(ROOTS[n]), proof)


# --- a reference straight from RFC 6962 §2.1 --------------------------------------------------

def ref_split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = ref_split(len(d))
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = ref_split(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = ref_split(len(d))
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


SMALL = [leaf_hash(b"blad %d" % i) for i in range(48)]


def test_roots_and_proofs_equal_the_recursive_reference_for_every_small_tree():
    for n in range(len(SMALL) + 1):
        d = SMALL[:n]
        assert root(d) == ref_mth(d)
        for index in range(n):
            assert inclusion_proof(SMALL, index, n) == ref_path(index, d)
        for m in range(1, n):
            assert consistency_proof(SMALL, m, n) == ref_subproof(m, d, True)


def test_every_small_proof_verifies_and_no_other_leaf_index_or_root_passes():
    roots = [ref_mth(SMALL[:n]) for n in range(len(SMALL) + 1)]
    for n in range(1, 34):
        for index in range(n):
            path = inclusion_proof(SMALL, index, n)
            assert verify_inclusion(SMALL[index], index, n, path, roots[n])
            assert not verify_inclusion(SMALL[index - 1] if index else SMALL[n], index, n,
                                        path, roots[n])
            assert not verify_inclusion(SMALL[index], index, n, path, roots[n - 1])
            for other in range(n):
                if other != index:
                    assert not verify_inclusion(SMALL[index], other, n, path, roots[n])
        for m in range(n + 1):
            proof = consistency_proof(SMALL, m, n)
            assert verify_consistency(m, n, roots[m], roots[n], proof)
            if 0 < m < n:
                assert not verify_consistency(m, n, roots[m - 1], roots[n], proof)
                assert not verify_consistency(m, n, roots[m], roots[n - 1], proof)
                assert not verify_consistency(m, n, roots[m], roots[n], proof[:-1])
                assert not verify_consistency(m, n, roots[m], roots[n], [*proof, roots[n]])


# --- pymerkle 7 as an oracle ------------------------------------------------------------------

ORACLE_SIZE = 1000


@pytest.fixture(scope="module")
def oracle():
    """Our leaf hashes of raw data (varied lengths, some empty) and pymerkle's tree of the
    same raw data, which it hashes itself."""
    rng = random.Random(6962)
    data = [rng.randbytes(rng.randrange(0, 120)) for _ in range(ORACLE_SIZE)]
    tree = pymerkle.InmemoryTree(algorithm="sha256")  # 0x00/0x01 prefixes are its default
    for item in data:
        tree.append_entry(item)
    return [leaf_hash(item) for item in data], tree


def test_leaf_hashes_and_every_root_from_0_to_1000_equal_pymerkles(oracle):
    hashes, tree = oracle
    assert all(tree.get_leaf(i + 1) == h for i, h in enumerate(hashes))
    at = roots_at(iter(hashes), range(ORACLE_SIZE + 1))
    frontier = Frontier()
    for size in range(ORACLE_SIZE + 1):
        expected = tree.get_root(size)
        assert at[size] == expected, size
        assert frontier.root() == expected, size
        if size % 7 == 0 or size < 70:
            assert root(hashes[:size]) == expected, size
        if size < ORACLE_SIZE:
            frontier.append(hashes[size])


def _pairs(rng: random.Random, count: int) -> list[tuple[int, int]]:
    """(a, b) with 1 <= a <= b <= ORACLE_SIZE: every pair of small trees, then random ones,
    and the edges (powers of two, their neighbours, the full tree)."""
    pairs = {(a, b) for b in range(1, 18) for a in range(1, b + 1)}
    edges = sorted({1, 2, 3, ORACLE_SIZE} | {2**k + d for k in range(1, 10) for d in (-1, 0, 1)})
    pairs |= {(a, b) for a in edges for b in edges if a <= b}
    while len(pairs) < count:
        b = rng.randrange(1, ORACLE_SIZE + 1)
        pairs.add((rng.randrange(1, b + 1), b))
    return sorted(pairs)


def test_inclusion_proofs_equal_pymerkles_and_each_side_accepts_the_other(oracle):
    hashes, tree = oracle
    for a, size in _pairs(random.Random(1), 600):
        index = a - 1
        ours = inclusion_proof(hashes, index, size)
        theirs = tree.prove_inclusion(a, size)  # pymerkle counts leaves from one
        assert theirs.path == [hashes[index], *ours], (index, size)
        our_root = root(hashes[:size])
        pymerkle.verify_inclusion(hashes[index], our_root, theirs, index=a, size=size)
        assert verify_inclusion(hashes[index], index, size, theirs.path[1:], tree.get_root(size))


def test_consistency_proofs_and_pymerkles_accept_each_others_roots(oracle):
    # pymerkle lays its consistency path out differently from RFC 6962 §2.1.2 (it descends to
    # single leaves on the new side), so only the roots can be compared; the RFC layout
    # itself is pinned by the published vectors and the recursive reference above.
    hashes, tree = oracle
    for m, n in _pairs(random.Random(2), 600):
        ours = consistency_proof(hashes, m, n)
        root_m, root_n = root(hashes[:m]), root(hashes[:n])
        assert (root_m, root_n) == (tree.get_root(m), tree.get_root(n)), (m, n)
        assert verify_consistency(m, n, tree.get_root(m), tree.get_root(n), ours), (m, n)
        pymerkle.verify_consistency(root_m, root_n, tree.prove_consistency(m, n),
                                    prior_size=m, later_size=n)


# --- the compact range --------------------------------------------------------------------------

def test_the_frontier_keeps_one_hash_per_set_bit_and_round_trips():
    frontier = Frontier()
    for size, h in enumerate(SMALL):
        blob = frontier.to_bytes()
        assert frontier.size == size
        assert len(blob) == size.bit_count() * 32
        again = Frontier.from_bytes(size, blob)
        assert again.size == size and again.root() == frontier.root() == ref_mth(SMALL[:size])
        frontier.append(h)
    assert Frontier.from_bytes(5, memoryview(Frontier.from_bytes(5, b"A" * 32 + b"B" * 32)
                                             .to_bytes())).to_bytes() == b"A" * 32 + b"B" * 32


@pytest.mark.parametrize(("size", "length"), [(0, 32), (1, 0), (1, 64), (3, 32), (3, 33),
                                               (7, 64), (8, 64)])
def test_a_frontier_blob_of_the_wrong_length_is_refused(size, length):
    with pytest.raises(ValueError, match="rand van een boom"):
        Frontier.from_bytes(size, b"x" * length)


def test_a_negative_frontier_size_is_refused():
    with pytest.raises(ValueError, match="negatieve"):
        Frontier.from_bytes(-1, b"")


# --- bad arguments ------------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "words"), [
    (lambda: inclusion_proof(HASHES, 8, 8), "blad 8 ligt niet"),
    (lambda: inclusion_proof(HASHES, 0, 0), "blad 0 ligt niet"),
    (lambda: inclusion_proof(HASHES, -1, 8), "blad -1 ligt niet"),
    (lambda: inclusion_proof(HASHES, 0, 9), "maar 8 bladeren"),
    (lambda: verify_inclusion(HASHES[0], 3, 3, [], EMPTY_ROOT), "blad 3 ligt niet"),
    (lambda: verify_inclusion(HASHES[0], 0, -2, [], EMPTY_ROOT), "negatieve"),
    (lambda: consistency_proof(HASHES, 5, 4), "geen begin"),
    (lambda: consistency_proof(HASHES, -1, 4), "negatieve"),
    (lambda: consistency_proof(HASHES, 4, 9), "maar 8 bladeren"),
    (lambda: verify_consistency(5, 4, EMPTY_ROOT, EMPTY_ROOT, []), "geen begin"),
    (lambda: verify_consistency(0, -1, EMPTY_ROOT, EMPTY_ROOT, []), "negatieve"),
    (lambda: roots_at(HASHES, [3, -1]), "negatieve"),
])
def test_bad_arguments_raise_a_dutch_value_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_malformed_proof_material_is_false_not_an_error():
    path = inclusion_proof(HASHES, 2, 8)
    good_root = bytes.fromhex(ROOTS[8])
    assert verify_inclusion(HASHES[2], 2, 8, path, good_root)
    assert verify_inclusion(HASHES[2], 2, 8, iter(path), good_root)
    assert not verify_inclusion(HASHES[2][:31], 2, 8, path, good_root)
    assert not verify_inclusion(HASHES[2], 2, 8, [*path[:-1], path[-1][:16]], good_root)
    assert not verify_inclusion(HASHES[2], 2, 8, [*path[:-1], "not bytes"], good_root)
    assert not verify_inclusion(HASHES[2], 2, 8, path, good_root.hex())
    assert not verify_inclusion(HASHES[2], 2, 8, [], good_root)
    assert not verify_inclusion(HASHES[2], 2, 8, [*path, path[0]], good_root)
    proof = consistency_proof(HASHES, 3, 8)
    assert not verify_consistency(3, 8, bytes.fromhex(ROOTS[3]), good_root, [])
    assert not verify_consistency(3, 8, bytes.fromhex(ROOTS[3])[:8], good_root, proof)
    assert verify_consistency(0, 8, EMPTY_ROOT, good_root, [])
    assert not verify_consistency(0, 8, EMPTY_ROOT, good_root, proof)
    assert not verify_consistency(0, 8, good_root, good_root, [])
    assert not verify_consistency(8, 8, good_root, bytes.fromhex(ROOTS[7]), [])
    assert not verify_consistency(8, 8, good_root, good_root, [good_root])


def test_leaf_placeholders_of_any_length_still_give_roots_and_proofs():
    # The verifier fills the position of a missing row with b"": nothing may raise, the roots
    # just differ, and a proof that has to show the placeholder itself does not verify.
    leaves = [*HASHES[:3], b"", *HASHES[4:6], b"", HASHES[7]]
    assert root(leaves) != root(HASHES)
    assert roots_at(leaves, [8]) == {8: root(leaves)}
    frontier = Frontier()
    for h in leaves:
        frontier.append(h)
    assert frontier.root() == root(leaves)
    proof = consistency_proof(leaves, 5, 8)
    assert verify_consistency(5, 8, root(leaves[:5]), root(leaves), proof)
    assert not verify_consistency(5, 8, root(leaves[:5]), root(HASHES), proof)
    assert b"" in consistency_proof(leaves, 3, 8)
    assert not verify_consistency(3, 8, root(leaves[:3]), root(leaves),
                                  consistency_proof(leaves, 3, 8))


def test_roots_at_reads_the_leaves_only_up_to_the_largest_size():
    seen = []

    def leaves():
        for h in SMALL:
            seen.append(h)
            yield h

    assert roots_at(leaves(), [5, 2, 5]) == {2: ref_mth(SMALL[:2]), 5: ref_mth(SMALL[:5])}
    assert len(seen) == 5
    assert roots_at(leaves(), []) == {}
    assert roots_at([], [0, 1]) == {0: EMPTY_ROOT}


def test_the_module_exports_exactly_the_agreed_api():
    assert sorted(merkle.__all__) == sorted([
        "EMPTY_ROOT", "Frontier", "consistency_proof", "inclusion_proof", "leaf_hash",
        "node_hash", "root", "roots_at", "verify_consistency", "verify_inclusion"])


# --- properties -------------------------------------------------------------------------------

leaf_data = st.lists(st.binary(max_size=6), unique=True, max_size=70)


@PROPERTY
@given(leaf_data)
def test_the_frontier_root_is_the_tree_root_at_every_prefix(data):
    hashes = [leaf_hash(x) for x in data]
    frontier = Frontier()
    assert frontier.root() == root([])
    for size, h in enumerate(hashes, start=1):
        frontier.append(h)
        assert frontier.size == size
        assert frontier.root() == root(hashes[:size]) == ref_mth(hashes[:size])


@PROPERTY
@given(leaf_data, st.data())
def test_a_stored_frontier_carries_on_as_if_never_stored(data, draw):
    hashes = [leaf_hash(x) for x in data]
    cut = draw.draw(st.integers(0, len(hashes)), label="cut")
    frontier = Frontier()
    for h in hashes[:cut]:
        frontier.append(h)
    restored = Frontier.from_bytes(cut, frontier.to_bytes())
    assert restored.to_bytes() == frontier.to_bytes()
    for h in hashes[cut:]:
        restored.append(h)
    assert restored.size == len(hashes)
    assert restored.root() == root(hashes)


@PROPERTY
@given(leaf_data.filter(bool), st.data())
def test_every_inclusion_proof_verifies_and_nothing_else_does(data, draw):
    hashes = [leaf_hash(x) for x in data]
    size = draw.draw(st.integers(1, len(hashes)), label="size")
    index = draw.draw(st.integers(0, size - 1), label="index")
    other = draw.draw(st.integers(0, size - 1).filter(lambda i: i != index) if size > 1
                      else st.none(), label="other index")
    tree_root = root(hashes[:size])
    path = inclusion_proof(hashes, index, size)
    assert len(path) <= size.bit_length()
    assert verify_inclusion(hashes[index], index, size, path, tree_root)
    assert not verify_inclusion(leaf_hash(b"another leaf" + data[index]), index, size, path,
                                tree_root)
    assert not verify_inclusion(hashes[index], index, size, path, node_hash(tree_root, tree_root))
    if other is not None:
        assert not verify_inclusion(hashes[index], other, size, path, tree_root)
        assert not verify_inclusion(hashes[other], index, size, path, tree_root)


@PROPERTY
@given(leaf_data.filter(bool), st.data())
def test_every_consistency_proof_verifies_and_fails_once_an_old_leaf_changes(data, draw):
    hashes = [leaf_hash(x) for x in data]
    n = draw.draw(st.integers(1, len(hashes)), label="n")
    m = draw.draw(st.integers(1, n), label="m")
    changed_at = draw.draw(st.integers(0, m - 1), label="changed leaf")
    root_m, root_n = root(hashes[:m]), root(hashes[:n])
    proof = consistency_proof(hashes, m, n)
    assert verify_consistency(m, n, root_m, root_n, proof)
    assert verify_consistency(0, n, EMPTY_ROOT, root_n, consistency_proof(hashes, 0, n))

    forged = list(hashes)
    forged[changed_at] = leaf_hash(b"rewritten " + data[changed_at])
    forged_m = root(forged[:m])
    # The old checkpoint was of a different history: no proof links it to the real new root,
    # neither the honest one nor one built from the rewritten leaves.
    assert not verify_consistency(m, n, forged_m, root_n, proof)
    assert not verify_consistency(m, n, forged_m, root_n, consistency_proof(forged, m, n))
    assert not verify_consistency(m, n, root_m, root(forged[:n]), proof)


@PROPERTY
@given(leaf_data, st.lists(st.integers(0, 80), max_size=8))
def test_roots_at_agrees_with_root(data, sizes):
    hashes = [leaf_hash(x) for x in data]
    result = roots_at(iter(hashes), sizes)
    assert set(result) == {s for s in sizes if s <= len(hashes)}
    for size, value in result.items():
        assert value == root(hashes[:size])
