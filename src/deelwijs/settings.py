"""Settings, from the environment only. Every setting has a development-safe default.

| variable | default | meaning |
|---|---|---|
| DEELWIJS_DATABASE_URL | sqlite:///var/deelwijs.sqlite3 | the database; PostgreSQL in production |
| DEELWIJS_MIGRATE_DATABASE_URL | DEELWIJS_DATABASE_URL | db upgrade/roles: the owner role's |
| DEELWIJS_MASTER_KEY | var/master.key (embedded; made for an empty db) | log keys; wraps |
| DEELWIJS_VAR | var | the data directory: embedded database, master.key (0700, files 0600) |
| DEELWIJS_MASTER_KEY_FILE | | a file holding that key (for secrets mounted as files) |
| DEELWIJS_WRAPPING_KEYS | unset: the master key wraps | wrap youth keys instead (below) |
| DEELWIJS_WRAPPING_KEYS_FILE | | a file holding that list |

DEELWIJS_WRAPPING_KEYS is a list of Fernet keys (`deelwijs keys new`), newest first, separated
by commas or newlines. The newest wraps every new youth key; all of them unwrap. They can be
rotated (`deelwijs keys rewrap`, `deelwijs keys status`; docs/retention.md § 4).

Without wrapping keys the master key wraps every youth's data key, and since the master key
also derives the processing log's keys it can never be destroyed: a backup made before a
youth was shredded then stays readable as long as the backup exists. With wrapping keys, an
operator re-wraps every live youth key under a new wrapping key and destroys the old one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

VAR = Path(os.environ.get("DEELWIJS_VAR", "var"))
DEFAULT_URL = f"sqlite:///{VAR / 'deelwijs.sqlite3'}"


class SettingsError(ValueError):
    """A setting has a value we cannot use. The message says which and how to fix it."""


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "ja"}:
        return True
    if value in {"0", "false", "no", "nee"}:
        return False
    raise SettingsError(f"{name}={raw!r}: gebruik true of false")


@dataclass(frozen=True)
class Settings:
    database_url: str
    master_key: bytes | None
    # the wrapping keys, newest first; empty: the master key wraps (no rotation possible)
    wrapping_keys: tuple[bytes, ...] = ()
    # the owner role's URL for `db upgrade` and `db roles` (PostgreSQL with two roles,
    # storage.roles); None: database_url
    migrate_url: str | None = None
    # the data directory (DEELWIJS_VAR): the embedded database's default place and its
    # generated master key (master.key); no output option writes inside it (files.py)
    var: Path = VAR

    @property
    def embedded(self) -> bool:
        """True for the embedded default database (SQLite), which migrates itself on start."""
        return self.database_url.startswith("sqlite")


def split_keys(text: str) -> tuple[bytes, ...]:
    """A list of keys separated by commas or newlines (blank entries ignored), in order."""
    return tuple(k.strip().encode() for k in text.replace("\n", ",").split(",") if k.strip())


def _wrapping_keys() -> tuple[bytes, ...]:
    raw = os.environ.get("DEELWIJS_WRAPPING_KEYS") or ""
    path = os.environ.get("DEELWIJS_WRAPPING_KEYS_FILE")
    if path:
        try:
            raw = Path(path).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(
                f"DEELWIJS_WRAPPING_KEYS_FILE: kan {path} niet lezen: {exc}") from None
    return split_keys(raw)


def load() -> Settings:
    key = os.environ.get("DEELWIJS_MASTER_KEY")
    key_file = os.environ.get("DEELWIJS_MASTER_KEY_FILE")
    if key_file:
        try:
            key = Path(key_file).read_text().strip()
        except OSError as exc:
            raise SettingsError(
                f"DEELWIJS_MASTER_KEY_FILE: kan {key_file} niet lezen: {exc}") from None
    return Settings(
        database_url=os.environ.get("DEELWIJS_DATABASE_URL") or DEFAULT_URL,
        migrate_url=os.environ.get("DEELWIJS_MIGRATE_DATABASE_URL") or None,
        master_key=key.encode() if key else None,
        wrapping_keys=_wrapping_keys(),
    )
