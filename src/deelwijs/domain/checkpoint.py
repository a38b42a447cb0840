"""Signed checkpoints of the processing log: C2SP tlog-checkpoint in a C2SP signed note, with
Ed25519 (pure: no I/O, no clock).

A checkpoint's text is three lines: the origin (which log), the tree size in decimal, and the
base64 RFC 6962 root (see `deelwijs.domain.merkle`). A signed note is that text, an empty
line, and one line per signature:

    deelwijs/voorbeeldregio/verwerkingslog
    1000
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

    — deelwijs <base64(4-byte key id || 64-byte Ed25519 signature over the text)>

The key id is SHA-256(key name || "\\n" || 0x01 || public key)[:4]. A verifier knows the key
by one line of text, its vkey: `name+hexkeyid+base64(0x01 || public key)`. Signature lines
from other keys (a rotated key, a witness's cosignature) are ignored, as the spec demands;
if one from the expected key is there, it must verify.

Sources: https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint; the key id and the
note layout match golang.org/x/mod/sumdb/note. Deelwijs writes no extension lines, and
`open_note` refuses a checkpoint that has them, so what it accepts is exactly what `body`
writes.

Cosignatures (https://c2sp.org/tlog-cosignature, Ed25519 `cosignature/v1`): a second party (the
FG, a witness) adds its own signature line to a checkpoint it has checked. Its key id is
SHA-256(name || "\\n" || 0x04 || public key)[:4] and its signature is an 8-byte big-endian
POSIX timestamp followed by an Ed25519 signature over "cosignature/v1\\ntime <timestamp>\\n"
and the checkpoint text. A cosignature is an ordinary signature line of the note, so a
verifier that does not know the cosigner (golang.org/x/mod/sumdb/note among them) ignores it.

A file of checkpoints (the witness file, or one written by `deelwijs audit checkpoint --out`)
holds signed notes one after the other, optionally separated by blank lines; `split_notes`
reads it back into notes that each open on their own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from deelwijs.errors import DeelwijsError

__all__ = [
    "CheckpointError",
    "body",
    "cosign",
    "cosigner_key",
    "key_hash",
    "open_cosignature",
    "open_note",
    "parse_cosigner_key",
    "parse_private_key",
    "parse_verifier_key",
    "peek",
    "private_key",
    "sign",
    "split_notes",
    "verifier_key",
]

_ED25519 = b"\x01"  # the signed-note signature type of Ed25519
_COSIGNATURE_V1 = b"\x04"  # the signature type of an Ed25519 cosignature/v1 (tlog-cosignature)
_DASH = "\u2014 "  # em dash and space: starts every signature line
_ROOT_SIZE = 32
_KEY_ID_SIZE = 4
_MAX_SIZE = 1 << 64  # tree sizes are uint64 in every tlog implementation
_MAX_SIGNATURES = 100  # the spec asks for at least 16; golang.org/x/mod/sumdb/note takes 100

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # ASCII controls other than newline
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HEX_ID = re.compile(r"[0-9a-fA-F]{8}")


class CheckpointError(DeelwijsError, ValueError):
    """A checkpoint or key that cannot be made, read or trusted. The message is Dutch."""

    code = "invalid_checkpoint"


# --- names and keys ---------------------------------------------------------------------------

def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name:
        raise CheckpointError("een sleutelnaam mag niet leeg zijn")
    if "+" in name or any(ch.isspace() for ch in name) or _CONTROL.search(name):
        raise CheckpointError(
            f"sleutelnaam {name!r} mag geen spaties, '+' of stuurtekens bevatten")
    _utf8(name, "de sleutelnaam")


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise CheckpointError(f"{what} is geen geldige UTF-8-tekst") from None


def _raw(public_key: Ed25519PublicKey) -> bytes:
    if not isinstance(public_key, Ed25519PublicKey):
        raise CheckpointError("de sleutel is geen Ed25519-sleutel")
    return public_key.public_bytes_raw()


def _key_id(name: str, kind: bytes, public_key: Ed25519PublicKey) -> bytes:
    _check_name(name)
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + kind + _raw(public_key))
    return digest.digest()[:_KEY_ID_SIZE]


def key_hash(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte signed-note key id: SHA-256(name || "\\n" || 0x01 || public key)[:4]."""
    return _key_id(name, _ED25519, public_key)


