"""Keys: every youth's personal data is encrypted with the youth's own data key, which is
stored wrapped by the master key. A BSN is also kept as a keyed hash for look-up.

Destroying a youth's wrapped key makes all of that youth's encrypted data unreadable in every
copy, backups included (crypto-shredding).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

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
