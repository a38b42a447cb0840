"""Keys: every youth's personal data is encrypted with the youth's own data key, which is
stored wrapped by the master key. A BSN is also kept as a keyed hash for look-up.

Destroying a youth's wrapped key makes all of that youth's encrypted data unreadable
(crypto-shredding) wherever the key is gone: in the database and in every backup made after
it. A backup made before holds the wrapped key too and stays readable with the master key
until that backup expires; see docs/retention.md for what an operator must do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from deelwijs.settings import VAR, Settings, SettingsError


class Keyring:
    def __init__(self, master_key: bytes):
        try:
            self._master = Fernet(master_key)
        except (ValueError, TypeError):
            raise SettingsError("DEELWIJS_MASTER_KEY moet 32 bytes urlsafe-base64 zijn "
                                "(maak er een met: deelwijs key new)") from None
        raw = base64.urlsafe_b64decode(master_key)
        self._hash_key = hmac.new(raw, b"deelwijs bsn lookup v1", hashlib.sha256).digest()
        self._subject_key = _derive(raw, b"deelwijs log subject v1")
        self._mac_key = _derive(raw, b"deelwijs log entry mac v1")
        self._signing_key = Ed25519PrivateKey.from_private_bytes(
            _derive(raw, b"deelwijs log checkpoint ed25519 v1"))

    # --- the processing log: pseudonyms, entry MACs and the checkpoint key ----------------

    def subject(self, youth_id: int) -> str:
        """The youth's pseudonym in the processing log (a keyed hash, never a BSN)."""
        return hmac.new(self._subject_key, b"youth:%d" % youth_id, hashlib.sha256).hexdigest()

    def entry_mac(self, seq: int, leaf_hash: bytes) -> bytes:
        """A keyed MAC over a leaf and its position: an entry inserted, moved or re-hashed
        directly in the database (without the key) does not carry a valid one."""
        return hmac.new(self._mac_key, b"%d:" % seq + leaf_hash, hashlib.sha256).digest()[:16]

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        """The key that signs checkpoints, derived from the master key."""
        return self._signing_key

    @property
    def verify_key(self) -> Ed25519PublicKey:
        return self._signing_key.public_key()

    @staticmethod
    def new_key() -> bytes:
        return Fernet.generate_key()

    def wrap(self, youth_key: bytes) -> bytes:
        return self._master.encrypt(youth_key)

    def unwrap(self, wrapped: bytes) -> bytes:
        return self._master.decrypt(wrapped)

    def bsn_hash(self, bsn: str) -> str:
        return hmac.new(self._hash_key, bsn.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def encrypt(youth_key: bytes, text: str) -> bytes:
        return Fernet(youth_key).encrypt(text.encode("utf-8"))

    @staticmethod
    def decrypt(youth_key: bytes, token: bytes) -> str:
        try:
            return Fernet(youth_key).decrypt(token).decode("utf-8")
        except InvalidToken:
            return "[onleesbaar]"


def _derive(raw: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(raw)


def keyring_for(settings: Settings) -> Keyring:
    """The master key from the settings; on the embedded default, one generated under var/."""
    if settings.master_key:
        return Keyring(settings.master_key)
    if not settings.embedded:
        raise SettingsError("Zet DEELWIJS_MASTER_KEY (of DEELWIJS_MASTER_KEY_FILE) voor een "
                            "productiedatabase; alleen de ingebouwde SQLite-database maakt "
                            "zelf een sleutel aan.")
    path = VAR / "master.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key())
    return Keyring(Path(path).read_bytes().strip())