def cosigner_hash(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte key id of an Ed25519 cosigner: SHA-256(name || "\\n" || 0x04 || key)[:4]."""
    return _key_id(name, _COSIGNATURE_V1, public_key)


def _vkey(name: str, kind: bytes, public_key: Ed25519PublicKey) -> str:
    encoded = base64.b64encode(kind + _raw(public_key)).decode("ascii")
    return f"{name}+{_key_id(name, kind, public_key).hex()}+{encoded}"


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The one-line verifier key (vkey): `name+hexkeyid+base64(0x01 || public key)`."""
    return _vkey(name, _ED25519, public_key)


def cosigner_key(name: str, public_key: Ed25519PublicKey) -> str:
    """A cosigner's vkey: `name+hexkeyid+base64(0x04 || public key)` (tlog-cosignature)."""
    return _vkey(name, _COSIGNATURE_V1, public_key)


def _parse_vkey(text: str, kind: bytes, what: str) -> tuple[str, Ed25519PublicKey]:
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise CheckpointError("een sleutelregel heeft de vorm naam+sleutel-id+sleutel")
    name, hex_id, encoded = parts
    _check_name(name)
    if not _HEX_ID.fullmatch(hex_id):
        raise CheckpointError(f"sleutel-id {hex_id!r} is geen 8 hexadecimale tekens")
    raw = _b64(encoded)
    if raw is None or len(raw) != 1 + 32 or raw[:1] not in (_ED25519, _COSIGNATURE_V1):
        raise CheckpointError("de sleutel in de sleutelregel is geen Ed25519-sleutel")
    if raw[:1] != kind:
        raise CheckpointError(f"de sleutelregel is geen {what}")
    public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if _key_id(name, kind, public_key) != bytes.fromhex(hex_id):
        raise CheckpointError("het sleutel-id in de sleutelregel past niet bij de sleutel")
    return name, public_key


def parse_verifier_key(text: str) -> tuple[str, Ed25519PublicKey]:
    """The key name and public key of a vkey line; its key id must match the key."""
    return _parse_vkey(text, _ED25519, "sleutel van een log (type 0x01) maar die van een "
                       "medeondertekenaar")


def parse_cosigner_key(text: str) -> tuple[str, Ed25519PublicKey]:
    """The name and public key of a cosigner's vkey line (type 0x04)."""
    return _parse_vkey(text, _COSIGNATURE_V1, "sleutel van een medeondertekenaar (type "
                       "0x04) maar die van een log")


_PRIVATE = "PRIVATE+KEY+"


def private_key(name: str, key: Ed25519PrivateKey, cosigner: bool = True) -> str:
    """A private key as one line, in the layout of golang.org/x/mod/sumdb/note:
    `PRIVATE+KEY+name+hexkeyid+base64(type || 32-byte seed)`, type 0x04 for a cosigner's
    key (tlog-cosignature defines no private-key text; this follows the note layout)."""
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError("de sleutel is geen Ed25519-sleutel")
    kind = _COSIGNATURE_V1 if cosigner else _ED25519
    seed = base64.b64encode(kind + key.private_bytes_raw()).decode("ascii")
    return f"{_PRIVATE}{name}+{_key_id(name, kind, key.public_key()).hex()}+{seed}"


def parse_private_key(text: str, cosigner: bool = True) -> tuple[str, Ed25519PrivateKey]:
    """The name and key of a private-key line written by `private_key`."""
    line = text.strip()
    if not line.startswith(_PRIVATE):
        raise CheckpointError("een privésleutel begint met PRIVATE+KEY+")
    parts = line[len(_PRIVATE):].split("+", 2)
    if len(parts) != 3:
        raise CheckpointError("een privésleutel heeft de vorm PRIVATE+KEY+naam+sleutel-id+"
                              "sleutel")
    name, hex_id, encoded = parts
    _check_name(name)
    raw = _b64(encoded)
    kind = _COSIGNATURE_V1 if cosigner else _ED25519
    if raw is None or len(raw) != 1 + 32 or raw[:1] != kind:
        raise CheckpointError("de privésleutel is geen Ed25519-sleutel van het verwachte type"
                              f" (0x{kind.hex()})")
    key = Ed25519PrivateKey.from_private_bytes(raw[1:])
    if not _HEX_ID.fullmatch(hex_id) or _key_id(name, kind, key.public_key()) != bytes.fromhex(
            hex_id):
        raise CheckpointError("het sleutel-id in de privésleutel past niet bij de sleutel")
    return name, key


def _b64(text: str) -> bytes | None:
    """Strict standard base64 (with padding, canonical), or None."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


# --- checkpoints --------------------------------------------------------------------------------

def body(origin: str, size: int, root: bytes) -> str:
    """The checkpoint text: "origin\\nsize\\nbase64(root)\\n"."""
    if not isinstance(origin, str) or not origin:
        raise CheckpointError("de herkomst (origin) van een checkpoint mag niet leeg zijn")
    if "\n" in origin or _CONTROL.search(origin):
        raise CheckpointError("de herkomst (origin) mag geen regeleinden of stuurtekens bevatten")
    _utf8(origin, "de herkomst (origin)")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size < _MAX_SIZE:
        raise CheckpointError(f"boomgrootte {size!r} is geen getal van 0 tot 2^64")
    if not isinstance(root, bytes | bytearray | memoryview) or len(root) != _ROOT_SIZE:
        raise CheckpointError("de wortel van een checkpoint is 32 bytes")
    return f"{origin}\n{size}\n{base64.b64encode(bytes(root)).decode('ascii')}\n"


def sign(private_key: Ed25519PrivateKey, name: str, origin: str, size: int,
         root: bytes) -> str:
    """The signed note of the checkpoint (origin, size, root), signed as key `name`."""
    return _sign_text(private_key, name, body(origin, size, root))


def open_note(note: str, public_key: Ed25519PublicKey, name: str) -> tuple[str, int, bytes]:
    """(origin, size, root) of a signed checkpoint, once the signature of key `name` checks
    out. Raises CheckpointError when the note is malformed, carries no signature of that key,
    a signature of that key fails, or the size or root is not validly encoded."""
    return _checkpoint(_open_text(note, public_key, name))


def peek(note: str) -> tuple[str, int, bytes]:
    """(origin, size, root) of a signed checkpoint WITHOUT checking any signature: only to
    see which log it claims to be of (and so which key should open it)."""
    text, _ = _split(note)
    return _checkpoint(text)


def _checkpoint(text: str) -> tuple[str, int, bytes]:
    lines = text.split("\n")[:-1]  # the text ends in a newline
    if "" in lines:
        raise CheckpointError("een checkpoint heeft geen lege regels (ook geen lege herkomst)")
    if len(lines) < 3:
        raise CheckpointError("een checkpoint heeft drie regels: herkomst, grootte en wortel")
    if len(lines) > 3:
        raise CheckpointError("het checkpoint heeft extra regels na de wortel; "
                              "Deelwijs schrijft die nooit")
    origin, size_text, root_text = lines
    if not _DECIMAL.fullmatch(size_text) or int(size_text) >= _MAX_SIZE:
        raise CheckpointError(f"boomgrootte {size_text!r} is geen geldig getal")
    root = _b64(root_text)
    if root is None or len(root) != _ROOT_SIZE:
        raise CheckpointError(f"wortel {root_text!r} is geen base64 van 32 bytes")
    return origin, int(size_text), root


# --- signed notes ------------------------------------------------------------------------------

def _sign_text(private_key: Ed25519PrivateKey, name: str, text: str) -> str:
    """A signed note of any note text (which must end in a newline)."""
    if not isinstance(private_key, Ed25519PrivateKey):
        raise CheckpointError("de ondertekensleutel is geen Ed25519-sleutel")
    if not text.endswith("\n") or _CONTROL.search(text):
        raise CheckpointError("de tekst van een notitie eindigt op een regeleinde en bevat "
                              "geen stuurtekens")
    signature = private_key.sign(_utf8(text, "de tekst"))
    blob = base64.b64encode(key_hash(name, private_key.public_key()) + signature)
    return f"{text}\n{_DASH}{name} {blob.decode('ascii')}\n"


def _malformed(reason: str) -> CheckpointError:
    return CheckpointError(f"geen geldige ondertekende notitie: {reason}")


def _split(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The text of a signed note and its signature lines as (key name, decoded blob), every
    line checked for form only."""
    if not isinstance(note, str):
        raise _malformed("geen tekst")
    if _CONTROL.search(note):
        raise _malformed("er staan stuurtekens in")
    _utf8(note, "de notitie")
    if not note.endswith("\n"):
        raise _malformed("de laatste regel eindigt niet op een regeleinde")
    split = note.rfind("\n\n")
    if split < 0:
        raise _malformed("er is geen lege regel voor de handtekeningen")
    text = note[:split + 1]
    signatures = note[split + 2:].split("\n")[:-1]
    if not signatures:
        raise _malformed("er staat geen handtekening onder")
    if len(signatures) > _MAX_SIGNATURES:
        raise _malformed(f"meer dan {_MAX_SIGNATURES} handtekeningen")
    out = []
    for line in signatures:
        if not line.startswith(_DASH):
            raise _malformed(f"regel {line[:40]!r} is geen handtekening (— naam base64)")
        signer, _, encoded = line[len(_DASH):].partition(" ")
        blob = _b64(encoded)
        if not signer or "+" in signer or any(ch.isspace() for ch in signer):
            raise _malformed(f"ongeldige sleutelnaam {signer!r}")
        if blob is None or len(blob) <= _KEY_ID_SIZE:
            raise _malformed(f"de handtekening van {signer} is geen geldige base64")
        out.append((signer, blob))
    return text, out


def _open_text(note: str, public_key: Ed25519PublicKey, name: str) -> str:
    """The text of a signed note once every signature of key `name` in it verifies (and
    there is one). Signatures of other keys are only checked for form."""
    expected_id = key_hash(name, public_key)
    text, signatures = _split(note)
    message = text.encode("utf-8")
    verified = False
    for signer, blob in signatures:
        if signer != name or blob[:_KEY_ID_SIZE] != expected_id:
            continue  # someone else's signature: ignored, as the spec demands
        try:
            public_key.verify(blob[_KEY_ID_SIZE:], message)
        except InvalidSignature:
            raise CheckpointError(
                f"de handtekening van {name} klopt niet: de notitie is gewijzigd of "
                "met een andere sleutel ondertekend") from None
        verified = True
    if not verified:
        raise CheckpointError(f"de notitie heeft geen handtekening van sleutel {name} "
                              f"({expected_id.hex()})")
    return text


# --- cosignatures (tlog-cosignature, Ed25519 cosignature/v1) -------------------------------------

_TIMESTAMP_SIZE = 8
_MAX_TIMESTAMP = (1 << 63) - 1


def _cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosign(private_key: Ed25519PrivateKey, name: str, note: str, timestamp: int) -> str:
    """The signed checkpoint `note` with a cosignature line of key `name` added (a line of the
    same key already in it is replaced). `timestamp`: when, in POSIX seconds. Only a
    well-formed checkpoint is cosigned; its other signatures are not checked here (the
    cosigner checks the log before it cosigns)."""
    if not isinstance(private_key, Ed25519PrivateKey):
        raise CheckpointError("de sleutel van de medeondertekenaar is geen Ed25519-sleutel")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or not (
            0 <= timestamp <= _MAX_TIMESTAMP):
        raise CheckpointError(f"tijdstip {timestamp!r} is geen POSIX-tijd van 0 tot 2^63")
    text, _ = _split(note)
    _checkpoint(text)
    key_id = cosigner_hash(name, private_key.public_key())
    signature = private_key.sign(_cosigned_message(text, timestamp))
    blob = base64.b64encode(key_id + timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + signature)
    lines = [line for line in note[len(text) + 1:].split("\n")[:-1]
             if not _is_line_of(line, name, key_id)]
    return text + "\n" + "".join(f"{line}\n" for line in lines) + (
        f"{_DASH}{name} {blob.decode('ascii')}\n")


def _is_line_of(line: str, name: str, key_id: bytes) -> bool:
    signer, _, encoded = line[len(_DASH):].partition(" ")
    blob = _b64(encoded)
    return signer == name and blob is not None and blob[:_KEY_ID_SIZE] == key_id


def open_cosignature(note: str, public_key: Ed25519PublicKey, name: str) -> int | None:
    """The timestamp of the cosignature of key `name` on this checkpoint, once it verifies;
    None when the note carries no line of that key. Raises CheckpointError when the note is
    malformed or such a line does not verify."""
    key_id = cosigner_hash(name, public_key)
    text, signatures = _split(note)
    _checkpoint(text)
    found = None
    for signer, blob in signatures:
        if signer != name or blob[:_KEY_ID_SIZE] != key_id:
            continue
        if len(blob) != _KEY_ID_SIZE + _TIMESTAMP_SIZE + 64:
            raise CheckpointError(f"de medeondertekening van {name} heeft niet de lengte van "
                                  "een cosignature/v1 (4 + 8 + 64 bytes)")
        timestamp = int.from_bytes(blob[_KEY_ID_SIZE:_KEY_ID_SIZE + _TIMESTAMP_SIZE], "big")
        if timestamp > _MAX_TIMESTAMP:
            raise CheckpointError(f"de medeondertekening van {name} heeft een ongeldig "
                                  "tijdstip")
        try:
            public_key.verify(blob[_KEY_ID_SIZE + _TIMESTAMP_SIZE:],
                              _cosigned_message(text, timestamp))
        except InvalidSignature:
            raise CheckpointError(
                f"de medeondertekening van {name} klopt niet: het checkpoint is gewijzigd of "
                "met een andere sleutel medeondertekend") from None
        found = timestamp if found is None else max(found, timestamp)
    return found


# --- files of checkpoints --------------------------------------------------------------------

def split_notes(text: str) -> list[str]:
    """The signed notes of a file that holds them one after the other (blank lines between
    them allowed): each note is its text lines, one blank line, and its signature lines (each
    starting with an em dash). Every note is returned as its own text, to be opened on its
    own; a file that is not such a sequence raises CheckpointError."""
    if not isinstance(text, str):
        raise _malformed("geen tekst")
    if text and not text.endswith("\n"):
        raise CheckpointError("het bestand met checkpoints eindigt niet op een regeleinde")
    lines = text.split("\n")[:-1]
    notes, i, n = [], 0, len(lines)
    while i < n:
        if lines[i] == "":
            i += 1
            continue
        start = i
        while i < n and lines[i] != "":
            if lines[i].startswith(_DASH):
                raise CheckpointError(f"regel {i + 1}: een handtekening zonder lege regel en "
                                      "tekst ervoor")
            i += 1
        i += 1  # the blank line before the signatures
        signed = i
        while i < n and lines[i].startswith(_DASH):
            i += 1
        if i == signed:
            raise CheckpointError(f"regel {start + 1}: deze notitie heeft geen handtekening")
        notes.append("".join(f"{line}\n" for line in lines[start:i]))
    return notes
