"""What the command-line tests check of a finished command: a success prints JSON; a refusal
exits with its code, prints nothing on stdout and one `field: message` line on stderr."""

from __future__ import annotations

import json
import subprocess


def ok(run: subprocess.CompletedProcess):
    assert run.returncode == 0, (run.args, run.stdout, run.stderr)
    return json.loads(run.stdout)


def refused(run: subprocess.CompletedProcess, field: str, *words: str, code: int = 2) -> str:
    """Exit `code`, nothing on stdout, one line `field: message` on stderr naming `words`."""
    assert run.returncode == code, (run.args, run.stdout, run.stderr)
    assert run.stdout == "", run.stdout
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"{field}: "), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]
