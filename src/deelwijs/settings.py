"""Settings, from the environment only. Every setting has a development-safe default.

| variable | default | meaning |
|---|---|---|
| DEELWIJS_DATABASE_URL | sqlite:///var/deelwijs.sqlite3 | the database; PostgreSQL in production |
| DEELWIJS_MASTER_KEY | generated into var/master.key (embedded only) | wraps youth keys |
| DEELWIJS_MASTER_KEY_FILE | | a file holding that key (for secrets mounted as files) |
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

    @property
    def embedded(self) -> bool:
        """True for the embedded default database (SQLite), which migrates itself on start."""
        return self.database_url.startswith("sqlite")


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
        master_key=key.encode() if key else None,
    )
