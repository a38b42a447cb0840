"""Keys: every youth's personal data is encrypted with the youth's own data key, which is
stored wrapped (`youth.key_wrapped`). A BSN is also kept as a keyed hash for look-up.

What wraps the youth keys:

- with DEELWIJS_WRAPPING_KEYS set, the newest of those wrapping keys wraps; all of them, and
  the master key (for a database from before they were configured), unwrap;
- without it, the master key wraps and unwraps, as before.

The master key also derives the keys of the processing log (the pseudonym key, the entry MAC
key and the checkpoint signing key) and the BSN hash key. Those derivations never change, so
the master key can never be destroyed; wrapping keys can.

Destroying a youth's wrapped key makes all of that youth's encrypted data unreadable
(crypto-shredding) wherever the key is gone: in the database and in every backup made after
it. A backup made before holds the wrapped key too. Without wrapping keys the master key
unwraps it for as long as that backup exists. With wrapping keys the operator rotates after a
retention run (`deelwijs keys rewrap`: every live youth key re-wrapped under a new wrapping
key), then removes the old wrapping key from the configuration and destroys it: every
earlier backup then holds only keys wrapped by a destroyed key, and is unreadable. A backup
made before wrapping keys were configured holds keys wrapped by the master key and stays
readable until it expires. See docs/retention.md § 4 for the operator's procedure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from deelwijs import files
from deelwijs.settings import Settings, SettingsError

WRAPPING_VAR = "DEELWIJS_WRAPPING_KEYS"


class Keyring:
    """The master key and its derived keys, and the keys that wrap youth keys.

    `wrapping_keys` (newest first) wrap youth keys instead of the master key when given; see
    the module's docstring."""

    def __init__(self, master_key: bytes, wrapping_keys: Sequence[bytes] = ()):
        try:
            self._master = Fernet(master_key)
        except (ValueError, TypeError):
            raise SettingsError("DEELWIJS_MASTER_KEY moet 32 bytes urlsafe-base64 zijn "
                                "(maak er een met: deelwijs keys new)") from None
        raw = base64.urlsafe_b64decode(master_key)
        wrapping, seen = [], {raw}
        for n, key in enumerate(wrapping_keys, 1):
            try:
                wrapping.append(Fernet(key))
                key_raw = base64.urlsafe_b64decode(key)
            except (ValueError, TypeError):
                raise SettingsError(f"{WRAPPING_VAR}: sleutel {n} van de lijst is geen geldige "
                                    "sleutel (32 bytes urlsafe-base64; maak er een met: "
                                    "deelwijs keys new)") from None
            if key_raw == raw:
                raise SettingsError(f"{WRAPPING_VAR}: sleutel {n} is de hoofdsleutel "
                                    "(DEELWIJS_MASTER_KEY); een verpakkingssleutel moet een "
                                    "eigen sleutel zijn (maak er een met: deelwijs keys new)")
            if key_raw in seen:
                raise SettingsError(f"{WRAPPING_VAR}: sleutel {n} staat al eerder in de lijst")
            seen.add(key_raw)
        self._wrapping = tuple(wrapping)
        self._fingerprints = tuple(fingerprint(k) for k in wrapping_keys)
        # the keys that unwrap, the one that wraps first; the master key last
        self._unwrappers = (*self._wrapping, self._master)
        self._multi = MultiFernet(list(self._unwrappers))
        self._hash_key = hmac.new(raw, b"deelwijs bsn lookup v1", hashlib.sha256).digest()
        self._subject_key = _derive(raw, b"deelwijs log subject v1")
        self._mac_key = _derive(raw, b"deelwijs log entry mac v1")
        self._signing_key = Ed25519PrivateKey.from_private_bytes(
            _derive(raw, b"deelwijs log checkpoint ed25519 v1"))
        self._secrets = Fernet(base64.urlsafe_b64encode(
            _derive(raw, b"deelwijs account secrets v1")))

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

    # --- wrapping youth keys ----------------------------------------------------------------

    @property
    def can_rotate(self) -> bool:
        """Whether wrapping keys are configured. Without them the master key wraps, and since
        it can never be destroyed, backups from before a shred stay readable."""
        return bool(self._wrapping)

    @property
    def fingerprints(self) -> tuple[str, ...]:
        """A short fingerprint of each wrapping key, newest first (not secret: it names a
        key without revealing it)."""
        return self._fingerprints

    def wrap(self, youth_key: bytes) -> bytes:
        """Wrap a youth key under the newest wrapping key (the master key without them)."""
        return self._unwrappers[0].encrypt(youth_key)

    def unwrap(self, wrapped: bytes) -> bytes:
        """Unwrap under any configured wrapping key or the master key; InvalidToken when
        none of them wrapped it (for instance a key since destroyed)."""
        return self._multi.decrypt(wrapped)

    def wrapped_by(self, wrapped: bytes) -> int | None:
        """Which key wrapped this: 0 the newest wrapping key, 1… the older ones, and
        `len(fingerprints)` the master key (0 without wrapping keys); None when none of them
        did."""
        for position, fernet in enumerate(self._unwrappers):
            try:
                fernet.decrypt(wrapped)
            except InvalidToken:
                continue
            return position
        return None

    def is_current(self, wrapped: bytes) -> bool:
        """Whether this is wrapped by the key that wraps now (then rewrap leaves it)."""
        try:
            self._unwrappers[0].decrypt(wrapped)
        except InvalidToken:
            return False
        return True

    def rewrap(self, wrapped: bytes) -> bytes:
        """The same youth key wrapped under the newest wrapping key; InvalidToken when no
        configured key unwraps it."""
        return self._multi.rotate(wrapped)

    # --- account secrets (a TOTP secret): sealed with a key derived from the master key ----

    def seal(self, secret: str) -> bytes:
        return self._secrets.encrypt(secret.encode("utf-8"))

    def unseal(self, sealed: bytes) -> str | None:
        """The secret, or None when it was sealed under another master key."""
        try:
            return self._secrets.decrypt(sealed).decode("utf-8")
        except InvalidToken:
            return None

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


