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
| DEELWIJS_CHECKPOINT_EVERY | 1000 | sign a checkpoint of the processing log every N entries |
| DEELWIJS_CHECKPOINT_MINUTES | 60 | ... and with the first entry T minutes after the last one |
| DEELWIJS_WITNESS_FILE | witness/checkpoints.notes beside var | checkpoints appended here too |
| DEELWIJS_COSIGNER_KEY | | the cosigner's verifier key(s): verify checks its cosignatures |
| DEELWIJS_COSIGNER_KEY_FILE | | a file holding that key line |
| DEELWIJS_LOGIN_MAX_FAILURES | 5 | refused logins in a row before an account is locked |
| DEELWIJS_LOGIN_LOCK_MINUTES | 15 | how long a locked account stays locked |
| DEELWIJS_SESSION_HOURS | 12 | a web session ends this long after login |
| DEELWIJS_SESSION_IDLE_MINUTES | 30 | ... or this long after its last request |
| DEELWIJS_COOKIE_SECURE | true | session cookies only over HTTPS (false: over plain HTTP) |
| DEELWIJS_OIDC_ISSUER | | OpenID Connect: the identity provider's issuer URL (unset: no OIDC) |
| DEELWIJS_OIDC_CLIENT_ID | | ... this app's client id there |
| DEELWIJS_OIDC_CLIENT_SECRET | | ... and its secret |
| DEELWIJS_OIDC_CLIENT_SECRET_FILE | | a file holding that secret |
| DEELWIJS_OIDC_MFA_ACR | | ... `acr` values that count as a second factor (comma-separated) |
| DEELWIJS_OIDC_API_AUDIENCE | the client id | ... the `aud` of systems' access tokens (API) |
| DEELWIJS_PUBLIC_URL | | the app's own address behind a proxy (OIDC's redirect address) |
| DEELWIJS_TOKEN | unset: the operator | the CLI acts as this personal access token's account |
| DEELWIJS_TOKEN_FILE | | a file holding that token |

DEELWIJS_WRAPPING_KEYS is a list of Fernet keys (`deelwijs keys new`), newest first, separated
by commas or newlines. The newest wraps every new youth key; all of them unwrap. They can be
rotated (`deelwijs keys rewrap`, `deelwijs keys status`; docs/retention.md § 4).

Without wrapping keys the master key wraps every youth's data key, and since the master key
also derives the processing log's keys it can never be destroyed: a backup made before a
youth was shredded then stays readable as long as the backup exists. With wrapping keys, an
operator re-wraps every live youth key under a new wrapping key and destroys the old one.

