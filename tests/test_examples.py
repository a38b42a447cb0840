"""The decision contract against its public worked examples: ../shared/tools/check-decisions.

The examples live beside the project (../shared), not in it. Without them the test skips on a
developer's machine, but fails in CI (environment variable CI set), where they must be present.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from tests.fixtures.cli import find_script, in_ci

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TOOL = SHARED / "tools" / "check-decisions"
EXAMPLES = SHARED / "spec" / "examples" / "decisions.json"


def _expected() -> str:
    """Every worked example passes: 23 in contract 1.1."""
    return f"{len(json.loads(EXAMPLES.read_text(encoding='utf-8')))} passed, 0 failed"


def test_check_decisions_passes_all_worked_examples():
    if not TOOL.is_file():
        msg = (f"{TOOL} ontbreekt: de voorbeelden van het beslissingscontract staan in "
               f"../shared naast het project ({SHARED})")
        if in_ci():
            pytest.fail(f"{msg}; in CI (CI={os.environ['CI']}) moet die map er zijn")
        pytest.skip(msg)
    env = {**os.environ, "DEELWIJS_CMD": shlex.quote(str(find_script()))}
    run = subprocess.run([sys.executable, str(TOOL)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300, check=False)
    lines = run.stdout.strip().splitlines()
    assert lines and lines[-1] == _expected(), (
        f"check-decisions gaf:\n{run.stdout}\n{run.stderr}".rstrip())
    assert run.returncode == 0, run.stderr