def fingerprint(key: bytes) -> str:
    """A short, non-secret fingerprint of a Fernet key (12 hex digits)."""
    raw = base64.urlsafe_b64decode(key.strip())
    return hashlib.sha256(b"deelwijs wrapping key fingerprint v1\n" + raw).hexdigest()[:12]


def _derive(raw: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(raw)


KEY_FILE_CAP = 4096  # a Fernet key is 44 bytes; a key file is never larger than this


def keyring_for(settings: Settings, *, holds_data: Callable[[], str | None]) -> Keyring:
    """The master key from the settings, with the settings' wrapping keys.

    Without DEELWIJS_MASTER_KEY the embedded default reads var/master.key. Only when that
    file does not exist and `holds_data()` says the database holds nothing written under a
    key (it names such a table, or None) is a new key generated there (mode 0600, atomically,
    once even when two processes start together). A database with data and no key file is
    refused with SettingsError, before anything is written: a new key would leave its data
    unreadable and its log uncheckable, and writes under it would succeed."""
    if settings.master_key:
        return Keyring(settings.master_key, settings.wrapping_keys)
    if not settings.embedded:
        raise SettingsError("DEELWIJS_MASTER_KEY: zet DEELWIJS_MASTER_KEY (of "
                            "DEELWIJS_MASTER_KEY_FILE) voor een productiedatabase; alleen de "
                            "ingebouwde SQLite-database maakt zelf een sleutel aan, en alleen "
                            "zolang die leeg is.")
    path = files.master_key_path(settings)
    if not os.path.lexists(path):
        table = holds_data()
        if table is not None:
            raise SettingsError(
                f"DEELWIJS_MASTER_KEY: de hoofdsleutel ontbreekt: {path} bestaat niet en "
                "DEELWIJS_MASTER_KEY (of DEELWIJS_MASTER_KEY_FILE) is niet gezet, maar de database "
                f"({settings.database_url}) bevat al gegevens (tabel {table}). Zet de "
                f"sleutel van deze database terug in {path} of geef hem in "
                "DEELWIJS_MASTER_KEY. Deelwijs maakt alleen voor een lege database een nieuwe "
                "sleutel: met een andere sleutel zijn de gegevens onleesbaar en is het "
                "verwerkingslog niet te controleren. Er is niets geschreven.")
        files.create_exclusive(path, Fernet.generate_key())
    return Keyring(_read_key_file(path), settings.wrapping_keys)


def _read_key_file(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            key = fh.read(KEY_FILE_CAP + 1).strip()
    except OSError as exc:
        raise SettingsError(f"{path}: kan de hoofdsleutel niet lezen: "
                            f"{files.os_reason(exc)}") from None
    try:
        if len(key) > KEY_FILE_CAP:
            raise ValueError
        Fernet(key)
    except (ValueError, TypeError):
        raise SettingsError(f"{path}: dit is geen geldige hoofdsleutel (32 bytes "
                            "urlsafe-base64); zet de sleutel van deze database terug") from None
    return key