The witness file (docs/audit.md, "Checkpoints outside the database") must lie outside the
database's directory and DEELWIJS_VAR; `uit` (or `off`) writes none. In production point it at
storage the database administrator cannot rewrite (another disk or machine, a mounted share of
the FG). DEELWIJS_COSIGNER_KEY holds one or more `name+id+key` lines (`deelwijs audit
cosigner-key` prints one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from deelwijs.errors import DeelwijsError

VAR = Path(os.environ.get("DEELWIJS_VAR", "var"))
DEFAULT_URL = f"sqlite:///{VAR / 'deelwijs.sqlite3'}"


# the processing log's checkpoints: every N entries, and with the first entry T minutes or
# more after the newest checkpoint (docs/audit.md)
DEFAULT_CHECKPOINT_EVERY = 1000
DEFAULT_CHECKPOINT_MINUTES = 60.0
WITNESS_OFF = ("uit", "off")


class SettingsError(DeelwijsError, ValueError):
    """A setting has a value we cannot use. The message says which and how to fix it."""

    code = "invalid_setting"


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
    # the processing log's checkpoints (None: the defaults above, as services.audit has them)
    checkpoint_every: int | None = None
    checkpoint_minutes: float | None = None
    # where every checkpoint is appended as a signed note, outside the database (None: none)
    witness_file: Path | None = None
    # the cosigners' verifier key lines (C2SP vkeys of type 0x04) that verify checks
    cosigner_keys: tuple[str, ...] = ()
    # accounts (services/accounts.py, web/auth.py)
    login_max_failures: int = 5
    login_lock_minutes: float = 15.0
    session_hours: float = 12.0
    session_idle_minutes: float = 30.0
    cookie_secure: bool = True
    # OpenID Connect (web/oidc.py); no issuer: no OIDC login
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    # `acr` values whose login counts as a second factor (docs/oidc.md); the `aud` expected in
    # the access tokens of systems (None: oidc_client_id)
    oidc_mfa_acr: tuple[str, ...] = ()
    oidc_api_audience: str | None = None
    public_url: str | None = None

    @property
    def embedded(self) -> bool:
        """True for the embedded default database (SQLite), which migrates itself on start."""
        return self.database_url.startswith("sqlite")


def split_keys(text: str) -> tuple[bytes, ...]:
    """A list of keys separated by commas or newlines (blank entries ignored), in order."""
    return tuple(k.strip().encode() for k in text.replace("\n", ",").split(",") if k.strip())


SECRET_FILE_MAX = 64 * 1024  # a key file holds a few keys of 44 bytes each


def read_secret_file(name: str, path: str) -> str:
    """The text of a small key file named by setting (or option) `name`: at most
    SECRET_FILE_MAX bytes of UTF-8 (/dev/zero or a huge file is refused at once, not read
    into memory)."""
    from deelwijs import files  # files reads the settings: imported when first needed

    try:
        return files.read_text(path, SECRET_FILE_MAX, "sleutelbestand")
    except files.Unreadable as exc:
        raise SettingsError(f"{name}: {exc}") from None


def _wrapping_keys() -> tuple[bytes, ...]:
    raw = os.environ.get("DEELWIJS_WRAPPING_KEYS") or ""
    path = os.environ.get("DEELWIJS_WRAPPING_KEYS_FILE")
    if path:
        raw = read_secret_file("DEELWIJS_WRAPPING_KEYS_FILE", path)
    return split_keys(raw)


def positive_number(name: str, default: float, integer: bool) -> float:
    """A positive number from the environment (its default when unset)."""
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = None
    if value is None or not 0 < value < 10**12 or value != value:
        kind = "een geheel getal" if integer else "een getal"
        raise SettingsError(f"{name}={raw!r}: gebruik {kind} groter dan 0")
    return value


def lenient_number(name: str, default: float, integer: bool) -> float:
    """positive_number, or the default when the value is unusable (for module constants read
    at import, where an error cannot be shown yet; load() refuses such a value)."""
    try:
        return positive_number(name, default, integer)
    except SettingsError:
        return default


def _sqlite_dir(database_url: str) -> Path | None:
    """The folder of a SQLite database file (files.sqlite_path), else None."""
    from deelwijs import files  # files reads the settings: imported when first needed

    path = files.sqlite_path(database_url)
    return path.parent if path is not None else None


def _witness_file(database_url: str) -> Path | None:
    """DEELWIJS_WITNESS_FILE: outside the database's directory and DEELWIJS_VAR."""
    raw = (os.environ.get("DEELWIJS_WITNESS_FILE") or "").strip()
    if raw.lower() in WITNESS_OFF:
        return None
    path = Path(raw) if raw else VAR.absolute().parent / "witness" / "checkpoints.notes"
    target = path.expanduser().resolve()
    for folder, what in ((_sqlite_dir(database_url), "de map van de database"),
                         (VAR, "DEELWIJS_VAR")):
        if folder is not None and target.is_relative_to(folder.resolve()):
            raise SettingsError(
                f"DEELWIJS_WITNESS_FILE: {path} ligt in {what} ({folder}). Het getuigenbestand "
                "moet buiten de database blijven, liefst op een andere schijf of machine; "
                "'uit' schrijft er geen.")
    if target.is_dir():
        raise SettingsError(f"DEELWIJS_WITNESS_FILE: {path} is een map; noem een bestand")
    return target


def _cosigner_keys() -> tuple[str, ...]:
    raw = os.environ.get("DEELWIJS_COSIGNER_KEY") or ""
    path = os.environ.get("DEELWIJS_COSIGNER_KEY_FILE")
    if path:
        raw = read_secret_file("DEELWIJS_COSIGNER_KEY_FILE", path)
    return tuple(line.strip() for line in raw.splitlines() if line.strip())


def load() -> Settings:
    key = os.environ.get("DEELWIJS_MASTER_KEY")
    key_file = os.environ.get("DEELWIJS_MASTER_KEY_FILE")
    if key_file:
        key = read_secret_file("DEELWIJS_MASTER_KEY_FILE", key_file).strip()
    return Settings(
        database_url=os.environ.get("DEELWIJS_DATABASE_URL") or DEFAULT_URL,
        migrate_url=os.environ.get("DEELWIJS_MIGRATE_DATABASE_URL") or None,
        master_key=key.encode() if key else None,
        wrapping_keys=_wrapping_keys(),
        checkpoint_every=int(positive_number("DEELWIJS_CHECKPOINT_EVERY",
                                             DEFAULT_CHECKPOINT_EVERY, True)),
        checkpoint_minutes=float(positive_number("DEELWIJS_CHECKPOINT_MINUTES",
                                                 DEFAULT_CHECKPOINT_MINUTES, False)),
        witness_file=_witness_file(os.environ.get("DEELWIJS_DATABASE_URL") or DEFAULT_URL),
        cosigner_keys=_cosigner_keys(),
        login_max_failures=int(positive_number("DEELWIJS_LOGIN_MAX_FAILURES", 5, True)),
        login_lock_minutes=float(positive_number("DEELWIJS_LOGIN_LOCK_MINUTES", 15, False)),
        session_hours=float(positive_number("DEELWIJS_SESSION_HOURS", 12, False)),
        session_idle_minutes=float(positive_number("DEELWIJS_SESSION_IDLE_MINUTES", 30, False)),
        cookie_secure=env_bool("DEELWIJS_COOKIE_SECURE", True),
        oidc_issuer=(os.environ.get("DEELWIJS_OIDC_ISSUER") or "").strip() or None,
        oidc_client_id=(os.environ.get("DEELWIJS_OIDC_CLIENT_ID") or "").strip() or None,
        oidc_client_secret=_oidc_secret(),
        oidc_mfa_acr=tuple(v.strip() for v in (os.environ.get("DEELWIJS_OIDC_MFA_ACR") or "")
                           .split(",") if v.strip()),
        oidc_api_audience=(os.environ.get("DEELWIJS_OIDC_API_AUDIENCE") or "").strip() or None,
        public_url=(os.environ.get("DEELWIJS_PUBLIC_URL") or "").strip().rstrip("/") or None,
    )


def _oidc_secret() -> str | None:
    raw = os.environ.get("DEELWIJS_OIDC_CLIENT_SECRET") or ""
    path = os.environ.get("DEELWIJS_OIDC_CLIENT_SECRET_FILE")
    if path:
        raw = read_secret_file("DEELWIJS_OIDC_CLIENT_SECRET_FILE", path)
    return raw.strip() or None
