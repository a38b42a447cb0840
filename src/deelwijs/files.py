"""Files Deelwijs writes (output options, its own data directory) and the small files it
reads (key files, files of checkpoints: `read_text`, capped; `os_reason` in Dutch).

Every option that writes a file a user named (`rights inzage --pdf`, `register export
--output`, `audit checkpoint --out`, ...) goes through `write_private` (and, before anything
is read or logged, `check_target`). It

- refuses a file that exists (also a dangling symbolic link) unless `force` is given;
- refuses outright, whatever `force` says, the database (the SQLite file of the database URL
  and its `-wal`, `-shm` and `-journal` files), every key or settings file Deelwijs reads (the
  master key `var/master.key` and every `DEELWIJS_*_FILE`: the master key file, the wrapping
  keys file, witness and cosigner files), and anything inside the data directory (`var/`,
  DEELWIJS_VAR) or the directory of the SQLite database. The path is resolved first
  (symbolic links and `..`), so a link to the key is refused as the key itself is;
- writes atomically: a temporary file in the same directory, created with mode 0600
  (whatever the umask), written, fsynced, then moved into place (without `force` by a hard
  link that fails when the name was taken in between, so nothing is ever overwritten
  unasked), and the directory fsynced. A file that replaces another replaces the directory
  entry, never the inode: a hard link elsewhere keeps its old content.

Refusals raise `OutputRefused` with one Dutch line `OPTION: kan 'PATH' niet schrijven: why`;
the commands print it and exit 2.

The data directory and the SQLite file are created private too: `private_dir` (0700) and
`create_private_file` (0600), used by storage/db.py and crypto.py; both set the mode with
chmod after creating, so a permissive umask does not matter.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from deelwijs import settings as settings_mod
from deelwijs.errors import DeelwijsError

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
# the files SQLite keeps beside a database file
SQLITE_SIDECARS = ("", "-wal", "-shm", "-journal")
MASTER_KEY_NAME = "master.key"


class OutputRefused(DeelwijsError, ValueError):
    """An output file that may not or cannot be written; the message is one Dutch line."""

    code = "output_refused"


# --- what is protected ---------------------------------------------------------------------


def sqlite_path(database_url: str | None) -> Path | None:
    """The file of a SQLite database URL (None for PostgreSQL or an in-memory database)."""
    if not database_url or not database_url.startswith("sqlite"):
        return None
    from sqlalchemy.engine import make_url

    try:
        name = make_url(database_url).database
    except Exception:  # an unusable URL protects nothing; opening it fails elsewhere
        return None
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def _resolve(path: Path) -> Path:
    return Path(os.path.realpath(os.path.abspath(path)))


def _var(settings: settings_mod.Settings | None) -> Path:
    return Path(getattr(settings, "var", None) or settings_mod.VAR)


def master_key_path(settings: settings_mod.Settings | None) -> Path:
    """Where the embedded default keeps its master key: master.key in the data directory."""
    return _var(settings) / MASTER_KEY_NAME


def protected(settings: settings_mod.Settings | None = None
              ) -> tuple[dict[Path, str], dict[Path, str]]:
    """(files, directories) no output option may write, each resolved, with a Dutch name
    for the message. From the settings when given, else from settings.load() (for the
    defaults it derives, such as the witness file's), or, when a setting is unusable, from
    the environment alone: a broken setting never lifts the protection."""
    if settings is None:
        try:
            settings = settings_mod.load()
        except (settings_mod.SettingsError, OSError, ValueError):
            settings = None
    files: dict[Path, str] = {}
    dirs: dict[Path, str] = {}
    var = _var(settings)
    dirs[_resolve(var)] = f"de gegevensmap van Deelwijs ({var})"
    files[_resolve(master_key_path(settings))] = "de hoofdsleutel van Deelwijs"
    url = (settings.database_url if settings is not None
           else os.environ.get("DEELWIJS_DATABASE_URL") or settings_mod.DEFAULT_URL)
    db = sqlite_path(url)
    if db is not None:
        for suffix in SQLITE_SIDECARS:
            files[_resolve(Path(f"{db}{suffix}"))] = f"de database van Deelwijs ({db})"
        dirs.setdefault(_resolve(db).parent, f"de map van de database ({db.parent})")
    for name, value in sorted(os.environ.items()):
        if name.startswith("DEELWIJS_") and name.endswith("_FILE") and value.strip():
            files.setdefault(_resolve(Path(value.strip())),
                             f"een sleutel- of instellingenbestand van Deelwijs ({name})")
    if dataclasses.is_dataclass(settings):  # a file setting (a witness or key file, ...)
        for item in dataclasses.fields(settings):
            value = getattr(settings, item.name, None)
            if item.name.endswith("_file") and isinstance(value, str | os.PathLike) and value:
                files.setdefault(_resolve(Path(value)), "een sleutel- of instellingenbestand "
                                 f"van Deelwijs ({item.name})")
    return files, dirs


def _entry(path: Path) -> Path:
    """The directory entry a path names: its folder resolved, its last part as given (a link
    there is the link itself, not what it points to)."""
    absolute = Path(os.path.abspath(path))
    return _resolve(absolute.parent) / absolute.name


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


# --- checking and writing ------------------------------------------------------------------


def os_reason(exc: OSError, *, writing: bool = False) -> str:
    """Why a file could not be read (or, `writing`, written), in Dutch: the system's own text
    is English."""
    if writing and exc.errno == errno.ENOENT:
        return "de map bestaat niet"
    if writing and exc.errno in (errno.EACCES, errno.EPERM):
        return "geen schrijfrechten"
    return {
        errno.ENOENT: "het bestand bestaat niet",
        errno.EACCES: "geen toegang",
        errno.EPERM: "geen toegang",
        errno.EISDIR: "dat is een map",
        errno.ENOTDIR: "een deel van het pad is geen map",
        errno.ENOSPC: "de schijf is vol",
        errno.EROFS: "het bestandssysteem is alleen-lezen",
        errno.ENAMETOOLONG: "de naam is te lang",
        errno.ELOOP: "te veel symbolische koppelingen",
    }.get(exc.errno, f"{'schrijffout' if writing else 'leesfout'} (errno {exc.errno})")


def check_target(path: str | os.PathLike, *, force: bool,
                 settings: settings_mod.Settings | None = None,
                 option: str = "uitvoer") -> Path:
    """The path an output option may write, checked before anything is read, logged or
    written; raises OutputRefused (see the module's docstring). Call write_private to
    write: it checks again."""
    raw = os.fspath(path)
    target = Path(raw)

    def refuse(why: str) -> OutputRefused:
        return OutputRefused(f"{option}: kan '{raw}' niet schrijven: {why}")

    if not raw or raw.endswith(("/", os.sep)) or target.name in ("", ".", ".."):
        raise refuse("geef een bestandsnaam")
    if "\0" in raw:
        raise refuse("de naam bevat een nul-teken")
    entry = _entry(target)  # the directory entry that would be written
    resolved = _resolve(target)  # what it points to now (through every link)
    via = f" ({raw} verwijst naar {resolved})" if resolved != entry else ""
    files, dirs = protected(settings)
    for candidate in (resolved, entry):
        if candidate in files:
            raise refuse(f"dat is {files[candidate]}{via}; een uitvoeroptie schrijft daar "
                         "nooit naar, ook niet met --force")
        for folder, label in dirs.items():
            if _inside(candidate, folder):
                raise refuse(f"het ligt in {label}{via}; daar schrijft een uitvoeroptie "
                             "nooit, ook niet met --force: kies een map daarbuiten")
    if resolved.is_dir():
        raise refuse("dat is een map")
    folder = entry.parent
    if not folder.exists():
        raise refuse("de map bestaat niet")
    if not folder.is_dir():
        raise refuse("een deel van het pad is geen map")
    if os.path.lexists(target) and not force:
        raise refuse("het bestand bestaat al; kies een andere naam, of geef --force om het "
                     "te vervangen")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise refuse("geen schrijfrechten in die map")
    return target


def write_private(path: str | os.PathLike, data: bytes | str, *, force: bool,
                  settings: settings_mod.Settings | None = None,
                  option: str = "uitvoer") -> Path:
    """Write `data` (text as UTF-8, as given: no newline translation) to `path` with mode
    0600, atomically; refused as `check_target` refuses. Returns the path written."""
    target = check_target(path, force=force, settings=settings, option=option)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    # the entry itself is replaced, never what a link there points to
    final = _entry(target)
    folder = final.parent
    try:
        _write_atomically(folder, target.name, payload, final, force)
    except FileExistsError:
        raise OutputRefused(f"{option}: kan '{os.fspath(path)}' niet schrijven: het bestand "
                            "bestaat al; kies een andere naam, of geef --force om het te "
                            "vervangen") from None
    except OSError as exc:
        raise OutputRefused(f"{option}: kan '{os.fspath(path)}' niet schrijven: "
                            f"{os_reason(exc, writing=True)}") from None
    return target


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to an open file (os.write may write less than asked), then fsync."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.fsync(fd)


def _write_atomically(folder: Path, name: str, data: bytes, final: Path, force: bool) -> None:
    """`data` into a new 0600 file in `folder`, fsynced, then moved to `final` (_place), and
    the folder fsynced; FileExistsError when `final` exists and not `force`."""
    with _temporary(folder, name) as tmp:
        fd = os.open(tmp, os.O_WRONLY | getattr(os, "O_BINARY", 0))
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        _place(tmp, final, force)
    _sync_dir(folder)


@contextlib.contextmanager
def _temporary(folder: Path, name: str) -> Iterator[Path]:
    """A new empty file with mode 0600 in `folder`, removed again unless it was moved."""
    for n in range(100):
        tmp = folder / f".{name}.{os.getpid()}.{n}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        except FileExistsError:
            continue
        try:
            _private_mode(fd, tmp)
        finally:
            os.close(fd)
        break
    else:  # pragma: no cover - a hundred stale temporary files
        raise OSError(errno.EEXIST, "no temporary name free")
    try:
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _place(tmp: Path, final: Path, force: bool) -> None:
    if force:
        os.replace(tmp, final)
        return
    try:
        os.link(tmp, final)  # fails with FileExistsError when the name is taken
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: check, then rename
        if os.path.lexists(final):
            raise FileExistsError(errno.EEXIST, "exists", str(final)) from None
        os.replace(tmp, final)


def _sync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- small files Deelwijs reads ------------------------------------------------------------


class Unreadable(DeelwijsError, ValueError):
    """A file that cannot be read as asked; the message is one Dutch line naming the path (the
    caller puts the setting or option before it)."""

    code = "unreadable_file"


def size_text(limit: int) -> str:
    """A byte count as people write it: 64 KiB, 16 MiB, 1000 bytes."""
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"


def read_text(path: str | os.PathLike, limit: int, what: str) -> str:
    """The UTF-8 text of a small file of kind `what` ("sleutelbestand", ...): at most `limit`
    bytes are read (one more to tell), so /dev/zero or a huge file is refused at once instead
    of filling memory. Raises Unreadable: 'kan PATH niet lezen (why)', 'PATH is groter dan
    LIMIT; dat is geen WHAT', 'PATH is geen UTF-8-tekst, dus geen WHAT'."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise Unreadable(f"kan {path} niet lezen ({os_reason(exc)})") from None
    if len(data) > limit:
        raise Unreadable(f"{path} is groter dan {size_text(limit)}; dat is geen {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable(f"{path} is geen UTF-8-tekst, dus geen {what}") from None


# --- Deelwijs's own directory and database file --------------------------------------------


def private_dir(folder: str | os.PathLike) -> Path:
    """Create `folder` (and missing parents) with mode 0700 when it does not exist yet; an
    existing folder is left as it is. Returns it."""
    path = Path(folder)
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for part in reversed(missing):
        try:
            os.mkdir(part, PRIVATE_DIR)
        except FileExistsError:
            continue
        os.chmod(part, PRIVATE_DIR)  # the umask may have taken bits away; never adds any
    return path


def create_private_file(path: str | os.PathLike) -> bool:
    """Create an empty file with mode 0600 when there is none yet (its folder with
    `private_dir`); True when it was created here. An existing file is left alone."""
    target = Path(path)
    private_dir(target.parent)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    try:
        _private_mode(fd, target)
    finally:
        os.close(fd)
    return True


def create_exclusive(path: str | os.PathLike, data: bytes) -> bool:
    """Create `path` with `data` and mode 0600, atomically (temporary file, fsync, hard
    link), unless it exists: False then, and nothing is changed. For Deelwijs's own files
    (the generated master key), so no protected-path checks. Two processes doing this at
    once: one creates the file, the other gets False and reads the complete file."""
    target = Path(path)
    private_dir(target.parent)
    folder = _resolve(target.parent)
    try:
        _write_atomically(folder, target.name, data, folder / target.name, force=False)
    except FileExistsError:
        return False
    return True


def _private_mode(fd: int, path: Path) -> None:
    """Mode 0600 on a file just created (os.open's mode is filtered by the umask)."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, PRIVATE_FILE)
    else:  # pragma: no cover - Windows
        os.chmod(path, PRIVATE_FILE)
