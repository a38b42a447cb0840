"""Checkpoints kept outside the database: the witness file, and files of checkpoints a
supervisor hands to `deelwijs audit verify --checkpoint`.

The witness file (DEELWIJS_WITNESS_FILE) receives every checkpoint the log signs, as a C2SP
signed note, appended once the transaction that signed it has committed (a rolled-back
transaction leaves nothing there: its tree never existed). It lies outside the database's
directory (settings refuses otherwise), so that whoever can rewrite the database cannot
thereby rewrite it; in production it belongs on other storage (another disk or machine, a
share of the FG). The file is created 0600 in a folder created 0700, and only ever appended
to (O_APPEND, under an advisory lock, fsynced).

A file of checkpoints holds signed notes one after the other (domain.checkpoint.split_notes):
the witness file, the output of `deelwijs audit checkpoint --out` and of `deelwijs audit
cosign` all are one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from deelwijs import files
from deelwijs.domain import checkpoint as cp
from deelwijs.errors import DeelwijsError

MAX_BYTES = 64 * 1024 * 1024  # a note is about 200 bytes: room for some 300,000 of them


class WitnessError(DeelwijsError, ValueError):
    """A file of checkpoints that cannot be read or written; the message is one Dutch line."""

    code = "witness_file"


@dataclass(frozen=True)
class Outside:
    """A checkpoint kept outside the database: its note, where it came from, and what it
    claims (not yet checked: verify opens it with the key of the log it names)."""
    source: str  # "FILE, checkpoint 3"
    note: str
    origin: str
    size: int
    root: bytes


def append(path: Path, notes: list[str]) -> None:
    """Append signed notes to the witness file (created 0600, its folder 0700)."""
    if not notes:
        return
    data = "".join(notes).encode("utf-8")
    files.private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, files.PRIVATE_FILE)
    try:
        try:
            import fcntl
            fcntl.flock(fd, fcntl.LOCK_EX)
        except (ImportError, OSError):  # no advisory locks here: O_APPEND alone
            pass
        files.write_all(fd, data)
    finally:
        os.close(fd)


def read(path: str | os.PathLike) -> str:
    """The text of a file of checkpoints (at most MAX_BYTES)."""
    try:
        return files.read_text(path, MAX_BYTES, "bestand met checkpoints")
    except files.Unreadable as exc:
        raise WitnessError(str(exc)) from None


def load(path: str | os.PathLike, missing_ok: bool = False) -> list[Outside]:
    """The checkpoints in a file, each with what it claims; [] for a missing file when
    `missing_ok`. A file that is not a sequence of signed checkpoints is refused whole."""
    if missing_ok and not os.path.exists(path):
        return []
    text = read(path)
    try:
        notes = cp.split_notes(text)
    except cp.CheckpointError as exc:
        raise WitnessError(f"{path}: {exc}") from None
    out = []
    for n, note in enumerate(notes, 1):
        try:
            origin, size, root = cp.peek(note)
        except cp.CheckpointError as exc:
            raise WitnessError(f"{path}, checkpoint {n}: {exc}") from None
        out.append(Outside(f"{path}, checkpoint {n}" if len(notes) > 1 else str(path), note,
                           origin, size, root))
    return out
