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
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "CheckpointError",
    "body",
    "key_hash",
    "open_note",
    "parse_verifier_key",
    "sign",
    "verifier_key",
]

_ED25519 = b"\x01"  # the signed-note signature type of Ed25519
_DASH = "\u2014 "  # em dash and space: starts every signature line
_ROOT_SIZE = 32
_KEY_ID_SIZE = 4
_MAX_SIZE = 1 << 64  # tree sizes are uint64 in every tlog implementation
_MAX_SIGNATURES = 100  # the spec asks for at least 16; golang.org/x/mod/sumdb/note takes 100

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # ASCII controls other than newline
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HEX_ID = re.compile(r"[0-9a-fA-F]{8}")


class CheckpointError(ValueError):
    """A checkpoint or key that cannot be made, read or trusted. The message is Dutch."""


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


def key_hash(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte signed-note key id: SHA-256(name || "\\n" || 0x01 || public key)[:4]."""
    _check_name(name)
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + _ED25519 + _raw(public_key))
    return digest.digest()[:_KEY_ID_SIZE]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The one-line verifier key (vkey): `name+hexkeyid+base64(0x01 || public key)`."""
    encoded = base64.b64encode(_ED25519 + _raw(public_key)).decode("ascii")
    return f"{name}+{key_hash(name, public_key).hex()}+{encoded}"


def parse_verifier_key(text: str) -> tuple[str, Ed25519PublicKey]:
    """The key name and public key of a vkey line; its key id must match the key."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise CheckpointError("een sleutelregel heeft de vorm naam+sleutel-id+sleutel")
    name, hex_id, encoded = parts
    _check_name(name)
    if not _HEX_ID.fullmatch(hex_id):
        raise CheckpointError(f"sleutel-id {hex_id!r} is geen 8 hexadecimale tekens")
    raw = _b64(encoded)
    if raw is None or len(raw) != 1 + 32 or raw[:1] != _ED25519:
        raise CheckpointError("de sleutel in de sleutelregel is geen Ed25519-sleutel")
    public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_hash(name, public_key) != bytes.fromhex(hex_id):
        raise CheckpointError("het sleutel-id in de sleutelregel past niet bij de sleutel")
    return name, public_key


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
    text = _open_text(note, public_key, name)
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


def _open_text(note: str, public_key: Ed25519PublicKey, name: str) -> str:
    """The text of a signed note once every signature of key `name` in it verifies (and
    there is one). Signatures of other keys are only checked for form."""
    expected_id = key_hash(name, public_key)
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
    message = text.encode("utf-8")
    verified = False
    for line in signatures:
        if not line.startswith(_DASH):
            raise _malformed(f"regel {line[:40]!r} is geen handtekening (— naam base64)")
        signer, _, encoded = line[len(_DASH):].partition(" ")
        blob = _b64(encoded)
        if not signer or "+" in signer or any(ch.isspace() for ch in signer):
            raise _malformed(f"ongeldige sleutelnaam {signer!r}")
        if blob is None or len(blob) <= _KEY_ID_SIZE:
            raise _malformed(f"de handtekening van {signer} is geen geldige base64")
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
