#!/usr/bin/env python3
"""Deelwijs developer entry point: the README's two commands.

    python3 dev.py start    # install into .venv (first time), then start Deelwijs
    python3 dev.py code fg  # the second factor's code now of a demo account (fg, beheer)
    python3 dev.py test     # install into .venv (first time), then lint (ruff, lint-imports)
                            # and run the whole suite, in DEELWIJS_TEST_WORKERS processes
                            # (pytest-xdist; 2 unless set; 0 runs it in this one process)

Needs only Python 3.11+ with pip and venv. Everything is installed into ./.venv from
PyPI, pinned by requirements.lock. Extra arguments after `test` go to pytest; after
`start` they go to the `deelwijs` command (`python3 dev.py start decide --file x.json`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".deelwijs-installed"
INPUTS = ("pyproject.toml", "requirements.lock")


def say(msg: str) -> None:
    print(f"[dev.py] {msg}", file=sys.stderr, flush=True)


def fingerprint() -> str:
    h = hashlib.sha256()
    for name in INPUTS:
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def ensure_venv() -> None:
    if not PY.exists():
        say("creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    want = fingerprint()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    say("installing pinned dependencies into .venv (first run only)")
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "-c", str(ROOT / "requirements.lock"), "-e", f"{ROOT}[dev,bench]"],
        check=True,
    )
    STAMP.write_text(want)


def run(argv: list[str]) -> int:
    return subprocess.call(argv, cwd=ROOT)


def main(args: list[str]) -> int:
    if not args or args[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    cmd, rest = args[0], args[1:]
    if cmd not in {"start", "test", "code"}:
        print(__doc__, file=sys.stderr)
        return 2
    ensure_venv()
    if cmd == "start":
        return run([str(BIN / "deelwijs"), *(rest or ["start"])])
    if cmd == "code":  # only for the demo accounts (deelwijs demo code refuses any other)
        return run([str(BIN / "deelwijs"), "demo", "code", *rest])
    rc = run([str(BIN / "ruff"), "check", "src", "tests", "bench", "dev.py"])
    if rc:
        say("ruff found problems (see above)")
        return rc
    # the layers as a contract (.importlinter; README, "Where things are")
    rc = run([str(BIN / "lint-imports"), "--config", str(ROOT / ".importlinter"), "--no-cache",
              "--no-logo"])
    if rc:
        say("lint-imports: an import breaks the layers of .importlinter (see 'Broken "
            "contracts' above); README.md, 'Where things are', says which way imports go")
        return rc
    return run([str(PY), "-m", "pytest", *workers(rest), *rest])


def workers(rest: list[str]) -> list[str]:
    """pytest-xdist's `-n`, unless the arguments choose themselves. Two processes finish the
    suite in about a fifth of the time of one on a 2-core machine (bench/README, "Session 7")."""
    if any(a == "-n" or a.startswith(("-n", "--numprocesses", "--dist")) for a in rest) or (
            "no:xdist" in rest):
        return []
    n = os.environ.get("DEELWIJS_TEST_WORKERS", "2").strip() or "2"
    return [] if n == "0" else ["-n", n]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
