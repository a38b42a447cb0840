"""Signed checkpoints (deelwijs.domain.checkpoint): C2SP tlog-checkpoint in a signed note.

Anchored outside our own code by two known answers: the example key and note of
golang.org/x/mod/sumdb/note (Ed25519 is deterministic, so our signature must be the same bytes)
and a real checkpoint of the Go checksum database, sum.golang.org, checked with its published
verifier key.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from deelwijs.domain import checkpoint as cp
from deelwijs.domain.checkpoint import (
    CheckpointError,
    body,
    key_hash,
    open_note,
    parse_verifier_key,
    sign,
    verifier_key,
)
from deelwijs.domain.merkle import EMPTY_ROOT, leaf_hash, root

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = KEY.public_key()
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
NAME = "deelwijs"
ORIGIN = "deelwijs/voorbeeldregio/verwerkingslog"
ROOT = root([leaf_hash(b"regel %d" % i) for i in range(1000)])
NOTE = sign(KEY, NAME, ORIGIN, 1000, ROOT)
DASH = "\u2014"


def raw(public_key) -> bytes:
    return public_key.public_bytes_raw()


# --- known answers --------------------------------------------------------------------------

GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SEED = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"  # from PRIVATE+KEY+PeterNeumann+c74f20a3+
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_SIGNATURE = ("\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
                "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")

SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTE = ("go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n"
              "\u2014 sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu959"
              "49rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n")


def test_key_id_vkey_and_signature_equal_the_go_reference_byte_for_byte():
    seed = base64.b64decode(GO_SEED)
    assert seed[0] == 1
    go_key = Ed25519PrivateKey.from_private_bytes(seed[1:])
    assert key_hash("PeterNeumann", go_key.public_key()).hex() == "c74f20a3"
    assert verifier_key("PeterNeumann", go_key.public_key()) == GO_VKEY
    name, public_key = parse_verifier_key(GO_VKEY)
    assert name == "PeterNeumann" and raw(public_key) == raw(go_key.public_key())
    note = cp._sign_text(go_key, "PeterNeumann", GO_TEXT)
    assert note == GO_TEXT + "\n" + GO_SIGNATURE
    assert cp._open_text(note, public_key, "PeterNeumann") == GO_TEXT


def test_a_real_sum_golang_org_checkpoint_opens():
    name, public_key = parse_verifier_key(SUMDB_VKEY)
    origin, size, tree_root = open_note(SUMDB_NOTE, public_key, name)
    assert (origin, size) == ("go.sum database tree", 6476701)
    assert base64.b64encode(tree_root).decode() == "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk="
    for changed in (SUMDB_NOTE.replace("6476701", "6476702"),
                    SUMDB_NOTE.replace("mb8Q", "mb8R"),
                    SUMDB_NOTE.replace("go.sum", "Go.sum")):
        with pytest.raises(CheckpointError, match="klopt niet"):
            open_note(changed, public_key, name)


# --- the format -----------------------------------------------------------------------------

def test_the_body_is_origin_size_and_base64_root_on_three_lines():
    assert body(ORIGIN, 1000, ROOT) == (
        f"{ORIGIN}\n1000\n{base64.b64encode(ROOT).decode()}\n")
    assert body("o", 0, EMPTY_ROOT) == "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"


def test_a_signed_note_is_body_blank_line_and_one_signature_line():
    text, rest = NOTE.split("\n\n")
    assert text + "\n" == body(ORIGIN, 1000, ROOT)
    assert rest.endswith("\n") and rest.count("\n") == 1
    dash, name, encoded = rest[:-1].split(" ")
    assert (dash, name) == (DASH, NAME)
    blob = base64.b64decode(encoded, validate=True)
    assert len(blob) == 4 + 64
    assert blob[:4] == key_hash(NAME, PUBLIC)
    assert blob[:4] == hashlib.sha256(b"deelwijs\n\x01" + raw(PUBLIC)).digest()[:4]
    PUBLIC.verify(blob[4:], (text + "\n").encode())


def test_sign_and_open_round_trip():
    assert open_note(NOTE, PUBLIC, NAME) == (ORIGIN, 1000, ROOT)
    assert open_note(sign(KEY, NAME, ORIGIN, 0, EMPTY_ROOT), PUBLIC, NAME) == (
        ORIGIN, 0, EMPTY_ROOT)
    assert sign(KEY, NAME, ORIGIN, 1000, bytearray(ROOT)) == NOTE


@settings(max_examples=100, deadline=None)
@given(origin=st.text(st.characters(min_codepoint=0x20, exclude_categories=("Cs",)), min_size=1,
                      max_size=40),
       size=st.integers(0, 2**64 - 1), tree_root=st.binary(min_size=32, max_size=32))
def test_any_checkpoint_round_trips(origin, size, tree_root):
    assert open_note(sign(KEY, NAME, origin, size, tree_root), PUBLIC, NAME) == (
        origin, size, tree_root)


# --- tampering --------------------------------------------------------------------------------

def _flip_signature(note: str) -> str:
    head, encoded = note.rstrip("\n").rsplit(" ", 1)
    blob = bytearray(base64.b64decode(encoded))
    blob[10] ^= 1
    return f"{head} {base64.b64encode(bytes(blob)).decode()}\n"


@pytest.mark.parametrize("tamper", [
    lambda n: n.replace("\n1000\n", "\n1001\n"),
    lambda n: n.replace("\n1000\n", "\n999\n"),
    lambda n: n.replace(base64.b64encode(ROOT).decode(),
                        base64.b64encode(leaf_hash(b"x")).decode()),
    lambda n: n.replace("voorbeeldregio", "andereregio"),
    _flip_signature,
], ids=["size up", "size down", "root", "origin", "signature"])
def test_a_changed_size_root_origin_or_signature_is_refused(tamper):
    changed = tamper(NOTE)
    assert changed != NOTE
    with pytest.raises(CheckpointError, match="handtekening van deelwijs klopt niet"):
        open_note(changed, PUBLIC, NAME)


def test_a_note_signed_by_another_key_is_refused():
    forged = sign(OTHER, NAME, ORIGIN, 1000, ROOT)
    with pytest.raises(CheckpointError, match="geen handtekening van sleutel deelwijs"):
        open_note(forged, PUBLIC, NAME)
    with pytest.raises(CheckpointError, match="geen handtekening van sleutel deelwijs"):
        open_note(sign(KEY, "iemand-anders", ORIGIN, 1000, ROOT), PUBLIC, NAME)
    # Another key that claims our key id: its signature is checked, and fails.
    blob = base64.b64decode(forged.rstrip("\n").rsplit(" ", 1)[1])
    claimed = forged.rsplit(" ", 1)[0] + " " + base64.b64encode(
        key_hash(NAME, PUBLIC) + blob[4:]).decode() + "\n"
    with pytest.raises(CheckpointError, match="klopt niet"):
        open_note(claimed, PUBLIC, NAME)


def _line(note: str) -> str:
    return note.split("\n\n")[1]


def test_signatures_of_unknown_keys_are_ignored():
    text = body(ORIGIN, 1000, ROOT)
    witness = _line(cp._sign_text(OTHER, "witness.example/w1", text))
    rotated = _line(sign(OTHER, NAME, ORIGIN, 1000, ROOT))  # our name, another key id
    junk = f"{DASH} unknown.example {base64.b64encode(b'ab' * 40).decode()}\n"
    ours = _line(NOTE)
    for lines in ([witness, ours], [ours, witness], [rotated, junk, ours, witness]):
        assert open_note(text + "\n" + "".join(lines), PUBLIC, NAME) == (ORIGIN, 1000, ROOT)
    # ... but one of them is not enough.
    with pytest.raises(CheckpointError, match="geen handtekening"):
        open_note(text + "\n" + witness + rotated, PUBLIC, NAME)


def test_a_failing_signature_of_our_key_rejects_the_note_even_beside_a_good_one():
    bad = _line(_flip_signature(NOTE))
    with pytest.raises(CheckpointError, match="klopt niet"):
        open_note(NOTE + bad, PUBLIC, NAME)


def _signed(text: str) -> str:
    """A note over any text, validly signed by our key: the failure is the format alone."""
    return cp._sign_text(KEY, NAME, text)


B64_ROOT = base64.b64encode(ROOT).decode()
URLSAFE_ROOT = base64.urlsafe_b64encode(b"\xff" * 32).decode()
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# The 43rd character of 32 bytes in base64 carries two spare bits that must be zero; setting
# one gives a string that decodes to the same root but is not the canonical encoding.
NONCANONICAL_ROOT = B64_ROOT[:42] + _ALPHABET[_ALPHABET.index(B64_ROOT[42]) | 1] + "="


@pytest.mark.parametrize(("note", "words"), [
    (NOTE[:-1], "geen geldige ondertekende notitie"),
    (NOTE.replace("\n\n", "\n"), "geen geldige ondertekende notitie"),
    (body(ORIGIN, 1000, ROOT) + "\n", "geen geldige ondertekende notitie"),
    (body(ORIGIN, 1000, ROOT) + "\n" + _line(NOTE).replace(DASH, "-"), "is geen handtekening"),
    (NOTE.replace("deelwijs/", "deelwijs\t/"), "stuurtekens"),
    (NOTE.replace("\n\n", "\r\n\n"), "stuurtekens"),
    (NOTE[:-1] + "!\n", "geen geldige base64"),
    (body(ORIGIN, 1000, ROOT) + f"\n{DASH} deelwijs AAAA\n", "geen geldige base64"),
    (body(ORIGIN, 1000, ROOT) + f"\n{DASH} deel+wijs {'A' * 92}\n", "ongeldige sleutelnaam"),
    (NOTE + _line(NOTE) * 100, "meer dan 100"),
    (NOTE.replace(ORIGIN, "deelwijs/\ud800"), "geen geldige UTF-8"),
    (_signed(f"{ORIGIN}\n1000\n"), "drie regels"),
    (_signed(f"{ORIGIN}\n1000\n{B64_ROOT}\nextensie\n"), "extra regels"),
    (_signed(f"\n1000\n{B64_ROOT}\n"), "lege regel"),
    (_signed(f"x\n\n1000\n{B64_ROOT}\n"), "lege regel"),
    (_signed(f"{ORIGIN}\n1000\n{B64_ROOT}\n\n"), "lege regel"),
    (_signed(f"{ORIGIN}\n01000\n{B64_ROOT}\n"), "boomgrootte"),
    (_signed(f"{ORIGIN}\n-1\n{B64_ROOT}\n"), "boomgrootte"),
    (_signed(f"{ORIGIN}\n+1\n{B64_ROOT}\n"), "boomgrootte"),
    (_signed(f"{ORIGIN}\n\u0661\n{B64_ROOT}\n"), "boomgrootte"),
    (_signed(f"{ORIGIN}\n{2**64}\n{B64_ROOT}\n"), "boomgrootte"),
    (_signed(f"{ORIGIN}\n1000\n{B64_ROOT.rstrip('=')}\n"), "wortel"),
    (_signed(f"{ORIGIN}\n1000\n{base64.b64encode(ROOT[:31]).decode()}\n"), "wortel"),
    (_signed(f"{ORIGIN}\n1000\n{URLSAFE_ROOT}\n"), "wortel"),
    (_signed(f"{ORIGIN}\n1000\n{NONCANONICAL_ROOT}\n"), "wortel"),
])
def test_malformed_notes_are_refused_with_a_dutch_message(note, words):
    with pytest.raises(CheckpointError, match=words):
        open_note(note, PUBLIC, NAME)


def test_the_non_canonical_root_vector_decodes_to_the_same_root():
    assert NONCANONICAL_ROOT != B64_ROOT
    assert base64.b64decode(NONCANONICAL_ROOT, validate=True) == ROOT


# --- refusing to sign nonsense ----------------------------------------------------------------

@pytest.mark.parametrize(("args", "words"), [
    ((NAME, "", 1, ROOT), "herkomst"),
    ((NAME, "a\nb", 1, ROOT), "regeleinden"),
    ((NAME, "a\x00b", 1, ROOT), "stuurtekens"),
    ((NAME, ORIGIN, -1, ROOT), "boomgrootte"),
    ((NAME, ORIGIN, 2**64, ROOT), "boomgrootte"),
    ((NAME, ORIGIN, True, ROOT), "boomgrootte"),
    ((NAME, ORIGIN, 1, ROOT[:31]), "32 bytes"),
    ((NAME, ORIGIN, 1, ROOT.hex()), "32 bytes"),
    (("", ORIGIN, 1, ROOT), "sleutelnaam"),
    (("deel wijs", ORIGIN, 1, ROOT), "sleutelnaam"),
    (("deel+wijs", ORIGIN, 1, ROOT), "sleutelnaam"),
    (("deel\u00a0wijs", ORIGIN, 1, ROOT), "sleutelnaam"),
])
def test_sign_refuses_what_no_verifier_could_read(args, words):
    with pytest.raises(CheckpointError, match=words):
        sign(KEY, *args)


# --- verifier keys --------------------------------------------------------------------------

def test_the_verifier_key_round_trips():
    line = verifier_key(NAME, PUBLIC)
    assert line.startswith(f"{NAME}+{key_hash(NAME, PUBLIC).hex()}+")
    assert base64.b64decode(line.split("+", 2)[2]) == b"\x01" + raw(PUBLIC)
    for text in (line, f"  {line}\n", line.replace(key_hash(NAME, PUBLIC).hex(),
                                                   key_hash(NAME, PUBLIC).hex().upper())):
        name, public_key = parse_verifier_key(text)
        assert name == NAME and raw(public_key) == raw(PUBLIC)
    assert open_note(NOTE, *reversed(parse_verifier_key(line))) == (ORIGIN, 1000, ROOT)


GOOD_KEY = base64.b64encode(b"\x01" + raw(PUBLIC)).decode()
GOOD_ID = key_hash(NAME, PUBLIC).hex()
TYPE_2_KEY = base64.b64encode(b"\x02" + raw(PUBLIC)).decode()


@pytest.mark.parametrize(("line", "words"), [
    ("deelwijs", "vorm"),
    (f"deelwijs+{GOOD_ID}", "vorm"),
    (f"+{GOOD_ID}+{GOOD_KEY}", "sleutelnaam"),
    (f"deel wijs+{GOOD_ID}+{GOOD_KEY}", "sleutelnaam"),
    (f"deelwijs+{GOOD_ID[:7]}+{GOOD_KEY}", "8 hexadecimale"),
    (f"deelwijs+{GOOD_ID[:7]}g+{GOOD_KEY}", "8 hexadecimale"),
    (f"deelwijs+{GOOD_ID}+{GOOD_KEY[:-4]}", "geen Ed25519-sleutel"),
    (f"deelwijs+{GOOD_ID}+{GOOD_KEY}AAAA", "geen Ed25519-sleutel"),
    (f"deelwijs+{GOOD_ID}+{TYPE_2_KEY}", "geen Ed25519-sleutel"),
    (f"deelwijs+{GOOD_ID}+{base64.b64encode(raw(PUBLIC)).decode()}", "geen Ed25519-sleutel"),
    (f"deelwijs+00000000+{GOOD_KEY}", "past niet"),
    (f"andere+{GOOD_ID}+{GOOD_KEY}", "past niet"),
])
def test_a_malformed_verifier_key_is_refused(line, words):
    with pytest.raises(CheckpointError, match=words):
        parse_verifier_key(line)


def test_checkpoint_errors_are_value_errors():
    assert issubclass(CheckpointError, ValueError)


# --- cosignatures (c2sp.org/tlog-cosignature) and files of notes --------------------------------

FG = Ed25519PrivateKey.from_private_bytes(bytes(range(64, 96)))
FG_NAME = "fg.voorbeeldregio.example/getuige"
# The example of c2sp.org/tlog-cosignature: a checkpoint with the log's signature and a
# witness's cosignature, and the time in the message of its signature.
SPEC_NOTE = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7"
    "u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlr"
    "DJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n")


def test_a_cosignature_has_the_layout_of_the_spec_example():
    """Key id, 8-byte big-endian time, 64-byte signature: the spec's example line decodes to
    the time its signed message shows (1679315147), and ours has the same layout."""
    spec_blob = base64.b64decode(SPEC_NOTE.splitlines()[-1].split(" ")[2])
    assert len(spec_blob) == 4 + 8 + 64
    assert int.from_bytes(spec_blob[4:12], "big") == 1679315147
    cosigned = cp.cosign(FG, FG_NAME, NOTE, 1679315147)
    ours = base64.b64decode(cosigned.splitlines()[-1].split(" ")[2])
    assert len(ours) == 76 and ours[:4] == cp.cosigner_hash(FG_NAME, FG.public_key())
    assert int.from_bytes(ours[4:12], "big") == 1679315147
    message = f"cosignature/v1\ntime 1679315147\n{body(ORIGIN, 1000, ROOT)}".encode()
    FG.public_key().verify(ours[12:], message)  # raises if not this exact message
    # the key id uses type 0x04, not the note signature's 0x01
    assert cp.cosigner_hash(FG_NAME, FG.public_key()) == hashlib.sha256(
        FG_NAME.encode() + b"\n\x04" + raw(FG.public_key())).digest()[:4]


def test_a_cosigned_checkpoint_still_opens_with_the_log_key_alone():
    cosigned = cp.cosign(FG, FG_NAME, NOTE, 1_700_000_000)
    assert cosigned.startswith(NOTE)  # one line more, nothing else changed
    assert open_note(cosigned, PUBLIC, NAME) == (ORIGIN, 1000, ROOT)
    assert cp.open_cosignature(cosigned, FG.public_key(), FG_NAME) == 1_700_000_000
    assert cp.open_cosignature(NOTE, FG.public_key(), FG_NAME) is None
    # cosigning again replaces the line of the same key
    again = cp.cosign(FG, FG_NAME, cosigned, 1_700_000_100)
    assert again.count(FG_NAME) == 1
    assert cp.open_cosignature(again, FG.public_key(), FG_NAME) == 1_700_000_100


@pytest.mark.parametrize("change", [
    lambda n: n.replace("\n1000\n", "\n999\n"),
    lambda n: n[:-6] + ("A" if n[-6] != "A" else "B") + n[-5:],
])
def test_a_changed_checkpoint_or_cosignature_is_refused(change):
    cosigned = cp.cosign(FG, FG_NAME, NOTE, 1_700_000_000)
    with pytest.raises(CheckpointError, match="medeondertekening"):
        cp.open_cosignature(change(cosigned), FG.public_key(), FG_NAME)


def test_a_cosignature_by_another_key_is_not_ours():
    cosigned = cp.cosign(OTHER, FG_NAME, NOTE, 1_700_000_000)
    assert cp.open_cosignature(cosigned, FG.public_key(), FG_NAME) is None


def test_cosigner_keys_and_private_keys_round_trip_and_are_not_log_keys():
    vkey = cp.cosigner_key(FG_NAME, FG.public_key())
    name, key = cp.parse_cosigner_key(vkey)
    assert name == FG_NAME and raw(key) == raw(FG.public_key())
    with pytest.raises(CheckpointError, match="medeondertekenaar"):
        parse_verifier_key(vkey)
    with pytest.raises(CheckpointError, match="log"):
        cp.parse_cosigner_key(verifier_key(NAME, PUBLIC))
    line = cp.private_key(FG_NAME, FG)
    assert line.startswith("PRIVATE+KEY+" + FG_NAME + "+")
    name, private = cp.parse_private_key(line)
    assert name == FG_NAME and private.private_bytes_raw() == FG.private_bytes_raw()
    for bad in ("", vkey, line.replace("+", "-", 3), line[:-4] + "AAA=",
                cp.private_key(FG_NAME, FG, cosigner=False)):
        with pytest.raises(CheckpointError):
            cp.parse_private_key(bad)


def test_a_file_of_notes_splits_into_notes_that_each_open():
    other = sign(KEY, NAME, ORIGIN, 1001, ROOT)
    cosigned = cp.cosign(FG, FG_NAME, other, 1)
    for text in (NOTE + other + cosigned, NOTE + "\n" + other + "\n\n" + cosigned + "\n"):
        notes = cp.split_notes(text)
        assert notes == [NOTE, other, cosigned]
        assert [open_note(n, PUBLIC, NAME)[1] for n in notes] == [1000, 1001, 1001]
    assert cp.split_notes("") == [] and cp.split_notes("\n\n") == []
    assert cp.peek(NOTE) == (ORIGIN, 1000, ROOT)


@pytest.mark.parametrize(("text", "words"), [
    (NOTE[:-1], "regeleinde"),
    (body(ORIGIN, 1000, ROOT), "geen handtekening"),
    (NOTE + body(ORIGIN, 5, ROOT) + "\n", "geen handtekening"),
    (_line(NOTE) + NOTE, "zonder lege regel"),
])
def test_a_malformed_file_of_notes_is_refused(text, words):
    with pytest.raises(CheckpointError, match=words):
        cp.split_notes(text)
