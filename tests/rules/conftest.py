"""Fixtures for the ruleset tests: the real `deelwijs` console script, run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def deelwijs_script() -> Path:
    """The venv's `deelwijs`: the project's .venv, else the one beside this Python."""
    bindir = "Scripts" if os.name == "nt" else "bin"
    for candidate in (ROOT / ".venv" / bindir / "deelwijs",
                      Path(sys.executable).parent / "deelwijs"):
        if candidate.exists():
            return candidate
    pytest.fail("geen deelwijs-commando gevonden in .venv of naast deze Python")


@pytest.fixture
def deelwijs(deelwijs_script, tmp_path):
    """Run `deelwijs ARGS...` and return the finished process. No database is configured
    (DEELWIJS_VAR is an empty folder), and no output may ever hold a Python traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEELWIJS_")}
    env["DEELWIJS_VAR"] = str(tmp_path / "var")
    env["PYTHONIOENCODING"] = "utf-8"

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        proc = subprocess.run([str(deelwijs_script), *map(str, args)], input=stdin,
                              capture_output=True, text=True, encoding="utf-8", env=env,
                              cwd=tmp_path, timeout=120, check=False)
        assert "Traceback" not in proc.stdout, proc.stdout
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    return run
